"""How long it takes to turn source records into references that typeset.

    python bench/bench_bibtex_encoding.py [--records 2000]

Parses the recorded response shapes in tests/fixtures/literature (all four sources)
over and over, and writes references.bib for the result the way the paper does. Prints
per-reference times for building (markup, encoding, case protection) and for making a
bibliography safe to typeset (Bibliography.write), and the same for text with no
non-ASCII characters (the common case).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aisci.literature.build import reference_from_metadata  # noqa: E402
from aisci.paper.bibliography import Bibliography, Entry  # noqa: E402
from tests.test_lit_real_shapes import ArXiv, Crossref, OpenAlex, SemanticScholar, _source  # noqa: E402


def sources_once() -> list:
    return [*_source(SemanticScholar, "semantic_scholar_search.json").search("q", limit=50),
            *_source(OpenAlex, "openalex_works.json").search("q", limit=50),
            *_source(Crossref, "crossref_works.json").search("q", limit=50),
            *_source(ArXiv, "arxiv_query.xml", content_type="application/atom+xml").search("q", limit=50)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=2000)
    args = parser.parse_args()
    sources_once()  # warm the caches of the glyph list and the accent macros
    refs, start = [], time.perf_counter()
    while len(refs) < args.records:
        refs += sources_once()
    built = time.perf_counter() - start
    print(f"hard-case records from 4 sources: {len(refs)} built in {built:.2f}s "
          f"({1000 * built / len(refs):.3f} ms per reference, response parsing included)")
    plain, start = [], time.perf_counter()
    for i in range(args.records):
        plain.append(reference_from_metadata(title=f"Deep residual learning for image recognition {i}",
                                             authors=["Kaiming He", "Xiangyu Zhang"], year=2016,
                                             venue="Computer Vision and Pattern Recognition",
                                             abstract="Deeper neural networks are more difficult to train. " * 8))
    took = time.perf_counter() - start
    print(f"ASCII records: {args.records} built in {took:.2f}s ({1000 * took / args.records:.3f} ms per reference)")
    with tempfile.TemporaryDirectory() as tmp:
        for name, batch in (("hard-case", refs), ("ASCII", plain)):
            bibliography = Bibliography()
            bibliography.entries = [Entry(r.copy(key=f"k{i}"), "library") for i, r in enumerate(batch)]
            start = time.perf_counter()
            bibliography.write(Path(tmp) / "references.bib")
            took = time.perf_counter() - start
            print(f"references.bib of {len(batch)} {name} references written safe in {took:.2f}s "
                  f"({1000 * took / len(batch):.3f} ms per reference)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
