"""Source state and aliases in storage (schema version 2), on real PostgreSQL and SQLite.

What the poller and the fetch agent remember must survive a restart (close, open again) and a
version-1 database must be migrated in place on start. ``storage`` (conftest.py) runs each test on
both backends.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from wirewatch.errors import PermanentError
from wirewatch.sinks import Storage, open_storage
from wirewatch.sinks.storage import SCHEMA_VERSION
from wirewatch.sinks.storage.common import GroupCommit
from wirewatch.sinks.storage.sources import ALIAS_WITHIN

EXAMPLE = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "enriched.json"


def article() -> dict:
    return json.loads(EXAMPLE.read_text())


async def reopen(store: Storage) -> Storage:
    await store.close()
    again = open_storage(store.url)
    await again.start()
    return again


T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


async def test_source_state_round_trips_and_survives_a_restart(storage: Storage) -> None:
    assert await storage.load_source_state("feed:harbour") is None
    state = {
        "name": "feed:harbour",
        "kind": "feed",
        "url": "https://hg.example/feed.xml",
        "etag": '"v7"',
        "last_modified": "Tue, 24 Nov 2026 07:59:00 GMT",
        "next_poll_at": T0 + timedelta(minutes=5),
        "error_count": 3,
        "last_error": "http_status: HTTP 503",
        "last_polled_at": T0,
        "last_new_item_at": T0 - timedelta(hours=1),
        "stale_alerted_at": None,
        "seen": ["g1", "g2", "ünïcode-guid"],
    }
    await storage.save_source_state(state)
    storage = await reopen(storage)
    try:
        loaded = await storage.load_source_state("feed:harbour")
        assert loaded is not None
        for key, value in state.items():
            assert loaded[key] == value, key
        assert loaded["next_poll_at"].tzinfo is not None

        await storage.save_source_state({**state, "etag": None, "error_count": 0, "seen": ["g3"]})
        again = await storage.load_source_state("feed:harbour")
        assert again is not None and again["etag"] is None and again["error_count"] == 0 and again["seen"] == ["g3"]
    finally:
        await storage.close()


async def test_source_state_needs_a_name(storage: Storage) -> None:
    with pytest.raises(PermanentError) as e:
        await storage.save_source_state({"kind": "feed"})
    assert e.value.reason == "storage_rejected"


async def test_alias_says_whether_its_article_is_stored(storage: Storage) -> None:
    item = article()
    canonical = item["canonical_url"]
    await storage.put_alias("https://exm.pl/k3x9", "https://news.example.org/x?utm=1", canonical, ttl=3600)
    alias = await storage.get_alias("https://exm.pl/k3x9")
    assert alias is not None
    assert (alias["final_url"], alias["canonical_url"], alias["article_stored"]) == (
        "https://news.example.org/x?utm=1",
        canonical,
        False,
    )
    assert timedelta(seconds=3599) <= alias["expires_at"] - alias["resolved_at"] <= timedelta(seconds=3601)

    await storage.upsert_article(item)
    storage = await reopen(storage)
    try:
        alias = await storage.get_alias("https://exm.pl/k3x9")
        assert alias is not None and alias["article_stored"] is True
        assert await storage.get_alias("https://exm.pl/other") is None
    finally:
        await storage.close()


async def test_an_alias_written_without_waiting_goes_with_the_next_call_and_is_read_back(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fetch agent does not wait for its alias: it rides with the next transaction, and a lookup
    # made after it (in the same worker) already finds it.
    await storage.put_alias("https://s.example/w", "https://n.example/w", "https://n.example/w", ttl=60, wait=False)
    alias = await storage.get_alias("https://s.example/w")
    assert alias is not None and alias["final_url"] == "https://n.example/w"
    # Alone, it is written by the group commit's own timer (at the latest ALIAS_WITHIN later). The
    # test awaits that write itself rather than sleeping a fixed time: a sleep under load could
    # end before the write, and the check below (a transaction outside the group commit, which
    # flushes nothing) then failed for nothing.
    pending: list[tuple[float, asyncio.Future[Any]]] = []
    soon = GroupCommit.soon

    def spy(self: GroupCommit, part: Any, within: float) -> asyncio.Future[Any]:
        future = soon(self, part, within)
        pending.append((within, future))
        return future

    monkeypatch.setattr(GroupCommit, "soon", spy)
    await storage.put_alias("https://s.example/v", "https://n.example/v", "https://n.example/v", ttl=60, wait=False)
    [(within, written)] = pending
    assert within == ALIAS_WITHIN
    await asyncio.wait_for(written, 60)  # a guard against a hang, not a speed goal
    assert await storage.transact(
        lambda tx: tx.fetchrow("SELECT url FROM aliases WHERE url = $1", "https://s.example/v")
    )


async def test_alias_is_replaced_and_expired_ones_are_pruned(storage: Storage) -> None:
    await storage.put_alias("https://s.example/a", "https://n.example/1", "https://n.example/1", ttl=60)
    await storage.put_alias("https://s.example/a", "https://n.example/2", "https://n.example/2", ttl=60)
    await storage.put_alias("https://s.example/b", "https://n.example/3", "https://n.example/3", ttl=0)
    alias = await storage.get_alias("https://s.example/a")
    assert alias is not None and alias["canonical_url"] == "https://n.example/2"
    assert await storage.prune_aliases(datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert await storage.get_alias("https://s.example/b") is None
    assert await storage.get_alias("https://s.example/a") is not None


async def test_a_version_1_database_is_migrated_on_start(storage: Storage) -> None:
    await storage.upsert_article(article())

    # Make it a version-1 database: what later versions added gone, the articles kept.
    async def downgrade(tx: Any) -> None:
        await tx.execute("DROP TABLE source_state")
        await tx.execute("DROP TABLE aliases")
        await tx.execute("ALTER TABLE articles DROP COLUMN places")
        await tx.execute("DELETE FROM schema_version WHERE version >= 2")

    await storage.transact(downgrade)
    assert await storage.schema_version() == 1
    storage = await reopen(storage)
    try:
        assert await storage.schema_version() == SCHEMA_VERSION >= 2
        assert (await storage.counts())["articles"] == 1
        await storage.save_source_state({"name": "sitemap:x", "kind": "sitemap", "seen": []})
        assert (await storage.load_source_state("sitemap:x"))["kind"] == "sitemap"
        await storage.put_alias("https://s.example/a", "https://n.example/1", article()["canonical_url"], ttl=60)
        assert (await storage.get_alias("https://s.example/a"))["article_stored"] is True
    finally:
        await storage.close()


async def test_places_are_stored_with_the_article(storage: Storage) -> None:
    places = [{"name": "Kumasi", "country_code": "GH", "kind": "city"}]
    await storage.upsert_article({**article(), "places": places})
    (row,) = await storage.articles()
    assert row["places"] == places
