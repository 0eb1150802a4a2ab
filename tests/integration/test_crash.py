"""A worker killed (SIGKILL) in the middle of its work, or a rebalance under it, loses nothing and
duplicates nothing.

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

from tests.harness.pipeline import Outcomes, serve_slowly, settings_of, wait_until, worker_config
from tests.harness.story_checks import check_demo_alerts, demo_alerts_complete
from wirewatch.demo.receiver import AlertReceiver
from wirewatch.demo.site import DemoSite
from wirewatch.sources.submit import submit_links
from wirewatch.worker_process import WorkerProcess

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
            assert {r["link_id"] for r in outcomes} == {link["link_id"] for link in links}
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


SLOW_ARTICLE = """<!doctype html><html lang="en"><head><title>Night market moves to the harbour</title></head>
<body><article><h1>Night market moves to the harbour</h1>
<p>The night market that filled the old square every Friday for twenty years moved to the harbour
front this week, where the council says there is room for twice as many stalls and for the queues.</p>
<p>Traders carried their lanterns, grills and folding tables down the hill in a long procession, and
the first evening drew a crowd that stayed until the last ferry had left the quay.</p>
</article></body></html>"""


@pytest.fixture
async def slow_origin():
    """An origin that takes 4 s per page, on its own loopback address. Yields its base URL and a
    count of requests."""
    async with serve_slowly("127.0.0.2", "/story/{n}", SLOW_ARTICLE, 4) as origin:
        yield origin


def slow_and_fast(site: DemoSite, slow_base: str, tag: str, fast: int) -> tuple[list[str], list[str]]:
    """Six links to the slow origin, then `fast` distinct links to the sample site's articles."""
    articles = [m for m in site.manifest() if m["kind"] in ("casualty", "casualty_update", "news")]
    return (
        [f"{slow_base}/story/{i}" for i in range(6)],
        [f"{articles[i % len(articles)]['final_url'].split('?')[0]}?{tag}={i}" for i in range(fast)],
    )


async def test_kill_while_slow_links_lag_behind_faster_ones(kafka, postgres, tmp_path, slow_origin):
    """Out-of-order completion: links to a slow origin are taken first and finish last. The worker
    is killed while later links are done and the slow ones are not; after a restart every link
    still ends as exactly one outcome (the commit never passed a slow link still in flight)."""
    slow_base, slow_hits = slow_origin
    site = DemoSite()
    site.start()
    storage_url = postgres.create_database(f"crash_ooo_{uuid.uuid4().hex[:8]}")
    cfg = worker_config(kafka.bootstrap, storage_url, tmp_path, "crashooo", [])
    settings = settings_of(cfg)
    slow_urls, fast_urls = slow_and_fast(site, slow_base, "ooo", 60)
    total = len(slow_urls) + len(fast_urls)
    worker = WorkerProcess(cfg, tmp_path / "worker-1.log").start()
    restarted = None
    try:
        async with Outcomes(storage_url) as db:
            slow_links = await submit_links(kafka.bootstrap, settings, slow_urls, source="test")
            fast_links = await submit_links(kafka.bootstrap, settings, fast_urls, source="test")
            slow_ids = {link["link_id"] for link in slow_links}

            async def overtaken() -> bool:  # later links done while slow ones, taken first, are not
                done = {r["link_id"] for r in await db.storage.outcomes()}
                return len(done - slow_ids) >= 20 and bool(slow_ids - done) and sum(slow_hits.values()) > 0

            await wait_until(overtaken, 120, "fast links to overtake the slow ones", worker)
            worker.kill()
            done_at_kill = {r["link_id"] for r in await db.storage.outcomes()}
            assert slow_ids - done_at_kill, "every slow link was done before the kill; the test proves nothing"

            restarted = WorkerProcess(cfg, tmp_path / "worker-2.log").start()
            await wait_until(lambda: db.settled(total), 240, "every link after the restart", restarted)
            outcomes = await db.storage.outcomes()
            assert Counter(r["outcome"] for r in outcomes) == {"stored": total}
            assert sorted(r["link_id"] for r in outcomes) == sorted(link["link_id"] for link in slow_links + fast_links)
            print(
                f"killed with {len(slow_ids - done_at_kill)} of {len(slow_ids)} slow links unfinished and "
                f"{len(done_at_kill - slow_ids)} later links done"
            )
    finally:
        for w in (worker, restarted):
            if w is not None:
                w.stop()
        site.stop()


async def test_a_rebalance_drops_slow_work_instead_of_waiting_for_it(kafka, postgres, tmp_path, slow_origin):
    """A second worker joins while the first has slow links in flight: the first gives up the
    revoked partitions' work at once (no waiting for the slow origin), their new owner redoes it
    from the committed offset, and every link still ends as exactly one outcome."""
    slow_base, slow_hits = slow_origin
    site = DemoSite()
    site.start()
    storage_url = postgres.create_database(f"rebalance_{uuid.uuid4().hex[:8]}")
    cfg = worker_config(kafka.bootstrap, storage_url, tmp_path, "rebal", [])
    settings = settings_of(cfg)
    slow_urls, fast_urls = slow_and_fast(site, slow_base, "rebal", 40)
    total = len(slow_urls) + len(fast_urls)
    first = WorkerProcess(cfg, tmp_path / "worker-1.log").start()
    second = None
    try:
        async with Outcomes(storage_url) as db:
            links = await submit_links(kafka.bootstrap, settings, slow_urls + fast_urls, source="test")

            async def slow_in_flight() -> bool:
                return sum(slow_hits.values()) > 0

            await wait_until(slow_in_flight, 120, "the slow links to be fetched", first)
            second = WorkerProcess(cfg, tmp_path / "worker-2.log").start()
            await wait_until(lambda: db.settled(total), 240, "every link across the rebalance", (first, second))
            outcomes = await db.storage.outcomes()
            assert Counter(r["outcome"] for r in outcomes) == {"stored": total}
            assert sorted(r["link_id"] for r in outcomes) == sorted(link["link_id"] for link in links)
            assert first.alive() and second.alive()
    finally:
        for w in (first, second):
            if w is not None:
                w.stop()
        site.stop()
