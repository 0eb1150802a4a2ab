"""A worker killed (SIGKILL) in the middle of a batch loses nothing and duplicates nothing.

Many links point at the sample site's articles (each with its own query string, so each is a
distinct link that resolves to one of a few canonical articles). The worker is killed once some of
them have reached an outcome, restarted in the same consumer group, and every link must end with
exactly one outcome, every article stored once, and every casualty report alerted under one
idempotency key.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter

import pytest

from wirewatch.demo.receiver import AlertReceiver
from wirewatch.demo.site import DemoSite
from wirewatch.sources.submit import submit_links
from wirewatch.worker_process import WorkerProcess

from tests.harness.pipeline import Outcomes, settings_of, wait_until, worker_config
from tests.harness.story_checks import check_demo_alerts, demo_alerts_complete

pytestmark = pytest.mark.integration

LINKS = 150


async def test_kill_mid_batch_then_restart_loses_and_duplicates_nothing(kafka, postgres, tmp_path):
    site = DemoSite()
    site.start()
    receiver = AlertReceiver()
    await receiver.start()
    storage_url = postgres.create_database(f"crash_{uuid.uuid4().hex[:8]}")
    cfg = worker_config(kafka.bootstrap, storage_url, tmp_path, "crash", [receiver.url])
    settings = settings_of(cfg)
    articles = [m for m in site.manifest() if m["kind"] in ("casualty", "casualty_update", "news")]
    urls = [f"{articles[i % len(articles)]['final_url'].split('?')[0]}?copy={i}" for i in range(LINKS)]
    worker = WorkerProcess(cfg, tmp_path / "worker-1.log").start()
    restarted = None
    try:
        async with Outcomes(storage_url) as db:
            links = await submit_links(kafka.bootstrap, settings, urls, source="test")

            # Kill as soon as the batch is under way, long before it is done.
            deadline = time.monotonic() + 120
            while True:
                done = (await db.storage.counts())["links"]
                if done >= 5:
                    break
                assert time.monotonic() < deadline, worker.log_tail()
                assert worker.alive(), worker.log_tail()
                await asyncio.sleep(0.05)
            worker.kill()
            done_at_kill = (await db.storage.counts())["links"]
            assert done_at_kill < LINKS, "the batch finished before the kill; the test proves nothing"

            restarted = WorkerProcess(cfg, tmp_path / "worker-2.log").start()
            await wait_until(lambda: db.settled(LINKS), 240, "every link after the restart", restarted)

            outcomes = await db.storage.outcomes()
            assert Counter(r["outcome"] for r in outcomes) == {"stored": LINKS}
            assert {r["link_id"] for r in outcomes} == {l["link_id"] for l in links}
            stored = await db.storage.articles()
            assert sorted(a["canonical_url"] for a in stored) == sorted(a["canonical_url"] for a in articles)

            async def all_alerted() -> bool:
                return demo_alerts_complete(site.manifest(), receiver.received)

            # One alert per story: the two Kumasi reports are one story (new + update, or one new).
            await wait_until(all_alerted, 60, "alerts after the restart", restarted)
            check_demo_alerts(site.manifest(), receiver.received)
            keys = Counter(receiver.keys())
            # At-least-once: a kill between delivering and recording the delivery may repeat a
            # notification, under the same idempotency key so the receiver can drop it.
            assert all(n <= 2 for n in keys.values()), keys
            print(f"killed after {done_at_kill}/{LINKS} outcomes; deliveries per alert key: {sorted(keys.values())}")
    finally:
        for w in (worker, restarted):
            if w is not None:
                w.stop()
        await receiver.stop()
        site.stop()
