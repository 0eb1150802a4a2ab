"""The one small lifecycle every sink (and any source that wants it) shares.

    start()  connect, create what is missing; called once before use (the "open" of open/add/flush/close)
    add()    hand over one item; may buffer; may answer with a word for the metrics (storage:
             "inserted" or "updated"), else None
    flush()  everything added so far is durable when it returns
    close()  release connections; idempotent, safe after a failed start

Sinks today: storage (sinks/storage/: write-through, ``add`` is the article upsert) and alert
delivery (sinks/delivery.py: ``add`` returns once every channel has the alert). The agents around
them (agents/store.py, agents/alert.py) only call ``add`` and ``flush``.

Delivery rule: an agent commits its Kafka offset only after ``flush()`` returned for every sink
the batch touched. With idempotent sinks (keyed upserts) that makes at-least-once delivery lose
nothing and duplicate nothing. Sinks raise only ``errors.TransientError`` (retry) or
``errors.PermanentError`` (dead-letter) across this boundary.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Any, Self


class Component(ABC):
    """Something with connections to open and close."""

    @abstractmethod
    async def start(self) -> None:
        """Open connections and prepare (e.g. create tables). Raise TransientError if unreachable."""

    @abstractmethod
    async def close(self) -> None:
        """Release everything. Must be idempotent and must not raise on an unstarted component."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


class Sink(Component):
    """Where items end up. ``add`` may buffer; ``flush`` makes every added item durable."""

    @abstractmethod
    async def add(self, item: dict[str, Any]) -> str | None:
        """Accept one item. Errors for that item may surface here or at the next flush."""

    @abstractmethod
    async def flush(self) -> None:
        """Return only once every item passed to ``add`` is durable."""
