"""ReadStore on real PostgreSQL and SQLite: the same stories, filters, pages and search hits on both."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.api.seed import article, store
from wirewatch.api import params
from wirewatch.api.queries import ReadStore

KUMASI = [
    (
        "https://wire.example/kumasi-1",
        "Fuel tanker blast in Kumasi kills 12",
        "At least 12 people were killed and 30 injured when a fuel tanker exploded in Kumasi, Ghana, on Monday, police said.",
        "2026-12-01T08:00:00Z",
        "Example Wire",
    ),
    (
        "https://daily.example/kumasi-2",
        "Kumasi tanker blast toll rises to nineteen",
        "The death toll from the fuel tanker explosion in Kumasi, Ghana rose to nineteen on Tuesday, hospital officials said.",
        "2026-12-01T10:00:00Z",
        "Example Daily",
    ),
]
CEBU = (
    "https://wire.example/cebu",
    "Ferry fire off Cebu leaves seven dead",
    "Seven passengers died and 24 were hurt when fire broke out on a ferry near Cebu, Philippines, the coast guard said.",
    "2026-12-01T09:00:00Z",
    "Example Wire",
)
QUIET = (
    "https://daily.example/copper",
    "Copper prices climb",
    "Copper prices climbed on Monday as traders bet on demand.",
    "2026-12-01T09:30:00Z",
    "Example Daily",
)


@pytest.fixture
async def read(storage, storage_url):
    for url, title, text, at, site in (*KUMASI, CEBU, QUIET):
        await store(storage, article(url, title, text, at, sitename=site))
    async with ReadStore(storage_url) as rs:
        yield rs


def q(**query: str) -> params.Filters:
    return params.parse(query, params.STORY_PARAMS, 2, now=datetime(2026, 12, 2, tzinfo=UTC))


async def test_stories_newest_first_with_highest_figures(read):
    page = await read.stories(q())
    assert [c["title"] for c in page["items"]] == [KUMASI[0][1], CEBU[1]]  # by latest article: 10:00, 09:00
    kumasi = page["items"][0]
    assert kumasi["latest_title"] == KUMASI[1][1]  # the newest report's headline, beside the story's first
    assert kumasi["killed"]["count"] == 19 and kumasi["killed"]["sitename"] == "Example Daily"
    assert kumasi["injured"] == {**kumasi["injured"], "count": 30, "qualifier": None}
    assert kumasi["outlets"] == 2 and kumasi["articles"] == 2 and kumasi["countries"] == ["GH"]
    assert kumasi["places"] == ["Kumasi"] and kumasi["rules"] and page["next"] is None


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"min_killed": "10"}, ["kumasi"]),
        ({"min_injured": "25"}, ["kumasi"]),
        ({"country": "ph"}, ["cebu"]),
        ({"q": "ferry"}, ["cebu"]),
        ({"q": "TANKER blast"}, ["kumasi"]),  # in the headlines, any case
        ({"q": "explosion"}, []),  # only in the text: /api/articles finds it
        ({"q": "copper"}, []),  # stored, but it raised no story
        ({"language": "en"}, ["kumasi", "cebu"]),
        ({"language": "fr"}, []),
        ({"since": "2026-12-01T09:30:00Z"}, ["kumasi"]),
        ({"until": "2026-12-01T09:30:00Z"}, ["cebu"]),
        ({"rule": "no-such-rule"}, []),
    ],
)
async def test_story_filters(read, query, expected):
    page = await read.stories(q(**query))
    names = ["kumasi" if "Kumasi" in c["title"] else "cebu" for c in page["items"]]
    assert names == expected


async def test_rule_filter_takes_the_rule_that_alerted(read):
    rule = (await read.stories(q()))["items"][0]["rules"][0]
    assert len((await read.stories(q(rule=rule)))["items"]) == 2


async def test_cursor_pages_through_every_story_once(read):
    seen, cursor = [], None
    while True:
        page = await read.stories(q(limit="1", **({"cursor": cursor} if cursor else {})))
        seen += [c["id"] for c in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    assert len(seen) == 2 == len(set(seen))


async def test_story_detail_has_evidence_and_toll_history(read):
    story_id = (await read.stories(q(country="GH")))["items"][0]["id"]
    story = await read.story(story_id)
    assert [i["outlet"] for i in story["items"]] == ["Example Wire", "Example Daily"]
    first = story["items"][0]
    sentence = next(e for e in first["evidence"] if e["category"] == "killed" and e["qualifier"] == "at_least")
    start, end = sentence["figure"]
    assert sentence["sentence"][start:end] == "12" and sentence["attribution"] == "police"
    rose = next(e for e in story["items"][1]["evidence"] if e["category"] == "killed")
    assert rose["sentence"][slice(*rose["figure"])] == "nineteen"  # a number word, found by the casualty grammar
    killed = [(h["previous"], h["count"], h["sitename"]) for h in story["history"] if h["category"] == "killed"]
    assert killed == [(None, 12, "Example Wire"), (12, 19, "Example Daily")]
    assert await read.story("s-nope") is None


async def test_article_search_is_the_same_on_both_backends(read):
    page = await read.articles(params.parse({"q": "Kumasi"}, params.ARTICLE_PARAMS, 2))
    assert [a["canonical_url"] for a in page["items"]] == [KUMASI[1][0], KUMASI[0][0]]  # newest stored first
    assert all(a["story_id"] for a in page["items"]) and "Kumasi" in page["items"][0]["snippet"]
    everything = await read.articles(params.parse({"limit": "3"}, params.ARTICLE_PARAMS, 2))
    assert len(everything["items"]) == 3 and everything["next"]
    rest = await read.articles(params.parse({"cursor": everything["next"]}, params.ARTICLE_PARAMS, 2))
    assert len(rest["items"]) == 1 and rest["next"] is None
    assert not (await read.articles(params.parse({"q": "nothing matches this"}, params.ARTICLE_PARAMS, 2)))["items"]


async def test_alerts_show_delivery(storage, read):
    await storage.claim_alert("a1", "webhook:receiver", {"rule": "r", "story_id": "s-1", "title": "T", "kind": "new"})
    await storage.claim_alert("a2", "webhook:receiver", {"rule": "r", "story_id": "s-2", "title": "U", "kind": "new"})
    await storage.mark_delivered("a1", "webhook:receiver")
    page = await read.alerts(params.parse({}, params.ALERT_PARAMS, 2))
    assert {(a["alert_id"], a["status"]) for a in page["items"]} == {("a1", "delivered"), ("a2", "pending")}
    only = await read.alerts(params.parse({"status": "delivered", "story_id": "s-1"}, params.ALERT_PARAMS, 2))
    assert [a["alert_id"] for a in only["items"]] == ["a1"] and only["items"][0]["delivered_at"]


async def test_changed_since_reports_each_updated_story(storage, read):
    cards, mark = await read.changed_since(None)
    assert cards == []
    await store(
        storage,
        article(
            "https://other.example/kumasi-3",
            "Kumasi tanker blast: 27 now dead",
            "Twenty-seven people are now dead after the tanker explosion in Kumasi, Ghana, officials said.",
            "2026-12-01T12:00:00Z",
            sitename="Other Outlet",
        ),
    )
    cards, mark2 = await read.changed_since(mark)
    assert [c["killed"]["count"] for c in cards] == [27] and mark2 != mark
    assert (await read.changed_since(mark2))[0] == []


_UNDO_V7 = {  # what a database was before schema 7: the read side's tables, triggers and indexes gone
    "sqlite": [
        "DROP TRIGGER stories_card_ai",
        "DROP TRIGGER stories_card_au",
        "DROP TRIGGER articles_fts_ai",
        "DROP TRIGGER articles_fts_au",
        "DROP TRIGGER articles_fts_ad",
        "DROP TABLE story_cards",
        "DROP TABLE story_fts",
        "DROP TABLE story_search_ids",
        "DROP TABLE articles_fts",
        "DROP TABLE article_search_ids",
    ],
    "postgresql": [
        "DROP FUNCTION wirewatch_story_card() CASCADE",
        "DROP TABLE story_cards",
        "DROP FUNCTION wirewatch_article_search() CASCADE",
        "DROP TABLE article_search",
    ],
}


async def test_a_database_from_before_the_read_api_is_indexed_when_it_upgrades(storage, storage_url):
    from wirewatch.sinks import open_storage

    for url, title, text, at, site in (*KUMASI, CEBU):
        await store(storage, article(url, title, text, at, sitename=site))

    async def downgrade(tx: Any) -> None:
        for statement in _UNDO_V7[storage.backend]:
            await tx.execute(statement)
        await tx.execute("DELETE FROM schema_version WHERE version >= 7")

    await storage.transact(downgrade)
    await storage.close()
    upgraded = open_storage(storage_url)
    await upgraded.start()  # runs migration 7 on the stored stories and articles
    await upgraded.close()
    async with ReadStore(storage_url) as rs:
        assert [c["killed"]["count"] for c in (await rs.stories(q()))["items"]] == [19, 7]
        assert len((await rs.stories(q(q="ferry")))["items"]) == 1
        assert len((await rs.articles(params.parse({"q": "tanker"}, params.ARTICLE_PARAMS, 2)))["items"]) == 2
