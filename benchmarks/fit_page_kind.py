"""Refit the page-kind check's weights (stages/extract_kind.py) on a WCXB-layout corpus.

``python -m benchmarks.fit_page_kind --corpus DIR`` (``make fit-page-kind CORPUS=DIR``), where DIR is
laid out like ``../shared/data/extraction-wcxb-dev`` (html/ + ground-truth.json with a ``page_type``
per page; ``article`` marks the pages the stage must accept). Without ``--corpus`` it reads that
default path and reports ``skipped`` where it is absent; a directory that is not a WCXB-layout corpus
is an error.

The shapes are the stage's own: every page goes through ``stages.extract.extract`` with the kind
check letting every page through, and the ``PageShape`` the stage computed on the body it extracted
is kept. Pages the stage refuses before the check (empty, too short, a site's front page) take no
part in the fit and count as declined in the figures, as they are in the stage.

The fit is the one the module docstring describes: L2-regularised logistic regression (C = 1, the
bias unpenalised: scikit-learn's default objective) by Newton's method in plain Python (23 features,
a thousand pages: no numpy or scikit-learn needed, nothing added to the install), articles weighted
``--article-weight`` times (10) a page of another kind, weights rounded to 0.05, and the threshold
put on the 0.05 grid just above the ``--keep`` (0.985) quantile of the articles' scores, or with
``--declined SHARE`` at the highest 0.05 grid point that still declines that share of all the other
pages (those refused before the check count as declined; on a half, half of them).

Printed: the weights in the form extract_kind.py holds them, with their largest distance from the
landed ones; in-sample figures (fitted and scored on every page) and held-out ones (fitted, with its
threshold, on one half of an alternating split of the pages reaching the check, scored on the other,
both ways); with ``--articles DIR`` (e.g. the ScrapingHub half: every page an article) the share of
its pages the refit would accept and the highest score among them. The last line is JSON.
``--shapes FILE`` keeps the shapes between runs that change only the fit's options.

``--url-style STYLE`` (repeatable) scores every page again served at a URL that holds no headline:
``a`` (``http://127.0.0.2/a/N``, as bench-e2e serves pages), ``query`` (``/?p=N``) or ``news``
(``/news/N``), N a number; it reports the share of articles accepted and of other pages declined there,
by the refit and by the landed table, for both corpora. An article must not be refused because its
site numbers its URLs.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wirewatch.errors import Rejected
from wirewatch.stages import extract, extract_kind
from wirewatch.stages.extract_kind import PageShape
from wirewatch.stages.extract_score import Page, load_corpus

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "extraction-wcxb-dev"
FEATURES = [f.name for f in dataclasses.fields(PageShape)]
GRID = 0.05
# URLs without a slug (``--url-style``): where a news site numbers its stories, and where bench-e2e serves them.
URL_STYLES = {
    "a": "http://127.0.0.2/a/{n}",
    "query": "http://127.0.0.2/?p={n}",
    "news": "http://127.0.0.2/news/{n}",
}


@dataclasses.dataclass(frozen=True, slots=True)
class Model:
    bias: float
    weights: dict[str, float]
    threshold: float  # declined above

    def score(self, x: Sequence[float]) -> float:
        return self.bias + sum(w * v for w, v in zip(self.weights.values(), x))


def stage_shape(page: Page) -> PageShape | None:
    """The shape the stage computes for ``page``, or None where it refuses the page before the check."""
    seen: list[PageShape] = []

    def let_through(shape: PageShape) -> bool:
        seen.append(shape)
        return True

    try:
        extract.extract(page.html, page.url, kind_check=let_through)
    except Rejected:
        return None
    return seen[-1] if seen else None


def served_at(pages: list[Page], style: str) -> list[Page]:
    """``pages`` served at URLs of ``style`` (one of URL_STYLES), numbered in order."""
    return [dataclasses.replace(p, url=URL_STYLES[style].format(n=100001 + i)) for i, p in enumerate(pages)]


def vector(shape: PageShape) -> list[float]:
    return [float(getattr(shape, name)) for name in FEATURES]


def fit_logistic(
    xs: Sequence[Sequence[float]], ys: Sequence[bool], weights: Sequence[float], c: float = 1.0, steps: int = 50
) -> tuple[float, list[float]]:
    """Bias and coefficients minimising 0.5 |w|^2 + c * sum(weight * log-loss), the bias unpenalised."""
    n = len(xs[0])
    rows = [[1.0, *x] for x in xs]  # column 0: the bias
    beta = [0.0] * (n + 1)
    for _ in range(steps):
        grad = [0.0] + beta[1:]
        hess = [[0.0] * (n + 1) for _ in range(n + 1)]
        for i in range(1, n + 1):
            hess[i][i] = 1.0
        for row, y, sw in zip(rows, ys, weights):
            z = sum(b * v for b, v in zip(beta, row))
            p = 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
            g, h = c * sw * (p - float(y)), c * sw * p * (1.0 - p)
            for i, vi in enumerate(row):
                if vi:
                    grad[i] += g * vi
                    hv = h * vi
                    hrow = hess[i]
                    for j, vj in enumerate(row):
                        hrow[j] += hv * vj
        step = _solve(hess, grad)
        beta = [b - s for b, s in zip(beta, step)]
        if max(abs(s) for s in step) < 1e-9:
            break
    return beta[0], beta[1:]


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """x with a x = b, a symmetric positive definite (Gaussian elimination with partial pivoting)."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(col + 1, n):
            f = m[r][col] / m[col][col]
            if f:
                for k in range(col, n + 1):
                    m[r][k] -= f * m[col][k]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - sum(m[r][k] * x[k] for k in range(r + 1, n))) / m[r][r]
    return x


