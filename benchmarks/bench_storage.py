"""What storage costs the event loop per link: CPU seconds of the worker's storage calls, same run.

Each link makes the storage calls it makes in a worker (fetch: alias lookup and, once resolved,
the alias; store: the article, its link and its ``stored`` outcome; for one link in
``--storage-alerting`` (a casualty report): the story decision and the alert's delivery ledger),
``--storage-concurrency`` links at a time, as the agents' windows run them. Measured: wall time,
CPU of the whole process (every thread) and CPU of the event loop's thread alone, per link.

The baseline of the same run is the same calls on the same SQL with every statement run by sqlite3
directly in the event loop's thread (``_InlineSqlite``): no hand-off to another thread at all. It
blocks the loop on each fsync, so only its CPU is a yardstick: ``loop_ratio`` is the event loop's
CPU per link over that floor, what the thread hand-offs and the awaits between statements add.
On SQLite, ``wirewatch_sqlite_thread_cpu_ms_per_link`` is the CPU of the storage's own thread a
link (its statements, commits and the Python between them).
On PostgreSQL (``--storage-url postgresql://...``) the baseline is skipped.

On SQLite one more round, not timed, counts what a link costs the database (sqlite3's trace
callback on the storage's connection): ``sqlite_per_link`` holds the write transactions (each a
COMMIT, an fsync with ``synchronous=FULL``), the read-only ones, and the statements the calls run
(BEGIN and COMMIT apart; the statements triggers run inside them are not counted).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from wirewatch import timeutil
from wirewatch.sinks.storage import SqliteStorage, Storage, open_storage, sqlite
from wirewatch.stages import dedupe

EXAMPLE = Path(__file__).resolve().parents[1] / "schemas" / "examples" / "enriched.json"
# Our own filler, so the article is the size of a real one (a few KB of text).
FILLER = (
    "Officials at the regional office said the road would stay closed while engineers checked the bridge. "
    "Traders moved their stalls to the square behind the station and buses ran on the old route. "
) * 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("storage")
    group.add_argument("--storage-links", type=int, default=600, help="links per measurement")
    group.add_argument("--storage-concurrency", type=int, default=32, help="links in flight at once")
    group.add_argument("--storage-alerting", type=int, default=4, help="one link in N raises a story and alert")
    group.add_argument("--storage-url", default="", help="storage URL (default: SQLite in a temp dir)")
    group.add_argument("--storage-rounds", type=int, default=3, help="measurements of each; the median is reported")


def run(args: argparse.Namespace) -> dict[str, Any]:
    return asyncio.run(
        _run(
            getattr(args, "storage_links", 600),
            getattr(args, "storage_concurrency", 32),
            getattr(args, "storage_alerting", 4),
            getattr(args, "storage_url", ""),
            getattr(args, "storage_rounds", 3),
        )
    )


class _InlineSqlite(SqliteStorage):
    """The baseline: the same Storage methods and transactions, run by sqlite3 in the calling thread."""

    async def start(self) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._inline = sqlite.connect(self.path, self._pragmas())
        await self._transact(self._create_schema)

    async def close(self) -> None:
        self._inline.close()

    async def _transact(self, body: Any, *, read_only: bool = False) -> Any:
        return sqlite.in_transaction(self._inline, sqlite.Call(body, read_only))


def _article(i: int, run: str) -> dict[str, Any]:
    item: dict[str, Any] = json.loads(EXAMPLE.read_text())
    item["link_id"] = f"{run}-{i:06d}"
    item["url"] = f"https://exm.pl/{run}{i}"
    item["final_url"] = f"https://news.example.org/{run}/{i}.html?utm_source=feed"
    item["canonical_url"] = f"https://news.example.org/{run}/{i}.html"
    item["text"] = item["text"] + "\n" + FILLER
    return item


async def _one_link(storage: Storage, article: dict[str, Any], alerting: bool) -> None:
    ttl = 3600.0
    alias = await dedupe.lookup(storage, article["url"], ttl)
    dedupe.decide(article["url"], alias, timeutil.utc_now(), article["link_id"])
    await dedupe.remember(
        storage,
        article["url"],
        article["final_url"],
        article["canonical_url"],
        ttl,
        article["redirects"],
        article["link_id"],
    )
    await storage.add(article, stored_by="store")
    await storage.flush()
    if not alerting:
        return
    now = timeutil.utc_now()
    story_id = "s-" + article["link_id"]

    def decide(rows: list[dict[str, Any]]) -> tuple[dict[str, Any], str]:
        state = {"articles": [article["canonical_url"]], "killed": 9, "candidates": len(rows)}
        return {
            "story_id": story_id,
            "title": article["title"],
            "first_at": now,
            "last_at": now,
            "state": state,
        }, story_id

    # Story candidates as the candidate index gives them: the few stories of the round sharing a key.
    group = int(article["link_id"].rsplit("-", 1)[1]) % 40
    keys = [f"p:{article['link_id'].rsplit('-', 1)[0]}-{group}", f"u:{article['link_id']}"]
    await storage.assign_story(article["canonical_url"], now - timedelta(hours=48), decide, keys)
    alert = {"alert_id": "a-" + article["link_id"], "story_id": story_id, "kind": "new"}
    if await storage.claim_alert(alert["alert_id"], "webhook:bench", alert):
        await storage.mark_delivered(alert["alert_id"], "webhook:bench")


async def _measure(storage: Storage, n: int, concurrency: int, alerting: int, run: str) -> dict[str, float]:
    articles = [_article(i, run) for i in range(n)]
    slots = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with slots:
            await _one_link(storage, articles[i], alerting > 0 and i % alerting == 0)

    thread = await _storage_thread_cpu(storage)
    wall, cpu, loop = time.perf_counter(), time.process_time(), time.thread_time()
    await asyncio.gather(*(one(i) for i in range(n)))
    wall, cpu, loop = time.perf_counter() - wall, time.process_time() - cpu, time.thread_time() - loop
    out = {"wall_ms": wall * 1000 / n, "process_cpu_ms": cpu * 1000 / n, "loop_cpu_ms": loop * 1000 / n}
    if thread is not None:
        out["sqlite_thread_cpu_ms"] = ((await _storage_thread_cpu(storage) or 0.0) - thread) * 1000 / n
    return out


async def _storage_thread_cpu(storage: Storage) -> float | None:
    """CPU seconds so far of the SQLite storage's own thread (None elsewhere: PostgreSQL, inline)."""
    if not isinstance(storage, SqliteStorage) or isinstance(storage, _InlineSqlite):
        return None
    cpu: float = await storage._in_thread(time.thread_time)
    return cpu


