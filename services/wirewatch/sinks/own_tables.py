"""A module's own tables in the Storage, created on first use: sinks/outbox.py and sinks/parked.py
keep theirs here rather than in the storage schema, so the module that reads a table also owns its
DDL (IF NOT EXISTS statements that serve PostgreSQL and SQLite alike)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any


class OwnTables:
    """``transaction()`` of `storage` (a Storage, or a callable returning one that opens later),
    the first one preceded by `ddl`."""

    def __init__(self, storage: Any, ddl: Sequence[str]) -> None:
        self._storage = storage
        self._ddl = ddl
        self._created = False
        self._lock = asyncio.Lock()

    @property
    def storage(self) -> Any:
        return self._storage() if callable(self._storage) else self._storage

    async def transaction(self) -> Any:
        if not self._created:
            async with self._lock:
                if not self._created:
                    async with self.storage.transaction() as tx:
                        for statement in self._ddl:
                            await tx.execute(statement)
                    self._created = True
        return self.storage.transaction()
