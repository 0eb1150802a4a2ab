"""`wirewatch run` killed -9 twice at random moments loses no accepted link and no alert.

Real processes and signals: the worker is `python -m wirewatch run` on the embedded defaults (tansu
in memory, SQLite under data_dir), fed by all three intakes: `POST /links`, `wirewatch submit`'s
function and the feed poller. The sample site sits behind a slow loopback proxy (every response
waits 20-300 ms), so links are in every stage when the kills land. The whole process group is
killed twice (the embedded broker dies with it) and started again each time with nothing done by
hand. Then every link that was accepted (a 202, an id printed, an item the poller handed off: the
outbox's rows) has exactly one outcome, and every expected alert was delivered, each under one
idempotency key. The same test runs on Apache Kafka (durable broker, outbox off) as a reference.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.conftest import free_port
from tests.harness.pipeline import Outcomes, settings_of
from tests.harness.story_checks import check_demo_alerts, demo_alerts_complete
from wirewatch.demo.receiver import AlertReceiver
from wirewatch.demo.site import DemoSite
from wirewatch.errors import TransientError
from wirewatch.sources.submit import submit_links
from wirewatch.worker_process import WorkerProcess

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

LINKS = 200  # through POST /links and submit; the poller adds the feed's items
SUBMIT_LINKS = 10  # of LINKS, through `wirewatch submit`'s function
BATCH = 10


class SlowProxy:
    """The demo site, each response 20-300 ms late; redirects point back through the proxy."""

    def __init__(self, site: DemoSite, seed: int) -> None:
        self.site, self.rng = site, random.Random(seed)
        self.base = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        self._session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()  # port 0: the port it binds is its own
        self.base = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self.base

    async def _handle(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.rng.uniform(0.02, 0.3))
        async with self._session.get(self.site.base_url + request.path_qs, allow_redirects=False) as r:
            body = await r.read()
            headers = {k: v for k, v in r.headers.items() if k.lower() in ("content-type", "location", "last-modified")}
        if "Location" in headers:
            headers["Location"] = headers["Location"].replace(self.site.base_url, self.base)
        # Feed items point through the proxy too, so the poller's links are slow like the rest.
        if request.path.endswith((".xml",)):
            body = body.replace(self.site.base_url.encode(), self.base.encode())
        return web.Response(body=body, status=r.status, headers=headers)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        await self._session.close()


def _config(broker: str, tmp: Path, proxy: str, receiver: str, web_port: int) -> dict:
    cfg = {
        "data_dir": str(tmp / "data"),
        "web_port": web_port,
        "webhook_urls": [receiver],
        "feeds": [{"name": "demo", "url": proxy + "/feed.xml", "interval": 10}],
        "log_level": "INFO",
        "retry": {"attempts": 2, "backoff_initial": 0.05, "backoff_max": 0.2},
        # Our own loopback site: the address guard's test switch, and no politeness pauses.
        "fetch": {
            "allow_private_addresses": True,
            "per_host_rate": 1000.0,
            "per_host_burst": 1000,
            "per_host_concurrency": 64,
        },
    }
    if broker != "embedded":  # the Kafka reference: same worker, a durable broker, SQLite too
        cfg.update(
            {
                "broker": f"kafka://{broker}",
                "app_id": f"ww-crash-{os.getpid()}-{web_port}",
                "topic_prefix": f"crash{web_port}.",
                "topic_partitions": 2,
                "kafka": {
                    "session_timeout": 6.0,
                    "heartbeat_interval": 1.0,
                    "rebalance_timeout": 10.0,
                    "commit_interval": 0.5,
                },
            }
        )
    return cfg


async def _outcomes(db: Outcomes) -> int:
    """Links with an outcome. A reader waits for SQLite's one writer; on a loaded machine the
    worker's event loop can hold a write transaction past the busy timeout: look again."""
    while True:
        try:
            return (await db.storage.counts())["links"]
        except TransientError:
            await asyncio.sleep(0.2)


async def _healthy(port: int, worker: WorkerProcess, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            assert worker.alive(), worker.log_tail()
            try:
                async with http.get(f"http://127.0.0.1:{port}/health", timeout=aiohttp.ClientTimeout(total=2)) as r:
                    if r.status == 200:
                        return
            except (TimeoutError, aiohttp.ClientError):
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"worker not healthy in {timeout}s\n{worker.log_tail()}")


