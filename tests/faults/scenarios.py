"""The fault scenarios of issue 11, each a function `env -> Result`, run by the tests (short outages,
a few minutes in all) and by `make bench-faults` (the issue's durations).

Each starts a fresh site, receiver and database, runs real worker processes against real Kafka and
PostgreSQL, injects its fault while links are being worked, waits for every outcome and counts
what came out (`harness.Result`).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from wirewatch.demo.receiver import AlertReceiver
from wirewatch.sources.links import make_link

from .harness import Result, Run
from .site import FaultSite


@dataclass
class Env:
    """Where the scenarios run and how hard: the tests shorten what the bench runs in full."""

    kafka: Any  # a started KafkaBroker (the session's)
    postgres: Any  # a started PostgresServer (the session's)
    tmp: Path
    outage: float = 12.0  # seconds a dependency stays down (the issue: 30 s, 60 s for the receiver)
    receiver_outage: float = 15.0
    news: int = 40  # ordinary articles per scenario
    reports: int = 10  # casualty reports (6 distinct stories at most)
    malformed: int = 1000  # bad messages among the good links (the issue: 10,000 among 50)
    page_delay: float = 0.2  # seconds each page takes: work in flight when the fault lands
    polite: bool = False  # default politeness towards the site (the bench); the tests lift it (harness.UNHURRIED)


@asynccontextmanager
async def _run(
    env: Env, name: str, bootstrap: str | None = None, postgres: Any = None, **extra: Any
) -> AsyncIterator[Run]:
    site = await FaultSite().start()
    site.delay = env.page_delay
    receiver = AlertReceiver()
    await receiver.start()
    run = Run(
        name, bootstrap or env.kafka.bootstrap, postgres or env.postgres, env.tmp, site, receiver, env.polite, **extra
    )
    try:
        async with run:
            yield run
    finally:
        await receiver.stop()
        await site.stop()


async def kill_twice(env: Env) -> Result:
    """One worker killed -9 twice in the middle of the batch, restarted each time."""
    async with _run(env, "kill_twice") as run:
        run.start_worker(0)
        await run.submit(env.news, env.reports)
        for fraction in (0.25, 0.6):
            await run.until_settled(fraction)
            run.workers[0].kill()
            run.start_worker(0)
            await run.fault_over()
        return await run.finish()


async def two_workers_one_killed(env: Env) -> Result:
    """Two workers share the partitions; one is killed -9 and restarted: the survivor keeps going."""
    async with _run(env, "two_workers_one_killed") as run:
        run.start_worker(0)
        run.start_worker(1)
        await run.submit(env.news, env.reports)
        await run.until_settled(0.3)
        run.workers[1].kill()
        run.start_worker(1)
        await run.fault_over()
        return await run.finish()


async def restart(env: Env, static: bool = True, session_timeout: float = 30.0, news: int | None = None) -> Result:
    """Two workers; one is killed -9 and started again at once, with static group membership (its
    group.instance.id) or without. `rejoin_s`: restart -> its partitions assigned; `stall_s`: the
    longest time nobody finished anything (the survivor waiting on the rebalance)."""
    name = "restart_static" if static else "restart_dynamic"
    kafka = {
        "session_timeout": session_timeout,
        "heartbeat_interval": min(3.0, session_timeout / 10),
        "rebalance_timeout": session_timeout + 15,
        "commit_interval": 0.5,
    }
    if not static:
        kafka["group_instance_id"] = "off"
    async with _run(env, name, kafka=kafka) as run:
        run.start_worker(0)
        run.start_worker(1)
        await run.submit(news or env.news * 3, env.reports)
        await run.until_settled(0.2)
        run.workers[1].kill()
        started = time.time()
        run.start_worker(1)
        await run.fault_over()
        result = await run.finish()
        result.rejoin_s = run.rejoin_seconds(1, started)
        return result


async def _service_stopped(env: Env, name: str, service: Any, **where: Any) -> Result:
    """`service` (a broker or a database server of this scenario's own, started here) is stopped
    for `outage` seconds once 30% of the links are done, then started again."""
    await asyncio.to_thread(service.start)
    try:
        async with _run(env, name, **where) as run:
            run.start_worker(0)
            await run.submit(env.news, env.reports)
            await run.until_settled(0.3)
            await asyncio.to_thread(service.stop)
            await asyncio.sleep(env.outage)
            await asyncio.to_thread(service.start)
            await run.fault_over()
            return await run.finish()
    finally:
        await asyncio.to_thread(service.stop)


async def broker_stopped(env: Env) -> Result:
    """The Kafka broker stopped for `outage` seconds mid-batch, then started again."""
    from tests.conftest import REPO
    from wirewatch.broker import KafkaBroker, ensure_kafka_jars

    jars = ensure_kafka_jars(REPO / ".cache" / "kafka-jars", REPO / "deploy" / "kafka" / "pom.xml")
    broker = KafkaBroker(env.tmp / f"kafka-{uuid.uuid4().hex[:6]}", jars_dir=jars)
    return await _service_stopped(env, "broker_stopped", broker, bootstrap=broker.bootstrap)


async def postgres_stopped(env: Env) -> Result:
    """PostgreSQL stopped for `outage` seconds mid-batch, then started again."""
    from tests.harness.postgres import PostgresServer

    data_dir = Path(tempfile.mkdtemp(prefix="wirewatch-fault-pg-"))  # in /tmp: the postgres user reads it
    server = PostgresServer(data_dir)  # its port kept on restart
    try:
        return await _service_stopped(env, "postgres_stopped", server, postgres=server)
    finally:  # a cluster of 100-500 MB a run, left in /tmp by every run before
        shutil.rmtree(data_dir, ignore_errors=True)


async def receiver_unavailable(env: Env) -> Result:
    """The alert receiver answers 503 for `receiver_outage` seconds while alerts are raised."""
    async with _run(env, "receiver_503") as run:
        run.receiver.always_status = 503
        run.start_worker(0)
        await run.submit(env.news, env.reports)
        await asyncio.sleep(env.receiver_outage)
        run.receiver.always_status = None
        await run.fault_over()
        return await run.finish()


def malformed_messages(count: int, link: Callable[[int], dict]) -> list[tuple[bytes | None, bytes]]:
    """`count` bad messages for the links topic: not JSON, not an object, fields missing or of the
    wrong type, a URL that is not one, a link id too short, the very same bytes again and again (each
    copy still its own outcome row), a time that is not one, a host that is not punycode."""
    out: list[tuple[bytes | None, bytes]] = []
    for i in range(count):
        kind = i % 9
        if kind == 0:
            value = f"not json {i} {{".encode()
        elif kind == 1:
            value = orjson.dumps([i, "a list, not an object"])
        elif kind == 2:
            value = orjson.dumps({"url": f"http://example.invalid/{i}"})  # no link_id, source, submitted_at
        elif kind == 3:
            value = orjson.dumps({**link(i), "source": i})  # wrong type
        elif kind == 4:
            value = orjson.dumps({**link(i), "url": f"no scheme, no host {i}"})
        elif kind == 5:
            value = orjson.dumps({**link(i), "link_id": f"s{i}"[:7]})  # too short for the schema
        elif kind == 6:
            value = b"the same bad bytes every time"
        elif kind == 7:
            value = orjson.dumps({**link(i), "submitted_at": "yesterday"})  # not a date-time
        else:
            value = orjson.dumps({**link(i), "url": f"http://xn--zz.example/{i}"})  # not punycode
        out.append((None, value))
    return out


def oversize_links(count: int, link: Callable[[int], dict], size: int = 950_000) -> list[tuple[bytes | None, bytes]]:
    """Links near the broker's 1 MiB limit, over wirewatch's max_message_bytes (900,000)."""
    return [(None, orjson.dumps({**link(i), "title": "x" * size})) for i in range(count)]


async def malformed_among_good(env: Env) -> Result:
    """`malformed` bad messages and three near 1 MB produced on the links topic around the good
    links, in the same batches."""
    async with _run(env, "malformed") as run:
        run.start_worker(0)

        def link(i: int) -> dict:
            return make_link(f"{run.site.base}/bad/{i}", "test")

        bad = malformed_messages(env.malformed, link)
        big = oversize_links(3, lambda i: link(env.malformed + i))
        half = len(bad) // 2
        await run.produce(bad[:half] + big[:1])
        await run.submit(env.news // 2, env.reports)
        await run.produce(big[1:] + bad[half:])
        await run.submit(env.news - env.news // 2, 0, offset=env.news // 2)
        run.expect_bad(len(bad) + len(big))
        return await run.finish(bad_letters=len(bad) + len(big))


async def foreign_client(env: Env) -> Result:
    """Links produced by a plain Kafka client in the documented schema (schemas/link.schema.json,
    key: the URL), not by `wirewatch submit`: processed the same way."""
    async with _run(env, "foreign_client") as run:
        run.start_worker(0)
        urls = [run.site.news_url(i) for i in range(env.news)] + [run.site.report_url(i) for i in range(env.reports)]
        links = [
            {"link_id": uuid.uuid4().hex, "url": u, "source": "other-system", "submitted_at": "2026-12-06T01:02:03Z"}
            for u in urls
        ]
        run.expect_good(links, env.reports)
        await run.produce([(link["url"].encode(), orjson.dumps(link)) for link in links])
        return await run.finish()


SCENARIOS: dict[str, Callable[[Env], Awaitable[Result]]] = {
    "kill_twice": kill_twice,
    "two_workers_one_killed": two_workers_one_killed,
    "broker_stopped": broker_stopped,
    "postgres_stopped": postgres_stopped,
    "receiver_503": receiver_unavailable,
    "malformed": malformed_among_good,
    "foreign_client": foreign_client,
}
