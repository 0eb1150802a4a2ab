"""The whole pipeline on a real broker and real PostgreSQL: the sample site's links go in, articles
are stored exactly once, casualty reports raise exactly one alert each at a real HTTP receiver,
the rest is filtered or dead-lettered with its reason, and the counts reconcile."""

from __future__ import annotations

import uuid
from collections import Counter

import httpx
import orjson
import pytest

from tests.harness.pipeline import Outcomes, free_port, read_topic, settings_of, wait_until, worker_config
from tests.harness.story_checks import check_demo_alerts, demo_alerts_complete
from wirewatch import contract
from wirewatch.demo.receiver import AlertReceiver
from wirewatch.demo.site import DemoSite
from wirewatch.sources.submit import submit_links
from wirewatch.topics import TOPICS
from wirewatch.worker_process import WorkerProcess

pytestmark = pytest.mark.integration

CASUALTY_KINDS = {"casualty", "casualty_update"}


async def run_demo_through(
    bootstrap: str, storage_url: str, site: DemoSite, receiver: AlertReceiver, tmp_path, name: str
):
    """Submit every sample link, twice (the second round is a redelivery of the same links),
    and check everything the walking pipeline promises."""
    web_port = free_port()
    cfg = worker_config(bootstrap, storage_url, tmp_path, name, [receiver.url], web_port=web_port)
    settings = settings_of(cfg)
    manifest = site.manifest()
    urls = [m["short_url"] for m in manifest]
    worker = WorkerProcess(cfg, tmp_path / "worker.log").start()
    try:
        async with Outcomes(storage_url) as db:
            first = await submit_links(bootstrap, settings, urls, source="test")
            await wait_until(lambda: db.settled(len(first)), 180, "every link to reach an outcome", worker)

            outcomes = {row["link_id"]: row for row in await db.storage.outcomes()}
            by_url = {link["url"]: outcomes[link["link_id"]] for link in first}
            for item in manifest:
                row = by_url[item["short_url"]]
                kind = item["kind"]
                if kind in ("non_html",):
                    assert (row["outcome"], row["reason"]) == ("dead_lettered", "unsupported_content_type"), row
                elif kind == "dead":
                    assert (row["outcome"], row["reason"]) == ("dead_lettered", "http_status"), row
                    assert "404" in row["detail"]
                elif kind == "not_article":
                    assert row["outcome"] == "filtered" and row["reason"] in ("too_short", "not_article", "empty"), row
                else:
                    assert row["outcome"] == "stored", (item, row)

            articles = {a["canonical_url"]: a for a in await db.storage.articles()}
            stored_items = [m for m in manifest if m["kind"] in CASUALTY_KINDS | {"news"}]
            assert len(articles) == len(stored_items)
            for item in stored_items:
                article = articles[item["canonical_url"]]
                assert article["title"]
                if item["kind"] in CASUALTY_KINDS:
                    figures = article["figures"]
                    assert figures["killed"]["count"] == item["expect"]["killed"], (item["title"], figures)
                    assert figures["injured"]["count"] == item["expect"]["injured"], (item["title"], figures)

            # Places flow through to storage with their ISO codes (the Kumasi reports name Ghana).
            codes = {p["country_code"] for a in articles.values() for p in a["places"]}
            assert "GH" in codes, codes

            async def alerts_in() -> bool:
                return demo_alerts_complete(manifest, receiver.received)

            # One alert per story: the two Kumasi reports are one story (new + update, or one new).
            await wait_until(alerts_in, 60, "alerts to arrive", worker)
            check_demo_alerts(manifest, receiver.received)
            for alert, headers in zip(receiver.received, receiver.headers):
                contract.validate("alert", alert)
                assert headers["Idempotency-Key"] == alert["alert_id"]

            # Redelivery: the same links again. Nothing is stored twice, nobody is alerted twice.
            alerts_before = len(receiver.received)
            second = await submit_links(bootstrap, settings, urls, source="test")
            await wait_until(lambda: db.settled(len(first) + len(second)), 180, "the redelivered links", worker)
            counts = await db.storage.counts()
            assert counts["articles"] == len(stored_items)
            assert counts["links"] == counts["stored"] + counts["filtered"] + counts["dead_lettered"] == 2 * len(urls)
            assert len(receiver.received) == alerts_before

            metrics = httpx.get(f"http://127.0.0.1:{web_port}/metrics").text
            assert 'wirewatch_stage_messages_total{outcome="ok",stage="fetch"}' in metrics
            assert 'wirewatch_dead_letters_total{reason="http_status",stage="fetch"}' in metrics

            # Every message the run put on a topic honours its contract.
            seen = Counter()
            for schema, topic in TOPICS.items():
                for _key, value in await read_topic(bootstrap, settings.topic(topic)):
                    contract.validate(schema, orjson.loads(value))
                    seen[schema] += 1
            assert seen["link"] == 2 * len(urls) and seen["alert"] >= 1 and seen["deadletter"] >= 3
            return counts
    finally:
        code = worker.stop()
        log = worker.log_tail(400)
        assert "Traceback" not in log or "internal_error" not in log, log
        assert code == 0, f"worker did not stop cleanly ({code}):\n{worker.log_tail()}"


async def test_demo_site_end_to_end_on_kafka(kafka, postgres, site, receiver, tmp_path):
    storage_url = postgres.create_database(f"e2e_{uuid.uuid4().hex[:8]}")
    await run_demo_through(kafka.bootstrap, storage_url, site, receiver, tmp_path, "e2e-kafka")


async def test_demo_site_end_to_end_on_the_embedded_broker(tansu, postgres, site, receiver, tmp_path):
    storage_url = postgres.create_database(f"e2e_{uuid.uuid4().hex[:8]}")
    await run_demo_through(tansu.bootstrap, storage_url, site, receiver, tmp_path, "e2e-tansu")
