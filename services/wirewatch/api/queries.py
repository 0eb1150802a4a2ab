"""ReadStore: the read API's queries, on connections of its own.

Filters in (api/params.Filters), rows out (turned into JSON by api/views.py). The writer's
connection is left alone: SQLite gets a second connection that may only read (WAL lets it read
while the pipeline writes), PostgreSQL a small pool of its own. The statements are written once
with $n placeholders, as in sinks/storage/; only full-text search differs by backend (FTS5 in
SQLite, stored tsvectors with a GIN index in PostgreSQL, schema.py), and both page newest
first with a cursor: the sort key of the last row of a page.

Errors from the drivers are translated like the writer's (``translate_*_error``): the routes
answer a TransientError with 503.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiosqlite
import asyncpg
import orjson

from wirewatch import timeutil
from wirewatch.errors import ConfigError, TransientError, WirewatchError
from wirewatch.sinks.storage import SqliteStorage, _sqlite_sql, translate_postgres_error, translate_sqlite_error

from . import views
from .params import Filters, encode_cursor
from .schema import HEADLINES_VECTOR

# The rows of a JSON list bound as $n, per backend (as sinks/storage/common.py's _JSON_ROWS).
_JSON_ROWS = {
    "sqlite": "SELECT value FROM json_each(${n})",
    "postgresql": "SELECT jsonb_array_elements_text(CAST(${n} AS TEXT)::jsonb)",
}
# The ids of the stories whose headlines hold the words bound as $n.
_STORY_MATCHING = {
    "sqlite": "SELECT s.story_id FROM story_fts f JOIN story_search_ids s ON s.id = f.rowid WHERE story_fts MATCH ${n}",
    "postgresql": f"SELECT story_id FROM story_cards WHERE {HEADLINES_VECTOR.format(c='')} @@ plainto_tsquery('simple', ${{n}})",
}
_ARTICLE_COLUMNS = (
    "a.canonical_url, a.url, a.final_url, a.title, a.sitename, a.published, a.first_seen, "
    "a.language, a.figures, a.casualties, a.places"
)
_JSON = ("figures", "casualties", "places", "state", "alert")


def _match_text(backend: str, words: tuple[str, ...]) -> str:
    # FTS5: each word a quoted string (so no word is read as an operator), all required.
    return " ".join(f'"{w}"' for w in words) if backend == "sqlite" else " ".join(words)


def _page(rows: list[dict], limit: int, cursor_of) -> tuple[list[dict], str | None]:
    """A page of `rows` (fetched with limit + 1) and the cursor of the next page, if there is one."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(cursor_of(rows[-1]))


