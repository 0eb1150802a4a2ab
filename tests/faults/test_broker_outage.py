"""The Kafka broker stopped for 20 s in the middle of a run: the producer's errors reach the stages
translated (broker/errors.py: Unavailable), the stages pause and wait, no exception leaves an
agent (faust would skip the message and restart the agent), nothing is dead-lettered, and every
link still ends as exactly one outcome. Self-contained: a broker of its own, the session's
PostgreSQL, the sample site as the origin.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter

import httpx
import pytest

from tests.conftest import REPO
from tests.harness.pipeline import (
    Outcomes,
    article_urls,
    free_port,
    read_topic,
    serve_slowly,
    settings_of,
    wait_until,
    worker_config,
)
from wirewatch.broker import KafkaBroker, ensure_kafka_jars
from wirewatch.demo.site import DemoSite
from wirewatch.sources.submit import submit_links
from wirewatch.worker_process import WorkerProcess

pytestmark = pytest.mark.integration

LINKS = 40
SLOW = 8  # of them to an origin that answers after SLOW_SECONDS: fetched while the broker is away
SLOW_SECONDS = 8.0
SLOW_PAGE = """<!doctype html><html lang="en"><head><title>Ferry timetable changes for the winter</title></head>
<body><article><h1>Ferry timetable changes for the winter</h1>
<p>The island ferry will leave the north pier an hour later on weekdays from next month, the
operator said, after a season in which the early crossing often sailed with a handful of riders.</p>
<p>Weekend sailings stay as they are, and the last boat back from the mainland keeps its time so
that people who work late in the harbour town can still get home the same evening.</p>
</article></body></html>"""
OUTAGE = 20.0
# What faust logs when an agent raised (mode's crash report) and what the runner logs for a bug.
AGENT_CRASHED = ("Crashed reason=", "Agent crashed", "unexpected error", "internal_error")


@pytest.fixture
async def slow_origin():
    """Pages that take SLOW_SECONDS each, on a loopback address of their own (politeness is per host)."""
    async with serve_slowly("127.0.0.3", "/ferry/{n}", SLOW_PAGE, SLOW_SECONDS) as (base, _):
        yield base


@pytest.fixture
def own_kafka(kafka, tmp_path):
    """A broker of this test's own (the session's `kafka` proves Java and the jars are there)."""
    jars = ensure_kafka_jars(REPO / ".cache" / "kafka-jars", REPO / "deploy" / "kafka" / "pom.xml")
    broker = KafkaBroker(tmp_path / "kafka", jars_dir=jars)
    broker.start()
    yield broker
    broker.stop()


async def test_broker_down_20s_no_exception_leaves_an_agent_and_every_link_ends_once(
    own_kafka, postgres, tmp_path, slow_origin
):
    site = DemoSite()
    site.start()
    broker = own_kafka
    storage_url = postgres.create_database(f"brokerout_{uuid.uuid4().hex[:8]}")
    web_port = free_port()
    cfg = worker_config(broker.bootstrap, storage_url, tmp_path, "brokerout", [], web_port=web_port)
    settings = settings_of(cfg)
    # The slow links are fetched while the broker is away: their sends wait for its ack.
    urls = [f"{slow_origin}/ferry/{i}" for i in range(SLOW)] + article_urls(site, "bout", LINKS - SLOW)[1]
    worker = WorkerProcess(cfg, tmp_path / "worker.log").start()
    try:
        async with Outcomes(storage_url) as db:
            links = await submit_links(broker.bootstrap, settings, urls, source="test")

            async def some_done() -> bool:
                return (await db.storage.counts())["links"] >= 3

            await wait_until(some_done, 120, "the first outcomes", worker)
            await asyncio.to_thread(broker.stop)
            down_at = time.monotonic()
            paused = None
            while time.monotonic() - down_at < OUTAGE:
                assert worker.alive(), worker.log_tail()
                if paused is None:  # the stages waiting on the broker's ack say so on readiness
                    async with httpx.AsyncClient() as client:
                        body = (await client.get(f"http://127.0.0.1:{web_port}/health/ready", timeout=5)).json()
                    if "stages" in body["down"]:
                        paused = body["checks"]["stages"]["detail"]
                await asyncio.sleep(0.5)
            assert paused is not None and "broker_unavailable" in paused, worker.log_tail()
            await asyncio.to_thread(broker.start)
            await wait_until(lambda: db.settled(LINKS), 240, "every link after the broker is back", worker)

            outcomes = await db.storage.outcomes()
            assert Counter(r["outcome"] for r in outcomes) == {"stored": LINKS}, Counter(
                (r["outcome"], r.get("reason")) for r in outcomes
            )
            assert {r["link_id"] for r in outcomes} == {lk["link_id"] for lk in links}
            assert await read_topic(broker.bootstrap, settings.topic("deadletter")) == []
            log = (tmp_path / "worker.log").read_text(errors="replace")
            assert not [m for m in AGENT_CRASHED if m in log], worker.log_tail(80)
            assert worker.alive()
    finally:
        worker.stop()
        site.stop()
