"""The schema and its migrations: table and column names are identical in both backends; only the
types differ ({json}, {ts} are filled in by the backend). One migration per version, applied in
order inside one transaction at start; ``schema_version`` has one row per applied version.
"""

from __future__ import annotations

from wirewatch.errors import ConfigError
from wirewatch.sinks.storage.common import StorageBase, _dumps, _redact, _Tx, _utcnow
from wirewatch.sinks.storage.stories import INSERT_STORY_KEYS, SELECT_STORY_STATES

SCHEMA_VERSION = 8

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

# Version 8: stories are filed only under what their state holds (stages/story_index.py
# ``story_keys``), no longer also under each article's lookup keys too (every headline word as a
# name, each date a text names): the index is emptied and every story filed again
# (``_backfill_story_keys``), a smaller index that loads fewer stories no rule can join.
_TABLES_V8 = "DELETE FROM story_keys"

# version -> DDL that brings a database from version - 1 to version (a dict: statements per backend).
# A script with {json}/{ts} for both backends, or each backend's own statements (by backend name).
_MIGRATIONS: dict[int, str | dict[str, list[str]]] = {
    1: _TABLES,
    2: _TABLES_V2,
    3: _TABLES_V3,
    4: _TABLES_V4,
    5: _TABLES_V5,
    6: _TABLES_V6,
    7: _TABLES_V7,
    8: _TABLES_V8,
}
# The versions after which every story is filed (again) under ``story_keys`` of its state.
_REFILE_STORIES = (6, 8)

SELECT_VERSION = "SELECT max(version) AS version FROM schema_version"
INSERT_VERSION = "INSERT INTO schema_version (version, applied_at) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING"


class SchemaStore(StorageBase):
    """Creating and upgrading the schema; which version a database is at."""

    async def _create_schema(self, tx: _Tx) -> None:
        """Bring the database to SCHEMA_VERSION: every migration above the version found, in order.

        Version 1 is always replayed (IF NOT EXISTS): it creates schema_version itself.
        """
        for statement in self._ddl(_TABLES):
            await tx.execute(statement)
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
                for statement in self._ddl(script) if isinstance(script, str) else script[self.backend]:
                    await tx.execute(statement)
            if version in _REFILE_STORIES:
                await self._backfill_story_keys(tx)
            await tx.execute(INSERT_VERSION, version, self._ts(_utcnow()))

    async def _backfill_story_keys(self, tx: _Tx) -> None:
        from wirewatch.stages.story_index import story_keys  # the one definition of what a story is filed under

        for r in await tx.fetch(SELECT_STORY_STATES):
            await tx.execute(
                self._keyed(INSERT_STORY_KEYS, 1), _dumps(sorted(story_keys(self._json_in(r["state"])))), r["story_id"]
            )

    async def schema_version(self) -> int:
        row = await self._transact(lambda tx: tx.fetchrow(SELECT_VERSION), read_only=True)
        return int(row["version"]) if row and row["version"] is not None else 0
