"""A module's own tables in the Storage, created on first use: sinks/outbox.py and sinks/parked.py
keep theirs here rather than in the storage schema, so the module that reads a table also owns its
DDL (IF NOT EXISTS statements that serve PostgreSQL and SQLite alike)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


class OwnTables:
    """``transact(body)`` and ``batched(part)`` of `storage` (a Storage, or a callable returning
    one that opens later), the first call preceded by `ddl`."""

    def __init__(self, storage: Any, ddl: Sequence[str]) -> None:
        self._storage = storage
        self._ddl = ddl
        self._created = False
        self._lock = asyncio.Lock()

    @property
    def storage(self) -> Any:
        return self._storage() if callable(self._storage) else self._storage

    async def transact(self, body: Callable[[Any], Awaitable[T]], *, read_only: bool = False) -> T:
        """``body(tx)`` in one transaction of its own (sinks/storage ``Storage.transact``)."""
        await self._create()
        result: T = await self.storage.transact(body, read_only=read_only)
        return result

    async def batched(self, part: Callable[[Any], Awaitable[T]]) -> T:
        """``part(tx)`` in the storage's group commit (``Storage.batched``), shared with other calls."""
        await self._create()
        result: T = await self.storage.batched(part)
        return result

    async def _create(self) -> None:
        if not self._created:
            async with self._lock:
                if not self._created:

                    async def create(tx: Any) -> None:
                        for statement in self._ddl:
                            await tx.execute(statement)

                    await self.storage.transact(create)
                    self._created = True
