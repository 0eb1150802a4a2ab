"""`wirewatch submit`: put links on the links topic from outside a worker, with a plain producer."""

from __future__ import annotations

import logging

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from .. import contract
from ..errors import TransientError
from ..settings import Settings
from ..topics import ensure_topics, topic_names
from .links import make_link

log = logging.getLogger(__name__)


async def submit_links(bootstrap: str, settings: Settings, urls: list[str], source: str = "cli") -> list[dict]:
    links = [make_link(u, source) for u in urls]
    topic = settings.topic("links")
    try:
        await ensure_topics(bootstrap, topic_names(settings), settings.topic_partitions)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            for link in links:
                await producer.send_and_wait(topic, contract.encode("link", link), key=link["url"].encode())
        finally:
            await producer.stop()
    except KafkaError as e:
        raise TransientError("broker_unavailable", f"cannot submit to {bootstrap}: {e!r}") from e
    return links
