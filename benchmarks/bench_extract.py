"""extract: quality and speed of wirewatch's extract stage against raw trafilatura, in one run.

In: ``--corpus DIR``, a directory laid out like the public article-extraction benchmark
(``html/<id>.html.gz`` + ``ground-truth.json``; see stages/extract_score.py). Out: a table on stderr
and a dict: precision / recall / F1 (the benchmark's shingle metric) and docs per second on one core
for wirewatch and for trafilatura 2.x in its default and favor_precision modes; the per-core
throughput ratio against default trafilatura; and wirewatch's throughput through its real extraction
pool (runtime.extraction_pool: spawned worker processes) at 1 and at 2 processes, with the speedup.

Without ``--corpus`` (or with a directory that does not exist) it reports ``skipped``: the corpus is
third-party data that a clone of the project does not carry.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import trafilatura

from wirewatch.errors import WirewatchError
from wirewatch.runtime import extraction_pool
from wirewatch.stages import extract as extract_core
from wirewatch.stages.extract_score import Page, load_corpus, score


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("extract")
    group.add_argument("--corpus", help="extraction corpus directory (html/ + ground-truth.json)")
    group.add_argument(
        "--extract-rounds", type=int, default=3,
        help="times each timed run goes through the corpus; the fastest round counts (default 3)",
    )


def wirewatch_text(html: str, url: str) -> str:
    """What the extract stage yields for a page, as the fetch agent calls it; a rejection is empty text."""
    try:
        return extract_core.extract(html, url).text
    except WirewatchError:
        return ""


def _trafilatura(html: str, url: str, **options) -> str:
    return trafilatura.extract(html, url=url, **options) or ""


def _pool_worker(job: tuple[str, str]) -> int:
    return len(wirewatch_text(*job))


EXTRACTORS = {
    "wirewatch": wirewatch_text,
    "trafilatura": lambda html, url: _trafilatura(html, url),
    "trafilatura_precision": lambda html, url: _trafilatura(html, url, favor_precision=True),
}


def _one_core(fn, pages: list[Page], rounds: int) -> tuple[list[str], float]:
    texts = [fn(p.html, p.url) for p in pages]  # also the warm-up: imports, lazy tables, caches
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for p in pages:
            fn(p.html, p.url)
        best = min(best, time.perf_counter() - start)
    return texts, len(pages) / best


def _through_pool(processes: int, pages: list[Page], rounds: int) -> float:
    jobs = [(p.html, p.url) for p in pages] * 2  # enough work per round that start-up noise averages out
    pool = extraction_pool(processes)
    try:
        list(pool.map(_pool_worker, jobs[: processes * 4]))  # every worker up and warm
        best = float("inf")
        for _ in range(rounds):
            start = time.perf_counter()
            list(pool.map(_pool_worker, jobs, chunksize=4))
            best = min(best, time.perf_counter() - start)
    finally:
        pool.shutdown()
    return len(jobs) / best


def run(args: argparse.Namespace) -> dict:
    corpus = getattr(args, "corpus", None)
    if not corpus or not Path(corpus).is_dir():
        return {"skipped": "no --corpus directory given (python -m benchmarks extract --corpus DIR)"}
    pages = load_corpus(corpus)
    rounds = max(1, getattr(args, "extract_rounds", 3))

    rows = {}
    for name, fn in EXTRACTORS.items():
        texts, docs_per_s = _one_core(fn, pages, rounds)
        s = score(zip(texts, (p.truth for p in pages)))
        rows[name] = {"f1": s.f1, "precision": s.precision, "recall": s.recall, "docs_per_s": docs_per_s}
    pool_1 = _through_pool(1, pages, rounds)
    pool_2 = _through_pool(2, pages, rounds)

    ww, base, prec = rows["wirewatch"], rows["trafilatura"], rows["trafilatura_precision"]
    result = {
        "corpus": str(corpus),
        "pages": len(pages),
        "f1": round(ww["f1"], 4),
        "precision": round(ww["precision"], 4),
        "recall": round(ww["recall"], 4),
        "docs_per_s": round(ww["docs_per_s"], 1),
        "baseline_f1": round(base["f1"], 4),
        "baseline_precision": round(base["precision"], 4),
        "baseline_recall": round(base["recall"], 4),
        "baseline_docs_per_s": round(base["docs_per_s"], 1),
        "precision_mode_f1": round(prec["f1"], 4),
        "precision_mode_precision": round(prec["precision"], 4),
        "precision_mode_recall": round(prec["recall"], 4),
        "precision_mode_docs_per_s": round(prec["docs_per_s"], 1),
        "per_core_ratio": round(ww["docs_per_s"] / base["docs_per_s"], 3),
        "pool_1_docs_per_s": round(pool_1, 1),
        "pool_2_docs_per_s": round(pool_2, 1),
        "pool_speedup_1_to_2": round(pool_2 / pool_1, 3),
    }
    _table(rows, result)
    return result


def _table(rows: dict, result: dict) -> None:
    out = sys.stderr
    print(f"{'extractor':<24} {'F1':>7} {'P':>7} {'R':>7} {'docs/s':>8}", file=out)
    for name, row in rows.items():
        print(
            f"{name:<24} {row['f1']:>7.4f} {row['precision']:>7.4f} {row['recall']:>7.4f} {row['docs_per_s']:>8.1f}",
            file=out,
        )
    print(
        f"per-core throughput vs trafilatura: {result['per_core_ratio']:.2f}x   pool: "
        f"{result['pool_1_docs_per_s']:.1f} docs/s at 1 process, {result['pool_2_docs_per_s']:.1f} at 2 "
        f"({result['pool_speedup_1_to_2']:.2f}x)",
        file=out,
        flush=True,
    )
