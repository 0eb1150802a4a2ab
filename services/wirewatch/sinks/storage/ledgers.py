"""Alert ledgers: which (alert, channel target) pairs are delivered (``alert_deliveries``: claim, then
mark delivered; a crash between re-sends, never skips), and the throttle windows per (rule,
channel) with the alerts sent and held for the digest (``alert_windows``, stages/throttle.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from wirewatch.sinks.storage.common import StorageBase, _dumps, _Tx, _utcnow

# Returns a row unless the pair was already delivered (the conditional update then does nothing).
CLAIM_ALERT = """
INSERT INTO alert_deliveries (alert_id, target, alert, status, attempts, created_at, updated_at)
VALUES ($1, $2, $3, 'pending', 1, $4, $4)
ON CONFLICT (alert_id, target) DO UPDATE SET
    alert = excluded.alert, attempts = alert_deliveries.attempts + 1, updated_at = excluded.updated_at
WHERE alert_deliveries.status <> 'delivered'
RETURNING attempts
"""

MARK_DELIVERED = """
INSERT INTO alert_deliveries (alert_id, target, alert, status, attempts, created_at, updated_at, delivered_at)
VALUES ($1, $2, NULL, 'delivered', 1, $3, $3, $3)
ON CONFLICT (alert_id, target) DO UPDATE SET
    status = 'delivered', updated_at = excluded.updated_at,
    delivered_at = COALESCE(alert_deliveries.delivered_at, excluded.delivered_at)
"""

# Alerts every channel has: no pending row left (`wirewatch deadletter` leaves their letters out).
SELECT_DELIVERED_ALERTS = """
SELECT alert_id FROM alert_deliveries GROUP BY alert_id
HAVING min(CASE WHEN status = 'delivered' THEN 1 ELSE 0 END) = 1
"""
SELECT_DELIVERED_AMONG = """
SELECT alert_id FROM alert_deliveries WHERE alert_id IN (SELECT value FROM {keys}) GROUP BY alert_id
HAVING min(CASE WHEN status = 'delivered' THEN 1 ELSE 0 END) = 1
"""

SELECT_WINDOW = "SELECT sent, held FROM alert_windows WHERE rule = $1 AND channel = $2 AND window_start = $3"
UPSERT_WINDOW = """
INSERT INTO alert_windows (rule, channel, window_start, window_end, severity, sent, held) VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (rule, channel, window_start) DO UPDATE SET sent = excluded.sent, held = excluded.held,
    severity = excluded.severity
"""
SELECT_DUE_WINDOWS = """
SELECT rule, channel, window_start, window_end, severity, sent, held FROM alert_windows
WHERE window_end <= $1 AND flushed_at IS NULL AND held <> $2 ORDER BY window_end, rule, channel
"""
MARK_WINDOW_FLUSHED = "UPDATE alert_windows SET flushed_at = $4 WHERE rule = $1 AND channel = $2 AND window_start = $3"

# The longest a delivery's mark waits for a transaction to ride with (``mark_delivered``).
MARK_WITHIN = 0.05


class LedgerStore(StorageBase):
    """claim_alert, mark_delivered, delivered_alerts, delivered_among, throttle_admit, due_digests, mark_digest_sent."""

    async def claim_alert(self, alert_id: str, target: str, alert: dict[str, Any]) -> bool:
        """True if (alert_id, target) is not delivered yet, so the caller should send it.

        Records a pending row (or bumps its attempts). Send, then ``mark_delivered``; a crash in
        between re-sends on redelivery (at least once), never skips.
        """
        values = [alert_id, target, _dumps(alert), self._ts(_utcnow())]
        return await self.batched(lambda tx: tx.fetchrow(CLAIM_ALERT, *values)) is not None

    async def mark_delivered(self, alert_id: str, target: str) -> None:
        """Record (alert_id, target) delivered; returns once committed. The receiver has the alert
        already, so the mark is in no hurry: it starts no transaction of its own but rides with the
        next one (another link's article, claim or story), at the latest ``MARK_WITHIN`` seconds
        later. Alone, a link's alert cost a commit (an fsync) to claim and another to mark."""
        now = self._ts(_utcnow())
        await self._group.soon(lambda tx: tx.execute(MARK_DELIVERED, alert_id, target, now), MARK_WITHIN)

    async def delivered_among(self, alert_ids: list[str]) -> set[str]:
        """Of these alerts, those every channel that was tried has (as ``delivered_alerts``)."""
        return {row["alert_id"] for row in await self._fetch_keyed(SELECT_DELIVERED_AMONG, alert_ids)}

    async def delivered_alerts(self) -> set[str]:
        """Ids of the alerts every channel that was tried has (none pending)."""
        return {
            row["alert_id"]
            for row in await self._transact(lambda tx: tx.fetch(SELECT_DELIVERED_ALERTS), read_only=True)
        }

    # -- alert throttle windows (stages/throttle.py) ------------------------------------------------

    async def throttle_admit(
        self,
        rule: str,
        channel: str,
        start: datetime,
        end: datetime,
        severity: str,
        alert: dict[str, Any],
        limit: int,
        admit: Callable[[list[str], list[dict[str, Any]], str, int], tuple[bool, bool]],
        summary: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> bool:
        """Whether `alert` may be sent now in the window [start, end) of (rule, channel); if not it
        is held for that window's digest. `admit` (throttle.admit) decides; idempotent per alert_id."""
        window = self._ts(start)

        async def decide(tx: _Tx) -> bool:
            if self._STORY_LOCK:
                await tx.execute(self._STORY_LOCK)
            row = await tx.fetchrow(SELECT_WINDOW, rule, channel, window)
            sent = self._json_in(row["sent"]) if row else []
            held = self._json_in(row["held"]) if row else []
            send, changed = admit(sent, held, alert["alert_id"], limit)
            if changed:
                if send:
                    sent.append(alert["alert_id"])
                else:
                    held.append(summary(alert))
                await tx.execute(
                    UPSERT_WINDOW, rule, channel, window, self._ts(end), severity, _dumps(sent), _dumps(held)
                )
            return send

        send = await self._decide(decide)
        return send

    async def due_digests(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Closed windows holding alerts whose digest is not sent: rule, channel, window_start,
        window_end, severity, sent (ids), held (summaries)."""
        when = self._ts(now or _utcnow())
        rows = await self._transact(lambda tx: tx.fetch(SELECT_DUE_WINDOWS, when, "[]"), read_only=True)
        return [
            {
                **r,
                "window_start": self._from_ts(r["window_start"]),
                "window_end": self._from_ts(r["window_end"]),
                "sent": self._json_in(r["sent"]),
                "held": self._json_in(r["held"]),
            }
            for r in rows
        ]

    async def mark_digest_sent(self, rule: str, channel: str, start: datetime) -> None:
        values = [rule, channel, self._ts(start), self._ts(_utcnow())]
        await self._transact(lambda tx: tx.execute(MARK_WINDOW_FLUSHED, *values))
