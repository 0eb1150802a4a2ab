"""Storage against real backends: PostgreSQL started by the harness, and SQLite in tmp_path.

Every behaviour test runs on both (the ``storage``/``storage_url`` fixtures in conftest.py), so
the two backends cannot drift apart. On CI (CI=true) a missing PostgreSQL fails these tests;
elsewhere the postgres half is skipped.
"""

from __future__ import annotations

import asyncio
import copy
import json
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.harness.postgres import PostgresServer, free_port
from wirewatch.errors import ConfigError, PermanentError, TransientError
from wirewatch.sinks import PostgresStorage, Sink, SqliteStorage, Storage, open_storage, storage as storage_module
from wirewatch.sinks.storage import ledgers
from wirewatch.stages.story_index import story_keys

EXAMPLE = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "enriched.json"

ZERO_COUNTS = {"articles": 0, "links": 0, "stored": 0, "filtered": 0, "dead_lettered": 0, "alerts_delivered": 0}


def article(**changes: Any) -> dict[str, Any]:
    item = json.loads(EXAMPLE.read_text())
    item.update(changes)
    return item


# -- articles ---------------------------------------------------------------------------------


async def test_upsert_twice_keeps_one_row(storage: Storage) -> None:
    first = article()
    assert await storage.upsert_article(first) == "inserted"
    stored = await storage.get_article(first["canonical_url"])
    assert stored is not None

    second = article(title="Blast at a river market kills at least twelve", link_id="9a8b7c6d5e4f3a2b")
    second["figures"]["killed"] = {"count": 12, "min": 12, "max": None}
    assert await storage.upsert_article(second) == "updated"

    rows = await storage.articles()
    assert len(rows) == 1
    row = rows[0]
    assert row["title"] == second["title"]
    assert row["figures"]["killed"] == {"count": 12, "min": 12, "max": None}
    assert row["revision"] == 2
    assert row["first_seen"] == stored["first_seen"]
    assert row["updated_at"] >= stored["updated_at"]
    assert sorted(row["link_ids"]) == sorted([first["link_id"], second["link_id"]])
    assert (await storage.counts())["articles"] == 1


async def test_identical_redelivery_is_an_update_not_a_duplicate(storage: Storage) -> None:
    item = article()
    assert [await storage.upsert_article(copy.deepcopy(item)) for _ in range(3)] == ["inserted", "updated", "updated"]
    row = await storage.get_article(item["canonical_url"])
    assert row is not None and row["link_ids"] == [item["link_id"]]
    assert len(await storage.articles()) == 1


async def test_article_round_trips_every_column(storage: Storage) -> None:
    item = article()
    await storage.upsert_article(item)
    row = await storage.get_article(item["canonical_url"])
    assert row is not None
    for field in (
        "canonical_url", "url", "final_url", "title", "text", "published", "language", "sitename", "source",
        "status", "content_type", "fetched_at", "authors", "figures", "casualties", "keywords", "redirects",
        "link_id", "description", "image",
    ):  # fmt: skip
        assert row[field] == item[field], field
    for ts in ("first_seen", "updated_at"):
        assert isinstance(row[ts], datetime) and row[ts].utcoffset() == UTC.utcoffset(None)
        assert abs((datetime.now(UTC) - row[ts]).total_seconds()) < 60
    assert await storage.get_article("https://nowhere.example/") is None


async def test_concurrent_redeliveries_insert_exactly_once(storage: Storage) -> None:
    results = await asyncio.gather(*(storage.upsert_article(article(link_id=f"link-{i:04d}")) for i in range(20)))
    assert results.count("inserted") == 1 and results.count("updated") == 19
    assert (await storage.counts())["articles"] == 1
    row = await storage.get_article(article()["canonical_url"])
    assert row is not None and len(row["link_ids"]) == 20 and row["revision"] == 20


async def test_nul_characters_are_dropped_not_rejected(storage: Storage) -> None:
    item = article(text="Nine killed\x00 in blast", authors=["Lena\x00 Haddad"])
    await storage.upsert_article(item)
    row = await storage.get_article(item["canonical_url"])
    assert row is not None and row["text"] == "Nine killed in blast" and row["authors"] == ["Lena Haddad"]


