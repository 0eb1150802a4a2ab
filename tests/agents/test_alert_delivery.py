"""The alert agent and its sink (sinks/delivery.py) against real receivers on loopback and real
(SQLite) storage, with the runner's error policy around them as in a worker: retried until
delivered, exactly once per channel by idempotency key, 4xx dead-lettered with the answer, a
channel down past failing_after declared failing and announced through the others while its
alerts wait parked in storage (never dead-lettered), and a failing alert holding no other
(issue 11)."""

from __future__ import annotations

import asyncio
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
from wirewatch.agents import alert as alert_agent, route as route_agent
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
# Seven 503s in a row stay short waits in memory (the ceiling is reached at the eighth try).
FAST = ChannelSettings(failing_after=30, backoff_initial=0.005, backoff_max=0.5)


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
    thin core and the sink. ``deliver`` returns the dead letters the message produced; an alert
    the sink puts back on the topic (``requeue``) is delivered again as the next message."""

    def __init__(self, sink: AlertSink) -> None:
        self.sink, self.letters = sink, []
        self.requeued: list[dict] = []
        sink.requeue = self._requeue
        self.stage = Stage("alert", "alert", "t.alerts", self._send, sink.metrics, RetrySettings(attempts=1))
        self.core = alert_agent.make_core(SimpleNamespace(alerts=sink))

    async def _send(self, schema: str, key: str | None, value: bytes) -> None:
        assert schema == "deadletter"
        letter = orjson.loads(value)
        contract.validate("deadletter", letter)
        self.letters.append(letter)

    async def _requeue(self, a: dict) -> None:
        self.requeued.append(a)
        await self.deliver(a)

    async def deliver(self, a: dict) -> list[dict]:
        before = len(self.letters)
        await self.stage.handle(contract.encode("alert", a), self.core)
        return self.letters[before:]

    @property
    def channels(self):
        return self.sink.channels


OPEN: list[AlertSink] = []


@pytest.fixture(autouse=True)
async def close_sinks(storage):  # before the storage closes
    yield
    while OPEN:
        await OPEN.pop().close()


async def deliverer(storage, metrics, policy, *rs: AlertReceiver) -> AlertAgent:
    sink = AlertSink([WebhookChannel(r.url) for r in rs], storage, metrics, policy)
    agent = AlertAgent(sink)  # sets the sink's requeue: the redelivery loop runs as in a worker
    await sink.start()
    OPEN.append(sink)
    return agent


def gauge(metrics: Metrics, name: str, channel: str = "webhook") -> float | None:
    return metrics.registry.get_sample_value(name, {"channel": channel})


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


async def test_a_channel_down_past_failing_after_is_announced_and_its_alerts_wait_parked(storage, receivers):
    """Issue 11: transient means wait. A channel down longer than failing_after is declared failing
    (gauge, readiness detail, one notice through the others) and its alerts are not dead-lettered:
    they wait parked in storage and each arrives once when it is back."""
    down = await receivers(always_status=503)
    steady = await receivers()
    metrics = Metrics()
    policy = ChannelSettings(failing_after=0.3, backoff_initial=0.02, backoff_max=0.05)
    d = await deliverer(storage, metrics, policy, down, steady)

    assert await d.deliver(alert(1)) == []  # three short waits in memory, then parked: no letter
    assert down.attempts >= 3 and count(metrics, "parked") == 1
    assert await d.sink.parked.counts() == {d.channels[0].target: 1}
    # Probes go on; the gauge is raised before the notice is sent through the other channel.
    sent = lambda: [m for m in steady.received if "notice_id" in m]  # noqa: E731
    await eventually(lambda: gauge(metrics, "wirewatch_channel_failing") == 1 and sent() != [], 10)
    notices = sent()
    assert [n["kind"] for n in notices] == ["channel_failing"]  # once per outage
    contract.validate("notice", notices[0])
    assert notices[0]["target"] == d.channels[0].target and notices[0]["reason"] == "receiver_error"
    assert notices[0]["failing_after_seconds"] == notices[0]["deadline_seconds"] == 0.3
    await eventually(lambda: [f["parked"] for f in d.sink.failing().values()] == [1], 10)  # a round's count
    (failing,) = d.sink.failing().values()  # the readiness detail
    assert failing["channel"] == "webhook" and failing["reason"] == "receiver_error" and failing["parked"] == 1

    # The outage goes on: new alerts for the failing channel wait parked too, not dead-lettered.
    before = down.attempts
    assert await d.deliver(alert(2)) == [] and await d.deliver(alert(3)) == []
    await eventually(lambda: gauge(metrics, "wirewatch_alerts_parked") == 3, 10)  # the next round's count
    tried = down.attempts
    await eventually(lambda: down.attempts > tried + 1, 10)  # the parked ones probe it, on backoff
    assert down.attempts > before and d.letters == [] and count(metrics, "dead_lettered") == 0

    down.always_status = None  # the receiver is back
    await eventually(lambda: len(down.received) == 3, 10)
    assert sorted(down.keys()) == sorted(alert(i)["alert_id"] for i in (1, 2, 3)) and down.duplicates() == []
    await eventually(lambda: len([m for m in steady.received if "notice_id" in m]) == 2, 10)
    notices = [m for m in steady.received if "notice_id" in m]
    assert [n["kind"] for n in notices] == ["channel_failing", "channel_recovered"]
    contract.validate("notice", notices[1])
    # The recovery names the outage it ends: the same start as the failing notice.
    assert notices[1]["failing_since"] == notices[0]["failing_since"]
    assert gauge(metrics, "wirewatch_channel_failing") == 0 and d.sink.failing() == {}
    await eventually(lambda: gauge(metrics, "wirewatch_alerts_parked") == 0, 10)
    assert await d.sink.parked.counts() == {}
    assert [m["alert_id"] for m in steady.received if "alert_id" in m] == [alert(i)["alert_id"] for i in (1, 2, 3)]
    assert d.letters == [] and (await storage.counts())["alerts_delivered"] == 6
    # Delivered means delivered: the same messages again notify nobody.
    for i in (1, 2, 3):
        assert await d.deliver(alert(i)) == []
    assert len(down.received) == 3 and down.duplicates() == []


async def test_parked_alerts_survive_a_restart(storage, receivers):
    """Parked alerts live in storage, not in the worker: a new sink on the same storage (a
    restarted worker) delivers what the old one parked."""
    down = await receivers(always_status=503)
    policy = ChannelSettings(failing_after=600, backoff_initial=1, backoff_max=1)  # parked after one try
    d = await deliverer(storage, Metrics(), policy, down)
    for i in range(5):
        assert await d.deliver(alert(i)) == []
    await d.sink.close()
    assert sum((await d.sink.parked.counts()).values()) == 5

    down.always_status = None
    metrics = Metrics()
    await deliverer(storage, metrics, policy, down)
    await eventually(lambda: len(down.received) == 5, 10)
    assert sorted(down.keys()) == sorted(alert(i)["alert_id"] for i in range(5)) and down.duplicates() == []
    await eventually(lambda: gauge(metrics, "wirewatch_alerts_parked") == 0, 10)


async def test_a_parked_alert_rejected_on_return_is_dead_lettered_with_the_answer(storage, receivers):
    down = await receivers(always_status=503)
    policy = ChannelSettings(failing_after=600, backoff_initial=0.05, backoff_max=0.05)
    d = await deliverer(storage, Metrics(), policy, down)
    assert await d.deliver(alert(1)) == []
    down.always_status, down.answer = 410, "this hook was removed"
    await eventually(lambda: len(d.letters) == 1, 10)
    (letter,) = d.letters
    assert letter["reason"] == "receiver_rejected" and "this hook was removed" in letter["detail"]
    assert letter["payload"] == alert(1) and d.requeued == [alert(1)]

    async def none_parked() -> bool:
        return await d.sink.parked.counts() == {}

    await wait_until(none_parked, 10, "the parked row to go")


async def test_a_408_is_transient_like_a_429_not_a_rejection(storage, receivers):
    slow = await receivers(fail_first=2, fail_status=408)
    metrics = Metrics()
    d = await deliverer(storage, metrics, FAST, slow)
    assert await d.deliver(alert(1)) == []
    assert slow.keys() == [alert(1)["alert_id"]] and slow.attempts == 3
    assert count(metrics, "retried") == 2 and count(metrics, "rejected") == 0


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
    aside, then parks it in storage, while every later alert reaches the healthy channel. Two
    working slots, ten alerts: a retry that held its slot would stop the third. Once parked, an
    alert's message is done: the window is free and its offset committed."""
    down = await receivers(always_status=503)
    steady = await receivers()
    d = await deliverer(
        storage, Metrics(), ChannelSettings(failing_after=600, backoff_initial=0.05, backoff_max=0.2), down, steady
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
    await eventually(lambda: len(acked) == len(alerts), 60)  # every one parked: nothing held, all committed
    # One alert ramped up in memory; the rest waited in storage for its news, untried.
    assert down.attempts >= 1 and down.received == []
    assert letters == [] and flow.working == 0  # none given up
    assert sum((await d.sink.parked.counts()).values()) == len(alerts)
    await flow.close()


async def test_many_parked_alerts_live_in_storage_not_in_memory(storage, receivers):
    """Memory is bounded whatever the outage's length: 600 alerts for a channel declared failing
    go through a window of two without holding it (each parked at once, in storage), the worker
    keeps no task or entry per parked alert, and when the channel is back the redelivery loop sends
    them all, a page at a time, each once."""
    down = await receivers(always_status=503)
    steady = await receivers()
    metrics = Metrics()
    d = await deliverer(
        storage, metrics, ChannelSettings(failing_after=0.05, backoff_initial=0.05, backoff_max=0.1), down, steady
    )
    assert await d.deliver(alert(0)) == []
    await eventually(lambda: d.sink.failing() != {}, 10)
    acked: list[int] = []
    alerts = [alert(i) for i in range(1, 601)]
    tasks_before = len(asyncio.all_tasks())
    flow = await run_through_flow(d, alerts, acked)
    await eventually(lambda: len(acked) == len(alerts), 60)
    # No task per parked alert: a few come and go meanwhile (the redelivery's tries of the channel
    # that is down, a receiver's connection, storage's group-commit writer), never hundreds.
    await eventually(lambda: flow.working == 0 and len(asyncio.all_tasks()) <= tasks_before + 2, 10)
    assert sum(d.sink._aside.values()) == 0  # nothing waits in memory
    await eventually(lambda: gauge(metrics, "wirewatch_alerts_parked") == 601, 10)
    assert len(steady.received) >= 601
    assert d.letters == [] and down.received == []

    down.always_status = None
    recovered = time.monotonic()
    await eventually(lambda: len(down.received) == 601, 60)
    print(f"601 parked alerts delivered {time.monotonic() - recovered:.2f}s after the receiver came back")
    assert len(set(down.keys())) == 601 and down.duplicates() == []
    await eventually(lambda: gauge(metrics, "wirewatch_alerts_parked") == 0, 10)
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
    """Issue 11: while the receiver answers 503 every alert's next try is 15-30 s away here, so each
    is parked in storage after one try; when the receiver is back, the first alert delivered wakes
    the parked ones, so they arrive at once instead of after the channel's next probe (the 10 s
    guard is below any wait)."""
    down = await receivers(always_status=503)
    metrics = Metrics()
    d = await deliverer(storage, metrics, ChannelSettings(failing_after=600, backoff_initial=30, backoff_max=30), down)
    acked: list[int] = []
    alerts = [alert(i) for i in range(6)]
    flow = await run_through_flow(d, alerts[:5], acked)
    parked = lambda: metrics.registry.get_sample_value("wirewatch_alerts_parked", {"channel": "webhook"})  # noqa: E731
    await eventually(lambda: parked() == 5 and len(acked) == 5, 10)  # each tried once, parked, done

    down.always_status = None  # the receiver is back
    before = down.attempts
    await flow.take(Event(contract.encode("alert", alerts[5]), Msg("alerts-0", 5), acked, alerts[5]["alert_id"]))
    await eventually(lambda: len(acked) == 6 and len(down.received) == 6, 10)
    assert sorted(down.keys()) == sorted(a["alert_id"] for a in alerts) and down.duplicates() == []
    assert down.attempts - before == 6  # after recovery, one try each: every one delivered exactly once
    await eventually(lambda: parked() == 0, 10)
    assert d.letters == []
    await flow.close()


async def test_the_parked_gauge_is_storages_count_never_a_row_twice(storage, receivers):
    """The gauge is the alerts aside in memory plus storage's count read at each redelivery round,
    with nothing added or taken in between: parks committing while a round reads the count (each
    park wakes a round) never show more alerts than there are, and it settles at storage's count,
    then at zero once they are delivered."""
    down = await receivers(always_status=503)
    metrics = Metrics()
    # Every value the gauge is ever set to, as it is set: a watcher polling in a busy loop
    # (asyncio.sleep(0)) held the GIL so hard that SQLite's thread, which needs it between
    # statements, crawled and the test timed out on a loaded CI machine.
    seen: list[float] = []
    child = metrics.alerts_parked.labels(channel="webhook")
    set_gauge = child.set

    def record(value: float) -> None:
        seen.append(value)
        set_gauge(value)

    child.set = record
    d = await deliverer(storage, metrics, ChannelSettings(failing_after=600, backoff_initial=30, backoff_max=30), down)
    acked: list[int] = []
    alerts = [alert(i) for i in range(40)]
    flow = await run_through_flow(d, alerts, acked, window=8)  # parks side by side, one try each
    await eventually(lambda: len(acked) == len(alerts), 30)
    await eventually(lambda: gauge(metrics, "wirewatch_alerts_parked") == len(alerts), 10)
    assert sum((await d.sink.parked.counts()).values()) == len(alerts)
    assert d.sink.failing() == {} and max(seen) == len(alerts)  # never above what is parked

    down.always_status = None
    # the channel's next probe comes up to channels.probe_max (10 s) after its last failure
    await eventually(lambda: len(down.received) >= len(alerts), 60)
    await eventually(lambda: gauge(metrics, "wirewatch_alerts_parked") == 0, 10)
    assert max(seen) == len(alerts) and min(seen) >= 0 and down.duplicates() == []
    await flow.close()


async def test_every_pending_alert_arrives_once_when_a_503_receiver_recovers(storage, receivers):
    """Issue 11 with a real receiver answering 503 then 200: N alerts through the stage runtime
    (two working slots), one retried aside, the others parked, while the receiver fails; after it recovers every alert arrives, once by idempotency key, nothing dead-lettered,
    and the other channel got every alert meanwhile."""
    flaky, steady = await receivers(always_status=503), await receivers()
    d = await deliverer(
        storage, Metrics(), ChannelSettings(failing_after=600, backoff_initial=0.05, backoff_max=0.4), flaky, steady
    )
    acked: list[int] = []
    alerts = [alert(i) for i in range(8)]
    flow = await run_through_flow(d, alerts, acked)
    await eventually(lambda: len(steady.received) == len(alerts))  # the healthy channel is not held
    await eventually(lambda: len(acked) == len(alerts))  # parked: the window is free
    await eventually(lambda: flaky.attempts >= 5)  # and the channel still probed

    flaky.always_status = None
    recovered, before = time.monotonic(), flaky.attempts
    await eventually(lambda: len(flaky.received) == len(alerts))
    print(
        f"all {len(alerts)} alerts delivered {time.monotonic() - recovered:.2f}s after recovery "
        f"(backoff_max {d.sink.policy.backoff_max}s)"
    )
    assert sorted(flaky.keys()) == sorted(a["alert_id"] for a in alerts) and flaky.duplicates() == []
    assert flaky.attempts - before == len(alerts)
    assert steady.duplicates() == [] and d.letters == []
    await flow.close()


async def test_parked_alerts_probe_a_down_channel_at_most_probe_max_apart(storage):
    """Parked alerts back off like any try, but only up to channels.probe_max: once the receiver
    answers again they go out within that long, not after the 60 s of backoff_max; a Retry-After
    the receiver sent is still honoured."""
    policy = ChannelSettings(backoff_initial=1.0, backoff_max=60.0, probe_max=2.0)
    sink = AlertSink([WebhookChannel("http://127.0.0.1:9/hook")], storage, Metrics(), policy)
    assert max(sink._probe_delay(n, None) for n in range(1, 30)) <= 2.0
    assert sink._probe_delay(20, 30.0) == 30.0
    assert sink._probe_delay(20, 600.0) == 60.0  # capped by backoff_max, as every wait
