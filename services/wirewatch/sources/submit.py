"""`wirewatch submit`: put links on the links topic from outside a worker, with a plain producer.

With the outbox on (the embedded default, sinks/outbox.py) the links are written to storage first:
once their ids are printed they reach an outcome even if the broker is down or the worker is not
running; the worker sends them when it (re)starts.
"""

from __future__ import annotations

import logging

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from .. import contract
from ..errors import Unavailable
from ..settings import Settings
from ..sinks.outbox import Outbox, link_row, outbox_enabled
from ..sinks.storage import open_storage
from ..topics import ensure_topics, topic_names
from .links import make_link

log = logging.getLogger(__name__)


async def submit_links(bootstrap: str | None, settings: Settings, urls: list[str], source: str = "cli") -> list[dict]:
    """Submit `urls`; the links made. `bootstrap` None: only into the outbox (no broker running)."""
    links = [make_link(u, source) for u in urls]
    if not outbox_enabled(settings):
        if bootstrap is None:
            raise Unavailable("broker_unavailable", "no broker to submit to")
        await _produce(bootstrap, settings, links)
        return links
    storage = open_storage(settings.resolved_storage_url)
    await storage.start()
    try:
        box = Outbox(storage)
        rows = [link_row(link) for link in links]
        await box.accept(rows)
        if bootstrap is None:
            log.warning("no broker is running: %d links are kept and sent when wirewatch starts", len(links))
            return links
        try:
            producer = await open_producer(bootstrap, settings)
        except Unavailable as e:
            log.warning("%s: %d links are kept and sent by the worker", e.detail, len(links))
            return links
        topic = settings.topic("links")
        try:

            async def send(schema: str, key: str | None, value: bytes) -> None:
                await producer.send_and_wait(topic, value, key=key.encode() if key else None)

            await box.send_rows(rows, send, contract.encode)
        finally:
            await producer.stop()
    finally:
        await storage.close()
    return links


async def open_producer(bootstrap: str, settings: Settings) -> AIOKafkaProducer:
    try:
        await ensure_topics(bootstrap, topic_names(settings), settings.topic_partitions)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
    except KafkaError as e:
        raise Unavailable("broker_unavailable", f"cannot submit to {bootstrap}: {e!r}") from e
    return producer


async def _produce(bootstrap: str, settings: Settings, links: list[dict]) -> None:
    producer = await open_producer(bootstrap, settings)
    topic = settings.topic("links")
    try:
        for link in links:
            await producer.send_and_wait(topic, contract.encode("link", link), key=link["url"].encode())
    except KafkaError as e:
        raise Unavailable("broker_unavailable", f"cannot submit to {bootstrap}: {e!r}") from e
    finally:
        await producer.stop()
