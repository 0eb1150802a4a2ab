"""Per-message completion: an agent takes messages into a bounded window, each runs on its own,
they finish in any order, and faust is told a message is done only in offset order.

    take       while the stage is not paused (a dependency is down: runner.Pause), fewer than
               ``window`` messages work, fewer than ``LIVE_PER_SLOT x window`` are
               alive (working or waiting aside) and fewer than ``limit`` are uncommitted
    run        a task per message: ``handle`` (decode, core, emit and await the broker's ack, the
               error policy; runner.Stage.handle never raises)
    done       mark it in its partition's tracker; ack every event from the lowest offset up to the
               first one not done yet
    commit     faust's own timer (and rebalance, shutdown) commits what was acked: with acks in
               order that is exactly "the lowest offset not yet done", per partition

Why this and not faust's own acking: faust commits past the highest run of consecutive acked
offsets and has to guess where that run starts (``Consumer._new_offset``); with several messages of
a partition in flight the guess can pass one still running (faust issue #606; it trusts the run
when nothing was committed yet, and tests the head with an off-by-one). Confluent's Parallel
Consumer keeps, per partition, the offsets taken and which are complete, and commits the lowest
incomplete one; ``PartitionTracker`` is that map, and acking in order leaves faust nothing to guess.

Key order: messages with the same key run one after the other, in offset order (Parallel
Consumer's KEY ordering), the later one waiting aside: an alert and its update reach a receiver
in the order raised, two deliveries of one alert id never race past the delivery ledger, and an
older version of an article never overwrites a newer one. Messages of other keys pass it by.

Waiting aside: a message that waits (its host's turn, a Retry-After, a backoff) does so inside
``waiting.waiting()``, which hands its working slot to the next message and takes one back when the
wait ends. It still counts against ``limit``, which bounds memory and the work a crash repeats.

Rebalance: the tasks of revoked partitions are cancelled and forgotten, not awaited (faust's
``stream_wait_empty`` is off), so a slow host or a failing alert channel never holds a rebalance;
the new owner starts at the committed offset, and idempotent sinks make the repeat harmless.
An event whose partition is revoked while the agent waits in ``take`` for room is dropped, not
started: the partition may now be another worker's, and where it stays ours faust seeks it back
to the committed offset, so the event comes again, behind the ones before it. Started, it ran
twice, and ahead of the redelivered lower offsets in its partition's tracker, so its ack let faust
commit past them while they were still in flight. (faust itself drops an event read in an older
consumer generation when it hands it out; an event already handed out is ours to check.)
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterable
from typing import Any

from ..waiting import set_aside

log = logging.getLogger(__name__)

# Messages alive (working, or waiting aside for a host's turn or a retry) per working slot. Waiting
# is cheap but not free (a task, its frames, the event): this keeps a queue of 10,000 links in
# Kafka, not in memory, and keeps each host's queue short enough to be served within
# max_host_wait; done messages above a hanging one are only an event each, bounded by ``limit``.
LIVE_PER_SLOT = 8


# Where the message a task works on was read from: (topic, partition, offset), set in each message's
# own task (like waiting.set_aside), so the error policy can name it in a dead letter without every
# handler taking the event.
_position: contextvars.ContextVar[tuple[str, int, int] | None] = contextvars.ContextVar("position", default=None)


def position() -> tuple[str, int, int] | None:
    """(topic, partition, offset) of the message this task works on; None outside a Flow."""
    return _position.get()


def _where(tp: Any, offset: int) -> tuple[str, int, int] | None:
    topic, partition = getattr(tp, "topic", None), getattr(tp, "partition", None)
    if isinstance(topic, str) and isinstance(partition, int):
        return topic, partition, offset
    return None


class PartitionTracker:
    """The offsets taken from one partition, in the order taken, and which of them are done."""

    def __init__(self) -> None:
        self._taken: OrderedDict[int, Any] = OrderedDict()
        self._done: set[int] = set()

    def __len__(self) -> int:
        return len(self._taken)

    def add(self, offset: int, item: Any) -> None:
        self._taken[offset] = item

    def done(self, offset: int) -> list[Any]:
        """Mark ``offset`` done; the items, lowest first, that are now done with all before them."""
        if offset not in self._taken:
            return []
        self._done.add(offset)
        released = []
        while self._taken:
            first = next(iter(self._taken))
            if first not in self._done:
                break
            self._done.discard(first)
            released.append(self._taken.pop(first))
        return released

    def lowest(self) -> int | None:
        """The offset a commit may reach: the lowest one taken and not released yet."""
        return next(iter(self._taken), None)


class _Lease:
    """One message's working slot, given back while the message waits aside, and its place among
    the messages alive, given back when it ends."""

    def __init__(self, slots: asyncio.Semaphore, live: asyncio.Semaphore) -> None:
        self.slots, self.held = slots, True
        self.live, self.alive = live, True

    def release(self) -> None:
        if self.held:
            self.held = False
            self.slots.release()

    def end(self) -> None:
        self.release()
        if self.alive:
            self.alive = False
            self.live.release()

    @contextlib.asynccontextmanager
    async def aside(self) -> AsyncIterator[None]:
        if not self.held:  # already aside (a wait inside a wait)
            yield
            return
        self.release()
        try:
            yield
        finally:
            await self.slots.acquire()
            self.held = True


class Flow:
    """The window of one agent. ``take`` each event; ``revoke`` on rebalance; ``close`` at the end."""

    def __init__(
        self,
        name: str,
        handle: Callable[[Any], Awaitable[Any]],
        window: int,
        limit: int,
        on_change: Callable[[int, int], None] | None = None,
        gate: Callable[[], Awaitable[Any]] | None = None,
        ack: Callable[[Any], Any] = lambda event: event.ack(),
    ) -> None:
        self.name = name
        self._ack = ack  # the app's: the only acks its consumer counts (broker/faust_consumer.py)
        self._gate = gate  # awaited before each take: returns at once unless the stage is paused
        self._handle = handle
        self._slots = asyncio.Semaphore(window)
        self._live = asyncio.Semaphore(window * LIVE_PER_SLOT)
        self._room = asyncio.Semaphore(max(limit, window))
        self._trackers: dict[Hashable, PartitionTracker] = {}
        self._tasks: dict[Hashable, dict[int, tuple[asyncio.Task, _Lease]]] = {}
        self._last_of_key: dict[Any, asyncio.Task] = {}  # the latest task taken per message key
        self._on_change = on_change or (lambda working, uncommitted: None)
        self._revokes = 0  # revokes so far; a partition's entry: the count when it was last revoked
        self._revoked_at: dict[Hashable, int] = {}
        self.working = 0
        self.uncommitted = 0
        self.dropped_stale = 0

    async def take(self, event: Any) -> None:
        """Start work on ``event`` (a faust Event: ``value``, ``message.tp``, ``message.offset``,
        ``ack()``) once the window has room. Returns as soon as it runs, not when it is done."""
        revokes = self._revokes
        if self._gate is not None:  # paused: take nothing new; faust's buffer fills and it stops fetching
            await self._gate()
        await self._room.acquire()
        try:
            await self._live.acquire()
        except BaseException:
            self._room.release()
            raise
        try:
            await self._slots.acquire()
        except BaseException:
            self._live.release()
            self._room.release()
            raise
        if self._revoked_at.get(event.message.tp, -1) >= revokes:  # its partition revoked meanwhile
            self._slots.release()
            self._live.release()
            self._room.release()
            self.dropped_stale += 1
            return
        tp, offset = event.message.tp, event.message.offset
        self._trackers.setdefault(tp, PartitionTracker()).add(offset, event)
        lease = _Lease(self._slots, self._live)
        key = getattr(event, "key", None)
        before = self._last_of_key.get(key) if key is not None else None
        task = asyncio.create_task(self._run(event, tp, offset, lease, before), name=f"{self.name}:{tp}:{offset}")
        self._tasks.setdefault(tp, {})[offset] = (task, lease)
        if key is not None:
            self._last_of_key[key] = task
            task.add_done_callback(lambda t: self._last_of_key.pop(key) if self._last_of_key.get(key) is t else None)
        self.uncommitted += 1
        self._changed()

    async def _run(self, event: Any, tp: Hashable, offset: int, lease: _Lease, before: asyncio.Task | None) -> None:
        set_aside(lease.aside)  # this task's own context: only this message's waits give its slot away
        _position.set(_where(tp, offset))
        self.working += 1
        try:
            if before is not None and not before.done():  # the same key, taken earlier: after it
                async with lease.aside():
                    await asyncio.wait([before])
            await self._handle(event.value)
        finally:
            self.working -= 1
            lease.end()
            self._tasks.get(tp, {}).pop(offset, None)
        self._done(tp, offset)

    def _done(self, tp: Hashable, offset: int) -> None:
        tracker = self._trackers.get(tp)
        if tracker is None:  # revoked meanwhile: the new owner redoes it
            return
        for ev in tracker.done(offset):
            self._ack(ev)
            self._room.release()
            self.uncommitted -= 1
        self._changed()

    def lowest_pending(self, tp: Hashable) -> int | None:
        tracker = self._trackers.get(tp)
        return tracker.lowest() if tracker is not None else None

    def revoke(self, tps: Iterable[Hashable]) -> int:
        """Forget the partitions (a rebalance took them): cancel their work, and drop an event of
        theirs that ``take`` holds while it waits for room. Returns how many were cancelled."""
        cancelled = 0
        for tp in tps:
            self._revoked_at[tp] = self._revokes
            tracker = self._trackers.pop(tp, None)
            for task, lease in self._tasks.pop(tp, {}).values():
                task.cancel()
                lease.end()  # now: a task cancelled before it ever ran has no finally to do it
                cancelled += 1
            if tracker is not None:
                for _ in range(len(tracker)):
                    self._room.release()
                self.uncommitted -= len(tracker)
        self._revokes += 1
        self._changed()
        return cancelled

    async def close(self) -> None:
        """Cancel everything in flight (shutdown): nothing unfinished is acked, so it comes again."""
        tasks = [t for per_tp in self._tasks.values() for t, _ in per_tp.values()]
        self.revoke(list(self._tasks) + list(self._trackers))
        await asyncio.gather(*tasks, return_exceptions=True)

    def _changed(self) -> None:
        self._on_change(self.working, self.uncommitted)
