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

import orjson

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(port: int, latency: float) -> None:
    from aiohttp import web

    async def page(request: web.Request) -> web.Response:
        await asyncio.sleep(latency)
        return web.Response(body=PAGE, content_type="text/html", charset="utf-8")

    async def robots(request: web.Request) -> web.Response:
        return web.Response(text="User-agent: *\nAllow: /\n")

    app = web.Application()
    app.router.add_get("/robots.txt", robots)
    app.router.add_get("/a/{n}", page)
    web.run_app(app, host="127.0.0.1", port=port, print=None, handle_signals=True, access_log=None)


async def _child(base: str, concurrency: int, seconds: float) -> dict:
    from wirewatch.settings import FetchSettings
    from wirewatch.stages.fetch import build_client, fetch
    from wirewatch.stages.politeness import Politeness

    settings = FetchSettings(
        allowed_networks=["127.0.0.1/32"],
        per_host_concurrency=concurrency,
        per_host_rate=1e6,
        per_host_burst=10**6,
        total_timeout=60,
        read_timeout=30,
        connect_timeout=30,
        max_host_wait=600,
    )
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


def run(args: argparse.Namespace) -> dict:
    latency = getattr(args, "fetch_latency", 0.05)
    seconds = getattr(args, "fetch_seconds", 6.0)
    levels = [int(x) for x in str(getattr(args, "fetch_levels", "1,100,1000")).split(",")]
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "services")])}
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.bench_fetch", "--serve", str(port), str(latency)], cwd=ROOT, env=env
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
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.bench_fetch",
                    "--child",
                    f"http://127.0.0.1:{port}",
                    str(c),
                    str(seconds),
                ],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=seconds + 120,
                check=True,
            )
            rows.append(orjson.loads(out.stdout.strip().splitlines()[-1]))
    finally:
        server.terminate()
        server.wait(10)
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
    return {"latency_s": latency, "seconds_per_level": seconds, "levels": rows}


if __name__ == "__main__":
    if sys.argv[1] == "--serve":
        _serve(int(sys.argv[2]), float(sys.argv[3]))
    elif sys.argv[1] == "--child":
        print(orjson.dumps(asyncio.run(_child(sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))).decode())
