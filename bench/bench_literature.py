"""Benchmark the literature library on a generated 50,000-entry BibTeX file.

    python bench/bench_literature.py [--entries 50000] [--queries 200] [--keep DIR]

The default corpus draws words from a Zipf distribution over ~8,000 words (the domain
words above plus generated ones), like real abstracts; `--tiny-vocabulary` draws only
from ~90 domain words, so most queries match most entries (the worst case for ranking).

Prints: file size; parse time (bibtexparser + conversion + in-file duplicate merge);
index build time (SQLite FTS5); end-to-end `Library.add_bib` into an empty study library
(parse, duplicate check against the library, library.bib written, index built); reopening
an existing library; search latency (median and p95 over the queries, limit 10); and how
far the answers agree with an exhaustive BM25 search (SearchIndex.search_exhaustive, which
ranks every matching row): the share of its top 10 that the search returned, over the
queries whose exhaustive top 10 all score above 0.01 (a query of words found in most
papers scores every paper about 0 in FTS5's BM25, so its exhaustive order means nothing).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aisci.literature.bibfile import read_bib
from aisci.literature.index import SearchIndex
from aisci.literature.library import Library

WORDS = ("neural network learning deep model training generalization grokking weight decay attention transformer "
         "recurrent memory convolutional residual optimization gradient stochastic adaptive regularization dropout "
         "normalization batch layer diffusion generative adversarial variational inference bayesian kernel sparse "
         "representation contrastive self-supervised reinforcement policy value reward exploration graph language "
         "vision image segmentation detection translation speech robustness adversarial privacy federated scaling "
         "emergence phase transition algorithmic modular arithmetic interpretability mechanistic circuit feature "
         "pruning quantization distillation efficient benchmark dataset evaluation theory bound convergence").split()
SURNAMES = ("Smith Zhang Wang Li Kim Müller García Rossi Dubois Nguyen Kowalski Ivanova Tanaka Silva Novak Jensen "
            "Hochreiter Vaswani Kingma Goodfellow Bengio Hinton LeCun Schmidhuber Sutskever Ba He Ho Power").split()
FIRSTS = "Ana Ben Chen Dana Eli Fatima Georg Hana Ivan Jun Karin Luis Mei Noor Omar Pia Quinn Rui Sara Tomás".split()
VENUES = ["Neural Computation", "Journal of Machine Learning Research", "NeurIPS", "ICML", "ICLR", "CVPR",
          "Transactions on Machine Learning Research", "Nature", "arXiv preprint"]
LATEX_NAMES = {"Müller": 'M{\\"u}ller', "García": "Garc{\\'i}a", "Tomás": "Tom{\\'a}s"}


def word_sampler(rng: random.Random, tiny: bool):
    """A function returning k words: Zipf-distributed over a realistic vocabulary, or uniform over WORDS."""
    if tiny:
        return lambda k: [rng.choice(WORDS) for _ in range(k)]
    syllables = ["ka", "lo", "mi", "ne", "tu", "ra", "si", "vo", "de", "pa", "qui", "ber", "ton", "gel", "mar"]
    generated = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(9000)})
    vocabulary = list(WORDS) + generated[:8000]
    rng.shuffle(vocabulary)
    weights, total = [], 0.0
    for rank in range(1, len(vocabulary) + 1):
        total += rank ** -1.07
        weights.append(total)
    return lambda k: rng.choices(vocabulary, cum_weights=weights, k=k)


def generate_bib(n: int, seed: int = 0, tiny_vocabulary: bool = False) -> str:
    rng = random.Random(seed)
    words = word_sampler(rng, tiny_vocabulary)
    parts = []
    for i in range(n):
        year = rng.randint(1990, 2025)
        authors = []
        for _ in range(rng.randint(1, 6)):
            last, first = rng.choice(SURNAMES), rng.choice(FIRSTS)
            if rng.random() < 0.5:  # half the files use LaTeX accents, half UTF-8
                last, first = LATEX_NAMES.get(last, last), LATEX_NAMES.get(first, first)
            authors.append(f"{last}, {first}")
        title = " ".join(words(rng.randint(4, 12))).capitalize()
        if rng.random() < 0.3:
            title = "{" + title.split()[0].upper() + "}: " + title
        kind = rng.choice(["article", "inproceedings", "misc"])
        venue_field = {"article": "journal", "inproceedings": "booktitle", "misc": "howpublished"}[kind]
        fields = [f"title = {{{title} {i}}}", f"author = {{{' and '.join(authors)}}}", f"year = {year}",
                  f"{venue_field} = {{{rng.choice(VENUES)}}}"]
        if rng.random() < 0.7:
            fields.append(f"doi = {{10.{rng.randint(1000, 9999)}/bench.{i}}}")
        if rng.random() < 0.4:
            fields.append(f"eprint = {{{year % 100:02d}{rng.randint(1, 12):02d}.{i % 100000:05d}}}")
        if rng.random() < 0.6:
            abstract = " ".join(words(rng.randint(40, 160)))
            fields.append(f"abstract = {{{abstract.capitalize()}.}}")
        if rng.random() < 0.3:
            fields.append(f"keywords = {{{', '.join(words(4))}}}")
        parts.append(f"@{kind}{{bench{i},\n  " + ",\n  ".join(fields) + "\n}\n")
    return "\n".join(parts)


def make_queries(n: int, tiny_vocabulary: bool) -> list[str]:
    """Queries as a researcher types them: 1-4 words drawn like the corpus text (so common
    words occur as often as they do there), some as a "quoted phrase"."""
    rng = random.Random(1)
    words = word_sampler(random.Random(0), tiny_vocabulary)  # the corpus's vocabulary and frequencies
    queries = []
    for _ in range(n):
        picked = words(rng.randint(1, 4))
        if rng.random() < 0.25:
            picked = [f'"{picked[0]} {words(1)[0]}"'] + picked[1:]
        queries.append(" ".join(picked))
    return queries


def timed(label: str, fn):
    """Wall time, and this process's CPU time (which a busy machine inflates much less)."""
    start, cpu_start = time.perf_counter(), time.process_time()
    value = fn()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(f"{label:<52} {seconds:7.2f} s wall {cpu:7.2f} s cpu")
    return value, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--tiny-vocabulary", action="store_true", help="worst case: ~90 words, most queries match "
                                                                        "most entries")
    parser.add_argument("--keep", type=Path, default=None, help="write the files here instead of a temp folder")
    args = parser.parse_args()

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="aisci-bench-lit-"))
    workdir.mkdir(parents=True, exist_ok=True)
    bib = workdir / "generated.bib"
    bib.write_text(generate_bib(args.entries, tiny_vocabulary=args.tiny_vocabulary), encoding="utf-8")
    corpus = "tiny vocabulary (worst case)" if args.tiny_vocabulary else "Zipf vocabulary"
    print(f"generated {args.entries:,} entries, {corpus}: {bib.stat().st_size / 1e6:.1f} MB in {bib}")

    parsed, parse_s = timed("parse .bib (bibtexparser + checks + dedupe)", lambda: read_bib(bib))
    print(f"{'':<52} kept {len(parsed.report.kept):,}, skipped {len(parsed.report.skipped)}, "
          f"merged {len(parsed.report.merged)}")
    index = SearchIndex(workdir / "standalone-index.sqlite")
    _, index_s = timed("build FTS5 index from parsed entries",
                       lambda: index.rebuild(parsed.references, bib_digest=None))
    index.close()

    library = Library(workdir / "study" / "literature")
    _, add_s = timed("Library.add_bib into an empty library (end to end)", lambda: library.add_bib(bib))
    library.close()
    _, reopen_s = timed("reopen library (stamp check, no re-parse)",
                               lambda: len(Library(workdir / "study" / "literature")))

    library = Library(workdir / "study" / "literature")
    library.search("warm up", 10)
    latencies, cpu_latencies, returned = [], [], 0
    for query in make_queries(args.queries, args.tiny_vocabulary):
        start, cpu_start = time.perf_counter(), time.process_time()
        returned += len(library.search(query, 10))
        latencies.append((time.perf_counter() - start) * 1000)
        cpu_latencies.append((time.process_time() - cpu_start) * 1000)
    overlaps = []
    for query in make_queries(args.queries, args.tiny_vocabulary):
        exhaustive = library.index.search_exhaustive(query, 10)
        if exhaustive and min(score for _, score in exhaustive) > 0.01:
            returned_keys = {hit.key for hit in library.search(query, 10)}
            overlaps.append(len(returned_keys & {ref.key for ref, _ in exhaustive}) / len(exhaustive))
    library.close()
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, round(0.95 * len(latencies)) - 1)]
    print(f"{'search latency over ' + str(len(latencies)) + ' queries (limit 10)':<52} "
          f"median {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms, max {latencies[-1]:.1f} ms "
          f"({returned / len(latencies):.1f} hits a query on average)")
    print(f"{'':<52} cpu: median {statistics.median(cpu_latencies):.1f} ms, "
          f"p95 {sorted(cpu_latencies)[min(len(cpu_latencies) - 1, round(0.95 * len(cpu_latencies)) - 1)]:.1f} ms")
    if overlaps:
        print(f"{'agreement with an exhaustive BM25 search':<52} {statistics.mean(overlaps):.3f} of its top 10 "
              f"returned; all of it for {sum(o == 1 for o in overlaps)} of {len(overlaps)} queries")
    print(f"\nsummary: {args.entries:,} entries | parse {parse_s:.1f} s | index build {index_s:.1f} s | "
          f"end-to-end import {add_s:.1f} s | reopen {reopen_s:.2f} s | query median "
          f"{statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
