"""The pipeline harness's own promises (tests/harness/pipeline.py), on the real broker: a helper
that quietly returned less than it was asked for would let the tests built on it pass on too little."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaProducer

from tests.harness.pipeline import read_topic


async def test_read_topic_reads_to_the_end_or_says_how_far_it_got(kafka) -> None:
    topic = f"harness-{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()
    try:
        for i in range(5):
            await producer.send_and_wait(topic, f"note {i}".encode(), key=b"k", partition=0)
    finally:
        await producer.stop()
    assert [value for _, value in await read_topic(kafka.bootstrap, topic)] == [f"note {i}".encode() for i in range(5)]
    # No time to read: a partial result is an error naming what was expected and what was read,
    # never a shorter list a test could pass on.
    with pytest.raises(AssertionError, match=r"read 0 messages .* end offsets \{0: 5\}"):
        await read_topic(kafka.bootstrap, topic, timeout=0)
