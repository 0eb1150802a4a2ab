"""Consumer lag as the worker reports it (ops/kafka_state.py): the messages between the committed
offset, which is the next offset to read (Kafka's meaning, and faust's), and the partition's end.
On a real worker: tests/integration/test_operations.py."""

from __future__ import annotations

from types import SimpleNamespace

from aiokafka import TopicPartition

from wirewatch.ops import kafka_state


def _app(committed: dict, ends: dict) -> SimpleNamespace:
    aio = SimpleNamespace(highwater=lambda tp: ends.get(tp))
    consumer = SimpleNamespace(
        assignment=lambda: set(ends) | set(committed),
        _committed_offset=committed,
        _thread=SimpleNamespace(_consumer=aio),
    )
    return SimpleNamespace(consumer=consumer)


def test_lag_counts_from_the_committed_offset_which_is_the_next_to_read():
    p0, p1, p2, p3 = (TopicPartition("links", p) for p in range(4))
    app = _app({p0: 10, p1: 7, p3: 3}, {p0: 15, p1: 7, p2: 4})
    # p0: offsets 10..14 wait; p1: all read; p2: nothing committed, all 4 wait; p3: end unknown.
    assert kafka_state.consumer_lag(app) == {("links", 0): 5, ("links", 1): 0, ("links", 2): 4}


def test_no_consumer_no_lag():
    assert kafka_state.consumer_lag(SimpleNamespace()) == {}
