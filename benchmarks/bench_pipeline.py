"""The whole pipeline's alert latency and throughput: link in -> alert delivered.

Runs a real worker process on the embedded broker (tansu) with SQLite, the sample news site and an
alert receiver on loopback. Measures, per casualty link, the time from submission to the alert's
arrival at the receiver, and the throughput of a burst of links through every stage. The baseline,
measured in the same run, is a bare HTTP GET of the same short links (follow redirects, read the
body): `latency_ratio` says how many times that wirewatch's full path costs.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from wirewatch.broker import KafkaBroker, TansuBroker, ensure_kafka_jars
from wirewatch.demo.receiver import AlertReceiver
from wirewatch.demo.site import DemoSite
from wirewatch.settings import FetchSettings, load_settings
from wirewatch.sinks.storage import open_storage
from wirewatch.sources.submit import submit_links
from wirewatch.worker_process import WorkerProcess


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("pipeline")
    group.add_argument("--pipeline-burst", type=int, default=100, help="links in the throughput burst")
    group.add_argument(
        "--pipeline-broker",
        choices=["tansu", "kafka"],
        default="kafka" if shutil.which("java") else "tansu",
        help="Apache Kafka from Maven Central jars (default where Java is installed) or the embedded "
        "tansu (which answers a fetch only when its max wait is over: run with its client_settings)",
    )
    group.add_argument(
        "--pipeline-outbox",
        choices=["auto", "on", "off"],
        default="auto",
        help="the intake outbox (sinks/outbox.py); `make run` has it on",
    )


def run(args: argparse.Namespace) -> dict:
    return asyncio.run(
        _run(
            getattr(args, "pipeline_burst", 100),
            getattr(args, "pipeline_broker", "tansu"),
            getattr(args, "pipeline_outbox", "auto"),
        )
    )


async def _run(burst: int, broker_kind: str, outbox: str = "auto") -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="wirewatch-bench-"))
    site = DemoSite()
    site.start()
    receiver = AlertReceiver()
    await receiver.start()
    broker = (
        TansuBroker(tmp / "tansu")
        if broker_kind == "tansu"
        else KafkaBroker(tmp / "kafka", jars_dir=ensure_kafka_jars())
    )
    broker.start()
    storage_url = f"sqlite:///{tmp / 'bench.db'}"
    cfg = {
        "broker": f"kafka://{broker.bootstrap}",
        "app_id": "bench",
        "topic_prefix": "bench.",
        "topic_partitions": 2,
        "storage_url": storage_url,
        "data_dir": str(tmp),
        "web_port": 0,
        "webhook_urls": [receiver.url],
        "feed_poll": False,
        "feeds": [],
        "outbox": outbox,
        "kafka": {
            "session_timeout": 6.0,
            "heartbeat_interval": 1.0,
            "rebalance_timeout": 10.0,
            **broker.client_settings,
        },  # what `wirewatch run` sets for its embedded broker
    }
    # The sample site is ours and on loopback: allow it, and lift the per-host politeness limits
    # that would otherwise measure our own throttle instead of the pipeline.
    cfg["fetch"] = {
        "allow_private_addresses": True,
        "per_host_rate": 10000.0,
        "per_host_burst": 10000,
        "per_host_concurrency": 64,
    }
    settings = load_settings(
        **{k: v for k, v in cfg.items() if k != "fetch"}, fetch=FetchSettings(**cfg.get("fetch", {}))
    )
    worker = WorkerProcess(cfg, tmp / "worker.log").start()
    storage = open_storage(storage_url)
    await storage.start()
    try:
        manifest = site.manifest()
        casualty = [m for m in manifest if m["kind"] in ("casualty", "casualty_update")]
        # Warm-up: the consumer group joins and the extraction pool starts.
        await submit_links(broker.bootstrap, settings, [manifest[3]["short_url"]], source="bench")
        await _until(lambda: _links(storage, 1), 120, worker)

        baseline = []
        async with httpx.AsyncClient(follow_redirects=True) as client:
            for m in casualty:
                t = time.perf_counter()
                (await client.get(m["short_url"])).raise_for_status()
                baseline.append(time.perf_counter() - t)

        # Each casualty report is new to the worker: time from submission to its alert at the receiver.
        latencies = []
        for m in casualty:
            seen = len(receiver.received)
            t = time.perf_counter()
            await submit_links(broker.bootstrap, settings, [m["short_url"]], source="bench")

            async def arrived(seen: int = seen) -> bool:
                return len(receiver.received) > seen

            await _until(arrived, 60, worker)
            latencies.append(time.perf_counter() - t)

        done = (await storage.counts())["links"]
        urls = [manifest[i % 7]["final_url"].split("?")[0] + f"?burst={i}" for i in range(burst)]
        t = time.perf_counter()
        await submit_links(broker.bootstrap, settings, urls, source="bench")
        await _until(lambda: _links(storage, done + burst), 600, worker)
        burst_s = time.perf_counter() - t

        result = {
            "link_to_alert_p50_s": round(statistics.median(latencies), 4),
            "link_to_alert_max_s": round(max(latencies), 4),
            "baseline_http_get_s": round(statistics.median(baseline), 4),
            "latency_ratio": round(statistics.median(latencies) / statistics.median(baseline), 1),
            "broker": broker_kind,
            "outbox": outbox,
            "burst_links": burst,
            "burst_links_per_s": round(burst / burst_s, 1),
        }
        print(
            f"  link in -> alert delivered: p50 {result['link_to_alert_p50_s'] * 1000:.0f} ms, "
            f"max {result['link_to_alert_max_s'] * 1000:.0f} ms over {len(latencies)} casualty reports "
            f"(bare HTTP GET of the same links: {result['baseline_http_get_s'] * 1000:.0f} ms)"
        )
        print(f"  burst of {burst} links: {result['burst_links_per_s']} links/s through every stage")
        return result
    finally:
        await storage.close()
        worker.stop()
        broker.stop()
        await receiver.stop()
        site.stop()


async def _links(storage, n: int) -> bool:
    return (await storage.counts())["links"] >= n


async def _until(check, timeout: float, worker: WorkerProcess) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        if not worker.alive():
            raise RuntimeError(worker.log_tail())
        await asyncio.sleep(0.02)
    raise TimeoutError(worker.log_tail())
