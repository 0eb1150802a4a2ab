"""Article storage: enriched articles in, one row per canonical URL out; plus per-link outcomes and
alert-delivery bookkeeping. Two backends behind one interface and the same SQL statements:

    PostgresStorage   asyncpg pool       postgresql://user@host:5432/db   (the service)
    SqliteStorage     aiosqlite, WAL     sqlite:///abs/path/wirewatch.db  (embedded single machine)

Everything is an idempotent upsert, because Kafka delivers at least once:

    articles          PK canonical_url   upsert_article() -> "inserted" | "updated" (revision 1 or more)
    article_links     PK link_id         which links led to which article (written with the article)
    link_outcomes     PK link_id         stored | filtered | dead_lettered; "stored" is sticky
    alert_deliveries  PK (alert_id, target)  pending -> delivered; claim_alert() says whether to send
    schema_version    PK version         one row per applied version (see _MIGRATIONS)
    source_state      PK name            a polled source's validators, schedule, errors, seen ids
    aliases           PK url             link url -> final_url -> canonical_url (+ redirect chain), until expires_at
    stories           PK story_id        one event: its articles, highest figures, what each rule announced
    story_members     PK canonical_url   which story an article joined
    story_keys        PK (key, story_id)  candidate index: only stories sharing a key are scored (stages/story.py)
    alert_windows     PK (rule, channel, window_start)  throttle: alerts sent, alerts held for the digest
    story_cards, articles_fts (SQLite) / a GIN index (PostgreSQL): the read API's, kept by triggers (api/schema.py)

``add(item)`` writes through (it is ``upsert_article``), so an item is durable when ``add`` returns
and ``flush()`` is only a barrier. Writing through keeps a bad article's error attached to that
article instead of failing a whole batch; at news volumes (hundreds per minute) batching buys
nothing.

Errors from asyncpg/sqlite are translated here and nowhere else: connection trouble becomes
``TransientError("storage_unavailable")``, data the database refuses becomes
``PermanentError("storage_rejected")``. Our own timestamps (first_seen, updated_at, ...) are UTC;
upstream strings (published, fetched_at) are stored verbatim.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from abc import abstractmethod
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit, urlunsplit

import aiosqlite
import asyncpg
import orjson
from asyncpg.exceptions._base import DataError as _AsyncpgArgumentError  # not exported publicly

from wirewatch.errors import ConfigError, PermanentError, TransientError, WirewatchError
from wirewatch.sinks.base import Sink

SCHEMA_VERSION = 7
OUTCOMES = frozenset({"stored", "filtered", "dead_lettered"})

UNAVAILABLE = "storage_unavailable"
REJECTED = "storage_rejected"

# Article fields kept as JSON text (orjson), decoded again on the way out.
JSON_COLUMNS = ("authors", "figures", "casualties", "keywords", "redirects", "places")
_JSON_DEFAULTS: dict[str, Any] = {
    "authors": [], "figures": {}, "casualties": [], "keywords": [], "redirects": [], "places": [],
}
TS_COLUMNS = frozenset({"first_seen", "updated_at", "created_at", "delivered_at", "applied_at", "next_poll_at",
                        "last_polled_at", "last_new_item_at", "stale_alerted_at", "resolved_at", "expires_at"})

# ---------------------------------------------------------------------------------------------
# Schema. Table and column names are identical in both backends; only the types differ.

_TABLES = """
CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY,
    applied_at  {ts} NOT NULL
);
CREATE TABLE IF NOT EXISTS articles (
    canonical_url TEXT PRIMARY KEY,
    link_id       TEXT NOT NULL,
    source        TEXT NOT NULL DEFAULT '',
    url           TEXT NOT NULL,
    final_url     TEXT NOT NULL,
    status        INTEGER,
    content_type  TEXT,
    fetched_at    TEXT,
    title         TEXT,
    text          TEXT NOT NULL,
    published     TEXT,
    language      TEXT,
    sitename      TEXT,
    description   TEXT,
    image         TEXT,
    authors       {json} NOT NULL,
    figures       {json} NOT NULL,
    casualties    {json} NOT NULL,
    keywords      {json} NOT NULL,
    redirects     {json} NOT NULL,
    revision      INTEGER NOT NULL DEFAULT 1,
    first_seen    {ts} NOT NULL,
    updated_at    {ts} NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_updated_at_idx ON articles (updated_at);
CREATE TABLE IF NOT EXISTS article_links (
    link_id       TEXT PRIMARY KEY,
    canonical_url TEXT NOT NULL,
    url           TEXT NOT NULL DEFAULT '',
    first_seen    {ts} NOT NULL
);
CREATE INDEX IF NOT EXISTS article_links_canonical_url_idx ON article_links (canonical_url);
CREATE TABLE IF NOT EXISTS link_outcomes (
    link_id     TEXT PRIMARY KEY,
    url         TEXT NOT NULL DEFAULT '',
    outcome     TEXT NOT NULL CHECK (outcome IN ('stored', 'filtered', 'dead_lettered')),
    stage       TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT '',
    first_seen  {ts} NOT NULL,
    updated_at  {ts} NOT NULL
);
CREATE INDEX IF NOT EXISTS link_outcomes_outcome_idx ON link_outcomes (outcome);
CREATE TABLE IF NOT EXISTS alert_deliveries (
    alert_id     TEXT NOT NULL,
    target       TEXT NOT NULL,
    alert        {json},
    status       TEXT NOT NULL CHECK (status IN ('pending', 'delivered')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    created_at   {ts} NOT NULL,
    updated_at   {ts} NOT NULL,
    delivered_at {ts},
    PRIMARY KEY (alert_id, target)
)
"""

# Version 2: what the source poller and the fetch agent remember across restarts. A version-1
# database gets these tables on its next start (every statement is IF NOT EXISTS).
_TABLES_V2 = """
CREATE TABLE IF NOT EXISTS source_state (
    name             TEXT PRIMARY KEY,
    kind             TEXT NOT NULL DEFAULT 'feed',
    url              TEXT NOT NULL DEFAULT '',
    etag             TEXT,
    last_modified    TEXT,
    next_poll_at     {ts},
    error_count      INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    last_polled_at   {ts},
    last_new_item_at {ts},
    stale_alerted_at {ts},
    seen             {json} NOT NULL,
    updated_at       {ts} NOT NULL
);
CREATE TABLE IF NOT EXISTS aliases (
    url           TEXT PRIMARY KEY,
    final_url     TEXT NOT NULL,
    canonical_url TEXT NOT NULL,
    resolved_at   {ts} NOT NULL,
    expires_at    {ts} NOT NULL
);
CREATE INDEX IF NOT EXISTS aliases_expires_at_idx ON aliases (expires_at)
"""

# Version 3: stories (stages/story.py) and alert throttle windows (stages/throttle.py).
_TABLES_V3 = """
CREATE TABLE IF NOT EXISTS stories (
    story_id    TEXT PRIMARY KEY,
    title       TEXT,
    first_at    {ts} NOT NULL,
    last_at     {ts} NOT NULL,
    state       {json} NOT NULL,
    updated_at  {ts} NOT NULL
);
CREATE INDEX IF NOT EXISTS stories_last_at_idx ON stories (last_at);
CREATE TABLE IF NOT EXISTS story_members (
    canonical_url TEXT PRIMARY KEY,
    story_id      TEXT NOT NULL,
    joined_at     {ts} NOT NULL
);
CREATE INDEX IF NOT EXISTS story_members_story_id_idx ON story_members (story_id);
CREATE TABLE IF NOT EXISTS alert_windows (
    rule         TEXT NOT NULL,
    channel      TEXT NOT NULL,
    window_start {ts} NOT NULL,
    window_end   {ts} NOT NULL,
    severity     TEXT NOT NULL,
    sent         {json} NOT NULL,
    held         {json} NOT NULL,
    flushed_at   {ts},
    PRIMARY KEY (rule, channel, window_start)
);
CREATE INDEX IF NOT EXISTS alert_windows_window_end_idx ON alert_windows (window_end)
"""

# Version 4: the places enrichment names (countries, cities, regions with ISO codes), so the
# stored article carries everything the enriched topic did.
_TABLES_V4 = """
ALTER TABLE articles ADD COLUMN places {json} NOT NULL DEFAULT '[]'
"""

# Version 5: the redirect chain an alias was resolved through, so a link fetched again by way of
# its alias still reports how it got there, and the link_id that resolved it, so a redelivery of
# that same link is not mistaken for a re-share. Added after aliases exist (version 2), so a fresh
# database gets them in order like an upgraded one; older rows read as no chain and no link.
_TABLES_V5 = """
ALTER TABLE aliases ADD COLUMN redirects {json} NOT NULL DEFAULT '[]';
ALTER TABLE aliases ADD COLUMN link_id TEXT NOT NULL DEFAULT ''
"""

# Version 6: the story candidate index (stages/story.py ``keys``): an article loads only the open
# stories that share a key with it instead of every story of the window. Stories stored before it
# are filed when the migration runs (``_backfill_story_keys``).
_TABLES_V6 = """
CREATE TABLE IF NOT EXISTS story_keys (
    key      TEXT NOT NULL,
    story_id TEXT NOT NULL,
    PRIMARY KEY (key, story_id)
)
"""

# Version 7: what the read API searches and filters on (full-text search of articles, a narrow
# card per story maintained by triggers). Backend-specific, so it lives with its queries.
from wirewatch.api.schema import READ_SCHEMA as _TABLES_V7  # noqa: E402

# version -> DDL that brings a database from version - 1 to version (a dict: statements per backend).
_MIGRATIONS = {1: _TABLES, 2: _TABLES_V2, 3: _TABLES_V3, 4: _TABLES_V4, 5: _TABLES_V5, 6: _TABLES_V6, 7: _TABLES_V7}

# ---------------------------------------------------------------------------------------------
# Statements, written once with $n placeholders (SQLite gets ?n, which binds the same way).

_ARTICLE_FIELDS = (
    "canonical_url", "link_id", "source", "url", "final_url", "status", "content_type", "fetched_at",
    "title", "text", "published", "language", "sitename", "description", "image", *JSON_COLUMNS,
)  # fmt: skip
_NOW = len(_ARTICLE_FIELDS) + 1

UPSERT_ARTICLE = f"""
INSERT INTO articles ({", ".join(_ARTICLE_FIELDS)}, revision, first_seen, updated_at)
VALUES ({", ".join(f"${i}" for i in range(1, _NOW))}, 1, ${_NOW}, ${_NOW})
ON CONFLICT (canonical_url) DO UPDATE SET
    {", ".join(f"{c} = excluded.{c}" for c in _ARTICLE_FIELDS[1:])},
    revision = articles.revision + 1,
    updated_at = excluded.updated_at
RETURNING revision
"""

UPSERT_ARTICLE_LINK = """
INSERT INTO article_links (link_id, canonical_url, url, first_seen) VALUES ($1, $2, $3, $4)
ON CONFLICT (link_id) DO UPDATE SET canonical_url = excluded.canonical_url, url = excluded.url
"""

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
SELECT_ARTICLES = "SELECT * FROM articles ORDER BY first_seen, canonical_url"
SELECT_ARTICLE = "SELECT * FROM articles WHERE canonical_url = $1"
SELECT_LINKS = "SELECT link_id, canonical_url FROM article_links ORDER BY first_seen, link_id"
SELECT_LINKS_OF = "SELECT link_id FROM article_links WHERE canonical_url = $1 ORDER BY first_seen, link_id"
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

# Candidates for story matching: the stories active since the window opened, and the one that
# already holds this article (a redelivery or a revision, however old).
SELECT_STORY_CANDIDATES = """
SELECT story_id, first_at, last_at, state FROM stories
WHERE last_at >= $1 OR story_id IN (SELECT story_id FROM story_members WHERE canonical_url = $2)
ORDER BY first_at, story_id
"""
# The same, narrowed by the candidate index: {keys} is this backend's rows of the JSON list $3.
# Stories whose window closed (last_at before $1) are candidates back to $4 when filed under a
# follow-up key ("f:...", stages/story.py): an old event in the news again joins its story.
SELECT_STORY_CANDIDATES_BY_KEYS = """
SELECT story_id, first_at, last_at, state FROM stories
WHERE (last_at >= $1 AND story_id IN (SELECT story_id FROM story_keys WHERE key IN (SELECT value FROM {keys})))
   OR (last_at >= $4 AND story_id IN (SELECT story_id FROM story_keys
                                      WHERE key IN (SELECT value FROM {keys}) AND key LIKE 'f:%'))
   OR story_id IN (SELECT story_id FROM story_members WHERE canonical_url = $2)
ORDER BY first_at, story_id
"""
# "WHERE true": SQLite needs it to tell the upsert clause from a join of the SELECT.
INSERT_STORY_KEYS = """
INSERT INTO story_keys (key, story_id) SELECT value, $2 FROM {keys} WHERE true
ON CONFLICT (key, story_id) DO NOTHING
"""
SELECT_STORY_STATES = "SELECT story_id, state FROM stories"
UPSERT_STORY = """
INSERT INTO stories (story_id, title, first_at, last_at, state, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (story_id) DO UPDATE SET title = excluded.title, first_at = excluded.first_at,
    last_at = excluded.last_at, state = excluded.state, updated_at = excluded.updated_at
"""
UPSERT_STORY_MEMBER = """
INSERT INTO story_members (canonical_url, story_id, joined_at) VALUES ($1, $2, $3)
ON CONFLICT (canonical_url) DO UPDATE SET story_id = excluded.story_id
"""
SELECT_STORIES = "SELECT story_id, title, first_at, last_at, state FROM stories ORDER BY first_at, story_id"
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

SELECT_VERSION = "SELECT max(version) AS version FROM schema_version"
INSERT_VERSION = "INSERT INTO schema_version (version, applied_at) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING"


# ---------------------------------------------------------------------------------------------


class _Tx(Protocol):
    """The three calls the shared code needs from a backend connection inside a transaction."""

    async def execute(self, sql: str, *args: Any) -> None: ...
    async def fetchrow(self, sql: str, *args: Any) -> dict[str, Any] | None: ...
    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _strip_nul(value: Any) -> Any:
    """PostgreSQL refuses NUL in text and JSONB; scraped pages sometimes carry one. Drop it."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, list):
        return [_strip_nul(v) for v in value]
    if isinstance(value, dict):
        return {k: _strip_nul(v) for k, v in value.items()}
    return value


def _dumps(value: Any) -> str:
    try:
        return orjson.dumps(_strip_nul(value)).decode()
    except orjson.JSONEncodeError as e:
        raise PermanentError(REJECTED, f"not JSON-serialisable: {e}") from e


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class Storage(Sink):
    """The storage interface; ``open_storage(url)`` picks the backend."""

    backend: str = ""

    def __init__(self, url: str) -> None:
        self.url = url

    def __repr__(self) -> str:
        return f"{type(self).__name__}({_redact(self.url)!r})"

    # -- what a backend provides ---------------------------------------------------------------

    @abstractmethod
    def _transaction(self) -> Any:
        """An async context manager yielding a ``_Tx``; commits on success, translates errors."""

    def transaction(self) -> Any:
        """``_transaction`` for modules that keep tables of their own here (sinks/outbox.py)."""
        return self._transaction()

    @abstractmethod
    def _ddl(self, script: str = _TABLES) -> list[str]:
        """CREATE statements of `script` (a _MIGRATIONS entry) for this backend's types."""

    @abstractmethod
    def _ts(self, value: datetime) -> Any:
        """A UTC datetime as this backend binds it."""

    @abstractmethod
    def _from_ts(self, value: Any) -> datetime | None:
        """A stored timestamp back to an aware UTC datetime."""

    # -- Sink lifecycle -------------------------------------------------------------------------

    async def add(self, item: dict[str, Any]) -> None:
        """Write-through: the article is committed when this returns (see module docstring)."""
        await self.upsert_article(item)

    async def flush(self) -> None:
        """Nothing is buffered: every ``add`` has committed before returning."""

    async def _create_schema(self, tx: _Tx) -> None:
        """Bring the database to SCHEMA_VERSION: every migration above the version found, in order.

        Version 1 is always replayed (IF NOT EXISTS): it creates schema_version itself.
        """
        for statement in self._ddl():
            await tx.execute(statement)
        row = await tx.fetchrow(SELECT_VERSION)
        found = row["version"] if row else None
        if found is not None and found > SCHEMA_VERSION:
            raise ConfigError(
                f"storage {_redact(self.url)} has schema version {found}, newer than this wirewatch "
                f"({SCHEMA_VERSION}); upgrade wirewatch"
            )
        for version in sorted(_MIGRATIONS):
            if version <= (found or 0):
                continue
            if version > 1:  # version 1 ran above
                script = _MIGRATIONS[version]
                for statement in script[self.backend] if isinstance(script, dict) else self._ddl(script):
                    await tx.execute(statement)
            if version == 6:
                await self._backfill_story_keys(tx)
            await tx.execute(INSERT_VERSION, version, self._ts(_utcnow()))

    # -- articles -------------------------------------------------------------------------------

    async def upsert_article(self, enriched: dict[str, Any]) -> str:
        """Insert or replace the article keyed on canonical_url; "inserted" or "updated".

        Redelivery of the same article updates the one row (revision + 1, first_seen kept), and
        records the link_id that led to it in article_links in the same transaction.
        """
        params = self._article_params(enriched)
        now = self._ts(_utcnow())
        async with self._transaction() as tx:
            row = await tx.fetchrow(UPSERT_ARTICLE, *params, now)
            await tx.execute(UPSERT_ARTICLE_LINK, params[1], params[0], params[3], now)
        assert row is not None  # an upsert always returns its row
        return "inserted" if row["revision"] == 1 else "updated"

    @staticmethod
    def _article_params(enriched: dict[str, Any]) -> list[Any]:
        if not isinstance(enriched, dict):
            raise PermanentError(REJECTED, f"article must be an object, got {type(enriched).__name__}")
        for field in ("canonical_url", "link_id", "text"):
            if not isinstance(enriched.get(field), str) or not enriched[field]:
                raise PermanentError(REJECTED, f"article has no {field}")
        status = enriched.get("status")
        if status is not None and (not isinstance(status, int) or isinstance(status, bool) or not 0 <= status < 2**31):
            raise PermanentError(REJECTED, f"status must be an HTTP status integer, got {status!r}")
        canonical = enriched["canonical_url"]
        scalars: dict[str, Any] = {
            "canonical_url": canonical,
            "link_id": enriched["link_id"],
            "source": enriched.get("source") or "",
            "url": enriched.get("url") or canonical,
            "final_url": enriched.get("final_url") or enriched.get("url") or canonical,
            "status": status,
        }
        params: list[Any] = []
        for field in _ARTICLE_FIELDS:
            if field in JSON_COLUMNS:
                value = enriched.get(field)
                params.append(_dumps(_JSON_DEFAULTS[field] if value is None else value))
            elif field in scalars:
                params.append(_strip_nul(scalars[field]))
            else:
                value = enriched.get(field)
                if value is not None and not isinstance(value, str):
                    raise PermanentError(REJECTED, f"{field} must be a string or null, got {type(value).__name__}")
                params.append(_strip_nul(value))
        return params

    async def articles(self) -> list[dict[str, Any]]:
        """Every stored article (JSON columns decoded, timestamps as UTC datetimes, plus link_ids)."""
        async with self._transaction() as tx:
            rows = await tx.fetch(SELECT_ARTICLES)
            links = await tx.fetch(SELECT_LINKS)
        by_article: dict[str, list[str]] = {}
        for link in links:
            by_article.setdefault(link["canonical_url"], []).append(link["link_id"])
        return [self._article_out(row, by_article.get(row["canonical_url"], [])) for row in rows]

    async def get_article(self, canonical_url: str) -> dict[str, Any] | None:
        async with self._transaction() as tx:
            row = await tx.fetchrow(SELECT_ARTICLE, canonical_url)
            if row is None:
                return None
            links = await tx.fetch(SELECT_LINKS_OF, canonical_url)
        return self._article_out(row, [link["link_id"] for link in links])

    def _article_out(self, row: dict[str, Any], link_ids: list[str]) -> dict[str, Any]:
        out = self._row_out(row)
        for column in JSON_COLUMNS:
            if isinstance(out.get(column), str | bytes):
                out[column] = orjson.loads(out[column])
        out["link_ids"] = link_ids
        return out

    def _row_out(self, row: dict[str, Any]) -> dict[str, Any]:
        return {k: (self._from_ts(v) if k in TS_COLUMNS else v) for k, v in row.items()}

    # -- outcomes -------------------------------------------------------------------------------

    async def record_outcome(
        self, link_id: str, url: str, outcome: str, stage: str, reason: str = "", detail: str = ""
    ) -> None:
        """One row per link_id. "stored" replaces any earlier outcome and is never replaced by a
        non-stored one (a redelivery of an already stored link); otherwise the latest wins."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {sorted(OUTCOMES)}, got {outcome!r}")
        if not link_id:
            raise PermanentError(REJECTED, "outcome has no link_id")
        values = [_strip_nul(v or "") for v in (link_id, url, outcome, stage, reason, detail)]
        async with self._transaction() as tx:
            await tx.execute(UPSERT_OUTCOME, *values, self._ts(_utcnow()))

    async def outcomes(self) -> list[dict[str, Any]]:
        """link_id, url, outcome, stage, reason, detail for every link, oldest first."""
        async with self._transaction() as tx:
            return await tx.fetch(SELECT_OUTCOMES)

    # -- alerts ---------------------------------------------------------------------------------

    async def claim_alert(self, alert_id: str, target: str, alert: dict[str, Any]) -> bool:
        """True if (alert_id, target) is not delivered yet, so the caller should send it.

        Records a pending row (or bumps its attempts). Send, then ``mark_delivered``; a crash in
        between re-sends on redelivery (at least once), never skips.
        """
        async with self._transaction() as tx:
            row = await tx.fetchrow(CLAIM_ALERT, alert_id, target, _dumps(alert), self._ts(_utcnow()))
        return row is not None

    async def mark_delivered(self, alert_id: str, target: str) -> None:
        async with self._transaction() as tx:
            await tx.execute(MARK_DELIVERED, alert_id, target, self._ts(_utcnow()))

    # -- source state (sources/poller.py) ---------------------------------------------------------

    async def load_source_state(self, name: str) -> dict[str, Any] | None:
        """The saved state of source `name` (timestamps as UTC datetimes, `seen` a list), or None."""
        async with self._transaction() as tx:
            row = await tx.fetchrow(SELECT_SOURCE_STATE, name)
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
        async with self._transaction() as tx:
            await tx.execute(UPSERT_SOURCE_STATE, *params, self._ts(_utcnow()))

    # -- aliases (stages/dedupe.py) ----------------------------------------------------------------

    async def get_alias(self, url: str) -> dict[str, Any] | None:
        """url, final_url, canonical_url, resolved_at, expires_at, redirects (list of {url, status}),
        link_id (of the link that resolved it; "" if unknown) and article_stored (bool), or None.

        Expired aliases are returned too: freshness is the caller's decision (it owns the clock).
        """
        async with self._transaction() as tx:
            row = await tx.fetchrow(SELECT_ALIAS, url)
        if row is None:
            return None
        out = self._row_out(row)
        out["article_stored"] = bool(out["article_stored"])
        out["redirects"] = self._json_in(out["redirects"]) or []
        return out

    async def put_alias(self, url: str, final_url: str, canonical_url: str, ttl: float,
                        redirects: list[dict[str, Any]] | None = None, link_id: str = "") -> None:
        """Remember that `url` (link `link_id`) led to `final_url` through the hops `redirects`,
        and to `canonical_url`, for `ttl` seconds from now."""
        if not (url and final_url and canonical_url):
            raise PermanentError(REJECTED, "alias needs url, final_url and canonical_url")
        now = _utcnow()
        values = [_strip_nul(v) for v in (url, final_url, canonical_url)]
        async with self._transaction() as tx:
            await tx.execute(UPSERT_ALIAS, *values, self._ts(now), self._ts(now + timedelta(seconds=ttl)),
                             _dumps(list(redirects or [])), _strip_nul(link_id or ""))

    async def prune_aliases(self, now: datetime | None = None) -> int:
        """Delete aliases expired before `now`; how many went."""
        async with self._transaction() as tx:
            rows = await tx.fetch(DELETE_EXPIRED_ALIASES, self._ts(now or _utcnow()))
        return len(rows)

    # -- stories (stages/story.py, stages/route.py) -------------------------------------------------

    # Story assignment is read-decide-write over several rows; concurrent route workers must not
    # both decide "new story" for two articles of one event. PostgreSQL: one transaction-scoped
    # advisory lock serialises assignments across workers (a few ms each, and only articles that
    # matched a rule get here). SQLite: BEGIN IMMEDIATE already serialises writers.
    _STORY_LOCK: str | None = None

    def _json_in(self, value: Any) -> Any:
        return orjson.loads(value) if isinstance(value, str | bytes) else value

    # A JSON list bound as parameter $n, as rows with one column "value" (for IN and INSERT ... SELECT).
    _JSON_ROWS = "json_each(${n})"

    def _keyed(self, sql: str, n: int) -> str:
        return sql.replace("{keys}", self._JSON_ROWS.replace("{n}", str(n)))

    async def _backfill_story_keys(self, tx: _Tx) -> None:
        from wirewatch.stages.story import story_keys  # the one definition of what a story is filed under

        for r in await tx.fetch(SELECT_STORY_STATES):
            await tx.execute(self._keyed(INSERT_STORY_KEYS, 1), _dumps(sorted(story_keys(self._json_in(r["state"])))), r["story_id"])

    async def assign_story(
        self, canonical_url: str, since: datetime, decide: Callable[[list[dict[str, Any]]], tuple[dict[str, Any] | None, Any]],
        keys: list[str] | None = None, follow_up_since: datetime | None = None,
    ) -> Any:
        """Run `decide` on the candidate stories under the story lock and save what it returns.

        Candidates: rows {story_id, first_at, last_at, state} of the stories whose last article is
        at or after `since` (and, given `keys`, that are filed under one of them, or under one of
        its follow-up keys with a last article at or after `follow_up_since`), and the story
        already holding `canonical_url`. `decide` returns (story row to save or None, result); the
        saved story is filed under `keys` and under what its state now holds (stages/story.py
        ``story_keys``); the result is returned once the row is committed.
        """
        async with self._transaction() as tx:
            if self._STORY_LOCK:
                await tx.execute(self._STORY_LOCK)
            if keys is None:
                rows = await tx.fetch(SELECT_STORY_CANDIDATES, self._ts(since), canonical_url)
            else:
                rows = await tx.fetch(self._keyed(SELECT_STORY_CANDIDATES_BY_KEYS, 3), self._ts(since), canonical_url,
                                      _dumps(sorted(keys)), self._ts(min(since, follow_up_since or since)))
            candidates = [{"story_id": r["story_id"], "first_at": self._from_ts(r["first_at"]),
                           "last_at": self._from_ts(r["last_at"]), "state": self._json_in(r["state"])} for r in rows]
            save, result = decide(candidates)
            if save is not None:
                now = self._ts(_utcnow())
                await tx.execute(UPSERT_STORY, save["story_id"], _strip_nul(save.get("title")), self._ts(save["first_at"]),
                                 self._ts(save["last_at"]), _dumps(save["state"]), now)
                await tx.execute(UPSERT_STORY_MEMBER, canonical_url, save["story_id"], now)
                if keys is not None:
                    from wirewatch.stages.story import story_keys  # a story's keys mix its articles' names and tolls

                    filed = set(keys) | story_keys(save["state"])
                    await tx.execute(self._keyed(INSERT_STORY_KEYS, 1), _dumps(sorted(filed)), save["story_id"])
        return result

    async def stories(self) -> list[dict[str, Any]]:
        """Every story: story_id, title, first_at, last_at, state (decoded), oldest first."""
        async with self._transaction() as tx:
            rows = await tx.fetch(SELECT_STORIES)
        return [{**r, "first_at": self._from_ts(r["first_at"]), "last_at": self._from_ts(r["last_at"]),
                 "state": self._json_in(r["state"])} for r in rows]

    # -- alert throttle windows (stages/throttle.py) ------------------------------------------------

    async def throttle_admit(
        self, rule: str, channel: str, start: datetime, end: datetime, severity: str, alert: dict[str, Any], limit: int,
        admit: Callable[[list[str], list[dict], str, int], tuple[bool, bool]], summary: Callable[[dict], dict],
    ) -> bool:
        """Whether `alert` may be sent now in the window [start, end) of (rule, channel); if not it
        is held for that window's digest. `admit` (throttle.admit) decides; idempotent per alert_id."""
        async with self._transaction() as tx:
            if self._STORY_LOCK:
                await tx.execute(self._STORY_LOCK)
            row = await tx.fetchrow(SELECT_WINDOW, rule, channel, self._ts(start))
            sent = self._json_in(row["sent"]) if row else []
            held = self._json_in(row["held"]) if row else []
            send, changed = admit(sent, held, alert["alert_id"], limit)
            if changed:
                if send:
                    sent.append(alert["alert_id"])
                else:
                    held.append(summary(alert))
                await tx.execute(UPSERT_WINDOW, rule, channel, self._ts(start), self._ts(end), severity,
                                 _dumps(sent), _dumps(held))
        return send

    async def due_digests(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Closed windows holding alerts whose digest is not sent: rule, channel, window_start,
        window_end, severity, sent (ids), held (summaries)."""
        async with self._transaction() as tx:
            rows = await tx.fetch(SELECT_DUE_WINDOWS, self._ts(now or _utcnow()), "[]")
        return [{**r, "window_start": self._from_ts(r["window_start"]), "window_end": self._from_ts(r["window_end"]),
                 "sent": self._json_in(r["sent"]), "held": self._json_in(r["held"])} for r in rows]

    async def mark_digest_sent(self, rule: str, channel: str, start: datetime) -> None:
        async with self._transaction() as tx:
            await tx.execute(MARK_WINDOW_FLUSHED, rule, channel, self._ts(start), self._ts(_utcnow()))

    # -- reporting ------------------------------------------------------------------------------

    async def counts(self) -> dict[str, int]:
        """articles, links (links with an outcome = stored + filtered + dead_lettered), stored,
        filtered, dead_lettered, alerts_delivered."""
        async with self._transaction() as tx:
            row = await tx.fetchrow(COUNTS)
        assert row is not None
        return {k: int(v) for k, v in row.items()}

    async def schema_version(self) -> int:
        async with self._transaction() as tx:
            row = await tx.fetchrow(SELECT_VERSION)
        return int(row["version"]) if row and row["version"] is not None else 0


# ---------------------------------------------------------------------------------------------
# PostgreSQL

# SQLSTATE classes that mean "the database is not reachable/usable right now": connection
# exception, invalid authorization (credentials not provisioned yet), invalid catalog (database
# not created yet), transaction rollback (serialization/deadlock), insufficient resources,
# operator intervention (shutdown, cancel), system error (I/O).
_PG_TRANSIENT_CLASSES = ("08", "28", "3D", "40", "53", "57", "58")
_PG_TRANSIENT_STATES = ("55P03",)  # lock_not_available


def translate_postgres_error(exc: BaseException) -> WirewatchError | None:
    """The wirewatch error for an asyncpg/socket exception, or None if it is not a storage error."""
    if isinstance(exc, WirewatchError):
        return exc
    if isinstance(exc, asyncpg.PostgresError):
        state = exc.sqlstate or ""
        detail = f"{type(exc).__name__} [{state}]: {exc}"
        if state[:2] in _PG_TRANSIENT_CLASSES or state in _PG_TRANSIENT_STATES:
            return TransientError(UNAVAILABLE, detail)
        return PermanentError(REJECTED, detail)
    if isinstance(exc, _AsyncpgArgumentError):  # client-side: a value asyncpg cannot encode
        return PermanentError(REJECTED, f"{type(exc).__name__}: {exc}")
    if isinstance(exc, asyncpg.InterfaceError | asyncpg.exceptions.InternalClientError):
        return TransientError(UNAVAILABLE, f"{type(exc).__name__}: {exc}")  # connection/pool closed
    if isinstance(exc, OSError | TimeoutError):
        return TransientError(UNAVAILABLE, f"{type(exc).__name__}: {exc}")
    if isinstance(exc, UnicodeError):
        return PermanentError(REJECTED, f"{type(exc).__name__}: {exc}")
    return None


class _PgTx:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, *args: Any) -> None:
        await self._conn.execute(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> dict[str, Any] | None:
        row = await self._conn.fetchrow(sql, *args)
        return dict(row) if row is not None else None

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        return [dict(r) for r in await self._conn.fetch(sql, *args)]


class PostgresStorage(Storage):
    """asyncpg pool. json/jsonb travel as text (asyncpg's default), encoded with orjson."""

    backend = "postgresql"
    _STORY_LOCK = "SELECT pg_advisory_xact_lock(7261991)"
    _JSON_ROWS = "jsonb_array_elements_text(CAST(${n} AS TEXT)::jsonb)"

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        connect_timeout: float = 10.0,
        command_timeout: float = 30.0,
    ) -> None:
        super().__init__(url)
        self._pool_options = {
            "min_size": min_size,
            "max_size": max_size,
            "timeout": connect_timeout,
            "command_timeout": command_timeout,
        }
        self._acquire_timeout = connect_timeout
        self._pool: asyncpg.Pool | None = None

    async def start(self) -> None:
        if self._pool is not None:
            return
        try:
            self._pool = await asyncpg.create_pool(
                self.url,
                server_settings={"application_name": "wirewatch", "timezone": "UTC"},
                **self._pool_options,
            )
        except Exception as e:
            raise self._translate(e) from e
        try:
            async with self._transaction() as tx:
                # Serialise concurrent first starts: CREATE ... IF NOT EXISTS races in PostgreSQL.
                await tx.execute("SELECT pg_advisory_xact_lock(7261990)")
                await self._create_schema(tx)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), timeout=10)
            except (TimeoutError, OSError, asyncpg.InterfaceError):
                pool.terminate()

    def _ddl(self, script: str = _TABLES) -> list[str]:
        script = script.format(json="JSONB", ts="TIMESTAMPTZ")
        return [s.strip() for s in script.split(";") if s.strip()]

    def _ts(self, value: datetime) -> Any:
        return value

    def _from_ts(self, value: Any) -> datetime | None:
        return value.astimezone(UTC) if isinstance(value, datetime) else value

    def _translate(self, exc: BaseException) -> WirewatchError:
        translated = translate_postgres_error(exc)
        return translated if translated is not None else PermanentError(REJECTED, f"{type(exc).__name__}: {exc}")

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[_Tx]:
        if self._pool is None:
            raise TransientError(UNAVAILABLE, "storage is not started or already closed")
        try:
            async with self._pool.acquire(timeout=self._acquire_timeout) as conn, conn.transaction():
                yield _PgTx(conn)
        except WirewatchError:
            raise
        except Exception as e:
            translated = translate_postgres_error(e)
            if translated is None:
                raise
            raise translated from e


# ---------------------------------------------------------------------------------------------
# SQLite

# Result codes (primary, from sqlite_errorname) that mean "try again later".
_SQLITE_TRANSIENT = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR", "SQLITE_FULL", "SQLITE_CANTOPEN",
                     "SQLITE_PROTOCOL", "SQLITE_NOMEM", "SQLITE_INTERRUPT")  # fmt: skip


def translate_sqlite_error(exc: BaseException) -> WirewatchError | None:
    """The wirewatch error for a sqlite3 exception, or None if it is not a storage error."""
    if isinstance(exc, WirewatchError):
        return exc
    if isinstance(exc, sqlite3.Error):
        name = getattr(exc, "sqlite_errorname", None) or ""
        detail = f"{type(exc).__name__} [{name or 'no code'}]: {exc}"
        if name.startswith(_SQLITE_TRANSIENT) or (isinstance(exc, sqlite3.ProgrammingError) and "closed" in str(exc)):
            return TransientError(UNAVAILABLE, detail)
        if isinstance(exc, sqlite3.OperationalError) and not name:
            msg = str(exc).lower()
            if any(s in msg for s in ("locked", "busy", "unable to open", "disk i/o", "full")):
                return TransientError(UNAVAILABLE, detail)
        return PermanentError(REJECTED, detail)
    if isinstance(exc, OSError | TimeoutError):
        return TransientError(UNAVAILABLE, f"{type(exc).__name__}: {exc}")
    if isinstance(exc, UnicodeError | OverflowError):  # e.g. an int beyond 64 bits
        return PermanentError(REJECTED, f"{type(exc).__name__}: {exc}")
    return None


@lru_cache(maxsize=64)
def _sqlite_sql(sql: str) -> str:
    return re.sub(r"\$(\d+)", r"?\1", sql)


class _SqliteTx:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, *args: Any) -> None:
        await self._conn.execute(_sqlite_sql(sql), args)

    async def fetchrow(self, sql: str, *args: Any) -> dict[str, Any] | None:
        async with self._conn.execute(_sqlite_sql(sql), args) as cursor:
            row = await cursor.fetchone()
        return dict(row) if row is not None else None

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        async with self._conn.execute(_sqlite_sql(sql), args) as cursor:
            return [dict(r) for r in await cursor.fetchall()]


