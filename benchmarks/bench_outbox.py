"""What the intake outbox costs: links/s handed to the broker with and without it, same run.

A real broker on loopback (tansu, or Apache Kafka with --outbox-broker kafka) and a real storage
(SQLite under a temp dir, the embedded default, or --outbox-storage postgresql://...). The
baseline is what intake did before the outbox: one acknowledged send per link. With the outbox
each batch is first committed to storage (one transaction), then sent, then marked sent (one
transaction), as `POST /links` does (sinks/outbox.py). Batches of 1 (the feed poller, one link at a
time) and of 20 (a POST with 20 URLs). `ratio` is outbox throughput / baseline throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaProducer

from wirewatch import contract
from wirewatch.broker import KafkaBroker, TansuBroker, ensure_kafka_jars
from wirewatch.sinks.outbox import Outbox, link_row
from wirewatch.sinks.storage import open_storage
from wirewatch.sources.links import make_link


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("outbox")
    group.add_argument("--outbox-links", type=int, default=400, help="links per measurement")
    group.add_argument("--outbox-broker", choices=["tansu", "kafka"], default="tansu")
    group.add_argument("--outbox-storage", default="", help="storage URL (default: SQLite in a temp dir)")


def run(args: argparse.Namespace) -> dict:
    return asyncio.run(
        _run(
            getattr(args, "outbox_links", 400),
            getattr(args, "outbox_broker", "tansu"),
            getattr(args, "outbox_storage", ""),
        )
    )


async def _run(n: int, broker_kind: str, storage_url: str) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="wirewatch-bench-outbox-"))
    broker = (
        TansuBroker(tmp / "tansu")
        if broker_kind == "tansu"
        else KafkaBroker(tmp / "kafka", jars_dir=ensure_kafka_jars())
    )
    broker.start()
    storage = open_storage(storage_url or f"sqlite:///{tmp / 'wirewatch.db'}")
    await storage.start()
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    await producer.start()
    topic = f"bench.links.{uuid.uuid4().hex[:6]}"
    try:

        async def send(schema: str, key: str | None, value: bytes) -> None:
            await producer.send_and_wait(topic, value, key=key.encode() if key else None)

        box = Outbox(storage)
        await box.accept([])  # creates the table outside the measurement
        await send("link", "warm", b"{}")
        result: dict = {"broker": broker_kind, "storage": storage.backend, "links": n}
        for batch in (1, 20):
            links = [make_link(f"https://example.org/{i}", "bench") for i in range(n)]
            t = time.perf_counter()
            for i in range(0, n, batch):
                await asyncio.gather(
                    *(send("link", link["url"], contract.encode("link", link)) for link in links[i : i + batch])
                )
            plain = n / (time.perf_counter() - t)
            links = [make_link(f"https://example.org/{i}", "bench") for i in range(n)]
            t = time.perf_counter()
            for i in range(0, n, batch):
                await box.deliver([link_row(link) for link in links[i : i + batch]], send, contract.encode)
            boxed = n / (time.perf_counter() - t)
            result[f"batch{batch}_plain_links_per_s"] = round(plain, 1)
            result[f"batch{batch}_outbox_links_per_s"] = round(boxed, 1)
            result[f"batch{batch}_ratio"] = round(boxed / plain, 2)
            print(
                f"  batches of {batch:2d}: {plain:7.0f} links/s plain, {boxed:7.0f} links/s through the outbox "
                f"({boxed / plain:.2f}x) on {broker_kind} + {storage.backend}"
            )
        return result
    finally:
        await producer.stop()
        await storage.close()
        broker.stop()
        shutil.rmtree(tmp, ignore_errors=True)
