"""`aisci init DIR --template NAME --topic TEXT`: create a study folder; or, with
`--task TEXT` instead of a template, have a language model write the template first
(template-free mode; the written template is validated like any other before the study exists).
`--sandbox none --sandbox-reason TEXT` writes a study whose generated code runs without the
sandbox (where bubblewrap cannot run); the reason is required, and disclosed."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from aisci.errors import AisciError

if TYPE_CHECKING:
    from aisci.study import Study

DEFAULT_TEMPLATE = "grokking"


def register(subparsers) -> None:
    parser = subparsers.add_parser("init", help="create a study folder")
    parser.add_argument("study", help="the folder to create")
    parser.add_argument("--template", help=f"a shipped template name or a template folder (default {DEFAULT_TEMPLATE})")
    parser.add_argument("--task", help="template-free mode: a language model writes the template for this task")
    parser.add_argument("--topic", required=True, help="the research topic, in a sentence")
    parser.add_argument("--llm", help="model for every role (default: offline); see `aisci run --help`. With a "
                        "model, [search] and [review] get The AI Scientist v2's shape (3 drafts, 12-20 nodes per idea, "
                        "3 seeds, 5 reviews)")
    parser.add_argument("--sandbox", choices=["bubblewrap", "none"],
                        help="where generated and hand-written code runs: bubblewrap (the default), or none (no "
                             "sandbox, e.g. in a container that refuses namespaces; needs --sandbox-reason, and the run "
                             "log, the status and the paper state it)")
    parser.add_argument("--sandbox-reason", default="", help='why --sandbox none is acceptable here, e.g. "a disposable '
                                                               'container that holds no keys"')
    parser.add_argument("--small", action="store_true",
                        help="keep the small search and review of an offline study even with a model (a quick trial)")
    parser.set_defaults(handler=handle)


def handle(args) -> int:
    from aisci.llm.spec import parse_spec
    from aisci.study import SANDBOX_REASON_MISSING, Study

    if args.llm:
        parse_spec(args.llm)  # a typo fails here, before a folder exists
    if args.task and args.template:
        raise AisciError("give --template or --task, not both (--task has a language model write the template)")
    if args.sandbox_reason.strip() and args.sandbox != "none":
        raise AisciError("--sandbox-reason goes with --sandbox none (a sandboxed study needs no reason)")
    if args.sandbox == "none" and not args.sandbox_reason.strip():
        raise AisciError(SANDBOX_REASON_MISSING)
    if args.task:
        return _template_free(args)
    study = Study.create(args.study, args.template or DEFAULT_TEMPLATE, args.topic, args.llm, small_search=args.small,
                         **_sandbox(args))
    _seed_library(study)
    print(f"created {study.root} (template {study.template().name}); next: aisci run {args.study}")
    return 0


def _sandbox(args) -> dict:
    return {"sandbox": args.sandbox, "sandbox_reason": args.sandbox_reason.strip()} if args.sandbox else {}


def _seed_library(study: Study) -> None:
    from aisci.literature.study_library import open_library, seed_library

    warn = lambda message: print(f"warning: {message}")  # noqa: E731
    with open_library(study, warn) as library:
        seed_library(library, study.template().references_bib, warn)


def _template_free(args) -> int:
    from aisci import templatefree
    from aisci.config import dump_config
    from aisci.fsutil import atomic_write_text
    from aisci.study import Study

    target = Path(args.study)
    if target.exists() and any(target.iterdir()):
        raise AisciError(f"{target} exists and is not empty; choose a new folder")
    with tempfile.TemporaryDirectory(prefix="aisci-templatefree-") as workdir:
        # its baseline runs where the study's code will: in the sandbox unless the study says none
        folder, author = templatefree.write_template(args.task, args.topic, args.llm, Path(workdir),
                                                     sandboxed=args.sandbox != "none")
        study = Study.create(target, str(folder), args.topic, args.llm, small_search=args.small, **_sandbox(args))
        templatefree.copy_calls(Path(workdir), study.path("llm", "calls.sqlite"))
    _seed_library(study)
    study.config.study.template_source = f"template-free: written by {author} from the task in template/TASK.md"
    note = ""
    if args.llm and not args.small:  # the same AIS2-shaped numbers Study.create wrote, and their comment
        from aisci.search.scale import apply_model_defaults

        note = apply_model_defaults(study.config, study.template().manifest.time_budget_s)
    atomic_write_text(study.path("aisci.toml"), dump_config(study.config, note))
    print(f"created {study.root} (template {study.template().name}, written by {author} and validated); "
          f"next: aisci run {args.study}")
    return 0