class SqliteStorage(Storage):
    """One aiosqlite connection in WAL mode; transactions are serialised with a lock.

    ``synchronous=FULL`` by default so a flushed article survives power loss, as the offset
    commit after flush assumes; ``?synchronous=normal`` trades that for speed (still safe
    against a process crash).
    """

    backend = "sqlite"

    def __init__(self, url: str, *, busy_timeout_ms: int = 5000) -> None:
        super().__init__(url)
        self.path, query = self._parse(url)
        self._synchronous = query.get("synchronous", "full").upper()
        if self._synchronous not in ("FULL", "NORMAL", "EXTRA"):
            raise ConfigError(f"storage url {url}: synchronous must be full, normal or extra")
        self._busy_timeout_ms = busy_timeout_ms
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    @staticmethod
    def _parse(url: str) -> tuple[str, dict[str, str]]:
        parts = urlsplit(url)
        query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
        if parts.netloc not in ("", "localhost"):
            raise ConfigError(f"storage url {url}: expected sqlite:///absolute/path.db")
        if parts.path in ("/:memory:", ":memory:"):
            return ":memory:", query
        path = "/" + parts.path.lstrip("/")
        if path == "/":
            raise ConfigError(f"storage url {url}: expected sqlite:///absolute/path.db")
        return path, query

    async def start(self) -> None:
        if self._conn is not None:
            return
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves.
            conn = await aiosqlite.connect(self.path, isolation_level=None)
        except Exception as e:
            raise self._translate(e) from e
        self._conn = conn
        try:
            conn.row_factory = aiosqlite.Row
            for pragma in (
                "PRAGMA journal_mode=WAL",
                f"PRAGMA synchronous={self._synchronous}",
                f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}",
                "PRAGMA foreign_keys=ON",
            ):
                await conn.execute(pragma)
            async with self._transaction() as tx:
                await self._create_schema(tx)
        except BaseException as e:
            await self.close()
            if isinstance(e, Exception) and not isinstance(e, WirewatchError):
                raise self._translate(e) from e
            raise

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except (sqlite3.Error, ValueError):
                pass

    def _ddl(self, script: str = _TABLES) -> list[str]:
        script = script.format(json="TEXT", ts="TEXT")
        return [s.strip() for s in script.split(";") if s.strip()]

    def _ts(self, value: datetime) -> Any:
        return value.astimezone(UTC).isoformat(timespec="microseconds")

    def _from_ts(self, value: Any) -> datetime | None:
        return datetime.fromisoformat(value).astimezone(UTC) if isinstance(value, str) else value

    def _translate(self, exc: BaseException) -> WirewatchError:
        translated = translate_sqlite_error(exc)
        return translated if translated is not None else PermanentError(REJECTED, f"{type(exc).__name__}: {exc}")

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[_Tx]:
        async with self._lock:
            conn = self._conn
            if conn is None:
                raise TransientError(UNAVAILABLE, "storage is not started or already closed")
            try:
                await conn.execute("BEGIN IMMEDIATE")
                try:
                    yield _SqliteTx(conn)
                except BaseException:
                    await conn.rollback()
                    raise
                await conn.commit()
            except WirewatchError:
                raise
            except Exception as e:
                translated = translate_sqlite_error(e)
                if translated is None:
                    raise
                raise translated from e


# ---------------------------------------------------------------------------------------------


def open_storage(url: str, **options: Any) -> Storage:
    """The backend for ``url`` (not started yet: ``await storage.start()`` or ``async with``).

    postgresql:// or postgres:// -> PostgresStorage (options: min_size, max_size, timeouts);
    sqlite:///abs/path.db -> SqliteStorage (parent directory created on start).
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("postgresql", "postgres"):
        return PostgresStorage(url, **options)
    if scheme == "sqlite":
        return SqliteStorage(url, **options)
    raise ConfigError(f"storage url {_redact(url)!r}: scheme must be postgresql://, postgres:// or sqlite:///")
