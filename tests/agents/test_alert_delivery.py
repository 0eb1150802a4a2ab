"""The alert agent and its sink (sinks/delivery.py) against real receivers on loopback and real
(SQLite) storage, with the runner's error policy around them as in a worker: retried until
delivered, exactly once per channel by idempotency key, 4xx dead-lettered with the answer, a
channel down past its deadline dead-lettered and announced through the others, and a failing
alert holding no other (issue 11)."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import orjson
import pytest
from pydantic import SecretStr

from tests.harness.events import Event, Msg
from tests.harness.pipeline import wait_until
from wirewatch import contract
from wirewatch.agents import alert as alert_agent
from wirewatch.agents import route as route_agent
from wirewatch.agents.flow import Flow
from wirewatch.agents.runner import Stage
from wirewatch.demo.receiver import AlertReceiver
from wirewatch.metrics import Metrics
from wirewatch.runtime import Runtime
from wirewatch.settings import ChannelSettings, RetrySettings, load_settings
from wirewatch.sinks.delivery import AlertSink
from wirewatch.sinks.slack import SlackChannel
from wirewatch.sinks.storage import open_storage
from wirewatch.sinks.webhook import WebhookChannel
from wirewatch.stages import throttle

EXAMPLE = orjson.loads((Path(__file__).resolve().parents[2] / "schemas" / "examples" / "alert.json").read_bytes())
FAST = ChannelSettings(delivery_deadline=30, backoff_initial=0.01, backoff_max=0.05)


def alert(n: int) -> dict:
    a = copy.deepcopy(EXAMPLE)
    a["alert_id"] = f"alert-{n:04d}-{EXAMPLE['alert_id']}"
    return a


@pytest.fixture
async def storage(tmp_path):
    s = open_storage(f"sqlite:///{tmp_path / 'ledger.db'}")
    await s.start()
    yield s
    await s.close()


@pytest.fixture
async def receivers():
    started: list[AlertReceiver] = []

    async def make(**kw) -> AlertReceiver:
        r = AlertReceiver(**kw)
        await r.start()
        started.append(r)
        return r

    yield make
    for r in started:
        await r.stop()


class AlertAgent:
    """The alert agent as a worker runs it: the runner's error policy (agents/runner.py) around the
    thin core and the sink. ``deliver`` returns the dead letters the message produced."""

    def __init__(self, sink: AlertSink) -> None:
        self.sink, self.letters = sink, []
        self.stage = Stage("alert", "alert", "t.alerts", self._send, sink.metrics, RetrySettings(attempts=1))
        self.core = alert_agent.make_core(SimpleNamespace(alerts=sink))

    async def _send(self, schema: str, key: str | None, value: bytes) -> None:
        assert schema == "deadletter"
        letter = orjson.loads(value)
        contract.validate("deadletter", letter)
        self.letters.append(letter)

    async def deliver(self, a: dict) -> list[dict]:
        before = len(self.letters)
        await self.stage.handle(contract.encode("alert", a), self.core)
        return self.letters[before:]

    @property
    def channels(self):
        return self.sink.channels


async def deliverer(storage, metrics, policy, *rs: AlertReceiver) -> AlertAgent:
    sink = AlertSink([WebhookChannel(r.url) for r in rs], storage, metrics, policy)
    await sink.start()
    return AlertAgent(sink)


def count(metrics: Metrics, outcome: str, channel: str = "webhook") -> float:
    return metrics.registry.get_sample_value("wirewatch_alerts_total", {"channel": channel, "outcome": outcome}) or 0


async def test_a_receiver_that_fails_then_recovers_gets_every_alert_once(storage, receivers):
    flaky = await receivers(fail_first=7, fail_status=503)
    steady = await receivers()
    metrics = Metrics()
    d = await deliverer(storage, metrics, FAST, flaky, steady)
    alerts = [alert(i) for i in range(5)]
    for a in alerts:
        assert await d.deliver(a) == []
    for a in alerts[:3]:  # a redelivered message (a crash before the commit) notifies nobody again
        assert await d.deliver(a) == []
    ids = [a["alert_id"] for a in alerts]
    for r in (flaky, steady):
        assert r.keys() == ids and r.duplicates() == []
        assert set(r.by_key) == set(ids)
    assert flaky.attempts == 5 + 7
    assert count(metrics, "delivered") == 10 and count(metrics, "retried") == 7 and count(metrics, "duplicate") == 6
    assert (await storage.counts())["alerts_delivered"] == 10


async def test_a_4xx_is_dead_lettered_with_the_answer_and_the_others_still_get_it(storage, receivers):
    refusing = await receivers(always_status=400, answer="unknown field 'figures'")
    steady = await receivers()
    metrics = Metrics()
    d = await deliverer(storage, metrics, FAST, refusing, steady)
    (v,) = await d.deliver(alert(1))
    assert (v["stage"], v["reason"], v["topic"], v["attempts"]) == ("alert", "receiver_rejected", "t.alerts", 1)
    assert "HTTP 400" in v["detail"] and "unknown field 'figures'" in v["detail"]
    assert v["payload"] == alert(1)
    assert refusing.attempts == 1 and steady.keys() == [alert(1)["alert_id"]]
    assert count(metrics, "rejected") == 1 and count(metrics, "dead_lettered") == 1


async def test_a_channel_down_past_its_deadline_is_dead_lettered_and_announced(storage, receivers):
    down = await receivers(always_status=503)
    steady = await receivers()
    metrics = Metrics()
    policy = ChannelSettings(delivery_deadline=0.3, backoff_initial=0.02, backoff_max=0.05)
    d = await deliverer(storage, metrics, policy, down, steady)

    (letter,) = await d.deliver(alert(1))
    assert letter["reason"] == "delivery_deadline" and letter["payload"] == alert(1)
    first_tries = down.attempts
    assert "receiver_error" in letter["detail"] and f"after {first_tries} tries" in letter["detail"] and first_tries > 1

    # The outage goes on: the next alert waits its own deadline too, it is not given up early.
    (letter2,) = await d.deliver(alert(2))
    assert letter2["reason"] == "delivery_deadline"
    assert down.attempts > first_tries + 1

    notices = [m for m in steady.received if "notice_id" in m]
    assert [n["kind"] for n in notices] == ["channel_failing"]  # once per outage
    contract.validate("notice", notices[0])
    assert notices[0]["target"] == d.channels[0].target and notices[0]["reason"] == "receiver_error"
    assert metrics.registry.get_sample_value("wirewatch_channel_failing", {"channel": "webhook"}) == 1

    down.always_status = None  # the receiver is back
    assert await d.deliver(alert(3)) == []
    assert down.keys() == [alert(3)["alert_id"]]
    notices = [m for m in steady.received if "notice_id" in m]
    assert [n["kind"] for n in notices] == ["channel_failing", "channel_recovered"]
    contract.validate("notice", notices[1])
    # The recovery names the outage it ends: the same start as the failing notice.
    assert notices[1]["failing_since"] == notices[0]["failing_since"]
    assert metrics.registry.get_sample_value("wirewatch_channel_failing", {"channel": "webhook"}) == 0
    assert [m["alert_id"] for m in steady.received if "alert_id" in m] == [alert(i)["alert_id"] for i in (1, 2, 3)]
    # A dead-lettered alert is not marked delivered: replaying it later delivers it.
    assert await d.deliver(alert(1)) == []
    assert down.keys() == [alert(3)["alert_id"], alert(1)["alert_id"]]


async def test_a_429_is_retried_within_the_backoff_ceiling(storage, receivers):
    flaky = await receivers(fail_first=1, fail_status=429)
    waits: list[float] = []

    async def sleep(s: float) -> None:
        waits.append(s)

    d = await deliverer(storage, Metrics(), FAST, flaky)
    d.sink.sleep = sleep
    await d.deliver(alert(1))
    assert len(waits) == 1 and 0 < waits[0] <= FAST.backoff_max


async def test_a_digest_goes_only_to_the_channel_its_throttle_named(storage, receivers):
    a, b = await receivers(), await receivers()
    d = await deliverer(storage, Metrics(), FAST, a, b)
    digest = {**alert(9), "kind": "digest", "channel": d.channels[1].target}
    await d.sink.add(digest)  # a hand-made digest (not the schema's): straight to the sink
    assert a.received == [] and b.keys() == [digest["alert_id"]]
    await d.sink.add({**alert(10), "kind": "digest", "channel": "*"})
    assert len(a.received) == 1 and len(b.received) == 2


async def test_slack_throttled_per_channel_gets_two_and_a_digest_while_the_webhook_gets_all(
    tmp_path, storage, receivers
):
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - {name: chatty, severity: critical, when_any: {killed: 1},\n"
        "     throttle: {channels: {slack: {max: 2, per: 1h}}}}\n"
    )
    rt = Runtime(load_settings(storage_url=f"sqlite:///{tmp_path / 'ledger.db'}", rules_file=rules)).load()
    rt.storage = storage
    hook, slack = await receivers(), await receivers()
    channels = [WebhookChannel(hook.url), SlackChannel(SecretStr(slack.url + "/T000/B000/token"))]
    for c in channels:
        await c.start()
    d = AlertAgent(AlertSink(channels, storage, rt.metrics, FAST, rules=lambda: rt.rules))

    # Five alerts of the rule in one closed hour: three new stories and two updates.
    start, _ = throttle.window_of(datetime.now(UTC) - timedelta(hours=3), timedelta(hours=1))
    alerts = []
    for i, kind in enumerate(["new", "new", "update", "new", "update"]):
        a = {
            **alert(i),
            "rule": "chatty",
            "kind": kind,
            "raised_at": (start + timedelta(minutes=5 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        contract.validate("alert", a)
        alerts.append(a)
        assert await d.deliver(a) == []
    for a in alerts[1:3] + alerts[-1:]:  # redelivered: the same answer, nobody notified twice
        assert await d.deliver(a) == []
    ids = [a["alert_id"] for a in alerts]
    assert hook.keys() == ids
    assert len(slack.received) == 2 and all(ids[i] in str(slack.received[i]) for i in (0, 1))
    # Held three times, and twice again when alerts 2 and 4 were redelivered.
    assert count(rt.metrics, "throttled", "slack") == 5 and count(rt.metrics, "throttled", "webhook") == 0
    assert count(rt.metrics, "delivered", "slack") == 2 and count(rt.metrics, "delivered", "webhook") == 5

    # The digest timer: one digest for the (chatty, slack) window, through Slack only.
    emitted: list = []

    async def emit(e):
        emitted.append(e.value)

    assert await route_agent.flush_digests(rt, emit) == 1
    (digest,) = emitted
    contract.validate("alert", digest)
    assert (digest["kind"], digest["channel"], digest["held_back"], digest["sent_in_window"]) == (
        "digest",
        "slack",
        3,
        2,
    )
    assert [i["alert_id"] for i in digest["items"]] == ids[2:]
    assert [i["kind"] for i in digest["items"]] == ["update", "new", "update"]
    assert await d.deliver(digest) == [] and await d.deliver(digest) == []  # a digest is never held, nor sent twice
    assert len(slack.received) == 3 and "3 more alerts for chatty" in slack.received[2]["text"]
    assert hook.keys() == ids
    assert await route_agent.flush_digests(rt, emit) == 0


async def test_per_channel_limits_apply_only_to_the_rules_that_set_them(tmp_path, storage, receivers):
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - {name: quiet, severity: info, when_any: {killed: 1}, throttle: {channels: {slack: {max: 1, per: 1d}}}}\n"
    )
    rt = Runtime(load_settings(storage_url=f"sqlite:///{tmp_path / 'ledger.db'}", rules_file=rules)).load()
    hook = await receivers()
    d = await deliverer(storage, Metrics(), FAST, hook)
    d.sink.rules = lambda: rt.rules
    # The webhook has no limit of its own, and a rule without one is never held.
    for a in [{**alert(1), "rule": "quiet"}, {**alert(2), "rule": "quiet"}, {**alert(3), "rule": "other"}]:
        assert await d.deliver(a) == []
    assert len(hook.received) == 3


async def test_a_failing_channel_does_not_hold_the_stream(storage, receivers):
    """Through the stage runtime (agents/flow.py): a channel that keeps failing retries each alert
    aside until its deadline, while every later alert reaches the healthy channel. Two working
    slots, ten alerts: a retry that held its slot would stop the third."""
    down = await receivers(always_status=503)
    steady = await receivers()
    d = await deliverer(
        storage, Metrics(), ChannelSettings(delivery_deadline=600, backoff_initial=0.05, backoff_max=0.2), down, steady
    )
    letters: list[str] = []

    async def send(schema: str, key: str | None, value: bytes) -> None:
        letters.append(schema)

    stage = Stage("alert", "alert", "t.alerts", send, Metrics(), RetrySettings(attempts=1))
    flow = Flow("alert", lambda raw: stage.handle(raw, d.core), window=2, limit=100)
    acked: list[int] = []
    alerts = [alert(i) for i in range(10)]
    for offset, a in enumerate(alerts):
        await flow.take(Event(contract.encode("alert", a), Msg("alerts-0", offset), acked, a["alert_id"]))

    await eventually(lambda: len({m["alert_id"] for m in steady.received}) >= len(alerts), 60)
    assert down.attempts >= len(alerts)  # every alert was tried on the failing channel and is retrying
    assert letters == [] and acked == [] and flow.working == len(alerts)  # none given up, none committed
    await flow.close()


async def run_through_flow(d: AlertAgent, alerts: list[dict], acked: list[int], window: int = 2) -> Flow:
    """The alerts taken by the stage runtime (agents/flow.py) as a worker takes them."""
    flow = Flow("alert", lambda raw: d.stage.handle(raw, d.core), window=window, limit=100)
    for offset, a in enumerate(alerts):
        await flow.take(Event(contract.encode("alert", a), Msg("alerts-0", offset), acked, a["alert_id"]))
    return flow


async def eventually(check: Callable[[], bool], timeout: float = 30.0) -> None:
    """A guard against a hang, not a speed goal (the harness's one polling loop)."""

    async def ok() -> bool:
        return check()

    await wait_until(ok, timeout, "the receivers' counts")


async def test_a_delivery_on_a_channel_wakes_every_alert_parked_on_it(storage, receivers):
    """Issue 11: while the receiver answers 503 every alert waits for its own next try, 15-30 s
    away here; when the receiver is back, the first alert delivered wakes all the parked ones, so
    they arrive at once instead of each after its own wait (the 10 s guard is below any wait)."""
    down = await receivers(always_status=503)
    metrics = Metrics()
    d = await deliverer(
        storage, metrics, ChannelSettings(delivery_deadline=600, backoff_initial=30, backoff_max=30), down
    )
    acked: list[int] = []
    alerts = [alert(i) for i in range(6)]
    flow = await run_through_flow(d, alerts[:5], acked)
    parked = lambda: metrics.registry.get_sample_value("wirewatch_alerts_parked", {"channel": "webhook"})  # noqa: E731
    await eventually(lambda: parked() == 5, 10)  # each tried once and waiting aside, none holding a slot

    down.always_status = None  # the receiver is back
    before = down.attempts
    await flow.take(Event(contract.encode("alert", alerts[5]), Msg("alerts-0", 5), acked, alerts[5]["alert_id"]))
    await eventually(lambda: len(acked) == 6, 10)
    assert sorted(down.keys()) == sorted(a["alert_id"] for a in alerts) and down.duplicates() == []
    assert down.attempts - before == 6  # after recovery, one try each: every one delivered exactly once
    assert d.letters == [] and parked() == 0
    await flow.close()


async def test_every_pending_alert_arrives_once_when_a_503_receiver_recovers(storage, receivers):
    """Issue 11 with a real receiver answering 503 then 200: N alerts through the stage runtime
    (two working slots), each retried aside on its own schedule while the receiver fails; after it
    recovers every alert arrives, once by idempotency key, nothing dead-lettered early, and the
    other channel got every alert meanwhile."""
    flaky, steady = await receivers(always_status=503), await receivers()
    d = await deliverer(
        storage, Metrics(), ChannelSettings(delivery_deadline=600, backoff_initial=0.05, backoff_max=0.4), flaky, steady
    )
    acked: list[int] = []
    alerts = [alert(i) for i in range(8)]
    flow = await run_through_flow(d, alerts, acked)
    await eventually(lambda: len(steady.received) == len(alerts))  # the healthy channel is not held
    await eventually(lambda: flaky.attempts >= 3 * len(alerts))  # every alert retrying on its own
    assert acked == []

    flaky.always_status = None
    recovered, before = time.monotonic(), flaky.attempts
    await eventually(lambda: len(acked) == len(alerts))
    print(
        f"all {len(alerts)} alerts delivered {time.monotonic() - recovered:.2f}s after recovery "
        f"(backoff_max {d.sink.policy.backoff_max}s)"
    )
    assert sorted(flaky.keys()) == sorted(a["alert_id"] for a in alerts) and flaky.duplicates() == []
    assert flaky.attempts - before == len(alerts)
    assert steady.duplicates() == [] and d.letters == []
    await flow.close()
