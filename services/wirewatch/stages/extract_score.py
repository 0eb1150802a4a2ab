"""Extract, scoring: predicted and true article bodies in, precision / recall / F1 out.

The metric of the public article-extraction benchmark wirewatch is measured on (our own
implementation of its definition), shared by the benchmark harness and the quality-gate test:

- tokens are the ``\\w+`` matches of a text, case kept; a text becomes the multiset of its word
  4-grams (a text of fewer than 4 words is one shingle);
- per page, TP/FP/FN count shingles in both / only the prediction / only the truth;
- precision is the mean of TP/(TP+FP) over pages with a non-empty prediction, recall the mean of
  TP/(TP+FN) over all pages (an empty prediction costs recall only), F1 = 2PR/(P+R) of those means.

A second benchmark (WCXB) adds a word-level metric, the one it publishes: per page, F1 of the
multisets of lower-cased ``\\w+`` tokens of prediction and truth (an empty prediction scores 0),
averaged over its article pages. Its ground truth also gives each page's ``page_type`` (``article``
or a kind of page that is not one: listing, product, forum, ...) and the article's ``title``,
``author`` and ``published`` date, matched here by ``title_exact``, ``author_match`` and ``date_exact``.

A corpus on disk is laid out as ``html/<id>.html.gz`` (or ``.html``) plus ``ground-truth.json``
mapping each id to ``{"articleBody": str, "url": str}`` and, in the WCXB layout, ``page_type``,
``title``, ``author`` and ``published``.
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
    page_type: str | None = None  # None in the ScrapingHub layout, where every page is an article
    title: str | None = None
    author: str | None = None
    published: str | None = None

    @property
    def is_article(self) -> bool:
        return self.page_type in (None, "article")


@dataclass(frozen=True, slots=True)
class Score:
    f1: float
    precision: float
    recall: float
    pages: int


def shingles(text: str | None) -> Counter[tuple[str, ...]]:
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


def word_f1(predicted: str | None, truth: str) -> float:
    """WCXB's page score: F1 of the lower-cased word multisets; an empty prediction scores 0."""
    got = Counter(t.lower() for t in _TOKENS.findall(predicted or ""))
    want = Counter(t.lower() for t in _TOKENS.findall(truth or ""))
    if not got and not want:
        return 1.0
    tp = sum((got & want).values())
    if not tp:
        return 0.0
    precision, recall = tp / sum(got.values()), tp / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def _words(text: str | None) -> list[str]:
    return [t.casefold() for t in _TOKENS.findall(text or "")]


def title_exact(predicted: str | None, truth: str) -> bool:
    """The same words in the same order (case, spacing and punctuation aside)."""
    return bool(_words(predicted)) and _words(predicted) == _words(truth)


# Words that join or introduce names rather than being part of one.
_NAME_GLUE = {"and", "by", "&"}


def author_match(predicted: list[str] | str | None, truth: str) -> bool:
    """The same set of name words, however the names are joined ("A and B", "A; B", "By A, B")."""
    if isinstance(predicted, list):
        predicted = " ; ".join(predicted)
    got = set(_words(predicted)) - _NAME_GLUE
    return bool(got) and got == set(_words(truth)) - _NAME_GLUE


def date_exact(predicted: str | None, truth: str) -> bool:
    """The same calendar day (YYYY-MM-DD); a time of day is ignored."""
    return bool(predicted) and str(predicted)[:10] == str(truth)[:10]


def load_corpus(directory: str | Path) -> list[Page]:
    """Every page of a corpus directory, sorted by id."""
    root = Path(directory)
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id in sorted(truth):
        gz, plain = root / "html" / f"{page_id}.html.gz", root / "html" / f"{page_id}.html"
        raw = gzip.decompress(gz.read_bytes()) if gz.exists() else plain.read_bytes()
        entry = truth[page_id]
        pages.append(
            Page(
                page_id,
                entry["url"],
                raw.decode("utf-8", "replace"),
                entry["articleBody"],
                page_type=entry.get("page_type"),
                title=entry.get("title"),
                author=entry.get("author"),
                published=entry.get("published"),
            )
        )
    return pages
