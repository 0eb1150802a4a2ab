"""The outbox on each real storage backend: what is accepted stays until settled and is sent again.

The send function is a list (what a broker would have received); the storage is real.
"""

from __future__ import annotations

import orjson
import pytest

from wirewatch.agents.runner import Emit
from wirewatch.errors import TransientError
from wirewatch.sinks.outbox import Outbox, Row, alert_row, link_row, settling


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def encode(schema: str, value: dict) -> bytes:
    return orjson.dumps(value)


class Broker:
    """Records sends; `down` makes every send fail like an unreachable broker."""

    def __init__(self) -> None:
        self.got: list[tuple[str, str | None, dict]] = []
        self.down = False

    async def send(self, schema: str, key: str | None, value: bytes) -> None:
        if self.down:
            raise TransientError("broker_unavailable", "connection refused")
        self.got.append((schema, key, orjson.loads(value)))

    def ids(self) -> list[str]:
        return [v.get("link_id") or v.get("alert_id") for _, _, v in self.got]


def link(n: int) -> dict:
    return {"link_id": f"l{n}", "url": f"https://example.org/{n}", "source": "test"}


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def test_delivered_links_are_sent_once_and_reopened_until_settled(storage, clock):
    box, broker = Outbox(storage, clock=clock), Broker()
    assert await box.deliver([link_row(link(1)), link_row(link(2))], broker.send, encode) == 2
    assert broker.got[0][:2] == ("link", "https://example.org/1")
    assert await box.relay(broker.send, encode) == 0  # sent: nothing to relay, however old
    clock.now += 3600
    assert await box.relay(broker.send, encode) == 0

    # l1 settles (its outcome is final); the volatile broker restarts empty: l2 goes out again.
    await box.accept([], settle=Row("link", "l1", None, {}))
    clock.now += 1
    assert await box.reopen(clock.now, broker.send, encode) == 1
    assert broker.ids() == ["l1", "l2", "l2"]
    assert await box.open_counts() == {"link": 1}


async def test_a_broker_outage_keeps_links_for_the_relay(storage, clock):
    box, broker = Outbox(storage, clock=clock, grace=30), Broker()
    broker.down = True
    assert await box.deliver([link_row(link(1)), link_row(link(2))], broker.send, encode) == 0
    broker.down = False
    assert await box.relay(broker.send, encode) == 0  # within the grace the first send owns them
    clock.now += 31
    assert await box.relay(broker.send, encode) == 2
    assert await box.relay(broker.send, encode) == 0  # now sent: once
    assert broker.ids() == ["l1", "l2"]


async def test_accepting_twice_keeps_the_first_row(storage, clock):
    box, broker = Outbox(storage, clock=clock), Broker()
    await box.accept([link_row(link(1))])
    await box.accept([link_row({**link(1), "url": "https://example.org/other"})])
    clock.now += 1
    await box.reopen(clock.now, broker.send, encode)
    assert broker.got == [("link", "https://example.org/1", link(1))]


async def test_settling_route_saves_its_alerts_with_the_link(storage, clock):
    box, broker = Outbox(storage, clock=clock), Broker()
    await box.accept([link_row(link(1))], sent=True)
    alert = {"alert_id": "a1", "rule": "r"}

    def make_route(rt):
        async def core(article: dict) -> list[Emit]:
            return [Emit("alert", "a1", alert)]

        return core

    def make_alert(rt):
        async def core(a: dict) -> list[Emit]:
            return []

        return core

    def make_store(rt):
        async def core(article: dict) -> list[Emit]:
            return []

        return core

    route = settling(box, make_route, "link", "route")(None)
    assert await route({"link_id": "l1"}) == [Emit("alert", "a1", alert)]
    assert await route({"link_id": "l1"}) == [Emit("alert", "a1", alert)]  # routed again: not stored yet
    assert await box.open_counts() == {"alert": 1, "link": 1}
    await settling(box, make_store, "link", "store")(None)({"link_id": "l1"})
    assert await box.open_counts() == {"alert": 1}  # stored and routed: the link settled, its alert open
    clock.now += 1
    await box.reopen(clock.now, broker.send, encode)
    assert broker.got == [("alert", "a1", alert)]
    await settling(box, make_alert, "alert")(None)(alert)
    assert await box.open_counts() == {}
    assert settling(None, make_route, "link") is make_route


async def test_prune_drops_settled_rows_after_a_day(storage, clock):
    box = Outbox(storage, clock=clock)
    await box.accept([link_row(link(1)), link_row(link(2)), alert_row({"alert_id": "a"})])
    await box.accept([], settle=Row("link", "l1", None, {}))
    clock.now += 86401
    await box.prune()
    rows = await storage.transact(lambda tx: tx.fetch("SELECT schema, id FROM outbox ORDER BY id"))
    assert [(r["schema"], r["id"]) for r in rows] == [("alert", "a"), ("link", "l2")]
