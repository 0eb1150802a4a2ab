"""A rolling upgrade seen from outside: a later version's messages on the real topics of a running
worker. A peer's client (a plain aiokafka producer, no wirewatch code) puts on the links topic a
link, and on the enriched topic an enriched article, each carrying fields this version does not
know at several levels; the worker stores and alerts both and dead-letters neither. An enriched
article whose known field has the wrong type (beside the same unknown fields) is dead-lettered as
`invalid_message`, its detail naming the field. Real Kafka, PostgreSQL, origin and receiver."""

from __future__ import annotations

import copy
import uuid

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from tests.harness.pipeline import Outcomes, read_topic, settings_of, wait_until, worker_config
from wirewatch import contract
from wirewatch.demo.receiver import AlertReceiver
from wirewatch.demo.site import DemoSite
from wirewatch.worker_process import WorkerProcess

pytestmark = pytest.mark.integration

EXAMPLE = contract.schemas_dir() / "examples" / "enriched.json"


def later_link(url: str) -> dict:
    """A link as a later version's intake would write it: two fields this version never heard of."""
    return {
        "link_id": uuid.uuid4().hex,
        "url": url,
        "source": "peer",
        "submitted_at": "2026-12-06T10:00:00Z",
        "priority": 2,
        "trace": {"id": "4bf92f3577b34da6", "hops": ["intake", "dedupe"]},
    }


def later_enriched(tag: str) -> dict:
    """An enriched article as a later version's fetch agent would write it: unknown fields at the
    top, in a redirect, a casualty, the figures and a figure, a place and the story features."""
    article = orjson.loads(EXAMPLE.read_bytes())
    canonical = f"https://peer.example.org/world/2026/12/06/{tag}-ferry-capsized.html"
    article.update(
        link_id=uuid.uuid4().hex,
        url=canonical,
        final_url=canonical,
        canonical_url=canonical,
        title=f"Ferry capsizes off the {tag} coast, nine dead and 23 hurt",
        fetched_at="2026-12-06T10:00:01Z",
        published="2026-12-06",
        sentiment={"score": -0.8, "model": "v9"},
        places=[{"name": "Valparaiso", "country_code": "CL", "kind": "city", "start": 0, "end": 10}],
    )
    article["redirects"][0]["elapsed_ms"] = 41
    article["casualties"][0]["confidence"] = 0.93
    article["figures"]["displaced"] = {"count": 400, "min": 400, "max": None}
    article["figures"]["killed"]["sources"] = 3
    article["places"][0]["geonames_id"] = 3868626
    article["story"]["embedding"] = [0.1, -0.2, 0.3]
    article["story"]["v"] = "a-later-version"  # route reads the text again, as for any other version
    return article


async def test_a_later_versions_link_and_enriched_article_are_stored_and_alerted(
    kafka, postgres, site: DemoSite, receiver: AlertReceiver, tmp_path
):
    storage_url = postgres.create_database(f"upgrade_{uuid.uuid4().hex[:8]}")
    name = f"upg{uuid.uuid4().hex[:6]}"
    cfg = worker_config(kafka.bootstrap, storage_url, tmp_path, name, [receiver.url])
    settings = settings_of(cfg)
    report = next(m for m in site.manifest() if m["kind"] == "casualty")
    link = later_link(report["short_url"])
    enriched = later_enriched(name)
    broken = copy.deepcopy(later_enriched(f"{name}-broken"))
    broken["figures"]["killed"]["count"] = "nine"

    worker = WorkerProcess(cfg, tmp_path / "worker.log").start()
    try:
        producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
        await producer.start()
        try:  # the documented keys (schemas/README.md): the URL, the canonical URL
            await producer.send_and_wait(settings.topic("links"), orjson.dumps(link), key=link["url"].encode())
            for article in (enriched, broken):
                await producer.send_and_wait(
                    settings.topic("enriched"), orjson.dumps(article), key=article["canonical_url"].encode()
                )
        finally:
            await producer.stop()

        async with Outcomes(storage_url) as db:

            async def settled() -> bool:
                rows = {r["link_id"]: r for r in await db.storage.outcomes()}
                alerted = {a.get("canonical_url") for a in receiver.received}
                return {link["link_id"], enriched["link_id"], broken["link_id"]} <= set(rows) and {
                    report["canonical_url"],
                    enriched["canonical_url"],
                } <= alerted

            await wait_until(settled, 180, "both messages stored and alerted, the broken one dead-lettered", worker)
            rows = {r["link_id"]: r for r in await db.storage.outcomes()}
            assert rows[link["link_id"]]["outcome"] == "stored", rows[link["link_id"]]
            assert rows[enriched["link_id"]]["outcome"] == "stored", rows[enriched["link_id"]]
            bad = rows[broken["link_id"]]
            assert (bad["outcome"], bad["reason"]) == ("dead_lettered", "invalid_message"), bad
            assert "figures/killed/count" in bad["detail"], bad

            stored = {a["canonical_url"]: a for a in await db.storage.articles()}
            peer = stored[enriched["canonical_url"]]
            assert peer["figures"]["killed"]["count"] == 9 and "displaced" not in peer["figures"]
            assert "sentiment" not in peer and report["canonical_url"] in stored

        # What this version sent on is its own: every alert matches its schema exactly.
        for alert in receiver.received:
            contract.validate("alert", alert)
        letters = [orjson.loads(v) for _, v in await read_topic(kafka.bootstrap, settings.topic("deadletter"))]
        # The broken one only, once by each stage that reads the enriched topic; nothing else.
        assert sorted((x["link_id"], x["stage"], x["reason"]) for x in letters) == [
            (broken["link_id"], stage, "invalid_message") for stage in ("route", "store")
        ], letters
        assert all("figures/killed/count" in x["detail"] for x in letters), letters
    finally:
        code = worker.stop()
    assert code == 0, worker.log_tail()
