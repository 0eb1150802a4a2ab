"""faust's worker consumer, as the stage runtime needs it: a fetch max wait we choose, and only the
stage windows' acks counted.

**Fetch max wait.** faust-streaming 0.15 builds its aiokafka consumer with ``fetch_max_wait_ms=1500``
and no setting to change it. Apache Kafka answers a waiting fetch as soon as a record arrives, so
there the wait costs nothing; tansu answers only when the wait is over, whatever arrives meanwhile.
Measured on loopback (produce -> consume, median of 10): tansu 718 ms at 1500 ms, 218 ms at 500 ms,
4 ms at 20 ms; Apache Kafka 5 ms at any wait. Every hop between topics paid that, so `make run`
alerted after ~3 s. A short wait is not free on tansu: an idle worker fetches again at once, every
time. Idle CPU of worker + tansu (4 partitions): 1.5% at 1.5 s, 4.4% at 100 ms, 6.6% at 50 ms, 12%
at 20 ms of one core. TansuBroker.client_settings takes 50 ms: link -> alert p50 0.20 s (3.0 s
before; 0.11 s at 20 ms; 0.15 s on Apache Kafka), benchmarks/bench_pipeline.py.

**Only the stage windows' acks.** An offset may be committed only once its message and every one
before it are done (agents/flow.py acks in that order). faust acks on its own too: an event it
skips because it was read in a consumer generation a rebalance has ended (or while its flow is
suspended for the rebalance) is acked "so the lag does not grow" (faust/streams.py). That event
was never processed, and its offset can be above offsets still in flight or not yet redelivered;
faust then commits past them (at once where nothing was committed yet in the partition, which
faust's commit does not check against), and a crash or the next rebalance loses them. Here
``Consumer.ack`` counts an ack only while a stage's window gives it (``stage_ack``); faust's own
are refused, and the event comes again from the committed offset after the rebalance's seek.

The refusal has to come before faust's reference count, not only at the consumer: a record of a
topic two agents read (``enriched``: store and route) is one message with a count of two, and
faust's ``Message.ack`` takes one off before it asks the consumer, only on the last. Refused at the
consumer alone, faust's skip of route's event took the count to one unseen, and store's ack, now
the last, was counted: the commit passed a record route never worked, and an alert it would have
raised was lost. ``StageMessage.ack`` refuses before the count, so one agent's skip leaves the
record uncommitted for both.

**A record handed on without a race where there is room.** faust's fetch loop hands each record to
the agents' channels inside a race with the flow's suspension (a rebalance), four tasks a record;
``SteppedWaitFirst`` lets the hand-off take one step first and races only one still waiting for
room (issue 10: 40 -> 8 us a record).

``install(app, fetch_max_wait)`` gives the app this consumer; it must be called before the app
creates its consumer (right after ``faust.App(...)``).

**Reading its state.** ``aiokafka_of`` and ``partition_state`` are the one place that reads the
aiokafka consumer behind faust's and its view of a partition (ops/kafka_state.py, ops/dump.py and
broker/stall_watch.py use them). Those attributes are private to faust and aiokafka (pinned in
pyproject.toml); the callers read them defensively.
"""

from __future__ import annotations

import asyncio
import typing
from collections.abc import Callable
from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import ConsumerMessage

__all__ = ["FAUST_FETCH_MAX_WAIT", "aiokafka_of", "fetched_records", "install", "partition_state", "stage_ack"]

FAUST_FETCH_MAX_WAIT = 1.5  # seconds: faust's hard-coded value
# What a service's wait_first returns: mode's WaitResults, read from the annotation (faust does not
# re-export it, and mode is faust's dependency, not ours: tests/deploy/test_dependencies.py).
WaitResults: Any = typing.get_type_hints(faust_aiokafka.Consumer.wait_first)["return"]


class SteppedWaitFirst:
    """A service (mode's, as faust's consumer is) whose ``wait_first`` lets the first coroutine take a
    step on its own before any race."""

    _stopped: Any  # the service's (mode's Service, next in the class's order)
    _crashed: Any

    async def wait_first(self, *coros: Any, timeout: Any = None) -> Any:
        """``Service.wait_first``, first giving the first coroutine one step on its own.

        faust's fetch loop hands each record to the agents' channels with
        ``wait_first(callback(message), suspend_flow.wait())``, so that a delivery blocked on a
        full channel is abandoned when a rebalance suspends the flow. That races four tasks (the
        delivery, the suspension, the service's stop and crash) and cancels three: about 40 us a
        record, where the delivery itself, a put into a channel with room, finishes in its first
        step. So the first coroutine runs one step as a task of its own; done, it is the race's
        winner as it would have been (its task ran first there too), the other coroutines are
        closed unstarted; still waiting (a full channel), the race is run as before with that task."""
        race = typing.cast(Any, super()).wait_first
        if not coros or not asyncio.iscoroutine(coros[0]):
            return await race(*coros, timeout=timeout)
        task = asyncio.ensure_future(coros[0])
        try:
            await asyncio.sleep(0)  # the task's first step runs before this returns (FIFO)
        except BaseException:
            task.cancel()
            _close(coros[1:])
            raise
        if not task.done():
            return await race(task, *coros[1:], timeout=timeout)
        _close(coros[1:])
        result = task.result()  # its exception, as the race propagates it
        if self._stopped.is_set() or self._crashed.is_set():
            return WaitResults([], [], True)
        return WaitResults([coros[0]], [result], False)


