"""How soon alerts held by a failing receiver arrive once it is back (issue 11).

A real webhook receiver on loopback answers 503 for ``--recovery-outage`` seconds, then 200; a
second receiver answers 200 throughout. ``--recovery-alerts`` alerts are raised at the start and
taken by the stage runtime as a worker takes them (agents/flow.py window, the runner's error
policy, real SQLite ledger). The delivery policy is the default one scaled down tenfold (backoff
0.1 s doubling to 6 s, failing after 90 s), so the run takes seconds, not minutes. Since issue 11
an alert whose next wait reaches the ceiling is parked in storage and sent by the sink's
redelivery loop, so a longer ``--recovery-outage`` measures that path too.

Printed: when the healthy receiver had every alert, when the failing one had every alert after it
recovered (``after_recovery_s``), and ``ratio`` = after_recovery_s / backoff_max: at most 1 means
every pending alert arrived within one backoff step of the recovery, the baseline being that one
step measured in the same run. Runs against the tree on PYTHONPATH, so the same file measures an
older checkout (before: its alert agent's own Deliverer).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import shutil
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import orjson

from wirewatch import contract
from wirewatch.agents.flow import Flow
from wirewatch.agents.runner import Stage
from wirewatch.demo.receiver import AlertReceiver
from wirewatch.metrics import Metrics
from wirewatch.settings import ChannelSettings, RetrySettings
from wirewatch.sinks.storage import open_storage
from wirewatch.sinks.webhook import WebhookChannel

EXAMPLE = Path(__file__).resolve().parents[1] / "schemas" / "examples" / "alert.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("alert recovery")
    group.add_argument("--recovery-alerts", type=int, default=4, help="alerts raised while the receiver fails")
    group.add_argument("--recovery-outage", type=float, default=6.0, help="seconds the receiver answers 503")


def run(args: argparse.Namespace) -> dict:
    return asyncio.run(_run(getattr(args, "recovery_alerts", 4), getattr(args, "recovery_outage", 6.0)))


def _core(channels: list, storage, metrics: Metrics, policy: ChannelSettings):
    try:
        from wirewatch.agents import alert as alert_agent
        from wirewatch.sinks.delivery import AlertSink
    except ImportError:  # an older tree: the alert agent delivered itself
        from wirewatch.agents.alert import Deliverer

        return "agent Deliverer", Deliverer(channels, storage, metrics, policy, topic="bench.alerts").deliver, None
    sink = AlertSink(channels, storage, metrics, policy)
    core = alert_agent.make_core(SimpleNamespace(alerts=sink))
    sink.requeue = core  # as a worker's send_alert would: the alert agent takes it again
    return "AlertSink", core, sink


async def _run(n: int, outage: float) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="wirewatch-bench-recovery-"))
    storage = open_storage(f"sqlite:///{tmp / 'ledger.db'}")
    await storage.start()
    failing, steady = AlertReceiver(always_status=503), AlertReceiver()
    for r in (failing, steady):
        await r.start()
    channels = [WebhookChannel(failing.url), WebhookChannel(steady.url)]
    # failing_after since issue 11; delivery_deadline in an older tree
    failing_after = "failing_after" if "failing_after" in ChannelSettings.model_fields else "delivery_deadline"
    policy = ChannelSettings(**{failing_after: 90}, backoff_initial=0.1, backoff_max=6.0)
    metrics = Metrics()
    engine, core, sink = _core(channels, storage, metrics, policy)
    if sink is not None:
        await sink.start()  # opens the channels and the redelivery loop of parked alerts
    else:
        for c in channels:
            await c.start()
    letters: list[dict] = []

    async def send(schema: str, key: str | None, value: bytes) -> None:
        letters.append(orjson.loads(value))

    stage = Stage("alert", "alert", "bench.alerts", send, metrics, RetrySettings(attempts=1))
    flow = Flow("alert", lambda raw: stage.handle(raw, core), window=4, limit=1000)
    example = orjson.loads(EXAMPLE.read_bytes())
    acked: list[int] = []
    try:
        from tests.harness.events import Event, Msg

        async def take_all() -> None:  # a task of its own: a full window blocks it, not the clock below
            for i in range(n):
                a = copy.deepcopy(example)
                a["alert_id"] = f"bench-{i:04d}-{example['alert_id']}"
                await flow.take(Event(contract.encode("alert", a), Msg("alerts-0", i), acked, a["alert_id"]))

        start = time.monotonic()
        taking = asyncio.create_task(take_all())
        steady_done = recovered = failing_done = None
        while failing_done is None and time.monotonic() - start < outage + 120:
            now = time.monotonic() - start
            if steady_done is None and len(set(steady.keys())) >= n:
                steady_done = now
            if recovered is None and now >= outage:
                failing.always_status, recovered = None, now
            if recovered is not None and len(set(failing.keys())) >= n:
                failing_done = now
            await asyncio.sleep(0.01)
        taking.cancel()
        after = None if failing_done is None or recovered is None else failing_done - recovered
        result = {
            "engine": engine,
            "alerts": n,
            "outage_s": outage,
            "backoff_max_s": policy.backoff_max,
            "healthy_channel_all_s": None if steady_done is None else round(steady_done, 2),
            "after_recovery_s": None if after is None else round(after, 2),
            "ratio": None if after is None else round(after / policy.backoff_max, 2),
            "duplicates": len(failing.duplicates()) + len(steady.duplicates()),
            "dead_lettered": len(letters),
            "tries_on_failing": failing.attempts,
        }
        print(
            f"  {engine}: healthy channel had all {n} alerts at {result['healthy_channel_all_s']}s; "
            f"the failing one had them {result['after_recovery_s']}s after it recovered at {outage:g}s "
            f"(one backoff step: {policy.backoff_max:g}s)"
        )
        return result
    finally:
        await flow.close()
        if sink is not None:
            await sink.close()
        for c in channels:
            await c.close()
        for r in (failing, steady):
            await r.stop()
        await storage.close()
        shutil.rmtree(tmp, ignore_errors=True)
