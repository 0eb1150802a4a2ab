"""Parked deliveries: (alert, channel target) pairs waiting in storage for a channel that is down.

Why storage and not memory: a channel can be down for hours, and an alert that waits in the stage
runtime holds a place in its bounded window (agents/flow.py) until the window is full of waiting
alerts and the stage stops taking, which would hold every other channel's alerts too. An alert
whose next try is a long wait (its backoff reached ``channels.backoff_max``) or whose channel is
declared failing (``channels.failing_after``) is parked here instead, and its message completes:
the offset is committed, the outbox row settled, and the alert sink's redelivery loop
(sinks/delivery.py) sends it when the channel answers again. Memory holds one page of rows at a
time, whatever the number parked; a restart finds them where they were.

    park(alert, target)         keep it (parking twice is harmless: the pair is the key)
    take(target, limit, lease)  up to `limit` rows of a target, oldest first, leased for `lease`
                                seconds so two workers never send the same row side by side
    release(rows)               back to waiting (a try failed again)
    done(alert_id, target)      delivered (or handed back to the alert topic): forget it
    counts()                    rows per target, for the gauge and to know which channels to probe

The table is this module's own (``alert_parked``), created on first use (sinks/own_tables.py); times are epoch seconds, so one statement serves
PostgreSQL and SQLite. A crash between a send and ``done`` sends again once the lease ends; the
delivery ledger (``claim_alert``) skips pairs already delivered, and receivers dedupe by the
idempotency key.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from .own_tables import OwnTables

__all__ = ["Parked", "ParkedRow"]

_DDL = (
    """CREATE TABLE IF NOT EXISTS alert_parked (
    alert_id    TEXT NOT NULL,
    target      TEXT NOT NULL,
    alert       TEXT NOT NULL,
    parked_at   DOUBLE PRECISION NOT NULL,
    lease_until DOUBLE PRECISION NOT NULL DEFAULT 0,
    PRIMARY KEY (alert_id, target)
)""",
    "CREATE INDEX IF NOT EXISTS alert_parked_target_idx ON alert_parked (target, parked_at)",
)
_PARK = """INSERT INTO alert_parked (alert_id, target, alert, parked_at, lease_until) VALUES ($1, $2, $3, $4, 0)
ON CONFLICT (alert_id, target) DO UPDATE SET lease_until = 0"""
# The outer lease test is checked again by PostgreSQL on a row another worker just leased
# (READ COMMITTED re-evaluates an UPDATE's WHERE on the newest row version), so a row goes to one.
_TAKE = """UPDATE alert_parked SET lease_until = $3
WHERE target = $1 AND lease_until < $2 AND alert_id IN (
    SELECT alert_id FROM alert_parked WHERE target = $1 AND lease_until < $2 ORDER BY parked_at LIMIT $4)
RETURNING alert_id, alert, parked_at"""
_RELEASE = "UPDATE alert_parked SET lease_until = 0 WHERE alert_id = $1 AND target = $2"
_DONE = "DELETE FROM alert_parked WHERE alert_id = $1 AND target = $2"
_COUNTS = "SELECT target, COUNT(*) AS n FROM alert_parked GROUP BY target"


@dataclass(frozen=True, slots=True)
class ParkedRow:
    alert_id: str
    target: str
    alert: dict[str, Any]
    parked_at: float


class Parked:
    """The parked deliveries of one storage (anything with ``transact(body)``: the Storage)."""

    def __init__(self, storage: Any, *, clock: Callable[[], float] = time.time) -> None:
        self._tables = OwnTables(storage, _DDL)
        self.clock = clock

    async def park(self, alert: dict[str, Any], target: str) -> None:
        values = [alert["alert_id"], target, orjson.dumps(alert).decode(), self.clock()]
        await self._tables.batched(lambda tx: tx.execute(_PARK, *values))

    async def take(self, target: str, limit: int, lease: float) -> list[ParkedRow]:
        now = self.clock()
        rows = await self._tables.transact(lambda tx: tx.fetch(_TAKE, target, now, now + lease, limit))
        taken = [ParkedRow(r["alert_id"], target, orjson.loads(r["alert"]), float(r["parked_at"])) for r in rows]
        return sorted(taken, key=lambda r: r.parked_at)

    async def release(self, rows: list[ParkedRow]) -> None:
        async def release(tx: Any) -> None:
            for r in rows:
                await tx.execute(_RELEASE, r.alert_id, r.target)

        await self._tables.transact(release)

    async def done(self, alert_id: str, target: str) -> None:
        await self._tables.batched(lambda tx: tx.execute(_DONE, alert_id, target))

    async def counts(self) -> dict[str, int]:
        rows = await self._tables.transact(lambda tx: tx.fetch(_COUNTS), read_only=True)
        return {r["target"]: int(r["n"]) for r in rows}