class StageMessage(ConsumerMessage):
    """faust's consumer message whose ack, unless a stage window gives it, is refused before it
    takes anything off the message's reference count (one per agent reading the topic)."""

    __slots__ = ()

    def ack(self, consumer: Any, n: int = 1) -> bool:
        if not getattr(consumer, "stage_acking", True):
            consumer.refused_acks += 1
            return False
        return bool(super().ack(consumer, n))


class Consumer(SteppedWaitFirst, faust_aiokafka.Consumer):
    """Acks count only from a stage window (``stage_ack``), and a record handed to the agents' channels
    without a race where there is room (``SteppedWaitFirst``); see the module's docstring."""

    stage_acking = False
    refused_acks = 0  # faust's own acks of events it skipped, refused

    def _to_message(self, tp: Any, record: Any) -> Any:
        message = super()._to_message(tp, record)
        message.__class__ = StageMessage  # faust's fields as faust sets them; only the ack differs
        return message

    def ack(self, message: Any) -> bool:
        if not self.stage_acking:
            self.refused_acks += 1
            return False
        return super().ack(message)


def _close(coros: tuple[Any, ...]) -> None:
    for coro in coros:
        if asyncio.iscoroutine(coro):
            coro.close()  # never started: nothing runs, and no "never awaited" warning


def _transport_class(wait_ms: int | None) -> type[faust_aiokafka.Transport]:
    class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
        def _create_worker_consumer(self, transport: Any) -> Any:
            consumer = super()._create_worker_consumer(transport)
            if wait_ms is not None:
                # AIOKafkaConsumer keeps its constructor argument here and hands it to its Fetcher
                # in start(), which faust calls after this returns. tests/broker pins that this holds.
                consumer._fetch_max_wait_ms = wait_ms
            return consumer

    class WorkerConsumer(Consumer):
        def _new_consumer_thread(self) -> ConsumerThread:
            return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    class Transport(faust_aiokafka.Transport):
        pass

    Transport.Consumer = WorkerConsumer
    return Transport


def install(app: Any, fetch_max_wait: float) -> None:
    """Give `app` this module's consumer, waiting at most `fetch_max_wait` seconds for records."""
    same = abs(fetch_max_wait - FAUST_FETCH_MAX_WAIT) < 1e-9
    wait_ms = None if same else max(1, round(fetch_max_wait * 1000))
    app.transport = _transport_class(wait_ms)(app.conf.broker_consumer, app)


def stage_ack(app: Any) -> Callable[[Any], bool]:
    """How a stage window acks an event it is done with: counted by ``Consumer.ack``."""

    def ack(event: Any) -> bool:
        consumer = app.consumer
        consumer.stage_acking = True
        try:
            return bool(event.ack())
        finally:
            consumer.stage_acking = False

    return ack


def aiokafka_of(consumer: Any) -> Any:
    """The aiokafka consumer behind faust's `consumer` (it lives in faust's consumer thread), or
    None before it is started."""
    return getattr(getattr(consumer, "_thread", None), "_consumer", None)


def fetched_records(aio: Any) -> dict[Any, Any]:
    """What aiokafka's fetcher holds fetched and not yet handed out, by partition ({} if unknown)."""
    return getattr(getattr(aio, "_fetcher", None), "_records", None) or {}


def partition_state(aio: Any, tp: Any) -> str:
    """aiokafka's view of `tp`: its fetch position (none while awaiting a reset), whether it is
    paused, and what its fetcher holds fetched and not yet handed out. Raises AttributeError or
    KeyError where aiokafka moved or `tp` is not assigned."""
    state = aio._subscription.subscription.assignment.state_value(tp)
    held = fetched_records(aio).get(tp)
    return (
        f"position {state.position if state.has_valid_position else 'none'}"
        f"{' (awaiting reset)' if state.awaiting_reset else ''}{' paused' if state.paused else ''}, "
        f"fetched not handed out: {type(held).__name__ if held is not None else 'nothing'}"
    )