class Intake:
    """Submits LINKS links in batches, through POST /links (and some through submit), whatever the
    worker's state: a batch that got no 202 was not accepted and is tried again as new links."""

    def __init__(self, urls: list[str], port: int, cfg: dict, bootstrap_file: Path) -> None:
        self.todo, self.port, self.cfg, self.bootstrap_file = list(urls), port, cfg, bootstrap_file
        self.accepted: dict[str, str] = {}  # link_id -> url
        self.refused = 0

    async def run(self) -> None:
        async with aiohttp.ClientSession() as http:
            while self.todo:
                batch = self.todo[:BATCH]
                if len(self.accepted) < SUBMIT_LINKS and self.bootstrap_file.exists() and await self._submit(batch):
                    continue
                try:
                    async with http.post(
                        f"http://127.0.0.1:{self.port}/links",
                        json={"urls": batch},
                        timeout=aiohttp.ClientTimeout(total=15),
                    ) as r:
                        if r.status == 202:
                            for item in (await r.json())["accepted"]:
                                self.accepted[item["link_id"]] = item["url"]
                            del self.todo[: len(batch)]
                            await asyncio.sleep(0.15)
                            continue
                except (TimeoutError, aiohttp.ClientError):
                    pass
                self.refused += 1
                await asyncio.sleep(0.3)

    async def _submit(self, batch: list[str]) -> bool:
        settings = settings_of({**self.cfg, "broker": self.cfg.get("broker", "embedded")})
        bootstrap = (
            self.bootstrap_file.read_text().strip()
            if self.cfg.get("broker", "embedded") == "embedded"
            else self.cfg["broker"].removeprefix("kafka://")
        )
        try:
            links = await asyncio.wait_for(submit_links(bootstrap, settings, batch, source="cli"), 30)
        except Exception:
            return False
        for link in links:
            self.accepted[link["link_id"]] = link["url"]
        del self.todo[: len(batch)]
        return True