def on_grid(value: float) -> float:
    return round(round(value / GRID) * GRID, 2) + 0.0  # + 0.0: no "-0.00"


def fit(
    xs: Sequence[Sequence[float]],
    others: Sequence[bool],
    *,
    article_weight: float = 10.0,
    keep: float = 0.985,
    c: float = 1.0,
    declined: float | None = None,
    declined_before: float = 0.0,
) -> Model:
    """The rounded model, with its threshold just above the ``keep`` quantile of the articles' scores;
    or, with ``declined``, at the highest 0.05 grid point that still declines that share of the other
    pages, ``declined_before`` of which were declined before the check (and are not among ``xs``)."""
    bias, coefs = fit_logistic(xs, others, [1.0 if o else article_weight for o in others], c)
    model = Model(on_grid(bias), {name: on_grid(w) for name, w in zip(FEATURES, coefs)}, 0.0)
    if declined is not None:
        return dataclasses.replace(model, threshold=_declining(model, xs, others, declined, declined_before))
    articles = sorted(model.score(x) for x, o in zip(xs, others) if not o)
    quantile = articles[max(math.ceil(keep * len(articles)) - 1, 0)] if articles else 0.0
    # the lowest 0.05 grid point, as extract_kind.py writes it (two decimals), at or above the quantile
    threshold = on_grid(math.floor(quantile / GRID) * GRID)
    while threshold < quantile:
        threshold = round(threshold + GRID, 2)
    return dataclasses.replace(model, threshold=threshold)


def _declining(
    model: Model, xs: Sequence[Sequence[float]], others: Sequence[bool], share: float, before: float
) -> float:
    """The highest 0.05 grid point above which ``share`` of the other pages (``before`` of them
    declined already) are still declined: the gap under the other pages that the articles may use."""
    scores = sorted((model.score(x) for x, o in zip(xs, others) if o), reverse=True)
    need = max(math.ceil(share * (len(scores) + before) - 1e-9 - before), 1)
    if need > len(scores):
        raise SystemExit(f"fit_page_kind: no threshold declines {share} of the other pages")
    threshold = on_grid(math.floor(scores[need - 1] / GRID) * GRID)
    while threshold >= scores[need - 1]:
        threshold = round(threshold - GRID, 2)
    return threshold


def counts(model: Model, xs: Sequence[Sequence[float]], others: Sequence[bool]) -> tuple[int, int, int, int]:
    """(others declined, others, articles accepted, articles)."""
    declined = sum(1 for x, o in zip(xs, others) if o and model.score(x) > model.threshold)
    accepted = sum(1 for x, o in zip(xs, others) if not o and model.score(x) <= model.threshold)
    n_others = sum(1 for o in others if o)
    return declined, n_others, accepted, len(others) - n_others


