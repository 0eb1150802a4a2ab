"""Fetch benchmark: pages per second and peak memory of stages.fetch at 1, 100 and 1000 concurrent
fetches against a local server that adds latency to every answer.

In: --fetch-latency (seconds the server waits per request), --fetch-seconds (per level),
--fetch-levels. Out: one row per level (pages, pages/s, peak RSS and its growth over the
process's idle baseline) and the ratios to concurrency 1 measured in the same run.

Each level runs in a fresh process whose live RSS is sampled every 50 ms, so its peak is its own; the server runs in another, so
its memory is not counted. Fetches go through the production path: the guarded client (the
loopback server is exempted by ``allowed_networks``, so every connection is still checked),
robots.txt, per-host slots (limits raised to the level, as an operator would for a host of
their own) and the default connection pool of ``max_connections`` (100). Memory must stay
bounded as concurrency grows: past the pool size, more concurrency only means more waiting
coroutines, never more sockets or buffers.

Then the pool rows (--fetch-hosts, default 100; 0 skips them): the client process's CPU per request
to that many loopback hosts (127.0.0.2 ..., one server bound to each), round robin, one at a time and
50 at once, with build_client's pool per origin and with the one httpcore pool of every host it had
before (the baseline, in the same run); and 50 at once with the per-origin pools on httpcore's anyio
sockets (``anyio``, what the client had before stages/netstream.py), beside the same pools on
asyncio's own (both on httpcore's pool); 50 at once on netstream.Transport's own HTTP/1.1
connections on h11 (now) against httpcore's pool (``httpcore``, before); past 100 hosts, 50 at once
with every host's connection kept (``keepalive_hosts``) against only the 100 most recent hosts'
(``keep-100``, as before). --fetch-levels "" runs only these.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:
    from wirewatch.settings import FetchSettings

ROOT = Path(__file__).resolve().parents[1]
PAGE = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Harbour report</title></head><body>"
    + "<p>The harbour office said the storm moved east overnight and ferries will resume at noon.</p>" * 200
    + "</body></html>"
).encode()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("fetch")
    g.add_argument("--fetch-latency", type=float, default=0.05, help="server latency per request, seconds")
    g.add_argument("--fetch-seconds", type=float, default=6.0, help="seconds of fetching per concurrency level")
    g.add_argument("--fetch-levels", default="1,100,1000", help="comma-separated concurrency levels")
    g.add_argument("--fetch-hosts", type=int, default=100, help="loopback hosts (127.0.0.2 ...) for the pool rows")
    g.add_argument("--fetch-pool-requests", type=int, default=3000, help="requests per pool row")
    g.add_argument(
        "--fetch-pool-rows",
        default="shared,anyio,h11,keepalive",
        help="pool row groups: shared (one pool for all hosts), anyio (its sockets), h11 (httpcore's pool or "
        "netstream.Transport), keepalive (past 100 hosts)",
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _hosts(n: int) -> list[str]:
    from .bench_e2e import loopback  # 127.0.0.2 on, past .254 too

    return [loopback(i) for i in range(n)]


def _serve(port: int, latency: float, hosts: int = 0) -> None:
    from aiohttp import web

    async def page(request: web.Request) -> web.Response:
        await asyncio.sleep(latency)
        return web.Response(body=PAGE, content_type="text/html", charset="utf-8")

    async def robots(request: web.Request) -> web.Response:
        return web.Response(text="User-agent: *\nAllow: /\n")

    app = web.Application()
    app.router.add_get("/robots.txt", robots)
    app.router.add_get("/a/{n}", page)
    web.run_app(app, host=["127.0.0.1", *_hosts(hosts)], port=port, print=None, handle_signals=True, access_log=None)


def _unthrottled(**kw: object) -> FetchSettings:
    """Fetch settings whose politeness and timeouts never make the benchmark wait."""
    from wirewatch.settings import FetchSettings

    base = {"per_host_rate": 1e6, "per_host_burst": 10**6, "total_timeout": 60, "read_timeout": 30}
    return FetchSettings.model_validate({**base, "connect_timeout": 30, "max_host_wait": 600, **kw})


async def _child(base: str, concurrency: int, seconds: float) -> dict:
    from wirewatch.stages.fetch import build_client, fetch
    from wirewatch.stages.politeness import Politeness

    settings = _unthrottled(allowed_networks=["127.0.0.1/32"], per_host_concurrency=concurrency)
    page_size = os.sysconf("SC_PAGE_SIZE")

    def rss_kb() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * page_size // 1024

    # The import-time peak (ru_maxrss) can hide the fetching; sample the live RSS instead.
    idle_kb = peak_kb = rss_kb()
    pages = errors = 0
    async with build_client(settings) as client:
        polite = Politeness(settings)
        await fetch(f"{base}/a/warmup", client, settings, polite)  # robots.txt once, as in production
        deadline = time.monotonic() + seconds

        async def worker(w: int) -> None:
            nonlocal pages, errors
            n = 0
            while time.monotonic() < deadline:
                n += 1
                try:
                    await fetch(f"{base}/a/{w}-{n}", client, settings, polite)
                    pages += 1
                except Exception:  # noqa: BLE001 -- counted, and shown: a benchmark that fails quietly measures nothing
                    errors += 1

        async def sample() -> None:
            nonlocal peak_kb
            while True:
                peak_kb = max(peak_kb, rss_kb())
                await asyncio.sleep(0.05)

        sampler = asyncio.create_task(sample())
        started = time.monotonic()
        await asyncio.gather(*(worker(w) for w in range(concurrency)))
        elapsed = time.monotonic() - started
        sampler.cancel()
    peak_kb = max(peak_kb, rss_kb())
    return {
        "concurrency": concurrency,
        "pages": pages,
        "errors": errors,
        "seconds": round(elapsed, 2),
        "pages_per_s": round(pages / elapsed, 1),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "rss_growth_mb": round((peak_kb - idle_kb) / 1024, 1),
    }


async def _pool_child(port: int, hosts: int, concurrency: int, requests: int, pool: str) -> dict:
    """CPU of the client process per request to ``hosts`` origins, round robin, ``concurrency`` at once.
    ``pool``: "per-host" is build_client's; "shared" is the one pool of all hosts it had before;
    "anyio" is build_client's on httpcore's pool and anyio sockets, as before stages/netstream.py;
    "httpcore" is build_client's on httpcore's pool (over asyncio's sockets), as before
    netstream.Transport; "keep-100" is build_client's keeping only the 100 most recent hosts'
    connections, as it did before ``keepalive_hosts``."""
    import httpcore
    import httpx

    from wirewatch.stages import fetch as fetch_module, netguard
    from wirewatch.stages.fetch import build_client, fetch
    from wirewatch.stages.netguard import AddressPolicy, GuardedBackend, Releasing
    from wirewatch.stages.netstream import AsyncioBackend
    from wirewatch.stages.politeness import Politeness

    class HttpcoreGuarded(httpx.AsyncHTTPTransport):
        """The guarded transport as it was before netstream.Transport: httpcore's connection pool
        (its locks, its connection walk) over the guard and ``backend``."""

        def __init__(self, policy, limits, *, resolver=netguard.system_resolver, ssl_context=None, gate=None):  # type: ignore[no-untyped-def]
            backend = httpcore.AnyIOBackend() if pool == "anyio" else AsyncioBackend()
            self._pool = httpcore.AsyncConnectionPool(
                ssl_context=ssl_context or httpx.create_ssl_context(verify=True, trust_env=False),
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
                network_backend=GuardedBackend(policy, resolver, backend),
            )
            self._gate = gate or asyncio.Semaphore(limits.max_connections or 100)

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            await self._gate.acquire()
            try:
                response = await super().handle_async_request(request)
            except BaseException:
                self._gate.release()
                raise
            response.stream = Releasing(response.stream, self._gate.release)
            return response

    if pool in ("shared", "anyio", "httpcore"):  # the baselines on httpcore's pool
        fetch_module.GuardedTransport = HttpcoreGuarded  # type: ignore[misc]

    settings = _unthrottled(
        allowed_networks=["127.0.0.0/8"], **({"keepalive_hosts": 100} if pool == "keep-100" else {})
    )
    urls = [f"http://{h}:{port}" for h in _hosts(hosts)]
    async with build_client(settings) as client:
        if pool == "shared":  # the baseline: one httpcore pool for every host, as build_client had it
            await client._transport.aclose()
            limits = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=30.0)
            policy = AddressPolicy(settings.allow_private_addresses, settings.allowed_networks)
            client._transport = HttpcoreGuarded(policy, limits)
        polite = Politeness(settings)
        for u in urls:  # robots.txt and a first connection per host, as in a running worker
            await fetch(f"{u}/a/warmup", client, settings, polite)
        errors = 0
        queue = iter(range(requests))

        async def worker() -> None:
            nonlocal errors
            for n in queue:
                try:
                    await fetch(f"{urls[n % len(urls)]}/a/{n}", client, settings, polite)
                except Exception:  # noqa: BLE001 -- counted and shown
                    errors += 1

        cpu, wall = time.process_time(), time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    return {
        "pool": pool,
        "hosts": hosts,
        "concurrency": concurrency,
        "requests": requests,
        "errors": errors,
        "cpu_ms_per_request": round(cpu * 1000 / requests, 3),
        "requests_per_s": round(requests / wall, 1),
    }


def _pool_rows(port: int, hosts: int, requests: int, env: dict[str, str], groups: set[str]) -> list[dict]:
    rows: list[dict] = []

    def child(pool: str, concurrency: int = 50) -> dict:
        args = ["--pool-child", str(port), str(hosts), str(concurrency), str(requests), pool]
        return _child_json(args, env, timeout=600)

    def alternated(before: str, now: str, name: str) -> None:
        """``before`` and ``now`` at 50 at once, alternated twice; the fastest of each counts."""
        runs: dict[str, list[dict]] = {before: [], now: []}
        for _ in range(2):
            for pool in (before, now):
                runs[pool].append(child(pool))
        best_before = min(runs[before], key=lambda r: r["cpu_ms_per_request"])
        best = dict(min(runs[now], key=lambda r: r["cpu_ms_per_request"]), pool=name)
        best[f"cpu_ratio_to_{before}"] = round(best["cpu_ms_per_request"] / best_before["cpu_ms_per_request"], 2)
        rows.extend([best_before, best])

    if "shared" in groups:
        for concurrency in (1, 50):
            shared, per_host = child("shared", concurrency), child("per-host", concurrency)
            per_host["cpu_ratio_to_shared"] = round(per_host["cpu_ms_per_request"] / shared["cpu_ms_per_request"], 2)
            rows += [shared, per_host]
    if "anyio" in groups:  # the sockets: anyio's streams (before) and asyncio's own (now), the same pools
        alternated("anyio", "httpcore", "per-host-asyncio")
    if "h11" in groups:  # the connections: httpcore's pool (before) and netstream.Transport on h11 (now)
        alternated("httpcore", "per-host", "per-host-h11")
    if "keepalive" in groups and hosts > 100:
        # Every host's connection kept (keepalive_hosts) against the 100 most recent hosts' only
        # (before): round robin over more hosts than that makes each request a new connection there.
        alternated("keep-100", "per-host", "keep-all")
    print(f"{hosts} loopback hosts, {requests} requests a row: client CPU per request")
    print(f"{'pool':>16} {'conc':>5} {'errors':>6} {'cpu ms/req':>10} {'req/s':>8} {'x base':>8}")
    for r in rows:
        ratio = next((v for k, v in r.items() if k.startswith("cpu_ratio_to_")), "")
        print(
            f"{r['pool']:>16} {r['concurrency']:>5} {r['errors']:>6} {r['cpu_ms_per_request']:>10}"
            f" {r['requests_per_s']:>8} {ratio:>8}"
        )
    return rows


def _child_json(args: list[str], env: dict[str, str], timeout: float) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_fetch", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return orjson.loads(out.stdout.strip().splitlines()[-1])


def run(args: argparse.Namespace) -> dict:
    latency = getattr(args, "fetch_latency", 0.05)
    seconds = getattr(args, "fetch_seconds", 6.0)
    levels = [int(x) for x in str(getattr(args, "fetch_levels", "1,100,1000")).split(",") if x]
    hosts = getattr(args, "fetch_hosts", 100)
    pool_requests = getattr(args, "fetch_pool_requests", 3000)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "services")])}
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.bench_fetch", "--serve", str(port), str(latency), str(hosts)],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the benchmark server did not start") from None
                time.sleep(0.1)
        rows = []
        for c in levels:
            args_ = ["--child", f"http://127.0.0.1:{port}", str(c), str(seconds)]
            rows.append(_child_json(args_, env, timeout=seconds + 120))
        groups = set(str(getattr(args, "fetch_pool_rows", "shared,anyio,h11,keepalive")).split(","))
        pool_rows = _pool_rows(port, hosts, pool_requests, env, groups) if hosts else []
    finally:
        server.terminate()
        server.wait(10)
    if not rows:
        return {"latency_s": latency, "pool": pool_rows}
    base = rows[0]
    print(f"server latency {latency * 1000:.0f} ms, {seconds:g} s per level")
    print(
        f"{'concurrency':>11} {'pages':>7} {'errors':>6} {'pages/s':>8} {'x c=1':>6} {'peak MB':>8} {'growth MB':>9} {'x c=1':>6}"
    )
    for r in rows:
        r["pages_per_s_ratio"] = round(r["pages_per_s"] / base["pages_per_s"], 1) if base["pages_per_s"] else None
        r["peak_rss_ratio"] = round(r["peak_rss_mb"] / base["peak_rss_mb"], 2)
        print(
            f"{r['concurrency']:>11} {r['pages']:>7} {r['errors']:>6} {r['pages_per_s']:>8} {r['pages_per_s_ratio']:>6}"
            f" {r['peak_rss_mb']:>8} {r['rss_growth_mb']:>9} {r['peak_rss_ratio']:>6}"
        )
    return {"latency_s": latency, "seconds_per_level": seconds, "levels": rows, "pool": pool_rows}


if __name__ == "__main__":
    if sys.argv[1] == "--serve":
        _serve(int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "--pool-child":
        port, hosts, concurrency, requests, pool = sys.argv[2:7]
        row = asyncio.run(_pool_child(int(port), int(hosts), int(concurrency), int(requests), pool))
        print(orjson.dumps(row).decode())
    elif sys.argv[1] == "--child":
        print(orjson.dumps(asyncio.run(_child(sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))).decode())
