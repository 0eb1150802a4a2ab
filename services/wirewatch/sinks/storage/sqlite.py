"""SQLite backend: one aiosqlite connection in WAL mode, transactions serialised with a lock. The
shared statements are written with $n placeholders, rewritten to ?n here. sqlite3 errors are
translated here (``translate_sqlite_error``) and nowhere else.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiosqlite

from wirewatch import timeutil
from wirewatch.errors import ConfigError, PermanentError, Unavailable, WirewatchError
from wirewatch.sinks.storage.common import REJECTED, UNAVAILABLE, _Tx
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
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, *args: Any) -> None:
        await self._conn.execute(_sqlite_sql(sql), args)

    # One trip to aiosqlite's thread per statement (execute_fetchall), not three (execute, fetch,
    # close the cursor): each trip is a hand-off of the GIL between the event loop and that thread,
    # the largest share of a stored link's event-loop CPU.
    async def fetchrow(self, sql: str, *args: Any) -> dict[str, Any] | None:
        rows = await self._conn.execute_fetchall(_sqlite_sql(sql), args)
        for row in rows:
            return dict(row)
        return None

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        return [dict(r) for r in await self._conn.execute_fetchall(_sqlite_sql(sql), args)]


class SqliteStorage(Storage):
    """One aiosqlite connection in WAL mode; transactions are serialised with a lock.

    ``synchronous=FULL`` by default so a flushed article survives power loss, as the offset
    commit after flush assumes; ``?synchronous=normal`` trades that for speed (still safe
    against a process crash).
    """

    backend = "sqlite"

    def __init__(self, url: str, *, busy_timeout_ms: int = 5000) -> None:
        super().__init__(url)
        self.path, query = self._parse(url)
        self._synchronous = query.get("synchronous", "full").upper()
        if self._synchronous not in ("FULL", "NORMAL", "EXTRA"):
            raise ConfigError(f"storage url {url}: synchronous must be full, normal or extra")
        self._busy_timeout_ms = busy_timeout_ms
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

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

    async def start(self) -> None:
        if self._conn is not None:
            return
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves.
            conn = await aiosqlite.connect(self.path, isolation_level=None)
        except Exception as e:
            raise self._translate(e) from e
        self._conn = conn
        try:
            conn.row_factory = aiosqlite.Row
            for pragma in (
                "PRAGMA journal_mode=WAL",
                f"PRAGMA synchronous={self._synchronous}",
                f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}",
                "PRAGMA foreign_keys=ON",
            ):
                await conn.execute(pragma)
            async with self._transaction() as tx:
                await self._create_schema(tx)
        except BaseException as e:
            await self.close()
            if isinstance(e, Exception) and not isinstance(e, WirewatchError):
                raise self._translate(e) from e
            raise

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(sqlite3.Error, ValueError):  # closing a broken connection: nothing left to save
                await conn.close()

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

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[_Tx]:
        async with self._lock:
            conn = self._conn
            if conn is None:
                raise Unavailable(UNAVAILABLE, "storage is not started or already closed")
            try:
                try:
                    await conn.execute("BEGIN IMMEDIATE")
                except asyncio.CancelledError:
                    # Cancelled while BEGIN waited (busy_timeout: another process writes; a health
                    # probe's timeout, a rebalance): the statement is already queued to aiosqlite's
                    # thread and runs anyway. Queue its undo behind it, or the connection stays in a
                    # transaction nobody owns and every later BEGIN fails.
                    with suppress(Exception):
                        await asyncio.shield(conn.rollback())
                    raise
                try:
                    yield _SqliteTx(conn)
                except BaseException:
                    await conn.rollback()
                    raise
                await conn.commit()
            except WirewatchError:
                raise
            except Exception as e:
                translated = translate_sqlite_error(e)
                if translated is None:
                    raise
                raise translated from e
