"""A partition whose reading stopped with messages waiting is sought back (broker/stall_watch.py).

The decision is pure (StallWatch.check on views); the reading of faust's and aiokafka's state and
the seek are proven on real brokers: a consumer left past messages it never read (here: started at
the end of a partition with nothing committed), or kept from fetching a partition by a stale mark
of a full buffer, reads them once the watch seeks it back."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest

from wirewatch.broker import faust_consumer, stall_watch
from wirewatch.broker.stall_watch import StallWatch, View

from .test_brokers import plain_app


def test_a_partition_is_stalled_only_after_the_whole_wait_with_nothing_read_held_or_paused():
    w = StallWatch(after=10)
    idle = {"p": View(end=50, next_read=12, held=0)}
    assert w.check(idle, 0, True) == [] and w.check(idle, 9.9, True) == []
    assert w.check(idle, 10, True) == ["p"]
    assert w.check(idle, 11, True) == []  # sought back: its clock starts again
    assert w.check(idle, 21, True) == ["p"]


def test_reading_holding_pausing_or_nothing_waiting_is_no_stall():
    w = StallWatch(after=10)
    assert w.check({"p": View(50, 12, 0)}, 0, True) == []
    assert w.check({"p": View(50, 13, 0)}, 9, True) == []  # it read one: the clock starts again
    assert w.check({"p": View(50, 13, 0)}, 18, True) == []
    assert w.check({"p": View(50, 13, 3)}, 25, True) == []  # a window holds some of it: working
    assert w.check({"p": View(50, 13, 0)}, 26, True) == []
    assert w.check({"p": View(50, 13, 0)}, 30, False) == []  # a rebalance or a paused stage: not counted
    assert w.check({"p": View(50, 13, 0)}, 31, True) == []
    assert w.check({"p": View(50, 13, 0)}, 40.9, True) == []
    assert w.check({"p": View(50, 13, 0)}, 41, True) == ["p"]
    done = StallWatch(after=10)
    for now in (0, 20, 40):  # caught up, or its end unknown: nothing waits
        assert done.check({"p": View(50, 50, 0), "q": View(None, None, 0)}, now, True) == []
    assert done.check({"r": View(5, None, 0)}, 50, True) == [] and done.check({"r": View(5, None, 0)}, 60, True) == [
        "r"
    ]  # never read, nothing committed: waiting from offset 0


def _watched_app(kafka, offset_reset: str) -> tuple[Any, Any, list[int]]:
    """A bare faust app with wirewatch's consumer (acks as the stages ack) on a fresh two-partition
    topic of `kafka`, and the offsets its agent has seen."""
    name = f"ww-stall-{uuid.uuid4().hex[:8]}"
    app, topic = plain_app(kafka.bootstrap, name, name, consumer_auto_offset_reset=offset_reset)
    faust_consumer.install(app, 0.02)
    app.wirewatch_topics = {"t": topic}
    ack = faust_consumer.stage_ack(app)
    seen: list[int] = []

    @app.agent(topic)
    async def consume(stream):
        async for event in stream.noack().events():
            seen.append(event.message.offset)
            ack(event)

    return app, topic, seen


@pytest.mark.asyncio
async def test_a_consumer_left_past_unread_messages_reads_them_once_sought_back(kafka):
    """Apache Kafka (tansu's "latest" start differs, and the point is faust's and aiokafka's state)."""
    app, topic, seen = _watched_app(kafka, "latest")  # past what is there
    await topic.maybe_declare()
    if not app.producer.started:  # to write before the app (and its consumer) starts
        await app.producer.start()
    for i in range(5):
        await topic.send(key=b"k", value=f"m{i}".encode(), partition=0)
    await app.producer.flush()
    await app.start()
    try:
        watch = StallWatch(after=1.0)
        deadline = time.monotonic() + 60
        reseeks = 0
        while sorted(seen) != [0, 1, 2, 3, 4]:
            assert time.monotonic() < deadline, (seen, stall_watch.views(app))
            views = stall_watch.views(app)
            for tp in watch.check(views, time.monotonic(), stall_watch.quiet(app, {})):
                assert (tp.partition, await stall_watch.reseek(app, tp, views[tp])) == (0, 0)
                reseeks += 1
            await asyncio.sleep(0.3)
        assert reseeks == 1
        await asyncio.sleep(2)  # read and caught up: no second seek
        views = stall_watch.views(app)
        assert watch.check(views, time.monotonic() + 5, True) == [], views
    finally:
        await app.stop()


@pytest.mark.asyncio
async def test_a_stale_full_buffer_mark_is_no_hold_and_the_reseek_lifts_it(kafka):
    """faust marks a partition whose stream buffer is full and fetches it no more until a get on the
    emptied queue lifts the mark; a mark with nothing queued (left by a queue cleared under it) would
    otherwise keep the partition unread for good, with the watch blind to it."""
    app, topic, seen = _watched_app(kafka, "earliest")
    name = topic.get_topic_name()
    await topic.maybe_declare()
    await app.start()
    try:
        deadline = time.monotonic() + 60
        while not any(t.topic == name for t in app.consumer.assignment()):
            assert time.monotonic() < deadline, "no partition assigned"
            await asyncio.sleep(0.2)
        (tp,) = [t for t in app.consumer.assignment() if t.topic == name and t.partition == 0]
        app.consumer.on_buffer_full(tp)  # the mark, with nothing in the stream's queue
        for i in range(5):
            await topic.send(key=b"k", value=f"m{i}".encode(), partition=0)
        await app.producer.flush()
        watch = StallWatch(after=1.0)
        reseeks = 0
        while sorted(seen) != [0, 1, 2, 3, 4]:
            assert time.monotonic() < deadline, (seen, stall_watch.views(app))
            views = stall_watch.views(app)
            if tp in views:
                assert views[tp].held == 0, views[tp]  # the mark alone holds nothing
            for stalled in watch.check(views, time.monotonic(), stall_watch.quiet(app, {})):
                assert stalled == tp
                await stall_watch.reseek(app, stalled, views[stalled])
                reseeks += 1
            await asyncio.sleep(0.3)
        assert reseeks == 1
        assert tp not in app.consumer._buffered_partitions
    finally:
        await app.stop()
