"""The stage runtime's window (agents/flow.py): out of order inside, in order at the commit.

Pure logic with stand-in events (faust is proven on real Kafka in tests/integration/test_crash.py):
an event here is what faust hands the agent, a value, its partition and offset, and ``ack()``.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.harness.events import Event, Msg
from wirewatch.agents.flow import LIVE_PER_SLOT, Flow, PartitionTracker
from wirewatch.waiting import waiting


def events(tp: str, n: int, acked: list) -> list[Event]:
    return [Event(f"{tp}-{i}", Msg(tp, i), acked) for i in range(n)]


def test_tracker_releases_only_a_done_prefix():
    t = PartitionTracker()
    for o in (5, 6, 7, 8):
        t.add(o, f"m{o}")
    assert t.done(7) == [] and t.lowest() == 5
    assert t.done(5) == ["m5"] and t.lowest() == 6
    assert t.done(6) == ["m6", "m7"] and t.lowest() == 8
    assert t.done(6) == []  # twice is once
    assert t.done(8) == ["m8"] and t.lowest() is None and len(t) == 0


async def test_messages_finish_out_of_order_and_are_acked_in_order():
    gates = {f"p0-{i}": asyncio.Event() for i in range(4)}
    finished: list[str] = []

    async def handle(value: str) -> None:
        await gates[value].wait()
        finished.append(value)

    acked: list[int] = []
    flow = Flow("t", handle, window=4, limit=100)
    for e in events("p0", 4, acked):
        await flow.take(e)
    for v in ("p0-2", "p0-3", "p0-1"):  # the first message is the slow one
        gates[v].set()
        await asyncio.sleep(0)
    await asyncio.sleep(0.01)
    assert finished == ["p0-2", "p0-3", "p0-1"]
    assert acked == [] and flow.lowest_pending("p0") == 0 and flow.uncommitted == 4
    gates["p0-0"].set()
    await asyncio.sleep(0.01)
    assert acked == [0, 1, 2, 3] and flow.uncommitted == 0


async def test_partitions_commit_independently():
    slow = asyncio.Event()

    async def handle(value: str) -> None:
        if value == "a-0":
            await slow.wait()

    acked_a: list[int] = []
    acked_b: list[int] = []
    flow = Flow("t", handle, window=8, limit=100)
    for e in events("a", 3, acked_a) + events("b", 3, acked_b):
        await flow.take(e)
    await asyncio.sleep(0.01)
    assert acked_a == [] and acked_b == [0, 1, 2]
    slow.set()
    await asyncio.sleep(0.01)
    assert acked_a == [0, 1, 2]
    await flow.close()


async def test_a_full_window_stops_taking_and_a_waiting_message_gives_its_slot_away():
    release = asyncio.Event()
    started: list[str] = []

    async def handle(value: str) -> None:
        started.append(value)
        if value == "p-0":  # waits aside (a host's turn): its slot goes to the next message
            async with waiting():
                await release.wait()
        elif value == "p-1":  # works: holds its slot
            await release.wait()

    acked: list[int] = []
    flow = Flow("t", handle, window=2, limit=100)
    evs = events("p", 4, acked)
    for e in evs[:3]:
        await flow.take(e)
    await asyncio.sleep(0.01)
    assert started == ["p-0", "p-1", "p-2"]  # p-0 waits aside; p-1 and p-2 had the two slots
    taking = asyncio.create_task(flow.take(evs[3]))
    await asyncio.sleep(0.01)
    assert started == ["p-0", "p-1", "p-2", "p-3"]  # p-2 finished, its slot went to p-3
    assert acked == []  # p-0 is not done: nothing above it may be committed
    release.set()
    await taking
    await asyncio.sleep(0.01)
    assert acked == [0, 1, 2, 3]


async def test_the_uncommitted_limit_stops_taking_until_the_lowest_is_done():
    release = asyncio.Event()

    async def handle(value: str) -> None:
        if value == "p-0":
            async with waiting():
                await release.wait()

    acked: list[int] = []
    flow = Flow("t", handle, window=3, limit=3)
    evs = events("p", 5, acked)
    for e in evs[:3]:
        await flow.take(e)
    taking = asyncio.create_task(flow.take(evs[3]))
    await asyncio.sleep(0.01)
    assert not taking.done()  # three taken and none committable: memory stays bounded
    release.set()
    await asyncio.wait_for(taking, 1)
    await flow.take(evs[4])
    await asyncio.sleep(0.01)
    assert acked == [0, 1, 2, 3, 4]


async def test_revoked_partitions_are_dropped_unacked_and_free_their_room():
    never = asyncio.Event()

    async def handle(value: str) -> None:
        await never.wait()

    acked: list[int] = []
    flow = Flow("t", handle, window=2, limit=2)
    for e in events("p", 2, acked):
        await flow.take(e)
    assert flow.revoke({"p", "other"}) == 2
    assert flow.uncommitted == 0
    await asyncio.wait_for(flow.take(events("q", 1, acked)[0]), 1)  # the room is back
    await flow.close()
    assert acked == []


async def test_an_event_held_for_room_when_its_partition_is_revoked_is_not_started():
    """The agent holds an event and waits for room when the rebalance revokes its partition: the
    event is dropped (not run, not acked: its partition's new owner, or this worker again from the
    committed offset, redoes it). Started, it would run twice, and ahead of the lower offsets
    redelivered in its partition. An event of a partition not revoked is taken as usual."""
    ran: list[str] = []
    never = asyncio.Event()

    async def handle(value: str) -> None:
        ran.append(value)
        if value == "p-0":
            await never.wait()

    acked: list[int] = []
    flow = Flow("t", handle, window=1, limit=10)
    await flow.take(Event("p-0", Msg("p", 0), acked))
    held = [asyncio.create_task(flow.take(Event(f"{tp}-1", Msg(tp, 1), acked))) for tp in ("p", "q")]
    await asyncio.sleep(0.01)
    assert not any(t.done() for t in held)  # the window is full
    assert flow.revoke({"p"}) == 1
    await asyncio.wait_for(asyncio.gather(*held), 1)
    await asyncio.sleep(0.01)
    assert ran == ["p-0", "q-1"] and flow.dropped_stale == 1 and acked == [1]  # q's offset 1
    # Assigned again, p is redelivered from the committed offset: both offsets run and are acked.
    for offset in (0, 1):
        await asyncio.wait_for(flow.take(Event(f"p-{offset}", Msg("p", offset), acked)), 1)
        never.set()
    await asyncio.sleep(0.01)
    assert ran == ["p-0", "q-1", "p-0", "p-1"] and acked == [1, 0, 1]
    await flow.close()


async def test_messages_of_one_key_run_in_order_and_others_pass_them():
    slow = asyncio.Event()
    order: list[str] = []

    async def handle(value: str) -> None:
        if value == "p-0":
            await slow.wait()
        order.append(value)

    acked: list[int] = []
    flow = Flow("t", handle, window=4, limit=100)
    evs = events("p", 3, acked)
    evs[0].key = evs[2].key = "alert-1"  # an alert and its redelivery; p-1 is another key
    for e in evs:
        await flow.take(e)
    await asyncio.sleep(0.01)
    assert order == ["p-1"]  # p-2 waits for p-0, its key's earlier message, without a slot
    slow.set()
    await asyncio.sleep(0.01)
    assert order == ["p-1", "p-0", "p-2"] and acked == [0, 1, 2]


async def test_waiting_messages_are_bounded_too():
    # Every message waits aside forever: they hold no working slot, but only so many stay alive.
    never = asyncio.Event()

    async def handle(value: str) -> None:
        async with waiting():
            await never.wait()

    acked: list[int] = []
    flow = Flow("t", handle, window=2, limit=10_000)
    evs = events("p", 100, acked)
    taken = 0
    for e in evs:
        try:
            await asyncio.wait_for(flow.take(e), 0.05)
        except TimeoutError:
            break
        taken += 1
    assert taken == 2 * LIVE_PER_SLOT
    await flow.close()


@pytest.mark.parametrize("n", [10_000])
async def test_memory_is_bounded_by_the_window_not_the_queue(n):
    # 10,000 links queued: the flow never holds more than `limit` of them at once.
    peak = 0

    def gauges(working: int, uncommitted: int) -> None:
        nonlocal peak
        peak = max(peak, uncommitted)

    async def handle(value: str) -> None:
        await asyncio.sleep(0)

    acked: list[int] = []
    flow = Flow("t", handle, window=8, limit=32, on_change=gauges)
    for e in events("p", n, acked):
        await flow.take(e)
    await asyncio.sleep(0.05)
    assert len(acked) == n and acked == sorted(acked)
    assert peak <= 32


async def test_a_paused_stage_takes_nothing_new_until_it_resumes():
    resumed = asyncio.Event()
    handled: list[str] = []

    async def handle(value: str) -> None:
        handled.append(value)

    acked: list[int] = []
    flow = Flow("t", handle, window=4, limit=100, gate=resumed.wait)
    taking = asyncio.ensure_future(flow.take(events("p0", 1, acked)[0]))
    await asyncio.sleep(0.02)
    assert not taking.done() and handled == [] and acked == [] and flow.uncommitted == 0
    resumed.set()
    await taking
    await asyncio.sleep(0.01)
    assert handled == ["p0-0"] and acked == [0]
