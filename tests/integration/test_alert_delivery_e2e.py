"""Alert delivery end to end on a real broker, PostgreSQL and Alertmanager: the sample site's
casualty reports go in; a receiver that answers 503 to its first requests and then recovers gets
every alert exactly once (by idempotency key); a receiver that answers 400 gets each alert
dead-lettered with its answer; Alertmanager holds every alert. A receiver down for longer than
channels.failing_after is declared failing and, once back, gets every alert once: none is
dead-lettered (issue 11)."""

from __future__ import annotations

import re
import uuid

import httpx
import orjson
import pytest

from tests.harness.pipeline import Outcomes, free_port, read_topic, settings_of, wait_until, worker_config
from wirewatch import contract
from wirewatch.demo.receiver import AlertReceiver
from wirewatch.sources.submit import submit_links
from wirewatch.worker_process import WorkerProcess

pytestmark = pytest.mark.integration

CASUALTY_KINDS = {"casualty", "casualty_update"}


async def raised_alerts(bootstrap: str, settings) -> set[str]:
    return {orjson.loads(v)["alert_id"] for _k, v in await read_topic(bootstrap, settings.topic("alerts"))}


async def alert_dead_letters(bootstrap: str, settings) -> list[dict]:
    letters = [orjson.loads(v) for _k, v in await read_topic(bootstrap, settings.topic("deadletter"))]
    return [d for d in letters if d["stage"] == "alert"]


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
                return await raised_alerts(kafka.bootstrap, settings)

            async def alert_letters() -> list[dict]:
                return await alert_dead_letters(kafka.bootstrap, settings)

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


async def test_a_receiver_down_past_failing_after_gets_every_alert_once_when_back_and_none_is_dead_lettered(
    kafka, postgres, site, tmp_path
):
    """Issue 11, transient means wait: a receiver down for longer than channels.failing_after (3 s
    here) is declared failing (the gauge, /health/ready's detail, a notice through the other
    receiver) while its alerts wait parked; back, it gets every alert once by idempotency key,
    the gauge clears and nothing was dead-lettered."""
    down, steady = AlertReceiver(always_status=503), AlertReceiver()
    await down.start()
    await steady.start()
    storage_url = postgres.create_database(f"alerts_{uuid.uuid4().hex[:8]}")
    name = f"alertwait-{uuid.uuid4().hex[:6]}"
    port = free_port()
    cfg = worker_config(
        kafka.bootstrap,
        storage_url,
        tmp_path,
        name,
        [down.url, steady.url],
        web_port=port,
        channels={"failing_after": 3, "backoff_initial": 0.05, "backoff_max": 0.5},
    )
    settings = settings_of(cfg)
    urls = [m["short_url"] for m in site.manifest() if m["kind"] in CASUALTY_KINDS]
    worker = WorkerProcess(cfg, tmp_path / "worker.log").start()
    base = f"http://127.0.0.1:{port}"
    try:
        async with Outcomes(storage_url) as db, httpx.AsyncClient(timeout=5) as http:

            async def failing_gauge() -> float | None:
                try:
                    text = (await http.get(f"{base}/metrics")).text
                except httpx.HTTPError:
                    return None
                found = re.search(r'^wirewatch_channel_failing\{channel="webhook"\} (\S+)$', text, re.M)
                return float(found.group(1)) if found else None

            async def raised() -> set[str]:
                return await raised_alerts(kafka.bootstrap, settings)

            async def alert_letters() -> list[dict]:
                return await alert_dead_letters(kafka.bootstrap, settings)

            links = await submit_links(kafka.bootstrap, settings, urls, source="test")
            await wait_until(lambda: db.settled(len(links)), 180, "every link to reach an outcome", worker)
            # The route raises a link's alert after its outcome is stored: the last alert may come
            # after `settled`, so what was raised is read again while waiting (as in the test above).
            expected: set[str] = set()

            async def healthy_has_all() -> bool:
                expected.update(await raised())
                return bool(expected) and set(steady.by_key) >= expected

            await wait_until(healthy_has_all, 60, "the healthy receiver to get every alert", worker)

            async def declared_failing() -> bool:
                return await failing_gauge() == 1.0

            await wait_until(declared_failing, 60, "the down receiver declared failing", worker)
            ready = (await http.get(f"{base}/health/ready")).json()
            (detail,) = ready["alert_channels_failing"].values()
            assert detail["channel"] == "webhook" and detail["reason"] == "receiver_error"
            assert [m["kind"] for m in steady.received if "notice_id" in m] == ["channel_failing"]
            assert down.received == [] and await alert_letters() == []

            down.always_status = None  # back, well after failing_after

            async def all_delivered() -> bool:
                return set(down.by_key) >= expected and await failing_gauge() == 0.0

            await wait_until(all_delivered, 60, "every parked alert delivered and the gauge cleared", worker)
            expected = await raised()
            assert set(down.keys()) == expected and down.duplicates() == []
            assert steady.duplicates() == [] and await alert_letters() == []
            assert [m["kind"] for m in steady.received if "notice_id" in m] == ["channel_failing", "channel_recovered"]
    finally:
        code = worker.stop()
        await down.stop()
        await steady.stop()
    assert code == 0, f"worker did not stop cleanly ({code}):\n{worker.log_tail()}"
