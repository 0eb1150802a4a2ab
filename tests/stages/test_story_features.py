"""Story features carried from the pool to route (stages/story_view.py ``features``): the view route
builds from them is the view it would read from the text, and a message without them, or with
another version's, is read from its text."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

import pytest

from tests.harness.ten_outlets import OTHERS, RISING, SAME_TOLL, TEN
from tests.stages.test_story import BASE, ROOT, enriched_of, follow_ups
from wirewatch import contract
from wirewatch.stages import route, story, story_view
from wirewatch.stages.article import read
from wirewatch.stages.enrich import enrich

# Written for this test: people, ages, a weekday and a date, a dateline, a street and a state.
LOCAL = [
    (
        "Two men shot dead outside a Bandon bakery - Valley Courier",
        "BANDON, Ore. — Two men were shot dead outside a bakery on Alder Street on Saturday night, police "
        "said. Tomas Ferreira, 34, and Daniel Okafor, 29, died at the scene. Ferreira had run the bakery since "
        "2019, neighbours said. Detective Sam Reyes said a 19-year-old was questioned on Nov. 14 and released. "
        "Ferreira's sister said the family was in shock. Okafor was visiting from Salem, Oregon.",
        [
            {"name": "Bandon", "country_code": "US", "kind": "city"},
            {"name": "Oregon", "country_code": "US", "kind": "region"},
            {"name": "Salem", "country_code": "US", "kind": "city"},
        ],
    ),
    (
        "Fire at a Mombasa warehouse kills four workers",
        "Four workers were killed when fire swept through a warehouse in Mombasa, Kenya, early on Tuesday, "
        "the county's disaster office said. Amina Wanjiru, a 41-year-old supervisor, was among the dead.",
        [
            {"name": "Mombasa", "country_code": "KE", "kind": "city"},
            {"name": "Kenya", "country_code": "KE", "kind": "country"},
        ],
    ),
]


def _payloads() -> list[dict]:
    """Enriched articles (test_story's, with its places, and LOCAL's) with the features the pool
    computes, through the topic's contract as route decodes them."""
    out = [enriched_of(r) for r in TEN + [RISING, SAME_TOLL] + OTHERS] + follow_ups()
    for i, (title, text, places) in enumerate(LOCAL):
        url = f"https://local{i}.example/news/{i}.html"
        out.append(
            {**enrich(dict(BASE, title=title, text=text, canonical_url=url, url=url, final_url=url)), "places": places}
        )
    for e in out:
        e["story"] = story_view.features(e)  # as stages/article.enrich_article adds them, after the places
    return [contract.decode("enriched", contract.encode("enriched", e)) for e in out]


def test_the_view_from_carried_features_is_the_view_read_from_the_text() -> None:
    seen = set()
    for payload in _payloads():
        carried = payload
        assert carried["story"]["v"] == story_view.features_version()
        text_only = {k: v for k, v in carried.items() if k != "story"}
        a, b = story.view(carried), story.view(text_only)
        for f in fields(story.ArticleView):
            assert getattr(a, f.name) == getattr(b, f.name), (payload["canonical_url"], f.name)
        seen |= {f.name for f in fields(story.ArticleView) if getattr(a, f.name)}
    # Every field was seen non-empty somewhere, so each one's round trip was checked.
    assert seen == {f.name for f in fields(story.ArticleView)}


def test_every_field_of_the_view_is_carried_or_read_from_the_message_itself() -> None:
    # A field added to the view's reading of the text (story_view._read) must be carried too
    # (story_view._SETS), or route would build views without it from the carried features.
    on_the_loop = {"canonical_url", "url", "link_id", "sitename", "title", "at", "figures"}
    carried = set(story_view._SETS) | {"signature", "event_day"}
    assert {f.name for f in fields(story.ArticleView)} == on_the_loop | carried
    assert set(story_view._read(_payloads()[0], datetime(2026, 11, 22, tzinfo=UTC))) == carried


def test_route_decides_the_same_with_carried_features_as_reading_each_text() -> None:
    rule = route.load_rules(ROOT / "services" / "wirewatch" / "defaults" / "rules.yaml")[0]

    def run(payloads: list[dict]) -> list[tuple[str, str, list[str]]]:
        stories: list[story.Story] = []
        out = []
        for e in payloads:
            d = route.decide(e, [rule], stories, "2026-11-23T00:00:00Z")
            if all(s is not d.story for s in stories):
                stories.append(d.story)
            out.append((d.story.story_id, d.outcome, [a["alert_id"] for a in d.alerts]))
        return out

    carried = _payloads()
    assert run(carried) == run([{k: v for k, v in e.items() if k != "story"} for e in carried])


def test_features_of_another_version_or_none_are_read_again_from_the_text() -> None:
    e = _payloads()[0]
    forged = {**e["story"], "title_words": ["forged"]}
    assert story.view({**e, "story": forged}).title_words == {"forged"}  # this version's: trusted as computed
    assert "forged" not in story.view({**e, "story": {**forged, "v": "an-older-route"}}).title_words
    assert story.view({**e, "story": {**forged, "v": "an-older-route"}}) == story.view(e)


def test_the_pool_call_returns_features_the_topic_schema_accepts() -> None:
    page = (
        "<html><head><title>Ferry capsizes on Lake Volta</title></head><body><article><h1>Ferry capsizes on "
        "Lake Volta</h1><p>At least twelve people were killed when a crowded ferry capsized on Lake Volta in "
        "Ghana on Tuesday evening, the regional police commander told reporters at the landing stage.</p><p>"
        "Rescue boats searched the water through the night while relatives waited on the shore for news of "
        "passengers who had boarded at the market town, officials said.</p></article></body></html>"
    )
    known = {
        "link_id": "link-0123456789abcdef",
        "source": "test",
        "url": "https://sho.rt/abc",
        "redirects": [],
        "status": 200,
        "content_type": "text/html",
        "fetched_at": "2026-12-05T10:00:00.000000Z",
        "title": None,
    }
    article = read(page, "https://news.example/world/ferry", known)
    assert article["story"]["v"] == story_view.features_version()
    assert len(article["story"]["signature"]) == 64 and "ferri" in article["story"]["title_words"]
    contract.encode("enriched", article)
    with pytest.raises(contract.InvalidMessage, match="signature"):
        contract.encode("enriched", {**article, "story": {**article["story"], "signature": [1, 2, 3]}})
