"""Helpers for running the real pipeline in a test: a worker process, a fresh database, waits."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web
from aiokafka import AIOKafkaConsumer, TopicPartition

from wirewatch.settings import Settings, load_settings
from wirewatch.sinks.storage import open_storage
from wirewatch.worker_process import WorkerProcess

from .loopback import free_port  # noqa: F401 - re-exported for the tests

# Consumer-group timings that make joins and rebalances quick on a one-node test broker;
# production defaults (settings.KafkaSettings) stay as they are.
FAST_GROUP = {"session_timeout": 6.0, "heartbeat_interval": 1.0, "rebalance_timeout": 10.0, "commit_interval": 0.5}
# A partition left unread with messages waiting is read again after this many seconds (30 in
# production, broker/stall_watch.py): the tests' waits and stall bounds are shorter than that.
STALL_RESEEK_AFTER = 10.0


def worker_config(bootstrap: str, storage_url: str, tmp: Path, name: str, receivers: list[str], **extra: Any) -> dict:
    cfg = {
        "broker": f"kafka://{bootstrap}",
        "app_id": f"ww-{name}",
        "topic_prefix": f"{name}.",
        "topic_partitions": 2,
        "storage_url": storage_url,
        "data_dir": str(tmp / "data"),
        "web_port": extra.pop("web_port", 0),
        "webhook_urls": receivers,
        "feed_poll": False,
        "feeds": [],
        "extract_processes": 1,
        "kafka": FAST_GROUP,
        "retry": {"attempts": 2, "backoff_initial": 0.05, "backoff_max": 0.2},
        # The test origins serve on loopback: the address guard's explicit test switch, and no
        # politeness delays between requests to our own servers.
        "fetch": {"allow_private_addresses": True, "per_host_rate": 1000.0, "per_host_burst": 1000},
    }
    kafka = {**FAST_GROUP, "stall_reseek_after": STALL_RESEEK_AFTER, **extra.pop("kafka", {})}
    cfg.update(extra, kafka=kafka)
    return cfg


@contextlib.asynccontextmanager
async def serve_slowly(host: str, route: str, page: str, seconds: float) -> AsyncIterator[tuple[str, Counter]]:
    """An origin on loopback address `host` (politeness counts per host name, and the sample site is
    127.0.0.1) that answers `route` with `page` after `seconds`. Yields its base URL and a count
    of requests per path."""
    hits: Counter = Counter()

    async def slow(request: web.Request) -> web.Response:
        hits[request.path] += 1
        await asyncio.sleep(seconds)
        return web.Response(text=page, content_type="text/html")

    app = web.Application()
    app.router.add_get(route, slow)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    try:
        yield f"http://{host}:{site._server.sockets[0].getsockname()[1]}", hits
    finally:
        await runner.cleanup()


def article_urls(site: Any, tag: str, n: int) -> tuple[list[dict], list[str]]:
    """The sample site's articles, and `n` distinct links to them (`?tag=i`), each a link of its own
    that resolves to one of a few canonical articles."""
    articles = [m for m in site.manifest() if m["kind"] in ("casualty", "casualty_update", "news")]
    return articles, [f"{articles[i % len(articles)]['final_url'].split('?')[0]}?{tag}={i}" for i in range(n)]


def settings_of(cfg: dict) -> Settings:
    return load_settings(**{k: v for k, v in cfg.items() if k not in ("broker",)}, broker=cfg["broker"])


async def wait_until(
    check: Callable[[], Awaitable[bool]],
    timeout: float,
    what: str,
    worker: WorkerProcess | Sequence[WorkerProcess] | None = None,
) -> None:
    """Poll `check` until it holds. On a timeout the failure says what each worker (the last one
    given first) was doing: its log's tail and its state dump (ops/dump.py: every task's await,
    the stage windows, the consumer's partitions), so a stall in CI can be read from its log."""
    workers = [worker] if isinstance(worker, WorkerProcess) else list(worker or [])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        for w in workers:
            if not w.alive():
                raise AssertionError(f"worker died while waiting for {what}:\n{w.log_tail()}")
        await asyncio.sleep(0.3)
    report = []
    for i, w in enumerate(reversed(workers)):
        dump = await asyncio.to_thread(w.dump_state)
        report.append(f"--- worker {len(workers) - i}: {w.log_path.name} ---\n{w.log_tail(25)}\n{dump}")
    print("\n".join(report))  # whole, in the captured output (pytest cuts a long message short)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n" + "\n".join(report))


class Outcomes:
    """Read-side view of the storage the worker writes."""

    def __init__(self, url: str) -> None:
        self.storage = open_storage(url)

    async def __aenter__(self) -> Outcomes:
        await self.storage.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.storage.close()

    async def settled(self, expected_links: int) -> bool:
        c = await self.storage.counts()
        return c["stored"] + c["filtered"] + c["dead_lettered"] >= expected_links


async def read_topic(bootstrap: str, topic: str, timeout: float = 60) -> list[tuple[bytes | None, bytes]]:
    """Every message currently on `topic`, from the beginning to the end offsets seen at the start.

    Raises AssertionError when they are not all read within `timeout` seconds (a guard against a
    hang, not a speed goal): a partial read must never let a test pass on a subset of the topic."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        parts = consumer.partitions_for_topic(topic)
        if parts is None:
            await consumer._client.force_metadata_update()  # topic just created
            parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        out: list[tuple[bytes | None, bytes]] = []
        # Done with a partition once the consumer's position reaches its end offset: unlike "saw
        # the record at end - 1", that also holds when the last offsets carry no record.
        remaining = {tp for tp in tps if await consumer.position(tp) < end[tp]}
        deadline = time.monotonic() + timeout
        while remaining and time.monotonic() < deadline:
            batch = await consumer.getmany(*remaining, timeout_ms=500)
            for tp, records in batch.items():
                out.extend((r.key, r.value) for r in records if r.offset < end[tp])
            for tp in list(remaining):
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
        if remaining:
            short = {f"{tp.partition}": f"at {await consumer.position(tp)} of {end[tp]}" for tp in sorted(remaining)}
            raise AssertionError(
                f"read_topic({topic!r}): read {len(out)} messages in {timeout}s but not to the end offsets "
                f"{ {tp.partition: end[tp] for tp in tps} }; partitions short of them: {short}"
            )
        return out
    finally:
        await consumer.stop()
