"""faust's fetch loop hands each record to the agents' channels inside ``wait_first(delivery,
suspend_flow.wait())``; our consumer (broker/faust_consumer.py) lets the delivery take one step on
its own first and races only a delivery still waiting. Same outcomes as faust's race, cheaper."""

from __future__ import annotations

import asyncio
import warnings

import faust
import pytest

from wirewatch.broker.faust_consumer import SteppedWaitFirst


class Service(SteppedWaitFirst, faust.Service):
    """A service with our consumer's wait_first, without a broker."""


async def deliver(value: int) -> int:
    return value


@pytest.mark.asyncio
async def test_a_delivery_with_room_wins_at_once_and_the_rest_never_start():
    s, suspended = Service(), asyncio.Event()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a coroutine left unawaited would warn
        result = await s.wait_first(deliver(7), suspended.wait())
    assert result.results == [7] and not result.stopped
    assert not [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]


@pytest.mark.asyncio
async def test_a_blocked_delivery_is_abandoned_when_the_flow_is_suspended():
    s, suspended, room = Service(), asyncio.Event(), asyncio.Event()
    delivered = []

    async def blocked() -> None:
        await room.wait()  # a full channel
        delivered.append(1)

    racing = asyncio.ensure_future(s.wait_first(blocked(), suspended.wait()))
    await asyncio.sleep(0.01)
    assert not racing.done()
    suspended.set()  # a rebalance
    await asyncio.wait_for(racing, 5)
    room.set()
    await asyncio.sleep(0.01)
    assert delivered == []  # cancelled, as faust's race cancels it


@pytest.mark.asyncio
async def test_a_delivery_that_fails_raises_and_a_stopped_service_says_so():
    s, suspended = Service(), asyncio.Event()

    async def fails() -> None:
        raise ValueError("bad")

    with pytest.raises(ValueError):
        await s.wait_first(fails(), suspended.wait())
    s._stopped.set()
    assert (await s.wait_first(deliver(1), suspended.wait())).stopped
