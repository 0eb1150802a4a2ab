"""Bad input among good links on real Kafka: messages of about 1 MB (over max_message_bytes, under
the broker's limit), malformed messages (copies of one, and distinct ones) and a link whose
`submitted_at` is not a date-time. Every valid link is processed, every bad message is
dead-lettered with its reason and gets an outcome row of its own, no letter carries a big payload
whole, and nothing is skipped (links in = outcomes).
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from tests.harness.pipeline import Outcomes, article_urls, read_topic, settings_of, wait_until, worker_config
from wirewatch.demo.site import DemoSite
from wirewatch.sources.links import make_link
from wirewatch.worker_process import WorkerProcess

pytestmark = pytest.mark.integration

GOOD = 20
BIG = 3
ALIKE = 50  # copies of one malformed message: a row each
DISTINCT = 50


async def test_big_and_malformed_messages_are_dead_lettered_each_and_valid_links_all_processed(
    kafka, postgres, tmp_path
):
    site = DemoSite()
    site.start()
    storage_url = postgres.create_database(f"badin_{uuid.uuid4().hex[:8]}")
    name = f"badin{uuid.uuid4().hex[:6]}"
    cfg = worker_config(kafka.bootstrap, storage_url, tmp_path, name, [])
    settings = settings_of(cfg)
    good = [make_link(url, "test") for url in article_urls(site, "bad", GOOD)[1]]
    big = []
    for i in range(BIG):  # a link-shaped message with a title of about 1 MB
        link = make_link(f"https://big.example.org/{i}", "test")
        link["title"] = f"{i} " + "x" * 1_000_000
        big.append(orjson.dumps(link))
    late = {**make_link("https://news.example.org/late", "test"), "submitted_at": "yesterday"}
    malformed = [b'{"url": "https://no-id.example.org/a"}'] * ALIKE + [
        orjson.dumps({"url": f"https://no-id.example.org/{i}", "note": "no link id"}) for i in range(DISTINCT)
    ]
    messages: list[tuple[bytes | None, bytes]] = []
    for i, link in enumerate(good):  # the bad ones between the good ones, in the same batches
        messages.append((link["url"].encode(), orjson.dumps(link)))
        if i < BIG:
            messages.append((None, big[i]))
        messages.extend((None, m) for m in malformed[i * 5 : (i + 1) * 5])
    messages.append((None, orjson.dumps(late)))

    worker = WorkerProcess(cfg, tmp_path / "worker.log").start()
    try:
        producer = AIOKafkaProducer(
            bootstrap_servers=kafka.bootstrap, max_request_size=1_100_000, acks="all", linger_ms=20
        )
        await producer.start()
        try:
            for key, value in messages:
                await producer.send(settings.topic("links"), value, key=key)
            await producer.flush()
        finally:
            await producer.stop()
        total = GOOD + BIG + ALIKE + DISTINCT + 1

        async with Outcomes(storage_url) as db:
            await wait_until(lambda: db.settled(total), 240, f"{total} outcomes", worker)
            rows = await db.storage.outcomes()
            assert len(rows) == total, Counter((r["outcome"], r["reason"]) for r in rows)
            by_id = {r["link_id"]: r for r in rows}
            assert all(by_id[lk["link_id"]]["outcome"] == "stored" for lk in good)
            assert (
                by_id[late["link_id"]]["reason"] == "invalid_message"
                and "submitted_at" in by_id[late["link_id"]]["detail"]
            )
            reasons = Counter(r["reason"] for r in rows if r["outcome"] == "dead_lettered")
            assert reasons == {"message_too_large": BIG, "invalid_message": ALIKE + DISTINCT + 1}, reasons

        letters = [orjson.loads(v) for _, v in await read_topic(kafka.bootstrap, settings.topic("deadletter"))]
        assert max(len(orjson.dumps(lk)) for lk in letters) < 10_000
        too_large = [lk for lk in letters if lk["reason"] == "message_too_large"]
        assert sorted(lk["payload_sha256"] for lk in too_large) == sorted(hashlib.sha256(b).hexdigest() for b in big)
        assert all(isinstance(lk["payload"], str) and lk["payload_bytes"] > 1_000_000 for lk in too_large)
        assert {lk["stage"] for lk in letters} == {"fetch"} and worker.alive()
    finally:
        worker.stop()
        site.stop()