class _Where:
    """Conditions and their parameters, numbered as they are added."""

    def __init__(self) -> None:
        self.conds: list[str] = []
        self.args: list[Any] = []

    def arg(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def add(self, sql: str, *values: Any) -> None:
        self.conds.append(sql.format(*(self.arg(v) for v in values)))

    def sql(self) -> str:
        return ("WHERE " + " AND ".join(self.conds)) if self.conds else ""


class ReadStore:
    """``async with ReadStore(url) as rs: await rs.stories(filters)``; start() after the writer
    has brought the schema up to date (the service starts it once storage is ready)."""

    def __init__(self, url: str) -> None:
        scheme = urlsplit(url).scheme.lower()
        backend = {"postgresql": "postgresql", "postgres": "postgresql", "sqlite": "sqlite"}.get(scheme)
        if backend is None:
            raise ConfigError(f"read API: storage url scheme {scheme!r} is not postgresql:// or sqlite:///")
        self.backend: str = backend
        self.url = url
        self._pool: asyncpg.Pool | None = None
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()  # one aiosqlite connection: one query at a time

    async def __aenter__(self) -> ReadStore:
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def start(self) -> None:
        try:
            if self.backend == "postgresql" and self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self.url,
                    min_size=1,
                    max_size=4,
                    command_timeout=10,
                    server_settings={"application_name": "wirewatch-api", "timezone": "UTC"},
                )
            elif self.backend == "sqlite" and self._conn is None:
                path, _ = SqliteStorage._parse(self.url)
                conn = await aiosqlite.connect(path)
                conn.row_factory = aiosqlite.Row
                await conn.execute("PRAGMA query_only=1")
                await conn.execute("PRAGMA busy_timeout=5000")
                self._conn = conn
        except WirewatchError:
            raise
        except Exception as e:
            raise self._translate(e) from e

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        conn, self._conn = self._conn, None
        if pool is not None:
            await pool.close()
        if conn is not None:
            await conn.close()

    def _translate(self, e: BaseException) -> WirewatchError:
        translate = translate_postgres_error if self.backend == "postgresql" else translate_sqlite_error
        return translate(e) or TransientError("storage_unavailable", f"{type(e).__name__}: {e}")

    @asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        try:
            yield
        except WirewatchError:
            raise
        except Exception as e:
            translated = self._translate(e)
            raise translated from e

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Rows as dicts, JSON columns decoded, timestamps as aware datetimes."""
        async with self._guard():
            if self.backend == "postgresql":
                if self._pool is None:
                    raise TransientError("storage_unavailable", "read store not started")
                rows = [dict(r) for r in await self._pool.fetch(sql, *args)]
            else:
                if self._conn is None:
                    raise TransientError("storage_unavailable", "read store not started")
                async with self._lock, self._conn.execute(_sqlite_sql(sql), args) as cursor:
                    rows = [dict(r) for r in await cursor.fetchall()]
        for row in rows:
            for k in _JSON:
                if isinstance(row.get(k), str | bytes):
                    row[k] = orjson.loads(row[k])
        return rows

    # -- binding ----------------------------------------------------------------------------------

    def ts(self, value: datetime) -> Any:
        return value if self.backend == "postgresql" else timeutil.iso(value, zone="+00:00")  # SQLite's column text

    def ts_cursor(self, value: Any) -> str:
        """A timestamp as it goes into a cursor: exact to the microsecond, so paging neither skips nor repeats."""
        if isinstance(value, datetime):
            return timeutil.iso(value, zone="+00:00")
        return str(value)

    def ts_from_cursor(self, value: Any) -> Any:
        return self.ts(datetime.fromisoformat(str(value)))

    def _window(self, w: _Where, column: str, f: Filters) -> None:
        """since <= column < until."""
        if f.since:
            w.add(column + " >= {}", self.ts(f.since))
        if f.until:
            w.add(column + " < {}", self.ts(f.until))

    def _rows(self, n: int) -> str:
        return _JSON_ROWS[self.backend].replace("{n}", str(n))

    def _story_matching(self, where: _Where, words: tuple[str, ...]) -> str:
        n = where.arg(_match_text(self.backend, words))[1:]
        return _STORY_MATCHING[self.backend].replace("{n}", n)

    # -- stories ----------------------------------------------------------------------------------

    async def stories(self, f: Filters) -> dict[str, Any]:
        """{"items": [card, ...], "next": cursor or None}, the latest story activity first."""
        w = _Where()
        self._window(w, "c.last_at", f)
        if f.min_killed is not None:
            w.add("c.killed >= {}", f.min_killed)
        if f.min_injured is not None:
            w.add("c.injured >= {}", f.min_injured)
        if f.country:
            w.add("c.countries LIKE {}", f"%,{f.country},%")
        if f.rule:
            w.add("c.rules LIKE {} ESCAPE '\\'", "%," + f.rule.replace("\\", "\\\\").replace("_", "\\_") + ",%")
        if f.language:
            w.add(
                "EXISTS (SELECT 1 FROM story_members m JOIN articles a ON a.canonical_url = m.canonical_url "
                "WHERE m.story_id = c.story_id AND a.language = {})",
                f.language,
            )
        if f.words:
            w.conds.append(f"c.story_id IN ({self._story_matching(w, f.words)})")
        if f.cursor:
            w.add(
                "(c.last_at < {} OR (c.last_at = {} AND c.story_id < {}))",
                self.ts_from_cursor(f.cursor[0]),
                self.ts_from_cursor(f.cursor[0]),
                f.cursor[1],
            )
        rows = await self.fetch(
            f"SELECT c.story_id, c.last_at FROM story_cards c {w.sql()} "
            f"ORDER BY c.last_at DESC, c.story_id DESC LIMIT {w.arg(f.limit + 1)}",
            *w.args,
        )
        rows, nxt = _page(rows, f.limit, lambda last: [self.ts_cursor(last["last_at"]), last["story_id"]])
        return {"items": await self.cards([r["story_id"] for r in rows]), "next": nxt}

    async def cards(self, story_ids: list[str]) -> list[dict]:
        """The cards of these stories, in this order (missing ones left out)."""
        if not story_ids:
            return []
        stories = await self.fetch(
            "SELECT story_id, title, first_at, last_at, updated_at, state FROM stories "
            f"WHERE story_id IN ({self._rows(1)})",
            orjson.dumps(story_ids).decode(),
        )
        by_id = {s["story_id"]: s for s in stories}
        holders = await self._figure_articles(stories)
        return [views.card(by_id[i], holders) for i in story_ids if i in by_id]

    async def _figure_articles(self, stories: list[dict]) -> dict[str, dict]:
        urls = sorted(
            {
                (s["state"].get("figures") or {}).get(cat, {}).get("url") or ""
                for s in stories
                for cat in views.CATEGORIES
                if isinstance(s.get("state"), dict)
            }
            - {""}
        )
        if not urls:
            return {}
        rows = await self.fetch(
            f"SELECT canonical_url, casualties FROM articles WHERE canonical_url IN ({self._rows(1)})",
            orjson.dumps(urls).decode(),
        )
        return {r["canonical_url"]: r for r in rows}

    async def story(self, story_id: str) -> dict | None:
        """One story with its articles and toll history, or None."""
        found = await self.fetch(
            "SELECT story_id, title, first_at, last_at, updated_at, state FROM stories WHERE story_id = $1", story_id
        )
        if not found:
            return None
        articles = await self.fetch(
            f"SELECT {_ARTICLE_COLUMNS} FROM story_members m JOIN articles a "
            "ON a.canonical_url = m.canonical_url WHERE m.story_id = $1",
            story_id,
        )
        holders = {a["canonical_url"]: a for a in articles}
        return views.detail(found[0], articles, holders)

    async def changed_since(self, mark: Any, limit: int = 200) -> tuple[list[dict], Any]:
        """Cards of the stories updated after `mark` (None: now, nothing yet), and the new mark."""
        if mark is None:
            rows = await self.fetch("SELECT max(updated_at) AS m FROM story_cards")
            return [], rows[0]["m"] if rows and rows[0]["m"] is not None else self.ts(datetime.fromtimestamp(0, UTC))
        rows = await self.fetch(
            "SELECT story_id, updated_at FROM story_cards WHERE updated_at > $1 ORDER BY updated_at LIMIT $2",
            mark,
            limit,
        )
        if not rows:
            return [], mark
        return await self.cards([r["story_id"] for r in rows]), rows[-1]["updated_at"]

    # -- articles ---------------------------------------------------------------------------------

    async def articles(self, f: Filters) -> dict[str, Any]:
        """Full-text search (or, without words, every article), newest first, same shape on both backends."""
        w = _Where()
        columns = (
            f"{_ARTICLE_COLUMNS}, a.text, (SELECT m.story_id FROM story_members m "
            "WHERE m.canonical_url = a.canonical_url) AS story_id"
        )
        if self.backend == "sqlite":
            # FTS5 hands matches out in rowid order, and the ids follow the order articles were
            # first stored: ordering by the FTS rowid pages newest first without sorting the matches.
            key = "f.rowid" if f.words else "i.id"
            source = (
                "articles_fts f JOIN article_search_ids i ON i.id = f.rowid" if f.words else "article_search_ids i"
            ) + " JOIN articles a ON a.canonical_url = i.canonical_url"
            if f.words:
                w.add("articles_fts MATCH {}", _match_text(self.backend, f.words))
            if f.cursor:
                w.add(key + " < {}", int(f.cursor[0]))
            self._window(w, "a.first_seen", f)
            if f.language:
                w.add("a.language = {}", f.language)
            sql = f"SELECT {key} AS k, {columns} FROM {source} {w.sql()} ORDER BY {key} DESC LIMIT {w.arg(f.limit + 1)}"
        else:
            # The page of matches is chosen first (in a CTE the planner cannot fold into the join):
            # joined to the articles, the planner walks them newest first testing every tsvector, 40 ms
            # for a rare word on 100,000 articles; alone, it takes the GIN index: 4 ms.
            source = "article_search s" + (
                " JOIN articles a ON a.canonical_url = s.canonical_url" if f.language else ""
            )
            if f.words:
                w.add("s.search @@ plainto_tsquery('simple', {})", _match_text(self.backend, f.words))
            if f.cursor:
                w.add("(s.first_seen, s.canonical_url) < ({}, {})", self.ts_from_cursor(f.cursor[0]), f.cursor[1])
            self._window(w, "s.first_seen", f)
            if f.language:
                w.add("a.language = {}", f.language)
            sql = (
                f"WITH page AS MATERIALIZED (SELECT s.canonical_url, s.first_seen FROM {source} {w.sql()} "
                f"ORDER BY s.first_seen DESC, s.canonical_url DESC LIMIT {w.arg(f.limit + 1)}) "
                f"SELECT page.first_seen AS k, {columns} FROM page JOIN articles a ON a.canonical_url = page.canonical_url "
                "ORDER BY page.first_seen DESC, page.canonical_url DESC"
            )
        rows = await self.fetch(sql, *w.args)
        rows, nxt = _page(
            rows,
            f.limit,
            lambda last: (
                [last["k"], ""] if self.backend == "sqlite" else [self.ts_cursor(last["k"]), last["canonical_url"]]
            ),
        )
        return {"items": [views.article(r, f.words) for r in rows], "next": nxt}

    # -- alerts -----------------------------------------------------------------------------------

    async def alerts(self, f: Filters) -> dict[str, Any]:
        """What was sent where and how delivery went, newest first."""
        w = _Where()
        self._window(w, "d.created_at", f)
        if f.status:
            w.add("d.status = {}", f.status)
        json_field = "json_extract(d.alert, '$.{}')" if self.backend == "sqlite" else "(d.alert ->> '{}')"
        if f.rule:
            w.add(json_field.format("rule") + " = {}", f.rule)
        if f.story_id:
            w.add(json_field.format("story_id") + " = {}", f.story_id)
        if f.cursor:
            ts = self.ts_from_cursor(f.cursor[0])
            w.add(
                "(d.created_at < {} OR (d.created_at = {} AND d.alert_id || ' ' || d.target < {}))", ts, ts, f.cursor[1]
            )
        rows = await self.fetch(
            "SELECT d.alert_id, d.target, d.alert, d.status, d.attempts, d.created_at, d.updated_at, d.delivered_at "
            f"FROM alert_deliveries d {w.sql()} ORDER BY d.created_at DESC, d.alert_id || ' ' || d.target DESC "
            f"LIMIT {w.arg(f.limit + 1)}",
            *w.args,
        )
        rows, nxt = _page(
            rows, f.limit, lambda last: [self.ts_cursor(last["created_at"]), f"{last['alert_id']} {last['target']}"]
        )
        return {"items": [views.alert(r) for r in rows], "next": nxt}
