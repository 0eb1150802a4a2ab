"""Alert delivery end to end on a real broker, PostgreSQL and Alertmanager: the sample site's
casualty reports go in; a receiver that answers 503 to its first requests and then recovers gets
every alert exactly once (by idempotency key); a receiver that answers 400 gets each alert
dead-lettered with its answer; Alertmanager holds every alert."""

from __future__ import annotations

import uuid

import orjson
import pytest

from tests.harness.pipeline import Outcomes, read_topic, settings_of, wait_until, worker_config
from wirewatch import contract
from wirewatch.demo.receiver import AlertReceiver
from wirewatch.sources.submit import submit_links
from wirewatch.worker_process import WorkerProcess

pytestmark = pytest.mark.integration

CASUALTY_KINDS = {"casualty", "casualty_update"}


async def test_alerts_survive_a_failing_receiver_and_a_refusing_one_is_dead_lettered(
    kafka, postgres, alertmanager, site, tmp_path
):
    flaky = AlertReceiver(fail_first=6, fail_status=503)
    refusing = AlertReceiver(always_status=400, answer="this hook was removed")
    await flaky.start()
    await refusing.start()
    storage_url = postgres.create_database(f"alerts_{uuid.uuid4().hex[:8]}")
    name = f"alerts-{uuid.uuid4().hex[:6]}"
    cfg = worker_config(
        kafka.bootstrap,
        storage_url,
        tmp_path,
        name,
        [flaky.url, refusing.url],
        webhook_secret="e2e-secret",
        channels={
            "alertmanager_urls": [alertmanager.url],
            "failing_after": 120,
            "backoff_initial": 0.05,
            "backoff_max": 0.5,
        },
    )
    settings = settings_of(cfg)
    urls = [m["short_url"] for m in site.manifest() if m["kind"] in CASUALTY_KINDS]
    assert urls
    worker = WorkerProcess(cfg, tmp_path / "worker.log").start()
    try:
        async with Outcomes(storage_url) as db:
            links = await submit_links(kafka.bootstrap, settings, urls, source="test")
            await wait_until(lambda: db.settled(len(links)), 180, "every link to reach an outcome", worker)

            async def raised() -> set[str]:
                return {
                    orjson.loads(v)["alert_id"] for _k, v in await read_topic(kafka.bootstrap, settings.topic("alerts"))
                }

            async def alert_letters() -> list[dict]:
                letters = [orjson.loads(v) for _k, v in await read_topic(kafka.bootstrap, settings.topic("deadletter"))]
                return [d for d in letters if d["stage"] == "alert"]

            expected: set[str] = set()

            async def all_delivered() -> bool:
                expected.update(await raised())
                return (
                    bool(expected)
                    and set(flaky.by_key) >= expected
                    and {d["payload"]["alert_id"] for d in await alert_letters()} >= expected
                )

            await wait_until(all_delivered, 120, "every alert delivered or dead-lettered", worker)
            expected = await raised()

            # The flaky receiver: every alert, none twice, signed, despite its six 503s.
            assert set(flaky.keys()) == expected and flaky.duplicates() == []
            assert flaky.attempts == len(expected) + 6
            assert flaky.signatures_valid(b"e2e-secret")
            for message in flaky.received:
                contract.validate("alert", message)

            # The refusing receiver: one try per alert, each dead-lettered with its answer.
            letters = await alert_letters()
            assert refusing.attempts == len(expected) == len(letters)
            for letter in letters:
                contract.validate("deadletter", letter)
                assert letter["reason"] == "receiver_rejected"
                assert "HTTP 400" in letter["detail"] and "this hook was removed" in letter["detail"]
            assert {d["payload"]["alert_id"] for d in letters} == expected

            # Alertmanager holds each alert once.
            for alert_id in expected:
                assert len(alertmanager.alerts(alert_id=alert_id)) == 1
    finally:
        code = worker.stop()
        await flaky.stop()
        await refusing.stop()
    assert code == 0, f"worker did not stop cleanly ({code}):\n{worker.log_tail()}"
