"""`wirewatch deadletter list` on a service with many outcomes: storage is asked about the links
the dead-letter topic names and pages through the dead-lettered rows whose letter has expired,
never reading every outcome row (or every delivered alert) at once; `--limit N` stops after N
letters. Real Kafka for the topic, real SQLite for the outcomes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from tests.harness.pipeline import read_topic
from wirewatch import deadletter as dl
from wirewatch.settings import load_settings
from wirewatch.sinks import SqliteStorage, open_storage
from wirewatch.worker_process import settings_env

pytestmark = pytest.mark.integration

STORED = 1500  # links stored: none of them is a dead letter
EXPIRED = 2100  # dead-lettered links whose letter left the topic: more than two pages of storage's rows
ON_TOPIC = 3


def letter(link_id: str) -> dict:
    return {
        "stage": "fetch",
        "reason": "http_status",
        "detail": "404 Not Found",
        "topic": "t.links",
        "payload": {"link_id": link_id, "url": f"https://news.example/{link_id}"},
        "link_id": link_id,
        "url": f"https://news.example/{link_id}",
        "at": "2026-12-06T10:00:00Z",
        "attempts": 1,
    }


async def _fill(settings, kafka) -> None:
    storage = open_storage(settings.resolved_storage_url)
    await storage.start()
    try:
        rows = [(f"s{i:07d}", "stored", "store", "") for i in range(STORED)]
        rows += [(f"x{i:07d}", "dead_lettered", "fetch", "http_status") for i in range(EXPIRED)]
        rows += [(f"t{i:07d}", "dead_lettered", "fetch", "http_status") for i in range(ON_TOPIC)]
        for i in range(0, len(rows), 500):
            await asyncio.gather(
                *(
                    storage.record_outcome(link_id, f"https://news.example/{link_id}", outcome, stage, reason)
                    for link_id, outcome, stage, reason in rows[i : i + 500]
                )
            )
    finally:
        await storage.close()
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
    await producer.start()
    try:
        for i in range(ON_TOPIC):
            value = orjson.dumps(letter(f"t{i:07d}"))
            await producer.send_and_wait(settings.topic("deadletter"), value, key=f"t{i:07d}".encode())
    finally:
        await producer.stop()


async def test_list_pages_through_storage_and_stops_at_the_limit(kafka, tmp_path, monkeypatch):
    cfg = {
        "broker": f"kafka://{kafka.bootstrap}",
        "topic_prefix": f"dlp{uuid.uuid4().hex[:6]}.",
        "storage_url": f"sqlite:///{tmp_path / 'outcomes.db'}",
    }
    settings = load_settings(**cfg)
    await _fill(settings, kafka)

    def whole_table(self, *args):
        raise AssertionError("read every row of a table")

    monkeypatch.setattr(SqliteStorage, "outcomes", whole_table)
    monkeypatch.setattr(SqliteStorage, "delivered_alerts", whole_table)
    tally = await dl.tally(settings, kafka.bootstrap, dl.Filter())
    assert tally["rows"] == [{"stage": "fetch", "reason": "http_status", "count": EXPIRED + ON_TOPIC}]
    assert (tally["letters"], tally["expired"], tally["limited"]) == (EXPIRED + ON_TOPIC, EXPIRED, False)
    # The topic's letters come first, each with its link's outcome row; then storage's pages.
    first = await dl.load(settings, kafka.bootstrap, dl.Filter(), limit=5)
    assert [x.source for x in first] == ["topic"] * ON_TOPIC + ["outcome"] * 2
    assert all(x.outcome == "dead_lettered" for x in first[:ON_TOPIC])
    assert (await dl.tally(settings, kafka.bootstrap, dl.Filter(), limit=10))["letters"] == 10

    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
    env.update(settings_env(cfg))
    command = [sys.executable, "-m", "wirewatch", "deadletter", "list", "--limit", "7"]
    out = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "7  dead letters" in out.stdout and "the first 7 only (--limit)" in out.stdout, out.stdout


FIRST, THEN = 1500, 3000  # letters on the topic, each with a 4 KB payload: 6 MB, then 18 MB in all
AGAIN = 150  # links dead-lettered again later with another reason (a replay that failed again)


async def _letters(settings, kafka, start: int, count: int, again: int = 0) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", linger_ms=20)
    await producer.start()
    try:
        for i in range(count + again):
            n = start + i if i < count else start + (i - count) * (count // again)
            value = letter(f"m{n:07d}")
            value["payload"]["note"] = "a sentence about a page that was not there. " * 90
            if i >= count:
                value["reason"], value["detail"] = "timeout", "the site stopped answering"
            await producer.send(settings.topic("deadletter"), orjson.dumps(value), key=f"m{n:07d}".encode())
        await producer.flush()
    finally:
        await producer.stop()


async def _peak(read) -> tuple[object, int]:
    import tracemalloc

    tracemalloc.start()
    try:
        out = await read()
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def records_read(monkeypatch) -> list[int]:
    """A list that grows by one for each record of the dead-letter topic read from now on."""
    read: list[int] = []
    from_record = dl.from_record

    def counted(value, where=""):
        read.append(1)
        return from_record(value, where)

    monkeypatch.setattr(dl, "from_record", counted)
    return read


async def test_list_reads_a_long_topic_a_page_at_a_time_and_limit_stops_the_read(kafka, tmp_path, monkeypatch):
    """Memory does not grow with the topic: ``tally`` keeps of each letter its stage and reason, and
    holds one page of letters (dl.PAGE) at a time, so its peak is the same on a topic three times as
    long, where reading the whole topic into a list holds every payload. The latest copy of a letter
    still wins. With ``--limit`` the read stops after the page that reached it."""
    settings = load_settings(
        broker=f"kafka://{kafka.bootstrap}",
        topic_prefix=f"dlm{uuid.uuid4().hex[:6]}.",
        storage_url=f"sqlite:///{tmp_path / 'outcomes.db'}",
    )
    await _letters(settings, kafka, 0, FIRST, AGAIN)
    tally, short_peak = await _peak(lambda: dl.tally(settings, kafka.bootstrap, dl.Filter()))
    assert tally["rows"] == [
        {"stage": "fetch", "reason": "http_status", "count": FIRST - AGAIN},
        {"stage": "fetch", "reason": "timeout", "count": AGAIN},
    ]
    assert (tally["letters"], tally["limited"]) == (FIRST, False)

    await _letters(settings, kafka, FIRST, THEN - FIRST)
    tally, long_peak = await _peak(lambda: dl.tally(settings, kafka.bootstrap, dl.Filter()))
    assert tally["letters"] == THEN and tally["rows"][1] == {"stage": "fetch", "reason": "timeout", "count": AGAIN}
    whole, whole_peak = await _peak(lambda: dl.read_letters(kafka.bootstrap, settings.topic("deadletter")))
    assert len(whole) == THEN + AGAIN  # every copy, every payload, in one list
    del whole
    print(
        f"peak traced memory: paged tally {short_peak / 2**20:.1f} MiB over {FIRST + AGAIN} letters, "
        f"{long_peak / 2**20:.1f} MiB over {THEN + AGAIN}; the whole topic in a list {whole_peak / 2**20:.1f} MiB"
    )
    assert long_peak < 1.5 * short_peak and long_peak < whole_peak / 2

    read = records_read(monkeypatch)
    limited = await dl.tally(settings, kafka.bootstrap, dl.Filter(), limit=10)
    assert (limited["letters"], limited["limited"]) == (10, True)
    assert 10 <= len(read) <= dl.PAGE  # one page read, not the topic


async def test_links_whose_hashes_collide_are_each_counted(kafka, tmp_path, monkeypatch):
    """Letters are told apart by their exact ids, never by hash(): with every hash made equal,
    each link on the topic and each expired one in storage still counts once."""
    settings = load_settings(
        broker=f"kafka://{kafka.bootstrap}",
        topic_prefix=f"dlh{uuid.uuid4().hex[:6]}.",
        storage_url=f"sqlite:///{tmp_path / 'outcomes.db'}",
    )
    storage = open_storage(settings.resolved_storage_url)
    await storage.start()
    try:
        for link_id in ("h0000001", "h0000002", "e0000001", "e0000002"):  # two on the topic, two expired
            await storage.record_outcome(link_id, f"https://news.example/{link_id}", "dead_lettered", "fetch", "x")
    finally:
        await storage.close()
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
    await producer.start()
    try:
        for link_id in ("h0000001", "h0000002", "h0000003"):
            await producer.send_and_wait(settings.topic("deadletter"), orjson.dumps(letter(link_id)))
    finally:
        await producer.stop()
    monkeypatch.setattr(dl, "hash", lambda _: 7, raising=False)  # shadows the builtin in the module
    tally = await dl.tally(settings, kafka.bootstrap, dl.Filter())
    assert (tally["letters"], tally["expired"]) == (5, 2)
    assert sorted(x.link_id for x in await dl.load(settings, kafka.bootstrap, dl.Filter())) == [
        "e0000001",
        "e0000002",
        "h0000001",
        "h0000002",
        "h0000003",
    ]


async def test_replay_reads_a_long_topic_a_page_at_a_time_and_sends_each_item_once(kafka, tmp_path, monkeypatch):
    """``replay`` without --limit holds a page of letters, never the topic: its peak is the same on
    a topic three times as long. Each item's latest copy goes back once (a link dead-lettered again
    with another reason is replayed under that reason), and ``--limit`` stops both reads early."""
    settings = load_settings(
        broker=f"kafka://{kafka.bootstrap}",
        topic_prefix=f"dlr{uuid.uuid4().hex[:6]}.",
        storage_url=f"sqlite:///{tmp_path / 'outcomes.db'}",
    )
    links = settings.topic("links")
    await _letters(settings, kafka, 0, FIRST, AGAIN)
    report, short_peak = await _peak(lambda: dl.replay(settings, kafka.bootstrap, dl.Filter()))
    assert report["by_stage_reason"] == {
        f"fetch: http_status -> {links}": FIRST - AGAIN,
        f"fetch: timeout -> {links}": AGAIN,
    }
    assert (report["replayed"], report["not_replayable"]) == (FIRST, 0)
    sent = [orjson.loads(value)["link_id"] for _, value in await read_topic(kafka.bootstrap, links)]
    assert sorted(sent) == [f"m{n:07d}" for n in range(FIRST)]  # every item once, no copy twice
    whole, short_whole = await _peak(lambda: dl.read_letters(kafka.bootstrap, settings.topic("deadletter")))

    await _letters(settings, kafka, FIRST, THEN - FIRST)
    report, long_peak = await _peak(lambda: dl.replay(settings, kafka.bootstrap, dl.Filter(), dry_run=True))
    assert report["replayed"] == THEN
    whole, long_whole = await _peak(lambda: dl.read_letters(kafka.bootstrap, settings.topic("deadletter")))
    del whole
    print(
        f"peak traced memory: replay {short_peak / 2**20:.1f} MiB over {FIRST + AGAIN} letters, "
        f"{long_peak / 2**20:.1f} MiB over {THEN + AGAIN}; every letter in a list "
        f"{short_whole / 2**20:.1f} MiB, then {long_whole / 2**20:.1f} MiB"
    )
    # Buffers of a fixed size (the consumer's fetches, a page) make most of either peak: what
    # tells them apart is what the longer topic adds.
    assert long_peak - short_peak < (long_whole - short_whole) / 4
    # `show` holds only the letters it names: the latest copy of the item (dead-lettered again).
    found, find_peak = await _peak(lambda: dl.find(settings, kafka.bootstrap, dl.Filter(), "m0000000"))
    assert found is not None and (found.link_id, found.reason) == ("m0000000", "timeout")
    assert (await dl.find(settings, kafka.bootstrap, dl.Filter(), found.where)) == found
    assert await dl.find(settings, kafka.bootstrap, dl.Filter(), "m9999999") is None
    assert find_peak < long_whole, (find_peak, long_whole)

    read = records_read(monkeypatch)
    limited = await dl.replay(settings, kafka.bootstrap, dl.Filter(), limit=10, dry_run=True)
    assert limited["replayed"] == 10
    assert 20 <= len(read) <= 2 * dl.PAGE  # a page in each read, not the topic
