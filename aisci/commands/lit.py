"""`aisci lit …`: the study's literature library from the command line.

    aisci lit add STUDY refs.bib [more.bib …]     import (kept / skipped with line numbers / merged)
    aisci lit search STUDY "query" [--online]     ranked results (local library by default)
    aisci lit show STUDY KEY                      one entry as BibTeX
    aisci lit check STUDY paper.tex               mis-attributed citations (canonical attribution table)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from aisci.errors import StudyError
from aisci.literature.errors import LiteratureError

if TYPE_CHECKING:  # bibtexparser and the index load with the action that needs them
    from aisci.config import LiteratureSection
    from aisci.literature.model import Hit


def register(subparsers) -> None:
    parser = subparsers.add_parser("lit", help="the study's literature library: add, search, show, check")
    lit = parser.add_subparsers(dest="lit_command", metavar="ACTION", required=True)

    add = lit.add_parser("add", help="import BibTeX files into STUDY/literature/library.bib")
    add.add_argument("study", help="the study folder")
    add.add_argument("files", nargs="+", type=Path, help=".bib files to import")
    add.set_defaults(handler=handle_add)

    search = lit.add_parser("search", help="ranked search of the library (and, with --online, the web sources)")
    search.add_argument("study", help="the study folder")
    search.add_argument("query", help='words and "quoted phrases"')
    search.add_argument("--limit", type=int, default=10, help="how many results (default 10)")
    mode = search.add_mutually_exclusive_group()
    mode.add_argument("--online", action="store_true", help="ask Semantic Scholar, OpenAlex, arXiv and Crossref")
    mode.add_argument("--offline", action="store_true", help="local library only (the default)")
    search.add_argument("--sources", default=None,
                        help="comma-separated online sources (default: [literature] sources in aisci.toml, else "
                             "semantic_scholar,openalex,arxiv,crossref)")
    search.add_argument("--user-library", type=Path, default=None,
                        help="a .bib file or library folder searched alongside the study library "
                             "(default: [literature] user_library in aisci.toml, else $AISCI_USER_LIBRARY)")
    search.add_argument("--max-wait", type=float, default=None, metavar="SECONDS",
                        help="time budget per online source, retries and rate-limit waits included "
                             "(default: [literature] max_wait_s in aisci.toml, else 30)")
    search.add_argument("--add", action="store_true", help="add the online results to the study library")
    search.add_argument("--json", action="store_true", help="print the result as JSON")
    search.set_defaults(handler=handle_search)

    show = lit.add_parser("show", help="print one entry of the library as BibTeX")
    show.add_argument("study", help="the study folder")
    show.add_argument("key", help="citation key")
    show.set_defaults(handler=handle_show)

    check = lit.add_parser("check", help="flag methods credited to the wrong paper in a .tex/.md/.txt file")
    check.add_argument("study", help="the study folder (its library resolves \\cite keys)")
    check.add_argument("file", type=Path, help="the text to check")
    check.add_argument("--bib", type=Path, action="append", default=[], help="extra .bib files to resolve keys")
    check.set_defaults(handler=handle_check)


def _literature_dir(study: str) -> Path:
    root = Path(study)
    if not root.is_dir():
        raise StudyError(f"{study}: no such study folder")
    return root / "literature"


def _literature_settings(study: str) -> LiteratureSection:
    """The study's validated [literature] section; the defaults for a bare library folder."""
    from aisci.config import CONFIG_FILE, LiteratureSection, load_config

    root = Path(study)
    if (root / CONFIG_FILE).is_file():
        return load_config(root).literature
    return LiteratureSection()


def handle_add(args) -> int:
    from aisci.literature.library import Library

    library = Library(_literature_dir(args.study))
    taken = skipped = 0
    with library:
        for path in args.files:
            report = library.add_bib(path)
            taken += len(report.kept) + len(report.merged)
            skipped += len(report.skipped)
            print("\n".join(report.lines()))
        print(f"library: {len(library)} entries in {library.bib_path}")
    return 1 if skipped and not taken else 0  # nothing usable in the file(s) at all


