"""What the source poller (sources/poller.py) and the fetch agent (stages/dedupe.py) remember across
restarts: each polled source's validators, schedule, errors and seen ids (``source_state``), and
link aliases, url -> final_url -> canonical_url with the redirect chain, until they expire (``aliases``).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import orjson

from wirewatch.errors import PermanentError
from wirewatch.sinks.storage.common import REJECTED, StorageBase, _dumps, _strip_nul, _utcnow

log = logging.getLogger(__name__)

_SOURCE_FIELDS = ("name", "kind", "url", "etag", "last_modified", "next_poll_at", "error_count", "last_error",
                  "last_polled_at", "last_new_item_at", "stale_alerted_at", "seen")  # fmt: skip
_SOURCE_TS = ("next_poll_at", "last_polled_at", "last_new_item_at", "stale_alerted_at")

UPSERT_SOURCE_STATE = f"""
INSERT INTO source_state ({", ".join(_SOURCE_FIELDS)}, updated_at)
VALUES ({", ".join(f"${i}" for i in range(1, len(_SOURCE_FIELDS) + 2))})
ON CONFLICT (name) DO UPDATE SET
    {", ".join(f"{c} = excluded.{c}" for c in _SOURCE_FIELDS[1:])}, updated_at = excluded.updated_at
"""
SELECT_SOURCE_STATE = f"SELECT {', '.join(_SOURCE_FIELDS)}, updated_at FROM source_state WHERE name = $1"

UPSERT_ALIAS = """
INSERT INTO aliases (url, final_url, canonical_url, resolved_at, expires_at, redirects, link_id)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (url) DO UPDATE SET final_url = excluded.final_url, canonical_url = excluded.canonical_url,
    resolved_at = excluded.resolved_at, expires_at = excluded.expires_at, redirects = excluded.redirects,
    link_id = excluded.link_id
"""
# Whether the alias's article is stored is asked in the same round trip: it is what the fetch
# agent decides on (stages/dedupe.py).
SELECT_ALIAS = """
SELECT a.url, a.final_url, a.canonical_url, a.resolved_at, a.expires_at, a.redirects, a.link_id,
       EXISTS (SELECT 1 FROM articles WHERE articles.canonical_url = a.canonical_url) AS article_stored
FROM aliases a WHERE a.url = $1
"""
DELETE_EXPIRED_ALIASES = "DELETE FROM aliases WHERE expires_at < $1 RETURNING url"

# The longest an alias written without waiting (``put_alias(wait=False)``) waits for a transaction
# to ride with: the fetch agent's alias usually goes with its own article's, written moments later.
ALIAS_WITHIN = 0.2


def _log_unrecorded(url: str, written: asyncio.Future[Any]) -> None:
    if not written.cancelled() and written.exception() is not None:
        log.warning("alias for %s not recorded: %s", url[:200], written.exception())


class SourceStateStore(StorageBase):
    """load_source_state, save_source_state, get_alias, put_alias, prune_aliases."""

    # -- source state (sources/poller.py) ---------------------------------------------------------

    async def load_source_state(self, name: str) -> dict[str, Any] | None:
        """The saved state of source `name` (timestamps as UTC datetimes, `seen` a list), or None."""
        row = await self._transact(lambda tx: tx.fetchrow(SELECT_SOURCE_STATE, name), read_only=True)
        if row is None:
            return None
        out = self._row_out(row)
        if isinstance(out["seen"], str | bytes):
            out["seen"] = orjson.loads(out["seen"])
        return out

    async def save_source_state(self, state: dict[str, Any]) -> None:
        """Upsert the state of ``state["name"]``; keys are the source_state columns (missing: defaults)."""
        if not state.get("name"):
            raise PermanentError(REJECTED, "source state has no name")
        params: list[Any] = []
        for field in _SOURCE_FIELDS:
            value = state.get(field)
            if field in _SOURCE_TS:
                value = self._ts(value) if isinstance(value, datetime) else None
            elif field == "seen":
                value = _dumps(list(value or []))
            elif field == "error_count":
                value = int(value or 0)
            elif field in ("kind", "url", "last_error"):
                value = _strip_nul(value or ("feed" if field == "kind" else ""))
            else:
                value = _strip_nul(value)
            params.append(value)
        params.append(self._ts(_utcnow()))
        await self._transact(lambda tx: tx.execute(UPSERT_SOURCE_STATE, *params))

    # -- aliases (stages/dedupe.py) ----------------------------------------------------------------

    async def get_alias(self, url: str) -> dict[str, Any] | None:
        """url, final_url, canonical_url, resolved_at, expires_at, redirects (list of {url, status}),
        link_id (of the link that resolved it; "" if unknown) and article_stored (bool), or None.

        Expired aliases are returned too: freshness is the caller's decision (it owns the clock).
        """
        row = await self.batched(lambda tx: tx.fetchrow(SELECT_ALIAS, url))
        if row is None:
            return None
        out = self._row_out(row)
        out["article_stored"] = bool(out["article_stored"])
        out["redirects"] = self._json_in(out["redirects"]) or []
        return out

    async def put_alias(
        self,
        url: str,
        final_url: str,
        canonical_url: str,
        ttl: float,
        redirects: list[dict[str, Any]] | None = None,
        link_id: str = "",
        *,
        wait: bool = True,
    ) -> None:
        """Remember that `url` (link `link_id`) led to `final_url` through the hops `redirects`,
        and to `canonical_url`, for `ttl` seconds from now. ``wait=False``: return at once; the alias
        rides with the next transaction of the group commit (within ``ALIAS_WITHIN`` seconds), and a
        failure is only logged (an alias is a shortcut: without it the next link just resolves)."""
        if not (url and final_url and canonical_url):
            raise PermanentError(REJECTED, "alias needs url, final_url and canonical_url")
        now = _utcnow()
        values = [
            *(_strip_nul(v) for v in (url, final_url, canonical_url)),
            self._ts(now),
            self._ts(now + timedelta(seconds=ttl)),
            _dumps(list(redirects or [])),
            _strip_nul(link_id or ""),
        ]
        if wait:
            await self.batched(lambda tx: tx.execute(UPSERT_ALIAS, *values))
            return
        pending = self._group.soon(lambda tx: tx.execute(UPSERT_ALIAS, *values), ALIAS_WITHIN)
        pending.add_done_callback(lambda f: _log_unrecorded(url, f))

    async def prune_aliases(self, now: datetime | None = None) -> int:
        """Delete aliases expired before `now`; how many went."""
        when = self._ts(now or _utcnow())
        rows = await self._transact(lambda tx: tx.fetch(DELETE_EXPIRED_ALIASES, when))
        return len(rows)