async def _count(storage: Storage, n: int, concurrency: int, alerting: int) -> dict[str, float]:
    """Transactions and statements a link costs on SQLite: one untimed round, traced."""
    conn = getattr(storage, "_conn", None)
    if not isinstance(conn, sqlite3.Connection):
        return {}
    seen: list[str] = []
    conn.set_trace_callback(seen.append)  # called in the storage's thread, one string a statement
    try:
        await _measure(storage, n, concurrency, alerting, "count")
    finally:
        conn.set_trace_callback(None)
    words = [s.split(None, 1)[0].upper() for s in seen if s.strip() and not s.startswith("--")]
    begins = [w for w, s in zip(words, seen) if w == "BEGIN"]
    writes = sum(1 for s in seen if s.upper().startswith("BEGIN IMMEDIATE"))
    statements = sum(1 for w in words if w not in ("BEGIN", "COMMIT", "ROLLBACK"))
    return {
        "write_transactions": round(writes / n, 2),
        "read_transactions": round((len(begins) - writes) / n, 2),
        "statements": round(statements / n, 2),
    }


def _median(values: list[dict[str, float]]) -> dict[str, float]:
    return {k: round(sorted(v[k] for v in values)[len(values) // 2], 3) for k in values[0]}


async def _run(n: int, concurrency: int, alerting: int, storage_url: str, rounds: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="wirewatch-bench-storage-"))
    try:
        kinds: dict[str, Callable[[], Storage]] = {
            "wirewatch": lambda: open_storage(storage_url or f"sqlite:///{tmp}/w.db")
        }
        if not storage_url:
            kinds["inline_sqlite3"] = lambda: _InlineSqlite(f"sqlite:///{tmp}/inline.db")
        stores = {name: make() for name, make in kinds.items()}
        for store in stores.values():
            await store.start()
            await _measure(store, 20, concurrency, alerting, "warm")
        found: dict[str, list[dict[str, float]]] = {name: [] for name in stores}
        for r in range(rounds):  # interleaved, so a change of machine load falls on both
            for name, store in stores.items():
                found[name].append(await _measure(store, n, concurrency, alerting, f"r{r}"))
        counted = await _count(stores["wirewatch"], n, concurrency, alerting)
        for store in stores.values():
            await store.close()
        result: dict[str, Any] = {
            "backend": stores["wirewatch"].backend,
            "links": n,
            "concurrency": concurrency,
            "alerting_one_in": alerting,
            "load_avg_1m": round(os.getloadavg()[0], 2),
        }
        for name in stores:
            median = _median(found[name])
            result.update({f"{name}_{k}_per_link": v for k, v in median.items()})
            print(
                f"  {name:15s} per link: {median['loop_cpu_ms']:.3f} ms CPU on the event loop, "
                f"{median['process_cpu_ms']:.3f} ms CPU in the process, {median['wall_ms']:.3f} ms wall"
            )
        if counted:
            result["sqlite_per_link"] = counted
            print(f"  SQLite per link: {counted}")
        if "inline_sqlite3" in stores:
            floor = result["inline_sqlite3_loop_cpu_ms_per_link"]
            result["loop_ratio"] = round(result["wirewatch_loop_cpu_ms_per_link"] / floor, 2)
            result["process_ratio"] = round(result["wirewatch_process_cpu_ms_per_link"] / floor, 2)
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