def handle_search(args) -> int:
    if args.limit < 1:
        raise LiteratureError("--limit must be at least 1")
    if args.max_wait is not None and args.max_wait <= 0:
        raise LiteratureError("--max-wait must be positive")
    from aisci.literature.library import Library

    literature_dir = _literature_dir(args.study)
    settings = _literature_settings(args.study)
    user_library = args.user_library or settings.user_library_path(Path(args.study))
    library = Library(literature_dir, user_library=user_library)
    with library:
        if args.online:
            from aisci.literature.sources import RetryPolicy, make_sources, search_all

            names = [n.strip() for n in args.sources.split(",") if n.strip()] if args.sources else settings.sources
            if not names:
                raise LiteratureError("no online source to ask: [literature] sources is empty in aisci.toml "
                                      "(name some with --sources)")
            max_wait = args.max_wait or settings.max_wait_s
            policy = RetryPolicy(max_total_s=max_wait, timeout_s=min(10.0, max_wait))
            sources = make_sources(library.directory, names, base_urls=settings.base_urls, policy=policy)
            try:
                result = search_all(args.query, sources, limit=args.limit, library=library)
            finally:
                for source in sources:
                    source.close()
            if args.add and not result.local_only:
                for hit in result.hits:
                    if not hit.in_library:
                        library.add_entries([hit.reference], source=hit.origin)
        else:
            from aisci.literature.sources import search_all

            result = search_all(args.query, None, limit=args.limit, offline=True, library=library)
        if args.json:
            print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
            return 0
        for warning in result.warnings:
            print(f"note: {warning}")
        if not result.hits:
            print(f"no results for {args.query!r}")
            return 0
        for rank, hit in enumerate(result.hits, start=1):
            print(_format_hit(rank, hit))
        if args.online and args.add and not result.local_only:
            print(f"added to {library.bib_path}: the results above not already in it")
    return 0


def _format_hit(rank: int, hit: Hit) -> str:
    ref = hit.reference
    names = ref.surnames_display()
    who = ", ".join(names[:3]) + (" et al." if len(names) > 3 else "")
    venue = f" — {ref.venue}" if ref.venue else ""
    ident = f" doi:{ref.doi}" if ref.doi else f" arXiv:{ref.arxiv_id}" if ref.arxiv_id else ""
    held = ", in library" if hit.in_library else ""
    return (f"{rank:2d}. [{hit.score:.3g}] {ref.key}  {who} ({ref.year or 'n.d.'})\n"
            f"    {ref.title}{venue}{ident}  [{hit.origin}{held}]")


def handle_show(args) -> int:
    from aisci.literature.library import Library

    with Library(_literature_dir(args.study)) as library:
        ref = library.get(args.key)
        if ref is None:
            raise LiteratureError(f"no entry {args.key!r} in {library.bib_path}")
        print(ref.to_bibtex(), end="")
    return 0


def handle_check(args) -> int:
    if not args.file.is_file():
        raise LiteratureError(f"{args.file}: no such file")
    text = args.file.read_text(encoding="utf-8", errors="replace")
    from aisci.literature.attribution import load_table
    from aisci.literature.library import Library

    with Library(_literature_dir(args.study)) as library:
        extra = {}
        for bib in args.bib:
            from aisci.literature.bibfile import read_bib

            extra.update({r.key: r for r in read_bib(bib).references})

        class Resolver:
            def get(self, key):
                return extra.get(key) or library.get(key)

        issues = load_table().check_text(text, bib=Resolver())
    for issue in issues:
        print(f"{args.file}: {issue.message}")
        print(f"    in: {issue.sentence[:160]}")
    print(f"{len(issues)} possible mis-attribution(s)")
    return 1 if issues else 0
