"""What the worker's Kafka clients know, read without blocking: is the broker answering, has the
consumer joined its group, and how far behind each assigned partition is (consumer lag).

faust keeps this in its aiokafka clients; the attributes read here are private to faust and
aiokafka (pinned in pyproject.toml), so every read is defensive: an attribute that moved reads
as "unknown", which is reported as down with that text, never as a crash.
"""

from __future__ import annotations

from typing import Any

from ..broker.faust_consumer import aiokafka_of

DEFAULT_GENERATION_ID = -1


async def broker_problem(app: Any) -> str | None:
    """None when a metadata request over the producer's connections succeeds."""
    producer = getattr(getattr(app, "producer", None), "_producer", None)
    client = getattr(producer, "client", None)
    if client is None:
        return "producer not started"
    await client.fetch_all_metadata()  # raises KafkaError when no broker answers
    return None


async def group_problem(app: Any) -> str | None:
    """None while the consumer is a member of its group (joined, coordinator known)."""
    consumer = aiokafka_of(getattr(app, "consumer", None))
    coordinator = getattr(consumer, "_coordinator", None)
    if coordinator is None:
        return "consumer not started"
    if getattr(coordinator, "coordinator_id", None) is None:
        return "no group coordinator (broker unreachable?)"
    if getattr(coordinator, "generation", DEFAULT_GENERATION_ID) == DEFAULT_GENERATION_ID:
        return "not a member of the consumer group yet (joining or rebalancing)"
    return None


def consumer_lag(app: Any) -> dict[tuple[str, int], int]:
    """(topic, partition) -> messages between the committed offset and the end of the partition,
    for every partition assigned to this worker whose end offset the consumer has seen."""
    faust_consumer = getattr(app, "consumer", None)
    consumer = aiokafka_of(getattr(app, "consumer", None))
    if faust_consumer is None or consumer is None:
        return {}
    try:
        assigned = faust_consumer.assignment()
        committed = faust_consumer._committed_offset  # faust keeps it here
    except Exception:  # noqa: BLE001 - not started, or faust changed: no lag to report
        return {}
    out = {}
    for tp in assigned:
        try:
            end = consumer.highwater(tp)
        except Exception:  # noqa: BLE001 - partition not fetched yet
            continue
        if end is None:
            continue
        # faust's committed offset is Kafka's: the next offset to read (faust's Consumer._new_offset
        # returns the last done + 1, and a seek to committed sets it from the broker's).
        out[(tp.topic, tp.partition)] = max(0, end - (committed.get(tp) or 0))
    return out
