"""PostgreSQL stopped for 30 s in the middle of a run: the stages that need it pause and wait, and
when it is back every link is stored once and nothing was dead-lettered (issue 11: transient
means wait). Self-contained: its own PostgreSQL cluster (stopped and started on the same port),
the session's Kafka, the sample site as the origin.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.harness.pipeline import Outcomes, article_urls, free_port, read_topic, settings_of, wait_until, worker_config
from tests.harness.postgres import PostgresServer
from wirewatch.demo.site import DemoSite
from wirewatch.sources.submit import submit_links
from wirewatch.worker_process import WorkerProcess

pytestmark = pytest.mark.integration

LINKS = 60
OUTAGE = 30.0


@pytest.fixture
def own_postgres(postgres):
    """A cluster of this test's own (the session's `postgres` proves the server is installed):
    stopping it stops no other test's database."""
    data_dir = Path(tempfile.mkdtemp(prefix="wirewatch-pg-outage-"))
    server = PostgresServer(data_dir)  # a free port, kept when it is started again
    server.start()
    yield server
    server.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


async def paused_stages(port: int) -> set[str]:
    """The stages whose wirewatch_stage_paused gauge is 1."""
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"http://127.0.0.1:{port}/metrics", timeout=5)).text
    prefix = 'wirewatch_stage_paused{stage="'
    return {
        line[len(prefix) :].split('"', 1)[0]
        for line in text.splitlines()
        if line.startswith(prefix) and float(line.rsplit(" ", 1)[1]) == 1
    }


async def test_storage_down_30s_pauses_then_stores_every_link_once(kafka, own_postgres, tmp_path):
    site = DemoSite()
    site.start()
    pg = own_postgres
    storage_url = pg.create_database(f"outage_{uuid.uuid4().hex[:8]}")
    web_port = free_port()
    name = f"pgout{uuid.uuid4().hex[:6]}"
    # retry.attempts=2 with tiny backoffs: before this change, the outage dead-lettered in < 1 s.
    cfg = worker_config(kafka.bootstrap, storage_url, tmp_path, name, [], web_port=web_port)
    settings = settings_of(cfg)
    articles, urls = article_urls(site, "outage", LINKS)
    worker = WorkerProcess(cfg, tmp_path / "worker.log").start()
    try:
        async with Outcomes(storage_url) as db:
            await wait_until(lambda: _ready(web_port), 120, "the worker to be ready", worker)
            links = await submit_links(kafka.bootstrap, settings, urls[: LINKS // 2], source="test")
            await wait_until(lambda: _links_at_least(db, 5), 120, "the first outcomes", worker)
            await db.storage.close()

            pg.stop()
            down_at = time.monotonic()
            # Links keep arriving while storage is down.
            links += await submit_links(kafka.bootstrap, settings, urls[LINKS // 2 :], source="test")
            paused_seen: set[str] = set()
            ready_body = None
            while time.monotonic() - down_at < OUTAGE:
                assert worker.alive(), worker.log_tail()
                paused_seen |= await paused_stages(web_port)
                if ready_body is None:  # readiness is probed every 2 s: look until it names the stage
                    async with httpx.AsyncClient() as client:
                        r = await client.get(f"http://127.0.0.1:{web_port}/health/ready", timeout=5)
                    if "stages" in r.json()["down"]:
                        ready_body = (r.status_code, r.json())
                await asyncio.sleep(0.5)
            pg.start()
            up_at = time.monotonic()

            # Every stage that needs storage and had work pauses; store always has (links keep coming).
            assert "store" in paused_seen, f"paused: {paused_seen}\n" + worker.log_tail()
            assert ready_body is not None, "readiness never named the paused stage"
            status, body = ready_body
            assert status == 503 and "stages" in body["down"], body
            assert "(storage_unavailable)" in body["checks"]["stages"]["detail"], body

            await db.storage.start()
            await wait_until(lambda: db.settled(LINKS), 240, "every link after storage is back", worker)
            drained = time.monotonic() - up_at

            outcomes = await db.storage.outcomes()
            assert Counter(r["outcome"] for r in outcomes) == {"stored": LINKS}, Counter(
                (r["outcome"], r.get("reason")) for r in outcomes
            )
            assert {r["link_id"] for r in outcomes} == {lk["link_id"] for lk in links}
            stored = await db.storage.articles()
            canon = [a["canonical_url"] for a in stored]
            assert len(canon) == len(set(canon)) and set(canon) == {a["canonical_url"] for a in articles}
            letters = await read_topic(kafka.bootstrap, settings.topic("deadletter"))
            assert letters == [], [v[:300] for _, v in letters]

            # Links settle once store has them; route reads storage too and resumes at its next outage
            # retry (at most retry.outage_backoff_max later), so its gauge is waited for, not sampled.
            async def resumed() -> bool:
                return await paused_stages(web_port) == set()

            await wait_until(resumed, 30, "every paused stage to resume", worker)
            assert worker.alive()
            print(
                f"storage down {OUTAGE:.0f} s, paused: {sorted(paused_seen)}; all {LINKS} stored {drained:.1f} s after"
            )
    finally:
        worker.stop()
        site.stop()


async def _ready(port: int) -> bool:
    try:
        async with httpx.AsyncClient() as client:
            return (await client.get(f"http://127.0.0.1:{port}/health/ready", timeout=2)).status_code == 200
    except httpx.HTTPError:
        return False


async def _links_at_least(db: Outcomes, n: int) -> bool:
    return (await db.storage.counts())["links"] >= n
