"""Article storage (a package: one module per thing stored, this file the public API): enriched articles in, one row per canonical URL out; plus per-link outcomes and
alert-delivery bookkeeping. Two backends behind one interface and the same SQL statements:

    PostgresStorage   asyncpg pool       postgresql://user@host:5432/db   (the service)
    SqliteStorage     sqlite3, WAL       sqlite:///abs/path/wirewatch.db  (embedded single machine)

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

A transaction is a body, ``async def body(tx)``, that awaits only its statements; ``transact(body)``
runs it whole: on SQLite in the connection's own thread, one hand-off from the event loop per
transaction rather than one per statement (sqlite.py), on PostgreSQL on one pooled connection.

``add(item, stored_by=stage)`` writes through, so an item is durable when ``add`` returns and
``flush()`` is only a barrier; the article, its link and the link's ``stored`` outcome are one
transaction. The small calls every link or alert makes go through one group commit,
``batched(part)``: the article (``add``), its alias (``get_alias``, ``put_alias``), an outcome, the
alert ledger (``claim_alert``, ``mark_delivered``), parked alerts and outbox rows, and on SQLite
(one writer) the story and throttle decisions too (on PostgreSQL those keep a transaction of their
own under the story lock, which a shared transaction would hold for all its writers). Calls that
arrive while a transaction is being written (on PostgreSQL: while four are) go together in the
next one (``GroupCommit``: one trip, one commit, one fsync for many calls under load, none added
alone), and a batch the database refuses is written again one call at a time, so a bad article's
error stays attached to it. A link's alias and an alert's delivery mark start no transaction of
their own: they ride with the next one (``GroupCommit.soon``; the mark still returns once committed).

Errors from asyncpg/sqlite are translated here and nowhere else: connection trouble becomes
``Unavailable("storage_unavailable")`` (the stage pauses and waits), data the database refuses becomes
``PermanentError("storage_rejected")``. Our own timestamps (first_seen, updated_at, ...) are UTC;
upstream strings (published, fetched_at) are stored verbatim.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from wirewatch.errors import ConfigError
from wirewatch.sinks.storage.common import JSON_COLUMNS, OUTCOMES, REJECTED, TS_COLUMNS, UNAVAILABLE, _redact
from wirewatch.sinks.storage.facade import Storage
from wirewatch.sinks.storage.postgres import PostgresStorage, translate_postgres_error
from wirewatch.sinks.storage.schema import _MIGRATIONS, SCHEMA_VERSION
from wirewatch.sinks.storage.sqlite import SqliteStorage, _sqlite_sql, translate_sqlite_error

__all__ = [
    "JSON_COLUMNS", "OUTCOMES", "REJECTED", "SCHEMA_VERSION", "TS_COLUMNS", "UNAVAILABLE", "_MIGRATIONS",
    "PostgresStorage", "SqliteStorage", "Storage", "_sqlite_sql", "open_storage",
    "translate_postgres_error", "translate_sqlite_error",
]  # fmt: skip


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
