"""The event hub: changed stories fan out to every open stream; a stream that falls behind is
told to reload; closing ends every stream at once. A stand-in store (pure logic, no I/O)."""

from __future__ import annotations

import asyncio

from wirewatch.api.events import CLOSED, RELOAD, StoryEvents
from wirewatch.errors import TransientError


class Store:
    def __init__(self) -> None:
        self.batches: list = [[]]  # the first look only sets the mark
        self.fail = False

    async def changed_since(self, mark):
        if self.fail:
            raise TransientError("storage_unavailable", "down")
        return (self.batches.pop(0) if self.batches else []), (mark or 0) + 1


async def test_changes_reach_every_stream_and_close_ends_them():
    store = Store()
    hub = StoryEvents(store, interval=0.01)
    a, b = hub.subscribe(), hub.subscribe()
    store.batches.append([{"id": "s-1"}])
    assert await asyncio.wait_for(a.get(), 2) == {"id": "s-1"}
    assert await asyncio.wait_for(b.get(), 2) == {"id": "s-1"}
    store.fail = True  # storage down: streams stay open, nothing is sent
    await asyncio.sleep(0.05)
    assert a.empty()
    await hub.close()
    assert a.get_nowait() is CLOSED and b.get_nowait() is CLOSED


def test_a_stream_that_falls_behind_is_told_to_reload():
    hub = StoryEvents(Store(), queue_size=2)
    q: asyncio.Queue = asyncio.Queue(2)
    hub.subscribers.add(q)
    hub.publish([{"id": "1"}, {"id": "2"}, {"id": "3"}])
    assert q.get_nowait() is RELOAD and q.empty()
