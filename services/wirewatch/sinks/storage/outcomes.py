"""Link outcomes: one row per link_id (stored | filtered | dead_lettered, "stored" sticky), and the
counts reported by `wirewatch` and the tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from wirewatch.errors import PermanentError
from wirewatch.sinks.storage.common import OUTCOMES, REJECTED, StorageBase, _fetching, _strip_nul, _utcnow

# "stored" is sticky: a later filtered/dead-lettered redelivery of a link that was already
# stored does not hide the stored article; a stored retry replaces an earlier failure.
UPSERT_OUTCOME = """
INSERT INTO link_outcomes (link_id, url, outcome, stage, reason, detail, first_seen, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
ON CONFLICT (link_id) DO UPDATE SET
    url = excluded.url, outcome = excluded.outcome, stage = excluded.stage,
    reason = excluded.reason, detail = excluded.detail, updated_at = excluded.updated_at
WHERE link_outcomes.outcome <> 'stored' OR excluded.outcome = 'stored'
"""


COUNTS = """
SELECT
    (SELECT count(*) FROM articles) AS articles,
    (SELECT count(*) FROM link_outcomes) AS links,
    (SELECT count(*) FROM link_outcomes WHERE outcome = 'stored') AS stored,
    (SELECT count(*) FROM link_outcomes WHERE outcome = 'filtered') AS filtered,
    (SELECT count(*) FROM link_outcomes WHERE outcome = 'dead_lettered') AS dead_lettered,
    (SELECT count(*) FROM alert_deliveries WHERE status = 'delivered') AS alerts_delivered
"""

SELECT_OUTCOMES = "SELECT link_id, url, outcome, stage, reason, detail FROM link_outcomes ORDER BY first_seen, link_id"
# The outcomes of some links ({keys}: the JSON list $1), and a page of the dead-lettered ones after
# a link id (keyset paging on the primary key: each page one index range, none of them all at once).
SELECT_OUTCOMES_OF = (
    "SELECT link_id, url, outcome, stage, reason, detail FROM link_outcomes WHERE link_id IN (SELECT value FROM {keys})"
)
SELECT_DEAD_LETTERED_PAGE = """
SELECT link_id, url, outcome, stage, reason, detail FROM link_outcomes
WHERE outcome = 'dead_lettered' AND link_id > $1 ORDER BY link_id LIMIT $2
"""


def outcome_values(link_id: str, url: str, outcome: str, stage: str, reason: str = "", detail: str = "") -> list[str]:
    """The first six parameters of ``UPSERT_OUTCOME`` (the seventh is the time), checked."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {sorted(OUTCOMES)}, got {outcome!r}")
    if not link_id:
        raise PermanentError(REJECTED, "outcome has no link_id")
    return [_strip_nul(v or "") for v in (link_id, url, outcome, stage, reason, detail)]


class OutcomeStore(StorageBase):
    """record_outcome, outcomes, outcomes_of, dead_lettered_outcomes, counts."""

    async def record_outcome(
        self, link_id: str, url: str, outcome: str, stage: str, reason: str = "", detail: str = ""
    ) -> None:
        """One row per link_id. "stored" replaces any earlier outcome and is never replaced by a
        non-stored one (a redelivery of an already stored link); otherwise the latest wins."""
        values = [*outcome_values(link_id, url, outcome, stage, reason, detail), self._ts(_utcnow())]
        await self.batched(lambda tx: tx.execute(UPSERT_OUTCOME, *values))

    async def outcomes(self) -> list[dict[str, Any]]:
        """link_id, url, outcome, stage, reason, detail for every link, oldest first."""
        return await self._transact(lambda tx: tx.fetch(SELECT_OUTCOMES), read_only=True)

    async def outcomes_of(self, link_ids: list[str]) -> list[dict[str, Any]]:
        """The outcome rows (as ``outcomes``) of these links, those that have one."""
        return await self._fetch_keyed(SELECT_OUTCOMES_OF, link_ids)

    async def dead_lettered_outcomes(self, page: int = 1000) -> AsyncIterator[dict[str, Any]]:
        """Every dead-lettered outcome row, by link id, read `page` rows at a time."""
        after = ""
        while True:
            rows = await self._transact(_fetching(SELECT_DEAD_LETTERED_PAGE, after, page), read_only=True)
            for row in rows:
                yield row
            if len(rows) < page:
                return
            after = rows[-1]["link_id"]

    async def counts(self) -> dict[str, int]:
        """articles, links (links with an outcome = stored + filtered + dead_lettered), stored,
        filtered, dead_lettered, alerts_delivered."""
        row = await self._transact(lambda tx: tx.fetchrow(COUNTS), read_only=True)
        assert row is not None
        return {k: int(v) for k, v in row.items()}
