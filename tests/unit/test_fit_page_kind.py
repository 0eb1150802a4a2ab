"""The page-kind fitter (benchmarks/fit_page_kind.py) on a few made-up shapes: pure logic."""

from __future__ import annotations

import argparse
import math

import pytest

from benchmarks.fit_page_kind import (
    FEATURES,
    GRID,
    URL_STYLES,
    Model,
    counts,
    fit,
    fit_logistic,
    run,
    served_at,
    weight_table,
)
from wirewatch.stages.extract_score import Page


def _shape(**values: float) -> list[float]:
    return [values.get(name, 0.0) for name in FEATURES]


# Ten articles with a slug and a byline (one of them under a shop path), six shop pages (one with a slug).
ARTICLES = [_shape(slug_words=1.0, has_author=1.0, body_size=0.5 + i / 20) for i in range(9)]
ARTICLES.append(_shape(slug_words=1.0, shop_path=1.0, body_size=0.6))
OTHERS = [_shape(shop_path=1.0, shop_classes=0.5 + i / 10, body_size=0.3) for i in range(5)]
OTHERS.append(_shape(shop_path=1.0, slug_words=0.5, body_size=0.3))
XS, YS = ARTICLES + OTHERS, [False] * len(ARTICLES) + [True] * len(OTHERS)


def _objective_gradient(bias: float, coefs: list[float], weights: list[float]) -> list[float]:
    grad = [0.0] + list(coefs)
    for x, y, sw in zip(XS, YS, weights):
        p = 1 / (1 + math.exp(-(bias + sum(c * v for c, v in zip(coefs, x)))))
        for i, v in enumerate([1.0, *x]):
            grad[i] += sw * (p - y) * v
    return grad


def test_the_fit_is_the_minimum_of_the_penalised_weighted_log_loss():
    weights = [1.0 if y else 10.0 for y in YS]
    bias, coefs = fit_logistic(XS, YS, weights)
    assert max(abs(g) for g in _objective_gradient(bias, coefs, weights)) < 1e-8
    by_name = dict(zip(FEATURES, coefs))
    assert by_name["shop_path"] > 0 and by_name["shop_classes"] > 0
    assert by_name["slug_words"] < 0 and by_name["has_author"] < 0
    assert by_name["cart"] == 0.0  # a feature no page has takes no weight


def test_weighting_articles_moves_the_fit_toward_keeping_them():
    light = fit_logistic(XS, YS, [1.0] * len(XS))
    heavy = fit_logistic(XS, YS, [1.0 if y else 10.0 for y in YS])
    assert heavy[0] < light[0]  # a lower bias: every page looks more like an article


def test_rounded_model_keeps_the_share_of_articles_asked_for():
    model = fit(XS, YS, keep=1.0)
    assert all(abs(w / GRID - round(w / GRID)) < 1e-9 for w in [model.bias, *model.weights.values()])
    assert abs(model.threshold / GRID - round(model.threshold / GRID)) < 1e-9
    declined, others, accepted, articles = counts(model, XS, YS)
    assert (accepted, articles, others) == (10, 10, 6)
    assert declined >= 5
    # keep 0.85 of ten articles: the threshold may sit under the least article-like one
    assert fit(XS, YS, keep=0.85).threshold <= model.threshold


def test_a_declined_share_puts_the_threshold_under_the_other_pages_it_must_decline():
    model = fit(XS, YS, declined=1.0)
    scores = sorted(model.score(x) for x, y in zip(XS, YS) if y)
    assert model.threshold < scores[0] and model.threshold + GRID >= scores[0]
    assert counts(model, XS, YS)[0] == 6
    # two of eight other pages declined before the check: 0.75 of them needs four of these six
    four = fit(XS, YS, declined=0.75, declined_before=2)
    assert counts(four, XS, YS)[0] >= 4 and four.threshold >= model.threshold
    assert four.threshold < scores[2] and four.threshold + GRID >= scores[2]


def test_the_weight_table_reads_as_extract_kind_holds_it():
    model = Model(-0.25, dict.fromkeys(FEATURES, 0.0) | {"shop_path": 2.95, "slug_words": -2.25}, -1.5)
    held: dict = {}
    exec(weight_table(model), {}, held)
    assert held["_BIAS"] == -0.25 and held["NOT_ARTICLE_ABOVE"] == -1.5
    assert list(held["_WEIGHTS"]) == FEATURES and held["_WEIGHTS"]["shop_path"] == 2.95


def _args(corpus: str | None) -> argparse.Namespace:
    return argparse.Namespace(
        corpus=corpus, articles=None, shapes=None, article_weight=10.0, keep=0.985, C=1.0, declined=None, url_style=None
    )


def test_a_directory_that_is_no_corpus_is_an_error(tmp_path):
    with pytest.raises(SystemExit, match=r"no ground-truth\.json"):
        run(_args(str(tmp_path)))


def test_pages_served_at_a_url_style_carry_a_number_and_no_slug():
    pages = [Page(str(i), f"https://x.example/blog/a-headline-of-story-{i}", "<html></html>", "") for i in range(3)]
    for style in URL_STYLES:
        urls = [p.url for p in served_at(pages, style)]
        assert len(set(urls)) == 3 and not any("headline" in u for u in urls)
    assert served_at(pages, "query")[0].url == "http://127.0.0.2/?p=100001"
    assert [p.id for p in served_at(pages, "a")] == ["0", "1", "2"]
