"""PostgreSQL backend: an asyncpg pool; json/jsonb travel as text, encoded with orjson. asyncpg
errors are translated here (``translate_postgres_error``) and nowhere else.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import asyncpg
from asyncpg.exceptions._base import DataError as _AsyncpgArgumentError  # not exported publicly

from wirewatch.errors import PermanentError, Unavailable, WirewatchError
from wirewatch.sinks.storage.common import REJECTED, UNAVAILABLE, Body, T, _Tx
from wirewatch.sinks.storage.facade import Storage
from wirewatch.sinks.storage.schema import _TABLES

# SQLSTATE classes that mean "the database is not reachable/usable right now": connection
# exception, invalid authorization (credentials not provisioned yet), invalid catalog (database
# not created yet), transaction rollback (serialization/deadlock), insufficient resources,
# operator intervention (shutdown, cancel), system error (I/O).
_PG_TRANSIENT_CLASSES = ("08", "28", "3D", "40", "53", "57", "58")
_PG_TRANSIENT_STATES = ("55P03",)  # lock_not_available
# Group-commit transactions written at once (storage/common.GroupCommit): one alone served calls
# in turn on one connection, less CPU but more wall time per link than before it (bench_storage).
GROUP_WRITERS = 4


def translate_postgres_error(exc: BaseException) -> WirewatchError | None:
    """The wirewatch error for an asyncpg/socket exception, or None if it is not a storage error."""
    if isinstance(exc, WirewatchError):
        return exc
    if isinstance(exc, asyncpg.PostgresError):
        state = exc.sqlstate or ""
        detail = f"{type(exc).__name__} [{state}]: {exc}"
        if state[:2] in _PG_TRANSIENT_CLASSES or state in _PG_TRANSIENT_STATES:
            return Unavailable(UNAVAILABLE, detail)
        return PermanentError(REJECTED, detail)
    if isinstance(exc, _AsyncpgArgumentError):  # client-side: a value asyncpg cannot encode
        return PermanentError(REJECTED, f"{type(exc).__name__}: {exc}")
    if isinstance(exc, asyncpg.InterfaceError | asyncpg.exceptions.InternalClientError):
        return Unavailable(UNAVAILABLE, f"{type(exc).__name__}: {exc}")  # connection/pool closed
    if isinstance(exc, OSError | TimeoutError):
        return Unavailable(UNAVAILABLE, f"{type(exc).__name__}: {exc}")
    if isinstance(exc, UnicodeError):
        return PermanentError(REJECTED, f"{type(exc).__name__}: {exc}")
    return None


class _PgTx:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, *args: Any) -> None:
        await self._conn.execute(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> dict[str, Any] | None:
        row = await self._conn.fetchrow(sql, *args)
        return dict(row) if row is not None else None

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        return [dict(r) for r in await self._conn.fetch(sql, *args)]


class PostgresStorage(Storage):
    """asyncpg pool. json/jsonb travel as text (asyncpg's default), encoded with orjson."""

    backend = "postgresql"
    _STORY_LOCK = "SELECT pg_advisory_xact_lock(7261991)"
    _JSON_ROWS = "jsonb_array_elements_text(CAST(${n} AS TEXT)::jsonb)"

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        connect_timeout: float = 10.0,
        command_timeout: float = 30.0,
    ) -> None:
        # Group-commit writers side by side: up to half the pool, the rest for reads and stories.
        super().__init__(url, writers=max(1, min(GROUP_WRITERS, max_size // 2)))
        self._pool_options = {
            "min_size": min_size,
            "max_size": max_size,
            "timeout": connect_timeout,
            "command_timeout": command_timeout,
        }
        self._acquire_timeout = connect_timeout
        self._pool: asyncpg.Pool | None = None

    async def start(self) -> None:
        if self._pool is not None:
            return
        try:
            self._pool = await asyncpg.create_pool(
                self.url,
                server_settings={"application_name": "wirewatch", "timezone": "UTC"},
                **self._pool_options,
            )
        except Exception as e:
            raise self._translate(e) from e
        try:

            async def create(tx: _Tx) -> None:
                # Serialise concurrent first starts: CREATE ... IF NOT EXISTS races in PostgreSQL.
                await tx.execute("SELECT pg_advisory_xact_lock(7261990)")
                await self._create_schema(tx)

            await self._transact(create)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        await self._flush_queued()
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), timeout=10)
            except (TimeoutError, OSError, asyncpg.InterfaceError):
                pool.terminate()

    def _ddl(self, script: str = _TABLES) -> list[str]:
        script = script.format(json="JSONB", ts="TIMESTAMPTZ")
        return [s.strip() for s in script.split(";") if s.strip()]

    def _ts(self, value: datetime) -> Any:
        return value

    def _from_ts(self, value: Any) -> datetime | None:
        return value.astimezone(UTC) if isinstance(value, datetime) else value

    def _translate(self, exc: BaseException) -> WirewatchError:
        translated = translate_postgres_error(exc)
        return translated if translated is not None else PermanentError(REJECTED, f"{type(exc).__name__}: {exc}")

    async def _transact(self, body: Body[T], *, read_only: bool = False) -> T:
        if self._pool is None:
            raise Unavailable(UNAVAILABLE, "storage is not started or already closed")
        try:
            async with (
                self._pool.acquire(timeout=self._acquire_timeout) as conn,
                conn.transaction(readonly=read_only),
            ):
                return await body(_PgTx(conn))
        except WirewatchError:
            raise
        except Exception as e:
            translated = translate_postgres_error(e)
            if translated is None:
                raise
            raise translated from e
