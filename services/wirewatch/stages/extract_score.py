"""Extract, scoring: predicted and true article bodies in, precision / recall / F1 out.

The metric of the public article-extraction benchmark wirewatch is measured on (our own
implementation of its definition), shared by the benchmark harness and the quality-gate test:

- tokens are the ``\\w+`` matches of a text, case kept; a text becomes the multiset of its word
  4-grams (a text of fewer than 4 words is one shingle);
- per page, TP/FP/FN count shingles in both / only the prediction / only the truth;
- precision is the mean of TP/(TP+FP) over pages with a non-empty prediction, recall the mean of
  TP/(TP+FN) over all pages (an empty prediction costs recall only), F1 = 2PR/(P+R) of those means.

A corpus on disk is laid out as ``html/<id>.html.gz`` (or ``.html``) plus ``ground-truth.json``
mapping each id to ``{"articleBody": str, "url": str}``.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_TOKENS = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Page:
    id: str
    url: str
    html: str
    truth: str


@dataclass(frozen=True, slots=True)
class Score:
    f1: float
    precision: float
    recall: float
    pages: int


def shingles(text: str | None) -> Counter:
    tokens = _TOKENS.findall(text or "")
    if len(tokens) < 4:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(tuple(tokens[i : i + 4]) for i in range(len(tokens) - 3))


def page_scores(predicted: str | None, truth: str) -> tuple[float | None, float] | None:
    """(precision or None for an empty prediction, recall), or None when both texts are empty."""
    got, want = shingles(predicted), shingles(truth)
    tp = sum((got & want).values())
    fp = sum((got - want).values())
    fn = sum((want - got).values())
    if tp + fp + fn == 0:
        return None
    recall = tp / (tp + fn) if tp + fn else 0.0
    precision = (tp / (tp + fp) if tp + fp else 0.0) if got else None
    return precision, recall


def score(pairs: Iterable[tuple[str | None, str]]) -> Score:
    """The corpus score of (predicted, truth) pairs."""
    precisions: list[float] = []
    recalls: list[float] = []
    for predicted, truth in pairs:
        scored = page_scores(predicted, truth)
        if scored is None:
            continue
        precision, recall = scored
        recalls.append(recall)
        if precision is not None:
            precisions.append(precision)
    p = sum(precisions) / len(precisions) if precisions else 0.0
    r = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return Score(f1=f1, precision=p, recall=r, pages=len(recalls))


def load_corpus(directory: str | Path) -> list[Page]:
    """Every page of a corpus directory, sorted by id."""
    root = Path(directory)
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id in sorted(truth):
        gz, plain = root / "html" / f"{page_id}.html.gz", root / "html" / f"{page_id}.html"
        raw = gzip.decompress(gz.read_bytes()) if gz.exists() else plain.read_bytes()
        entry = truth[page_id]
        pages.append(Page(page_id, entry["url"], raw.decode("utf-8", "replace"), entry["articleBody"]))
    return pages
