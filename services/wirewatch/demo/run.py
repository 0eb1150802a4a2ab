"""`wirewatch demo`: the whole pipeline, offline, against the bundled sample news site.

Starts the embedded broker, the sample site and an alert receiver on loopback, runs a worker that
polls the site's feed, waits until every link has reached an outcome, then prints the alerts
raised and the counts of what was stored, filtered and dead-lettered, and the story board's URL.
It keeps serving the board (and taking links on POST /links) until Ctrl-C, unless `serve` is off
(`wirewatch demo --exit`, for scripts and tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import sys
import time

from ..cli import embedded_tuning, start_embedded_broker
from ..settings import Settings
from ..sinks.storage import open_storage
from ..worker_process import WorkerProcess
from .receiver import AlertReceiver
from .site import DemoSite


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def run_demo(settings: Settings, timeout: float = 180.0, serve: bool = False) -> int:
    data_dir = (settings.data_dir / "demo").resolve()
    shutil.rmtree(data_dir, ignore_errors=True)  # each demo starts from nothing
    data_dir.mkdir(parents=True)
    demo_settings = settings.model_copy(update={"data_dir": data_dir, "storage_url": ""})
    site = DemoSite()
    base = site.start()
    receiver = AlertReceiver()
    await receiver.start()
    broker = start_embedded_broker(demo_settings)
    worker = None
    storage_url = demo_settings.resolved_storage_url
    try:
        web_port = _free_port()
        worker = WorkerProcess(
            {
                "broker": f"kafka://{broker.bootstrap}",
                "data_dir": str(data_dir),
                "storage_url": storage_url,
                "web_port": web_port,
                "webhook_urls": [receiver.url],
                "feeds": [{"name": "demo", "url": f"{base}/feed.xml", "interval": 3600}],
                "topic_partitions": 2,
                "kafka": embedded_tuning(demo_settings).kafka.model_dump(),
                "log_level": "INFO",
                # The sample site serves on loopback, which fetches refuse by default: this is the
                # explicit switch. It is our own site, so pages need not be spaced out either.
                "fetch": {"allow_private_addresses": True, "per_host_rate": 100.0, "per_host_burst": 100},
            },
            data_dir / "worker.log",
        ).start()
        expected = len(site.manifest())
        print(f"sample site:  {base}/feed.xml ({expected} links)")
        print(f"worker:       metrics on http://127.0.0.1:{web_port}/metrics, log in {worker.log_path}")
        storage = open_storage(storage_url)
        await storage.start()
        try:
            counts = await _wait_for_outcomes(storage, worker, expected, timeout)
            outcomes = await storage.outcomes()
        finally:
            await storage.close()
        print("\nalerts raised:")
        for alert in receiver.received:
            figures = alert.get("figures") or {}
            killed = (figures.get("killed") or {}).get("count")
            injured = (figures.get("injured") or {}).get("count")
            print(f"  [{alert['severity']}] {alert['title']!r}: killed={killed} injured={injured}")
            for sentence in alert["evidence"][:2]:
                print(f"      \u201c{sentence[:160]}\u201d")
        if not receiver.received:
            print("  (none)")
        print("\nlinks that did not become articles:")
        for row in outcomes:
            if row["outcome"] != "stored":
                print(f"  {row['outcome']:<14} {row['stage']:<8} {row['reason']:<26} {row['url']}")
        print(
            f"\nlinks in: {expected}   stored: {counts['stored']}   filtered: {counts['filtered']}   "
            f"dead-lettered: {counts['dead_lettered']}   articles: {counts['articles']}   alerts: {len(receiver.received)}"
        )
        reconciled = counts["stored"] + counts["filtered"] + counts["dead_lettered"] == expected
        print("counts reconcile" if reconciled else "counts do NOT reconcile")
        print(f"\nstory board:  http://127.0.0.1:{web_port}/   (read API: http://127.0.0.1:{web_port}/api/stories)")
        if serve:
            print(
                f'serving until Ctrl-C; more links: curl -XPOST 127.0.0.1:{web_port}/links -d \'{{"url": "..."}}\'',
                flush=True,
            )
            stop = asyncio.Event()  # Ctrl-C cancels this task; SIGTERM (a service manager, a test) sets stop
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
            while worker.alive() and not stop.is_set():  # the worker's exit is polled, a SIGTERM awaited
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.5)
            if not stop.is_set():
                print(f"worker exited:\n{worker.log_tail()}", file=sys.stderr)
                return 1
        return 0 if reconciled else 1
    finally:
        if worker is not None:
            worker.stop()
        broker.stop()
        await receiver.stop()
        site.stop()


async def _wait_for_outcomes(storage, worker: WorkerProcess, expected: int, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    last = -1
    while True:
        counts = await storage.counts()
        done = counts["stored"] + counts["filtered"] + counts["dead_lettered"]
        if done != last:
            print(f"  progress: {done}/{expected} links reached an outcome", file=sys.stderr)
            last = done
        if done >= expected:
            await asyncio.sleep(1.0)  # let the alert agent finish delivering
            return await storage.counts()
        if not worker.alive():
            raise RuntimeError(f"worker exited early:\n{worker.log_tail()}")
        if time.monotonic() > deadline:
            print(f"timed out after {timeout:.0f}s; worker log tail:\n{worker.log_tail()}", file=sys.stderr)
            return counts
        await asyncio.sleep(0.5)
