"""Live story updates for the board: one poller per process, fanned out to every open stream.

In:  the story cards updated since the last look (ReadStore.changed_since, on the indexed
     story_cards.updated_at), every `interval` seconds while at least one stream is open.
Out: each card, put on every subscriber's queue; the routes write them as server-sent events.

Polling storage rather than hooking the route agent: the stories are written by whichever worker
routed the article, so storage is the one place every process sees all of them. A subscriber
that falls behind (its queue full) is told to reload instead of being sent a partial picture.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from wirewatch.errors import WirewatchError

log = logging.getLogger(__name__)

RELOAD = {"reload": True}
CLOSED = {"closed": True}


class StoryEvents:
    def __init__(self, store: Any, interval: float = 1.0, queue_size: int = 500) -> None:
        self.store = store
        self.interval = interval
        self.queue_size = queue_size
        self.subscribers: set[asyncio.Queue] = set()
        self.closed = asyncio.Event()
        self._task: asyncio.Task | None = None

    def subscribe(self) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue(self.queue_size)
        self.subscribers.add(q)
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())
        return q

    def unsubscribe(self, q: asyncio.Queue) -> None:
        self.subscribers.discard(q)

    async def close(self) -> None:
        """End every open stream now (they would otherwise hold the web server's shutdown)."""
        self.closed.set()
        for q in list(self.subscribers):
            while not q.empty():
                q.get_nowait()
            q.put_nowait(CLOSED)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def publish(self, cards: list[dict]) -> None:
        for q in list(self.subscribers):
            for item in cards:
                try:
                    q.put_nowait(item)
                except asyncio.QueueFull:
                    while not q.empty():
                        q.get_nowait()
                    q.put_nowait(RELOAD)
                    break

    async def _run(self) -> None:
        mark = None
        failing = False
        while self.subscribers and not self.closed.is_set():
            try:
                cards, mark = await self.store.changed_since(mark)
                failing = False
            except WirewatchError as e:  # storage down: keep the streams open, try again
                if not failing:
                    log.warning("story events: reading changed stories failed: %s", e)
                failing = True
                cards = []
            if cards:
                self.publish(cards)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.closed.wait(), self.interval)
