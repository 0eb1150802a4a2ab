"""The readiness monitor: what /health/ready says, the gauges, and one log line per outage."""

from __future__ import annotations

import asyncio
import logging

from tests.harness.loopback import FakeTime
from wirewatch.metrics import Metrics
from wirewatch.ops.health import Health


def gauge(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels or None)


async def test_ready_only_when_every_check_passes_and_the_gauges_follow():
    problems: dict[str, str | None] = {"broker": None, "storage": "connection refused"}

    def check(name):
        async def fn():
            return problems[name]

        return fn

    m = Metrics()
    health = Health({n: check(n) for n in problems}, m)
    assert health.report()[0] == 503 and gauge(m, "wirewatch_ready") == 0  # not probed yet
    assert not await health.probe()
    status, body = health.report()
    assert status == 503 and body["down"] == ["storage"]
    assert body["checks"]["storage"] == {"ok": False, "detail": "connection refused"}
    assert gauge(m, "wirewatch_dependency_up", dependency="broker") == 1
    assert gauge(m, "wirewatch_dependency_up", dependency="storage") == 0
    problems["storage"] = None
    assert await health.probe()
    assert health.report() == (
        200,
        {"status": "ready", "down": [], "checks": {"broker": {"ok": True}, "storage": {"ok": True}}},
    )
    assert gauge(m, "wirewatch_ready") == 1


async def test_a_hanging_or_raising_check_is_down_not_stuck():
    async def hangs():
        await asyncio.sleep(60)

    async def raises():
        raise ConnectionError("refused")

    health = Health({"a": hangs, "b": raises}, Metrics(), timeout=0.05)
    await asyncio.wait_for(health.probe(), 1)
    _, body = health.report()
    assert "no answer within 0.05 s" in body["checks"]["a"]["detail"]
    assert body["checks"]["b"]["detail"] == "ConnectionError: refused"


async def test_an_outage_is_logged_once_with_a_count_not_per_probe(caplog):
    t = FakeTime()
    state = {"up": True}

    async def broker():
        return None if state["up"] else "KafkaConnectionError: refused"

    calls = []
    health = Health({"broker": broker}, Metrics(), clock=t.clock, remind_every=60)
    health.on_first_ready(lambda: calls.append("running"))
    caplog.set_level(logging.INFO, logger="wirewatch.health")
    await health.probe()
    state["up"] = False
    for _ in range(40):  # 40 probes, 2 s apart: 80 s down
        t.now += 2
        await health.probe()
    state["up"] = True
    t.now += 2
    await health.probe()
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "broker is down: KafkaConnectionError: refused",
        "broker still down after 60 s (31 failed checks): KafkaConnectionError: refused",
        "broker is back after 80 s down (40 failed checks)",
    ]
    assert calls == ["running"]  # the banner once, at the first ready probe