@pytest.mark.parametrize(
    "changes",
    [{"canonical_url": ""}, {"canonical_url": None}, {"text": ""}, {"status": "200"}, {"title": 5}, {"status": 2**40}],
)
async def test_bad_article_is_rejected_permanently(storage: Storage, changes: dict[str, Any]) -> None:
    with pytest.raises(PermanentError) as info:
        await storage.upsert_article(article(**changes))
    assert info.value.reason == "storage_rejected"
    assert await storage.counts() == ZERO_COUNTS


async def test_sink_lifecycle_add_flush_close(storage: Storage) -> None:
    assert isinstance(storage, Sink)
    await storage.add(article())
    await storage.add(article())
    await storage.flush()
    assert (await storage.counts())["articles"] == 1
    await storage.close()
    await storage.close()  # idempotent
    with pytest.raises(TransientError) as info:
        await storage.add(article())
    assert info.value.reason == "storage_unavailable"


async def test_add_stored_by_writes_the_outcome_in_the_same_transaction(storage: Storage) -> None:
    await storage.add(article(link_id="l-1"), stored_by="store")
    outcomes = await storage.outcomes()
    assert [(o["link_id"], o["outcome"], o["stage"]) for o in outcomes] == [("l-1", "stored", "store")]
    counts = await storage.counts()
    assert (counts["articles"], counts["links"], counts["stored"]) == (1, 1, 1)
    # A rejected article leaves no outcome either: the two are one transaction.
    with pytest.raises(PermanentError):
        await storage.add(article(link_id="l-2", title=5), stored_by="store")
    assert [o["link_id"] for o in await storage.outcomes()] == ["l-1"]


async def test_concurrent_adds_each_get_their_own_result(storage: Storage) -> None:
    # Group commit: many adds at once share transactions; each still hears its own article's fate.
    adds = [
        storage.add(article(link_id=f"l-{i}", canonical_url=f"https://e.test/{i}"), stored_by="store")
        for i in range(20)
    ]
    adds.append(storage.add(article(link_id="bad", canonical_url="https://e.test/bad", title=5), stored_by="store"))
    results = await asyncio.gather(*adds, return_exceptions=True)
    assert results[:20] == ["inserted"] * 20
    assert isinstance(results[20], PermanentError)
    counts = await storage.counts()
    assert (counts["articles"], counts["links"], counts["stored"]) == (20, 20, 20)