@pytest.mark.parametrize("broker_kind", ["embedded", "kafka"])
async def test_kill_9_twice_then_restart_every_accepted_link_has_one_outcome(broker_kind, request, tmp_path):
    seed = int(os.environ.get("WIREWATCH_CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    print(f"seed {seed} (WIREWATCH_CRASH_SEED to repeat)")
    broker = "embedded" if broker_kind == "embedded" else request.getfixturevalue("kafka").bootstrap
    site = DemoSite()
    site.start()
    proxy = SlowProxy(site, seed)
    receiver = AlertReceiver()
    await receiver.start()
    await proxy.start()
    port = free_port()
    cfg = _config(broker, tmp_path, proxy.base, receiver.url, port)
    manifest = site.manifest()
    articles = [m for m in manifest if m["kind"] in ("casualty", "casualty_update", "news")]
    others = [
        m["short_url"].replace(site.base_url, proxy.base)
        for m in manifest
        if m["kind"] not in ("casualty", "casualty_update", "news")
    ]
    urls = others + [
        f"{articles[i % len(articles)]['final_url'].split('?')[0].replace(site.base_url, proxy.base)}?copy={i}"
        for i in range(LINKS - len(others))
    ]
    rng.shuffle(urls)
    intake = Intake(urls, port, cfg, tmp_path / "data" / "broker" / "bootstrap")
    workers: list[WorkerProcess] = []
    kills: list[str] = []
    storage_url = f"sqlite:///{tmp_path / 'data' / 'wirewatch.db'}"
    try:
        workers.append(WorkerProcess(cfg, tmp_path / "worker-1.log").start())
        await _healthy(port, workers[-1])
        feeding = asyncio.create_task(intake.run())
        for n in (1, 2):
            async with Outcomes(storage_url) as db:
                # Kill at a random moment once this worker is at work (outcomes are coming in).
                before = await _outcomes(db)
                deadline = time.monotonic() + 120
                while await _outcomes(db) <= before and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
                await asyncio.sleep(rng.uniform(0.0, 4.0))
                kills.append(f"kill {n}: {len(intake.accepted)} accepted, {await _outcomes(db)} outcomes")
            workers[-1].kill()
            workers.append(WorkerProcess(cfg, tmp_path / f"worker-{n + 1}.log").start())
            await _healthy(port, workers[-1])
        await asyncio.wait_for(feeding, 240)
        last = workers[-1]

        async with Outcomes(storage_url) as db:

            async def accepted_ids() -> set[str]:
                if broker_kind != "embedded":
                    return set(intake.accepted)
                # the outbox: every intake, the poller too
                rows = await db.storage.transact(lambda tx: tx.fetch("SELECT id FROM outbox WHERE schema = 'link'"))
                return {r["id"] for r in rows}

            async def every_link_settled() -> bool:
                try:
                    done = {r["link_id"] for r in await db.storage.outcomes()}
                    return (await accepted_ids()) <= done and demo_alerts_complete(manifest, receiver.received)
                except TransientError:  # the worker holds SQLite's write lock: look again
                    return False

            async def missing() -> str:
                done = {r["link_id"] for r in await db.storage.outcomes()}
                lost = sorted((await accepted_ids()) - done)
                return (
                    f"{kills}; {len(lost)} accepted links without an outcome {lost[:5]}; alerts complete: "
                    f"{demo_alerts_complete(manifest, receiver.received)} ({len(receiver.received)} received)"
                )

            deadline = time.monotonic() + 240
            while not await every_link_settled():
                assert time.monotonic() < deadline, f"{await missing()}\n{last.log_tail()}"
                assert last.alive(), last.log_tail()
                await asyncio.sleep(0.5)
            await asyncio.sleep(3)  # anything still in flight (a repeated alert) shows up here

            outcomes = await db.storage.outcomes()
            ids = await accepted_ids()
            by_link = Counter(r["link_id"] for r in outcomes)
            assert set(intake.accepted) <= ids  # every 202 and every printed id is in the outbox
            assert ids <= set(by_link), f"accepted links without an outcome: {sorted(ids - set(by_link))[:5]}"
            assert all(n == 1 for n in by_link.values())
            polled = [r for r in outcomes if r["link_id"] not in intake.accepted]
            check_demo_alerts(manifest, receiver.received)
            keys = Counter(receiver.keys())
            # A kill between a receiver's 200 and the ledger's record repeats that one delivery,
            # under the same idempotency key (the receiver drops it); never a second alert.
            assert all(n <= 2 for n in keys.values()), keys
            print(
                f"{broker_kind}: {'; '.join(kills)}; {len(intake.accepted)} accepted by POST/submit "
                f"({intake.refused} batches refused while down) + {len(polled)} by the poller; "
                f"outcomes {dict(Counter(r['outcome'] for r in outcomes))}; "
                f"{len(keys)} alerts, repeated deliveries {sum(n - 1 for n in keys.values())}"
            )
    finally:
        for w in workers:
            w.stop()
        await proxy.stop()
        await receiver.stop()
        site.stop()


async def test_alerts_raised_but_not_delivered_go_out_after_a_kill_9(tmp_path):
    """The receiver answers 503 while the first worker runs, so its alerts are raised and stuck in
    delivery when the process group is killed; the embedded broker loses them with it. After the
    restart (receiver healthy) each expected alert arrives, under one idempotency key."""
    site = DemoSite()
    site.start()
    receiver = AlertReceiver(always_status=503)
    await receiver.start()
    port = free_port()
    cfg = _config("embedded", tmp_path, site.base_url, receiver.url, port)
    cfg["feeds"] = []
    manifest = site.manifest()
    casualty = [m["short_url"] for m in manifest if m["kind"] in ("casualty", "casualty_update")]
    db_url = f"sqlite:///{tmp_path / 'data' / 'wirewatch.db'}"
    workers: list[WorkerProcess] = []
    try:
        workers.append(WorkerProcess(cfg, tmp_path / "worker-1.log").start())
        await _healthy(port, workers[-1])
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"http://127.0.0.1:{port}/links", json={"urls": casualty}) as r,
        ):
            assert r.status == 202, await r.text()
        async with Outcomes(db_url) as db:

            async def open_alerts() -> int:
                """Alerts raised and not delivered: still in the outbox, or parked in storage for a
                channel that is failing (a parked alert's message is finished, its outbox row settled)."""
                try:

                    async def count(tx: Any) -> int:
                        rows = await tx.fetch("SELECT id FROM outbox WHERE schema = 'alert' AND settled_at IS NULL")
                        # the table is created on the first park (SQLite: the embedded default)
                        has_parked = await tx.fetch("SELECT name FROM sqlite_master WHERE name = 'alert_parked'")
                        parked = await tx.fetch("SELECT alert_id FROM alert_parked") if has_parked else []
                        return len(rows) + len(parked)

                    return await db.storage.transact(count)
                except TransientError:
                    return 0

            deadline = time.monotonic() + 120
            while not (await open_alerts() >= 2 and receiver.attempts >= 2):
                assert time.monotonic() < deadline, workers[-1].log_tail()
                await asyncio.sleep(0.2)
            workers[-1].kill()
            assert receiver.received == []
            receiver.always_status = None
            workers.append(WorkerProcess(cfg, tmp_path / "worker-2.log").start())
            deadline = time.monotonic() + 120
            while not demo_alerts_complete(manifest, receiver.received):
                assert time.monotonic() < deadline, workers[-1].log_tail()
                await asyncio.sleep(0.3)
            await asyncio.sleep(2)
            check_demo_alerts(manifest, receiver.received)
            assert max(Counter(receiver.keys()).values()) == 1  # nothing was delivered before the kill
            assert await open_alerts() == 0
    finally:
        for w in workers:
            w.stop()
        await receiver.stop()
        site.stop()
