"""SQLite backend: one sqlite3 connection in WAL mode, owned by one thread of its own. A transaction
is one trip to that thread: its whole body (BEGIN IMMEDIATE, the statements, COMMIT) runs there, so
the event loop hands off once per transaction, not once per statement, and transactions are
serialised by the thread itself. The shared statements are written with $n placeholders, rewritten
to ?n here. sqlite3 errors are translated here (``translate_sqlite_error``) and nowhere else.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from wirewatch import timeutil
from wirewatch.errors import ConfigError, PermanentError, Unavailable, WirewatchError
from wirewatch.sinks.storage.common import REJECTED, UNAVAILABLE, Body, T
from wirewatch.sinks.storage.facade import Storage
from wirewatch.sinks.storage.schema import _TABLES

# Result codes (primary, from sqlite_errorname) that mean "try again later".
_SQLITE_TRANSIENT = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR", "SQLITE_FULL", "SQLITE_CANTOPEN",
                     "SQLITE_PROTOCOL", "SQLITE_NOMEM", "SQLITE_INTERRUPT")  # fmt: skip


def translate_sqlite_error(exc: BaseException) -> WirewatchError | None:
    """The wirewatch error for a sqlite3 exception, or None if it is not a storage error."""
    if isinstance(exc, WirewatchError):
        return exc
    if isinstance(exc, sqlite3.Error):
        name = getattr(exc, "sqlite_errorname", None) or ""
        detail = f"{type(exc).__name__} [{name or 'no code'}]: {exc}"
        if name.startswith(_SQLITE_TRANSIENT) or (isinstance(exc, sqlite3.ProgrammingError) and "closed" in str(exc)):
            return Unavailable(UNAVAILABLE, detail)
        if isinstance(exc, sqlite3.OperationalError) and not name:
            msg = str(exc).lower()
            if any(s in msg for s in ("locked", "busy", "unable to open", "disk i/o", "full")):
                return Unavailable(UNAVAILABLE, detail)
        return PermanentError(REJECTED, detail)
    if isinstance(exc, OSError | TimeoutError):
        return Unavailable(UNAVAILABLE, f"{type(exc).__name__}: {exc}")
    if isinstance(exc, UnicodeError | OverflowError):  # e.g. an int beyond 64 bits
        return PermanentError(REJECTED, f"{type(exc).__name__}: {exc}")
    return None


@lru_cache(maxsize=64)
def _sqlite_sql(sql: str) -> str:
    return re.sub(r"\$(\d+)", r"?\1", sql)


class _SqliteTx:
    """The statements of a transaction, run at once in the connection's thread (the awaits of a
    body never suspend: ``_drive`` runs it to its end in one go)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, *args: Any) -> None:
        self._conn.execute(_sqlite_sql(sql), args)

    async def fetchrow(self, sql: str, *args: Any) -> dict[str, Any] | None:
        row = self._conn.execute(_sqlite_sql(sql), args).fetchone()
        return dict(row) if row is not None else None

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        return [dict(r) for r in self._conn.execute(_sqlite_sql(sql), args).fetchall()]


def _drive(body: Any) -> Any:
    """Run the coroutine `body` to its end here, in this thread; it may await only _SqliteTx."""
    try:
        body.send(None)
    except StopIteration as done:
        return done.value
    body.close()
    raise RuntimeError("a storage transaction awaited something other than its statements")


class Call:
    """One transaction handed to the thread; ``cancelled`` is set when its caller stops waiting,
    so a transaction still waiting for the write lock (another process writes) is not begun."""

    __slots__ = ("body", "cancelled", "read_only")

    def __init__(self, body: Body[Any], read_only: bool = False) -> None:
        self.body, self.cancelled, self.read_only = body, False, read_only


def in_transaction(conn: sqlite3.Connection, call: Call) -> Any:
    """In the connection's thread: BEGIN, the body, COMMIT (ROLLBACK if it raised). A writing body
    takes the write lock at once (IMMEDIATE: waits up to busy_timeout for another process's write,
    and no read-then-write upgrade can fail); a read-only one reads a WAL snapshot and waits for none."""
    conn.execute("BEGIN" if call.read_only else "BEGIN IMMEDIATE")
    try:
        result = None if call.cancelled else _drive(call.body(_SqliteTx(conn)))
    except BaseException:
        conn.rollback()
        raise
    if call.cancelled:
        conn.rollback()
    else:
        conn.commit()
    return result


def connect(path: str, pragmas: list[str]) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves. check_same_thread: the
    # connection is opened here and used only by the storage's one thread, which opened it.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.row_factory = sqlite3.Row
        for pragma in pragmas:
            conn.execute(pragma)
    except BaseException:
        conn.close()
        raise
    return conn