def landed() -> Model:
    return Model(extract_kind._BIAS, dict(extract_kind._WEIGHTS), extract_kind.NOT_ARTICLE_ABOVE)


def weight_table(model: Model) -> str:
    lines = [f"_BIAS = {model.bias:.2f}", "_WEIGHTS = {"]
    lines += [f'    "{name}": {w:.2f},' for name, w in model.weights.items()]
    lines += ["}", f"NOT_ARTICLE_ABOVE = {model.threshold:.2f}"]
    return "\n".join(lines)


def _shapes(pages: list[Page]) -> tuple[list[list[float]], list[bool], int, int]:
    """Vectors and labels (True: not an article) of the pages reaching the check; others and articles refused before it."""
    xs, others, others_before, articles_before = [], [], 0, 0
    for i, page in enumerate(pages, 1):
        shape = stage_shape(page)
        if shape is None:
            others_before += not page.is_article
            articles_before += page.is_article
        else:
            xs.append(vector(shape))
            others.append(not page.is_article)
        if i % 100 == 0:
            print(f"  {i}/{len(pages)} pages extracted", file=sys.stderr, flush=True)
    return xs, others, others_before, articles_before


def _cached_shapes(pages: list[Page], cache_name: str | None) -> tuple[list[list[float]], list[bool], int, int]:
    cache = Path(cache_name) if cache_name else None
    if cache and cache.exists():
        xs, others, others_before, articles_before = json.loads(cache.read_text())
        return xs, others, others_before, articles_before
    found = _shapes(pages)
    if cache:
        cache.write_text(json.dumps(found))
    return found


def _served_figures(
    model: Model, old: Model, pages: list[Page], art_pages: list[Page], style: str, cache: str | None
) -> dict[str, Any]:
    """Articles accepted and other pages declined with ``pages`` served at URLs of ``style``, by
    ``model`` and by the ``old`` (landed) one; with ``art_pages`` (an all-articles corpus), its share accepted."""
    xs, others, others_before, _ = _cached_shapes(served_at(pages, style), f"{cache}.{style}" if cache else None)
    n_others = sum(1 for p in pages if not p.is_article)
    found: dict[str, Any] = {"url": URL_STYLES[style]}
    art_shapes = _vectors(served_at(art_pages, style))
    for name, m in (("", model), ("landed_", old)):
        dec, _, acc, _ = counts(m, xs, others)
        found[f"{name}nonarticle_declined"] = round((dec + others_before) / n_others, 4)
        found[f"{name}article_accepted"] = round(acc / (len(pages) - n_others), 4)
        if art_pages:
            found[f"{name}articles_corpus_accepted"] = _accepted(m, art_shapes)
    return found


def _vectors(pages: list[Page]) -> list[list[float] | None]:
    """Each page's shape as the stage sees it, as a vector (None: the page never reached the check)."""
    return [vector(s) if s else None for s in map(stage_shape, pages)]


def _accepted(model: Model, shapes: list[list[float] | None]) -> float:
    """The share of an all-articles corpus's pages (``shapes``, ``_vectors``) ``model`` accepts."""
    return round(sum(1 for x in shapes if x is not None and model.score(x) <= model.threshold) / len(shapes), 4)


