"""`wirewatch deadletter list|show|replay` as an operator runs it, against a real worker on real
Kafka and PostgreSQL: links that failed at fetch (the site answered 404) and alerts a receiver
refused (400) are listed by stage and reason, shown one by one, and put back once the site and the
receiver are fixed; replaying twice stores no article twice and delivers no alert twice. Once
retention has removed the letters, the outcome rows still let the links start over."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

from tests.harness.pipeline import wait_until
from wirewatch import deadletter
from wirewatch.worker_process import settings_env

from .scenarios import _run

pytestmark = pytest.mark.integration


def wirewatch(cfg: dict, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
    env.update(settings_env(cfg))
    out = subprocess.run(
        [sys.executable, "-m", "wirewatch", "deadletter", *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return out


async def letters_on_topic(run, stage: str, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await deadletter.read_letters(run.bootstrap, run.settings.topic("deadletter"))
        if sum(1 for letter in found if letter.stage == stage) >= count:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"fewer than {count} {stage} letters on the topic after {timeout}s")


async def three_links_dead_lettered(run) -> list[dict]:
    """A worker up, three links dead-lettered at fetch (the site answered 404), the site fixed."""
    run.start_worker(0)
    run.site.fail_with = 404
    news = await run.submit(3)
    await run.until_settled()
    await letters_on_topic(run, "fetch", 3)
    run.site.fail_with = None
    return news


async def test_list_show_and_replay_twice(fault_env):
    fault_env.page_delay = 0
    async with _run(fault_env, "deadletter") as run:
        news = await three_links_dead_lettered(run)
        run.receiver.always_status = 400
        await run.submit(0, reports=2, offset=100)
        await run.until_settled()
        await letters_on_topic(run, "alert", 2)
        run.receiver.always_status = None

        listed = [orjson.loads(line) for line in wirewatch(run.cfg, "list", "--json").stdout.splitlines()]
        assert {(r["stage"], r["reason"]): r["count"] for r in listed} == {
            ("fetch", "http_status"): 3,
            ("alert", "receiver_rejected"): 2,
        }
        only_fetch = wirewatch(run.cfg, "list", "--stage", "fetch", "--since", "1h").stdout
        assert "http_status" in only_fetch and "receiver_rejected" not in only_fetch

        shown = orjson.loads(wirewatch(run.cfg, "show", news[0]["link_id"]).stdout)
        assert (shown["stage"], shown["reason"], shown["payload"]["url"]) == ("fetch", "http_status", news[0]["url"])

        hits_before = sum(run.site.hits.values())
        dry = orjson.loads(wirewatch(run.cfg, "replay", "--dry-run").stdout)
        assert (dry["dry_run"], dry["replayed"], dry["not_replayable"]) == (True, 5, 0)
        await asyncio.sleep(3)
        assert sum(run.site.hits.values()) == hits_before and run.receiver.received == []

        first = orjson.loads(wirewatch(run.cfg, "replay").stdout)
        assert first["replayed"] == 5

        async def fixed() -> bool:
            rows = {r["link_id"]: r["outcome"] for r in await run.db.storage.outcomes()}
            return all(rows.get(link["link_id"]) == "stored" for link in news) and len(set(run.receiver.keys())) == 2

        await wait_until(fixed, 120, "the replayed links and alerts", run.workers[0])

        # Again: the links are stored and the alerts delivered now, so nothing is sent; forced with
        # --include-settled, everything goes back and the sinks and the delivery ledger absorb it.
        assert orjson.loads(wirewatch(run.cfg, "replay").stdout)["replayed"] == 0
        forced = orjson.loads(wirewatch(run.cfg, "replay", "--include-settled").stdout)
        assert (
            forced["replayed"] == 5
            and forced["by_stage_reason"]["alert: receiver_rejected -> " + run.settings.topic("alerts")] == 2
        )
        await asyncio.sleep(5)
        assert sorted(run.receiver.keys()) == sorted(set(run.receiver.keys())) and len(run.receiver.keys()) == 2
        assert len(await run.db.storage.articles()) == 5
        left = wirewatch(run.cfg, "list").stdout
        assert "http_status" not in left and "receiver_rejected" not in left
        assert run.workers[0].alive()


async def expire(bootstrap: str, topic: str, partitions: int) -> None:
    """What retention does to old letters: every record on `topic` deleted."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await consumer.start()
    await admin.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        end = await consumer.end_offsets(tps)
        await admin.delete_records({tp: RecordsToDelete(end[tp]) for tp in tps})
    finally:
        await admin.close()
        await consumer.stop()


async def test_replay_after_the_letters_expired_starts_the_links_over(fault_env):
    """Retention has removed the letters from the topic: the outcome rows still name the links,
    and replay sends each again as a link with its own link_id."""
    fault_env.page_delay = 0
    async with _run(fault_env, "expired") as run:
        news = await three_links_dead_lettered(run)
        await expire(run.bootstrap, run.settings.topic("deadletter"), run.settings.topic_partitions)
        assert await deadletter.read_letters(run.bootstrap, run.settings.topic("deadletter")) == []

        listed = wirewatch(run.cfg, "list").stdout
        assert "3 known only from storage" in listed and "http_status" in listed
        replayed = orjson.loads(wirewatch(run.cfg, "replay").stdout)
        assert replayed["by_stage_reason"] == {"fetch: http_status -> " + run.settings.topic("links"): 3}

        async def stored() -> bool:
            rows = {r["link_id"]: r["outcome"] for r in await run.db.storage.outcomes()}
            return all(rows.get(link["link_id"]) == "stored" for link in news)

        await wait_until(stored, 120, "the replayed links", run.workers[0])
        assert orjson.loads(wirewatch(run.cfg, "replay").stdout)["replayed"] == 0
        assert len(await run.db.storage.articles()) == 3