async def test_a_links_calls_share_transactions_and_a_refused_one_fails_alone(storage: Storage) -> None:
    # Alias, article, outcome and alert ledger go through one group commit; the database refusing
    # one part (here the outcome CHECK) rolls its batch back and the rest are written again alone.
    refused = storage.batched(
        lambda tx: tx.execute(
            "INSERT INTO link_outcomes (link_id, outcome, first_seen, updated_at) VALUES ($1, $2, $3, $3)",
            "link-x",
            "lost",
            storage._ts(datetime.now(UTC)),
        )
    )
    calls = [
        storage.put_alias("https://s.example/a", "https://n.example/1", "https://n.example/1", ttl=60),
        storage.add(article(link_id="l-1", canonical_url="https://e.test/1"), stored_by="store"),
        refused,
        storage.record_outcome("l-2", "https://e.test/2", "filtered", "fetch", "too_short"),
        storage.claim_alert("alert-1", "slack", {}),
        storage.get_alias("https://s.example/none"),
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert results[1] == "inserted" and results[4] is True and results[5] is None
    assert isinstance(results[2], PermanentError)
    assert await storage.get_alias("https://s.example/a") is not None
    assert sorted(o["link_id"] for o in await storage.outcomes()) == ["l-1", "l-2"]


async def test_schema_creation_is_idempotent(storage_url: str) -> None:
    async with open_storage(storage_url) as first:
        await first.upsert_article(article())
        await first.record_outcome("6f1c2a9e4b7d4c0e", "https://exm.pl/k3x9", "stored", "storage")
    async with open_storage(storage_url) as second, open_storage(storage_url) as third:
        assert await second.schema_version() == storage_module.SCHEMA_VERSION
        assert (await third.counts())["articles"] == 1
        assert (await second.upsert_article(article())) == "updated"


async def test_a_clean_close_writes_the_delivery_marks_still_queued(
    storage_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mark rides with a later transaction; a storage closed before then (a clean stop) writes it
    on the way out, or the alert would be sent again after the restart."""
    monkeypatch.setattr(ledgers, "MARK_WITHIN", 3600.0)
    async with open_storage(storage_url) as store:
        assert await store.claim_alert("alert-closing", "webhook:a", {}) is True
        mark = asyncio.ensure_future(store.mark_delivered("alert-closing", "webhook:a"))
        await asyncio.sleep(0.01)
        assert not mark.done()
    await asyncio.wait_for(mark, 30)  # a guard against a hang
    async with open_storage(storage_url) as again:
        assert "alert-closing" in await again.delivered_alerts()


# -- outcomes ---------------------------------------------------------------------------------


async def test_redelivered_link_keeps_one_outcome_latest_wins(storage: Storage) -> None:
    await storage.record_outcome("link-0001", "https://a.example/1", "filtered", "extract", "too_short", "42 chars")
    await storage.record_outcome("link-0001", "https://a.example/1", "filtered", "extract", "too_short", "42 chars")
    assert len(await storage.outcomes()) == 1
    await storage.record_outcome("link-0001", "https://a.example/1", "dead_lettered", "fetch", "http_5xx", "503")
    assert await storage.outcomes() == [
        {
            "link_id": "link-0001",
            "url": "https://a.example/1",
            "outcome": "dead_lettered",
            "stage": "fetch",
            "reason": "http_5xx",
            "detail": "503",
        }
    ]


async def test_stored_overrides_filtered_and_then_sticks(storage: Storage) -> None:
    await storage.record_outcome("link-0002", "https://a.example/2", "filtered", "extract", "not_article")
    await storage.record_outcome("link-0002", "https://a.example/2", "stored", "storage")
    (row,) = await storage.outcomes()
    assert (row["outcome"], row["stage"], row["reason"]) == ("stored", "storage", "")
    # A later redelivery that fails or is filtered must not hide the stored article.
    await storage.record_outcome("link-0002", "https://a.example/2", "dead_lettered", "fetch", "timeout")
    await storage.record_outcome("link-0002", "https://a.example/2", "filtered", "route", "duplicate")
    (row,) = await storage.outcomes()
    assert row["outcome"] == "stored"
    assert await storage.counts() == {**ZERO_COUNTS, "links": 1, "stored": 1}


async def test_stored_overrides_dead_lettered(storage: Storage) -> None:
    await storage.record_outcome("link-0003", "https://a.example/3", "dead_lettered", "fetch", "timeout", "30s")
    await storage.record_outcome("link-0003", "https://a.example/3", "stored", "storage")
    assert [r["outcome"] for r in await storage.outcomes()] == ["stored"]


async def test_unknown_outcome_is_a_programming_error(storage: Storage) -> None:
    with pytest.raises(ValueError):
        await storage.record_outcome("link-0004", "https://a.example/4", "lost", "fetch")


# -- alerts -----------------------------------------------------------------------------------


async def test_claim_and_mark_alert_flow(storage: Storage) -> None:
    alert = {"canonical_url": "https://news.example.org/x", "killed": 9}
    assert await storage.claim_alert("alert-1", "slack", alert) is True
    assert await storage.claim_alert("alert-1", "slack", alert) is True  # send failed before mark: retry
    assert (await storage.counts())["alerts_delivered"] == 0

    await storage.mark_delivered("alert-1", "slack")
    assert await storage.claim_alert("alert-1", "slack", alert) is False
    assert await storage.claim_alert("alert-1", "webhook", alert) is True  # targets are independent
    await storage.mark_delivered("alert-1", "slack")  # twice: still one delivery
    assert (await storage.counts())["alerts_delivered"] == 1

    await storage.mark_delivered("alert-2", "email")  # delivered without a claim row
    assert await storage.claim_alert("alert-2", "email", {}) is False
    assert (await storage.counts())["alerts_delivered"] == 2


# -- counts -----------------------------------------------------------------------------------


async def test_counts_reconcile(storage: Storage) -> None:
    assert await storage.counts() == ZERO_COUNTS
    await storage.upsert_article(article(link_id="link-a"))
    await storage.upsert_article(article(link_id="link-b"))  # same story from a second link
    await storage.upsert_article(article(link_id="link-c", canonical_url="https://news.example.org/other"))
    for link_id in ("link-a", "link-b", "link-c"):
        await storage.record_outcome(link_id, "https://exm.pl/" + link_id, "stored", "storage")
    await storage.record_outcome("link-d", "https://exm.pl/d", "filtered", "extract", "not_article")
    await storage.record_outcome("link-e", "https://exm.pl/e", "dead_lettered", "fetch", "http_4xx", "404")
    await storage.record_outcome("link-e", "https://exm.pl/e", "dead_lettered", "fetch", "http_4xx", "404")
    await storage.claim_alert("alert-1", "slack", {})
    await storage.mark_delivered("alert-1", "slack")
    await storage.claim_alert("alert-2", "slack", {})  # pending, not delivered

    counts = await storage.counts()
    assert counts == {"articles": 2, "links": 5, "stored": 3, "filtered": 1, "dead_lettered": 1, "alerts_delivered": 1}
    assert counts["links"] == counts["stored"] + counts["filtered"] + counts["dead_lettered"]
    assert len(await storage.articles()) == 2


# -- error translation ------------------------------------------------------------------------


async def test_constraint_violation_is_permanent(storage: Storage) -> None:
    """A row the database itself refuses (here: the outcome CHECK constraint) -> PermanentError."""
    with pytest.raises(PermanentError) as info:
        await storage.transact(
            lambda tx: tx.execute(
                "INSERT INTO link_outcomes (link_id, outcome, first_seen, updated_at) VALUES ($1, $2, $3, $3)",
                "link-x",
                "lost",
                storage._ts(datetime.now(UTC)),
            )
        )
    assert info.value.reason == "storage_rejected"
    assert isinstance(info.value.__cause__, Exception)
    assert await storage.outcomes() == []  # rolled back


async def test_unreachable_postgres_is_transient() -> None:
    store = open_storage(f"postgresql://postgres@127.0.0.1:{free_port()}/wirewatch", connect_timeout=5)
    with pytest.raises(TransientError) as info:
        await store.start()
    assert info.value.reason == "storage_unavailable"
    await store.close()


async def test_missing_postgres_database_is_transient(postgres: PostgresServer) -> None:
    store = open_storage(postgres.url_for("not_created_yet"))
    with pytest.raises(TransientError) as info:
        await store.start()
    assert "3D000" in info.value.detail


async def test_unopenable_sqlite_is_transient(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    store = open_storage(f"sqlite:///{tmp_path}/file/wirewatch.db")
    with pytest.raises(TransientError) as info:
        await store.start()
    assert info.value.reason == "storage_unavailable"


# -- open_storage -----------------------------------------------------------------------------


def test_open_storage_picks_the_backend(tmp_path: Path) -> None:
    assert isinstance(open_storage("postgresql://u@db:5432/wirewatch"), PostgresStorage)
    assert isinstance(open_storage("postgres://u:secret@db/wirewatch"), PostgresStorage)
    assert "secret" not in repr(open_storage("postgres://u:secret@db/wirewatch"))
    sqlite = open_storage(f"sqlite:///{tmp_path}/a/b.db")
    assert isinstance(sqlite, SqliteStorage) and sqlite.path == f"{tmp_path}/a/b.db"
    for bad in ("mysql://db/x", "sqlite://host/x.db", "sqlite:///", "/plain/path.db"):
        with pytest.raises(ConfigError):
            open_storage(bad)


async def test_sqlite_creates_parent_dir_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "wirewatch.db"
    async with open_storage(f"sqlite:///{path}") as store:
        assert isinstance(store, SqliteStorage)
        row = await store.transact(lambda tx: tx.fetchrow("PRAGMA journal_mode"))
        assert row is not None and list(row.values()) == ["wal"]
    assert path.exists()


async def test_sqlite_keeps_its_temporary_files_in_memory(tmp_path: Path) -> None:
    # A statement journal (a story filed under its keys inside a group commit) or a sort's spill
    # is no file in /var/tmp written and deleted again: nothing in it is durable.
    async with open_storage(f"sqlite:///{tmp_path}/t.db") as store:
        row = await store.transact(lambda tx: tx.fetchrow("PRAGMA temp_store"))
        assert row is not None and list(row.values()) == [2]  # MEMORY


async def test_sqlite_checkpoints_a_16_mib_wal(tmp_path: Path) -> None:
    # A checkpoint copies each page of the WAL once: a larger window copies the story index's
    # random leaves, which later stories write again, fewer times. The WAL's fsync is untouched.
    async with open_storage(f"sqlite:///{tmp_path}/c.db") as store:
        row = await store.transact(lambda tx: tx.fetchrow("PRAGMA wal_autocheckpoint"))
        assert row is not None and list(row.values()) == [4096]
        row = await store.transact(lambda tx: tx.fetchrow("PRAGMA synchronous"))
        assert row is not None and list(row.values()) == [2]  # FULL


async def test_sqlite_runs_a_transaction_whole_in_its_thread_and_refuses_other_awaits(tmp_path: Path) -> None:
    # One trip to the storage's thread per transaction: the body runs there to its end, so it may
    # await its statements only; anything else is a bug in the body, refused and rolled back.
    async with open_storage(f"sqlite:///{tmp_path}/w.db") as store:
        loop_thread = threading.get_ident()
        seen: list[int] = []

        async def two_statements(tx: Any) -> int:
            await tx.execute("CREATE TABLE t (x INTEGER)")
            seen.append(threading.get_ident())
            await tx.execute("INSERT INTO t VALUES (1)")
            row = await tx.fetchrow("SELECT count(*) AS n FROM t")
            return int(row["n"])

        assert await store.transact(two_statements) == 1
        assert seen and seen[0] != loop_thread

        async def sleeps(tx: Any) -> None:
            await tx.execute("INSERT INTO t VALUES (2)")
            await asyncio.sleep(0)

        with pytest.raises(RuntimeError, match="other than its statements"):
            await store.transact(sleeps)
        assert (await store.transact(lambda tx: tx.fetchrow("SELECT count(*) AS n FROM t")))["n"] == 1


async def test_sqlite_reads_wait_for_no_writer(tmp_path: Path) -> None:
    # Another process (a second worker, `wirewatch` commands, bench-e2e's observer) holds the write
    # lock: reads answer from a WAL snapshot at once; a write waits for the lock as before. The
    # store waits up to 60 s for a lock, so a read that waited would hang far past the 20 s guard:
    # what is told apart is waiting or not, not how fast a loaded machine answers.
    url = f"sqlite:///{tmp_path}/w.db"
    async with open_storage(url, busy_timeout_ms=60_000) as store, open_storage(url, busy_timeout_ms=300) as impatient:
        await store.record_outcome("l-1", "https://e.test/1", "filtered", "fetch")
        other = sqlite3.connect(f"{tmp_path}/w.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            assert [o["link_id"] for o in await asyncio.wait_for(store.outcomes(), 20)] == ["l-1"]
            assert (await asyncio.wait_for(store.counts(), 20))["filtered"] == 1
            assert await asyncio.wait_for(store.schema_version(), 20) == storage_module.SCHEMA_VERSION
            with pytest.raises(TransientError):  # busy for longer than busy_timeout
                await impatient.save_source_state({"name": "feed:x"})
        finally:
            other.execute("ROLLBACK")
            other.close()


async def test_sqlite_transaction_cancelled_while_begin_waits_leaves_none_open(tmp_path: Path) -> None:
    # A health probe's timeout or a rebalance can cancel a transaction whose BEGIN is waiting for
    # another process's write lock; the BEGIN still runs later, and must not stay open after it,
    # nor run the cancelled body. (A call of the group commit, ``batched``, is written even when
    # its caller stops waiting: it shares a transaction with other callers'.)
    url = f"sqlite:///{tmp_path}/w.db"
    async with open_storage(url) as store:
        other = sqlite3.connect(f"{tmp_path}/w.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        outcome = (
            "INSERT INTO link_outcomes (link_id, outcome, first_seen, updated_at) VALUES ('l-1', 'filtered', '', '')"
        )
        waiting = asyncio.create_task(store.transact(lambda tx: tx.execute(outcome)))
        await asyncio.sleep(0.3)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        other.execute("COMMIT")
        other.close()
        await store.record_outcome("l-2", "https://e.test/2", "filtered", "fetch")
        assert [o["link_id"] for o in await store.outcomes()] == ["l-2"]


async def test_outcomes_of_some_links_and_the_dead_lettered_a_page_at_a_time(storage: Storage) -> None:
    # What `wirewatch deadletter` reads instead of every outcome row: the rows of the links a topic
    # names (in bounded statements however many), and the dead-lettered ones page by page.
    for i in range(7):
        await storage.record_outcome(f"dead{i:04d}", f"https://d.example/{i}", "dead_lettered", "fetch", "http_status")
    await storage.record_outcome("kept0001", "https://k.example/1", "stored", "store")
    asked = ["dead0003", "kept0001", "never-seen"] + [f"other{i}" for i in range(2500)]
    got = {row["link_id"]: row["outcome"] for row in await storage.outcomes_of(asked)}
    assert got == {"dead0003": "dead_lettered", "kept0001": "stored"}
    assert await storage.outcomes_of([]) == []
    paged = [row["link_id"] async for row in storage.dead_lettered_outcomes(page=3)]
    assert paged == [f"dead{i:04d}" for i in range(7)]

    assert await storage.claim_alert("alert-delivered", "webhook:a", {"alert_id": "alert-delivered"})
    await storage.mark_delivered("alert-delivered", "webhook:a")
    assert await storage.claim_alert("alert-pending", "webhook:a", {"alert_id": "alert-pending"})
    assert await storage.delivered_among(["alert-delivered", "alert-pending", "alert-unknown"]) == {"alert-delivered"}


# -- stories ------------------------------------------------------------------------------------


def _story(story_id: str, at: datetime, **state: Any) -> dict[str, Any]:
    return {"story_id": story_id, "title": story_id, "first_at": at, "last_at": at, "state": {"size": 1, **state}}


async def test_story_candidates_by_key_and_expired_ones_by_follow_up_key_only(storage: Storage) -> None:
    # The candidate index: a story in the window is found by any key it is filed under (what its
    # state holds: "p:town" for a place, "f:p:ann lee" for a person); a story whose window closed
    # only by a follow-up key ("f:"), and only back to the follow-up horizon.
    old, new = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
    for story_id, at, state in (
        ("s-old", old, {"places": ["town"], "people": ["ann lee"]}),
        ("s-new", new, {"places": ["town"]}),
    ):
        save = _story(story_id, at, **state)
        # The article's own keys only look up: a story is filed under what its state holds.
        await storage.assign_story(f"https://e.test/{story_id}", at, lambda rows, s=save: (s, None), ["n:other"])

    async def candidates(keys: list[str], horizon: datetime | None) -> list[str]:
        seen: list[str] = []

        def decide(rows: list[dict[str, Any]]) -> tuple[None, None]:
            seen.extend(r["story_id"] for r in rows)
            return None, None

        await storage.assign_story("https://e.test/x", new, decide, keys, follow_up_since=horizon)
        return seen

    assert await candidates(["p:town"], old) == ["s-new"]  # a plain key finds no expired story
    assert await candidates(["p:town", "f:p:ann lee"], old) == ["s-old", "s-new"]
    assert await candidates(["f:p:ann lee"], datetime(2026, 2, 1, tzinfo=UTC)) == []  # beyond the horizon
    assert await candidates(["f:p:ann lee"], None) == []  # no follow-ups


async def test_a_story_is_filed_under_its_state_and_a_join_writes_only_the_keys_it_adds(storage: Storage) -> None:
    # The index holds what the story's state gives (stages/story_index.py story_keys), not the
    # article's lookup keys; a join writes the keys its article added to the state, no others.
    at = datetime(2026, 3, 1, tzinfo=UTC)

    async def filed() -> set[str]:
        rows = await storage.transact(lambda tx: tx.fetch("SELECT key FROM story_keys"), read_only=True)
        return {r["key"] for r in rows}

    first = _story("s-1", at, places=["town"])
    await storage.assign_story("https://e.test/1", at, lambda rows: (first, None), ["p:town", "n:lookup only"])
    assert await filed() == story_keys(first["state"]) == {"p:town"}
    written: list[str] = []
    insert = storage._keyed

    def counting(sql: str, n: int, name: str = "keys") -> str:
        written.extend([sql] if sql.lstrip().startswith("INSERT INTO story_keys") else [])
        return insert(sql, n, name)

    storage._keyed = counting  # type: ignore[method-assign]

    def join(rows: list[dict[str, Any]]) -> tuple[dict[str, Any], None]:
        (row,) = rows
        row["state"]["places"].append("harbour")  # in place, as stages/story.py attach does
        return row, None

    await storage.assign_story("https://e.test/2", at, join, ["p:harbour", "p:town"])
    assert await filed() == {"p:town", "p:harbour"} and len(written) == 1
    joined = _story("s-1", at, places=["town", "harbour"])
    written.clear()
    await storage.assign_story("https://e.test/3", at, lambda rows: (joined, None), ["p:town"])
    assert written == []  # the state gave no new key: nothing written to the index


async def test_a_version_7_database_files_its_stories_again_under_their_state(storage: Storage) -> None:
    # Version 8 stops filing stories under their articles' lookup keys: an upgraded database is
    # filed again from each story's state, the lookup-only keys gone.
    at = datetime(2026, 3, 1, tzinfo=UTC)
    save = _story("s-1", at, places=["town"])
    await storage.assign_story("https://e.test/1", at, lambda rows: (save, None), ["p:town"])

    async def downgrade(tx: Any) -> None:
        await tx.execute("INSERT INTO story_keys (key, story_id) VALUES ('n:lookup only', 's-1')")
        await tx.execute("DELETE FROM schema_version WHERE version >= 8")

    await storage.transact(downgrade)
    await storage.close()
    async with open_storage(storage.url) as again:
        assert await again.schema_version() == storage_module.SCHEMA_VERSION >= 8
        rows = await again.transact(lambda tx: tx.fetch("SELECT key, story_id FROM story_keys"), read_only=True)
        assert [(r["key"], r["story_id"]) for r in rows] == [("p:town", "s-1")]


async def test_sqlite_story_decisions_share_the_group_commit_and_a_failing_one_fails_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On SQLite (one writer) a story decision rides in the group commit with a link's other calls:
    # no transaction of its own; a decision that raises rolls its batch back and fails alone.
    async with open_storage(f"sqlite:///{tmp_path}/w.db") as store:
        transactions: list[int] = []
        commit = store._group._transact

        async def counted(body: Any) -> Any:
            transactions.append(1)
            return await commit(body)

        store._group._transact = counted
        at = datetime(2026, 3, 1, tzinfo=UTC)

        def broken(rows: list[dict[str, Any]]) -> tuple[None, None]:
            raise ValueError("a bug in the decision")

        results = await asyncio.gather(
            store.add(article(link_id="l-1", canonical_url="https://e.test/1"), stored_by="store"),
            store.assign_story(
                "https://e.test/1", at, lambda rows: (_story("s-1", at, places=["town"]), "joined"), ["p:town"]
            ),
            store.assign_story("https://e.test/2", at, broken, ["p:town"]),
            store.claim_alert("alert-1", "slack", {}),
            store.assign_story("https://e.test/3", at, lambda rows: (_story("s-3", at), len(rows)), ["p:town"]),
            return_exceptions=True,
        )
        assert results[0] == "inserted" and results[1] == "joined" and results[3] is True
        assert isinstance(results[2], ValueError)
        assert results[4] == 1  # s-1, written in the same group before it, is a candidate
        # The five in one transaction, rolled back for the broken one and written again one by one.
        assert len(transactions) == 1 + 5
        assert [s["story_id"] for s in await store.stories()] == ["s-1", "s-3"]
        transactions.clear()
        await asyncio.gather(
            store.add(article(link_id="l-4", canonical_url="https://e.test/4"), stored_by="store"),
            store.assign_story("https://e.test/4", at, lambda rows: (_story("s-4", at), None), ["p:town"]),
            store.claim_alert("alert-4", "slack", {}),
        )
        assert len(transactions) == 1  # a link's article, story and alert ledger: one commit
        # A delivery mark starts no transaction: it rides with the next one (here within 30 s at most).
        transactions.clear()
        monkeypatch.setattr(ledgers, "MARK_WITHIN", 30.0)
        mark = asyncio.ensure_future(store.mark_delivered("alert-4", "slack"))
        await asyncio.sleep(0.01)
        assert transactions == [] and not mark.done()
        await store.add(article(link_id="l-5", canonical_url="https://e.test/5"), stored_by="store")
        await asyncio.wait_for(mark, 30)  # a guard against a hang
        assert len(transactions) == 1 and await store.claim_alert("alert-4", "slack", {}) is False