class SqliteStorage(Storage):
    """One sqlite3 connection in WAL mode, used by one thread of its own (see the module docstring).

    ``synchronous=FULL`` by default so a flushed article survives power loss, as the offset
    commit after flush assumes; ``?synchronous=normal`` trades that for speed (still safe
    against a process crash).
    """

    backend = "sqlite"
    _DECIDE_IN_GROUP = True  # one thread writes, under one write lock: nothing interleaves (common.py)

    def __init__(self, url: str, *, busy_timeout_ms: int = 5000) -> None:
        super().__init__(url)
        self.path, query = self._parse(url)
        self._synchronous = query.get("synchronous", "full").upper()
        if self._synchronous not in ("FULL", "NORMAL", "EXTRA"):
            raise ConfigError(f"storage url {url}: synchronous must be full, normal or extra")
        self._busy_timeout_ms = busy_timeout_ms
        self._conn: sqlite3.Connection | None = None
        self._thread: ThreadPoolExecutor | None = None

    @staticmethod
    def _parse(url: str) -> tuple[str, dict[str, str]]:
        parts = urlsplit(url)
        query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
        if parts.netloc not in ("", "localhost"):
            raise ConfigError(f"storage url {url}: expected sqlite:///absolute/path.db")
        if parts.path in ("/:memory:", ":memory:"):
            return ":memory:", query
        path = "/" + parts.path.lstrip("/")
        if path == "/":
            raise ConfigError(f"storage url {url}: expected sqlite:///absolute/path.db")
        return path, query

    def _pragmas(self) -> list[str]:
        return [
            "PRAGMA journal_mode=WAL",
            f"PRAGMA synchronous={self._synchronous}",
            f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}",
            "PRAGMA foreign_keys=ON",
            # SQLite's temporary files in memory. A statement that writes many rows inside a longer
            # transaction (a story filed under its keys, in a group commit of several links) keeps
            # a statement journal, to undo that statement alone; past 64 KiB it went to a file in
            # /var/tmp, written and deleted about once a second in a drain: a fifth of the bytes
            # the worker wrote. Nothing in them is durable (the WAL is), and they are small.
            "PRAGMA temp_store=MEMORY",
            # A checkpoint once the WAL holds 4,096 pages (16 MiB), not SQLite's 1,000 (4 MiB). A
            # checkpoint copies each page the WAL holds into the database once, however many frames
            # wrote it, and a new story's keys land on random leaves of the story_keys index that
            # later stories write again: a larger window copies each leaf fewer times (in bench-e2e
            # the checkpoints were 29% of the bytes the worker wrote). Durability is the WAL's fsync
            # at each commit, which this does not touch; the WAL file keeps its largest size.
            "PRAGMA wal_autocheckpoint=4096",
        ]

    async def _in_thread(self, fn: Any, *args: Any) -> Any:
        assert self._thread is not None
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    async def start(self) -> None:
        if self._conn is not None:
            return
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wirewatch-sqlite")
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._conn = await self._in_thread(connect, self.path, self._pragmas())
        except Exception as e:
            await self.close()
            raise self._translate(e) from e
        try:
            await self._transact(self._create_schema)
        except BaseException as e:
            await self.close()
            if isinstance(e, Exception) and not isinstance(e, WirewatchError):
                raise self._translate(e) from e
            raise

    async def close(self) -> None:
        await self._flush_queued()
        conn, self._conn = self._conn, None
        thread, self._thread = self._thread, None
        if thread is None:
            return
        if conn is not None:
            # After every transaction already handed to the thread; closing a broken connection
            # has nothing left to save.
            with suppress(sqlite3.Error, ValueError):
                await asyncio.get_running_loop().run_in_executor(thread, conn.close)
        thread.shutdown(wait=False)

    def _ddl(self, script: str = _TABLES) -> list[str]:
        script = script.format(json="TEXT", ts="TEXT")
        return [s.strip() for s in script.split(";") if s.strip()]

    def _ts(self, value: datetime) -> Any:
        return timeutil.iso(value, zone="+00:00")  # the shape every stored row has: compared as TEXT

    def _from_ts(self, value: Any) -> datetime | None:
        return datetime.fromisoformat(value).astimezone(UTC) if isinstance(value, str) else value

    def _translate(self, exc: BaseException) -> WirewatchError:
        translated = translate_sqlite_error(exc)
        return translated if translated is not None else PermanentError(REJECTED, f"{type(exc).__name__}: {exc}")

    async def _transact(self, body: Body[T], *, read_only: bool = False) -> T:
        conn = self._conn
        if conn is None:
            raise Unavailable(UNAVAILABLE, "storage is not started or already closed")
        call = Call(body, read_only)
        try:
            result: T = await self._in_thread(in_transaction, conn, call)
        except asyncio.CancelledError:
            # A health probe's timeout, a rebalance: a transaction not begun yet is not begun
            # (one whose body runs completes: it is whole or nothing either way).
            call.cancelled = True
            raise
        except WirewatchError:
            raise
        except Exception as e:
            translated = translate_sqlite_error(e)
            if translated is None:
                raise
            raise translated from e
        return result
