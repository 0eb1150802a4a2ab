"""faust's worker consumer with a fetch max wait we choose, for brokers that hold every fetch.

faust-streaming 0.15 builds its aiokafka consumer with ``fetch_max_wait_ms=1500`` and no setting to
change it. Apache Kafka answers a waiting fetch as soon as a record arrives, so there the wait costs
nothing; tansu answers only when the wait is over, whatever arrives meanwhile. Measured on loopback
(produce -> consume, median of 10): tansu 718 ms at 1500 ms, 218 ms at 500 ms, 4 ms at 20 ms; Apache
Kafka 5 ms at any wait. Every hop between topics paid that, so `make run` alerted after ~3 s.
A short wait is not free on tansu: an idle worker fetches again at once, every time. Idle CPU of
worker + tansu (4 partitions): 1.5% at 1.5 s, 4.4% at 100 ms, 6.6% at 50 ms, 12% at 20 ms of one
core. TansuBroker.client_settings takes 50 ms: link -> alert p50 0.20 s (3.0 s before; 0.11 s at
20 ms; 0.15 s on Apache Kafka), benchmarks/bench_pipeline.py.

``use_fetch_max_wait(app, seconds)`` gives the app a consumer transport whose consumer waits at most
``seconds``; it must be called before the app creates its consumer (right after ``faust.App(...)``).
"""

from __future__ import annotations

from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka

__all__ = ["FAUST_FETCH_MAX_WAIT", "use_fetch_max_wait"]

FAUST_FETCH_MAX_WAIT = 1.5  # seconds: faust's hard-coded value


def _transport_class(wait_ms: int) -> type[faust_aiokafka.Transport]:
    class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
        def _create_worker_consumer(self, transport: Any) -> Any:
            consumer = super()._create_worker_consumer(transport)
            # AIOKafkaConsumer keeps its constructor argument here and hands it to its Fetcher in
            # start(), which faust calls after this returns. tests/broker pins that this holds.
            consumer._fetch_max_wait_ms = wait_ms
            return consumer

    class Consumer(faust_aiokafka.Consumer):
        def _new_consumer_thread(self) -> ConsumerThread:
            return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    class Transport(faust_aiokafka.Transport):
        pass

    Transport.Consumer = Consumer
    return Transport


def use_fetch_max_wait(app: Any, seconds: float) -> None:
    """Make `app`'s worker consumer wait at most `seconds` for records (faust's own 1.5 s: no change)."""
    if abs(seconds - FAUST_FETCH_MAX_WAIT) < 1e-9:
        return
    app.transport = _transport_class(max(1, round(seconds * 1000)))(app.conf.broker_consumer, app)