def run(args: argparse.Namespace) -> dict[str, Any]:
    corpus = Path(args.corpus) if args.corpus else DEFAULT_CORPUS
    if not (corpus / "ground-truth.json").exists():
        if args.corpus:
            raise SystemExit(f"fit_page_kind: {corpus} is no corpus (no ground-truth.json)")
        return {"skipped": f"no WCXB corpus at {corpus} (give --corpus DIR)"}
    pages = load_corpus(corpus)
    if not any(p.page_type for p in pages) or all(p.is_article for p in pages):
        raise SystemExit(f"fit_page_kind: {corpus} is not a WCXB-layout corpus (no page_type, or no other pages)")
    opts = {"article_weight": args.article_weight, "keep": args.keep, "c": args.C, "declined": args.declined}
    xs, others, others_before, articles_before = _cached_shapes(pages, args.shapes)
    n_others = sum(1 for p in pages if not p.is_article)
    n_articles = len(pages) - n_others

    model = fit(xs, others, declined_before=others_before, **opts)
    old = landed()
    result: dict[str, Any] = {"corpus": str(corpus), "pages": len(pages), "reaching_check": len(xs)}
    for name, m in (("", model), ("landed_", old)):
        dec, _, acc, _ = counts(m, xs, others)
        result[f"{name}nonarticle_declined"] = round((dec + others_before) / n_others, 4)
        result[f"{name}article_accepted"] = round(acc / n_articles, 4)

    halves = [list(range(0, len(xs), 2)), list(range(1, len(xs), 2))]
    held: list[tuple[int, int, int, int]] = []
    for a, b in ((0, 1), (1, 0)):
        m = fit([xs[i] for i in halves[a]], [others[i] for i in halves[a]], declined_before=others_before / 2, **opts)
        held.append(counts(m, [xs[i] for i in halves[b]], [others[i] for i in halves[b]]))
    result["heldout_nonarticle_declined"] = round((sum(h[0] for h in held) + others_before) / n_others, 4)
    result["heldout_article_accepted"] = round(sum(h[2] for h in held) / n_articles, 4)
    result["heldout_halves"] = [f"declined {h[0]}/{h[1]}, accepted {h[2]}/{h[3]}" for h in held]
    result["before_check"] = {"others": others_before, "articles": articles_before}
    result["max_weight_change"] = round(max(abs(model.weights[n] - old.weights.get(n, 0.0)) for n in FEATURES), 2)
    result["bias_change"] = round(model.bias - old.bias, 2)
    result["threshold"] = model.threshold

    art_pages = load_corpus(args.articles) if args.articles else []
    if args.articles:
        shapes = _vectors(art_pages)
        scores = [model.score(x) for x in shapes if x is not None]
        result["articles_corpus"] = {
            "corpus": str(args.articles),
            "accepted": _accepted(model, shapes) if art_pages else None,
            "max_score": round(max(scores), 2) if scores else None,
        }
    for style in args.url_style or []:
        result[f"at_{style}"] = _served_figures(model, old, pages, art_pages, style, args.shapes)

    print(weight_table(model))
    print(
        f"in-sample: other pages declined {result['nonarticle_declined']:.3f} "
        f"(landed weights {result['landed_nonarticle_declined']:.3f}), articles accepted "
        f"{result['article_accepted']:.3f} ({result['landed_article_accepted']:.3f}); held out: declined "
        f"{result['heldout_nonarticle_declined']:.3f}, accepted {result['heldout_article_accepted']:.3f} "
        f"({'; '.join(result['heldout_halves'])} of the pages reaching the check); "
        f"largest weight change from the landed table {result['max_weight_change']:.2f}"
    )
    for style in args.url_style or []:
        at = result[f"at_{style}"]
        print(
            f"served at {at['url']}: articles accepted {at['article_accepted']:.3f} "
            f"(landed weights {at['landed_article_accepted']:.3f}), other pages declined "
            f"{at['nonarticle_declined']:.3f} ({at['landed_nonarticle_declined']:.3f})"
            + (
                f", articles corpus accepted {at['articles_corpus_accepted']:.3f} ({at['landed_articles_corpus_accepted']:.3f})"
                if args.articles
                else ""
            )
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fit_page_kind", description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", help=f"WCXB-layout corpus (default {DEFAULT_CORPUS}; skipped where absent)")
    parser.add_argument("--articles", help="a corpus of articles only (e.g. ScrapingHub's half) to check the refit on")
    parser.add_argument(
        "--shapes",
        help="cache of the corpus's shapes: read where it exists, else written (delete it after changing the stage)",
    )
    parser.add_argument("--article-weight", type=float, default=10.0, help="weight of an article page in the fit")
    parser.add_argument("--keep", type=float, default=0.985, help="share of the fitted articles under the threshold")
    parser.add_argument("--C", type=float, default=1.0, help="inverse strength of the L2 penalty")
    parser.add_argument(
        "--declined",
        type=float,
        help="instead of --keep: the highest threshold that still declines this share of all the other pages",
    )
    parser.add_argument(
        "--url-style",
        action="append",
        choices=sorted(URL_STYLES),
        help="also score the pages served at URLs of this style, without a slug (repeatable)",
    )
    print(json.dumps(run(parser.parse_args(argv))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
