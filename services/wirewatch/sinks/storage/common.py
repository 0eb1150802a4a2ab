"""What every storage module shares: the error reasons, the transaction protocol a backend
provides, value helpers (NUL stripping, JSON, redaction) and ``StorageBase``, the abstract class the
table modules (articles, outcomes, ...) extend with their own methods and the backends implement.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

import orjson

from wirewatch import timeutil
from wirewatch.errors import PermanentError, TransientError, Unavailable
from wirewatch.sinks.base import Sink

OUTCOMES = frozenset({"stored", "filtered", "dead_lettered"})

UNAVAILABLE = "storage_unavailable"
REJECTED = "storage_rejected"

# Article fields kept as JSON text (orjson), decoded again on the way out.
JSON_COLUMNS = ("authors", "figures", "casualties", "keywords", "redirects", "places")
_JSON_DEFAULTS: dict[str, Any] = {
    "authors": [],
    "figures": {},
    "casualties": [],
    "keywords": [],
    "redirects": [],
    "places": [],
}
TS_COLUMNS = frozenset(
    {
        "first_seen",
        "updated_at",
        "created_at",
        "delivered_at",
        "applied_at",
        "next_poll_at",
        "last_polled_at",
        "last_new_item_at",
        "stale_alerted_at",
        "resolved_at",
        "expires_at",
    }
)


class _Tx(Protocol):
    """The three calls the shared code needs from a backend connection inside a transaction."""

    async def execute(self, sql: str, *args: Any) -> None: ...
    async def fetchrow(self, sql: str, *args: Any) -> dict[str, Any] | None: ...
    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]: ...


T = TypeVar("T")
# A transaction's body: given the transaction, awaits its statements (and nothing else) and returns.
Body = Callable[[_Tx], Awaitable[T]]


def _utcnow() -> datetime:
    return timeutil.utc_now()  # the one clock (timeutil); the column format stays each backend's own


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
    """`value` as JSON text, without NUL. JSON writes a NUL as the escape \\u0000, so only a text
    holding that escape is written again from a stripped copy (almost never): the walk that strips
    costs more than the encoding itself on a story's state (a few hundred values)."""
    try:
        out = orjson.dumps(value)
        if b"\\u0000" in out:
            out = orjson.dumps(_strip_nul(value))
    except orjson.JSONEncodeError as e:
        raise PermanentError(REJECTED, f"not JSON-serialisable: {e}") from e
    return out.decode()


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class GroupCommit:
    """Transaction parts (``async def part(tx) -> result``) handed in while a transaction is being
    written wait and go together in the next one: a group commit. Under load one transaction (one
    trip to SQLite's thread, one commit, one fsync) serves many links' calls; alone, a part is
    written at once. Each caller still returns only when its own part is committed, so an offset
    is never committed before what it stands for is durable. One bad part does not fail the others:
    a batch that fails for anything but the storage being down (the database refuses a row, a bug
    in one part) is written again one part at a time, so the error stays with the part it belongs
    to (every part is an idempotent upsert or a read, safe to run again).

    ``soon(part, within)`` is for a write nobody waits for (a link's alias: a shortcut, not a
    promise) or nobody is in a hurry for (an alert's delivery mark: the receiver has it): it starts
    no transaction of its own but rides with the next one, at the latest `within` seconds later,
    so alone it costs no trip to the database of its own.

    ``writers``: transactions written at once. SQLite writes one at a time anyway (one thread, one
    write lock): one writer. PostgreSQL runs transactions side by side on its pool's connections,
    and one writer alone there cost wall time per link while it saved CPU: a few writers keep both."""

    def __init__(
        self, transact: Callable[[Body[list[Any]]], Awaitable[list[Any]]], max_batch: int = 64, writers: int = 1
    ) -> None:
        self._transact, self._max, self._most = transact, max_batch, max(1, writers)
        self._queued: list[tuple[Body[Any], asyncio.Future[Any]]] = []
        self._writers: set[asyncio.Task[None]] = set()
        self._due: asyncio.TimerHandle | None = None

    async def run(self, part: Body[T]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queued.append((part, future))
        self._start()
        return await future

    def soon(self, part: Body[Any], within: float) -> asyncio.Future[Any]:
        """Queue `part` for the next transaction (at the latest `within` seconds from now) and return
        its future at once: awaited, it is done once that transaction is committed; or whoever
        cares about the outcome adds a callback."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queued.append((part, future))
        due = loop.time() + within
        if not self._writers and (self._due is None or self._due.when() > due):
            if self._due is not None:  # a part in more of a hurry than those queued before
                self._due.cancel()
            self._due = loop.call_at(due, self._start)
        return future

    async def flush(self, timeout: float = 10.0) -> None:
        """Write what is queued now instead of at its due time, and wait (at most `timeout` seconds)
        until no writer is left: a closing storage does not leave its queued parts (a delivery mark,
        an alias) unwritten, which would send an alert again after a restart. Best effort: a part
        that fails here has told its own caller."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._queued or self._writers:
            self._start()
            left = deadline - loop.time()
            if left <= 0 or not self._writers:
                return
            await asyncio.wait(set(self._writers), timeout=left)

    def _start(self) -> None:
        if self._due is not None:
            self._due.cancel()
            self._due = None
        if self._queued and len(self._writers) < self._most:
            writer = asyncio.create_task(self._drain())
            self._writers.add(writer)
            writer.add_done_callback(self._ended)

    def _ended(self, writer: asyncio.Task[None]) -> None:
        """A writer cancelled before it ever ran never reached its own ``finally``."""
        if writer in self._writers:
            self._writers.discard(writer)
            if not self._writers:
                left, self._queued = self._queued, []
                _settle(left, None, Unavailable(UNAVAILABLE, "the storage writer stopped"))

    async def _drain(self) -> None:
        batch: list[tuple[Body[Any], asyncio.Future[Any]]] = []
        try:
            while self._queued:
                batch, self._queued = self._queued[: self._max], self._queued[self._max :]
                await self._commit(batch)
        finally:
            # Out of the count at once (no await since the queue was seen empty), so a part queued
            # from now on starts a writer. Whatever stopped this one (cancelled while it wrote a
            # batch again part by part), no caller is left waiting: the batch's parts not settled
            # yet, and those queued behind when no other writer is left to write them.
            self._writers.discard(asyncio.current_task())
            left = batch
            if not self._writers:
                left, self._queued = batch + self._queued, []
            _settle(left, None, Unavailable(UNAVAILABLE, "the storage writer stopped"))

    async def _commit(self, batch: list[tuple[Body[Any], asyncio.Future[Any]]]) -> None:
        parts = [part for part, _ in batch]

        async def body(tx: _Tx) -> list[Any]:
            return [await part(tx) for part in parts]

        try:
            results = await self._transact(body)
        except TransientError as e:  # storage down: every caller hears it (its stage pauses)
            _settle(batch, None, e)
        except Exception as e:  # noqa: BLE001 - refused, or a bug in one part: it stays with its part
            if len(batch) == 1:
                _settle(batch, None, e)
                return
            for one in batch:
                await self._commit([one])
        except BaseException:  # this task cancelled (shutdown): every caller hears it
            _settle(batch, None, Unavailable(UNAVAILABLE, "write cancelled"))
            raise
        else:
            _settle(batch, results, None)


def _settle(
    batch: list[tuple[Body[Any], asyncio.Future[Any]]], results: list[Any] | None, error: Exception | None
) -> None:
    for i, (_, future) in enumerate(batch):
        if future.done():  # its caller was cancelled (a rebalance): the write happened anyway
            continue
        if error is not None:
            future.set_exception(error)
        else:
            assert results is not None
            future.set_result(results[i])


def _fetching(sql: str, *args: Any) -> Body[list[dict[str, Any]]]:
    """A transaction body that fetches the rows of `sql` with `args` (bound now, not when it runs)."""
    return lambda tx: tx.fetch(sql, *args)


class StorageBase(Sink):
    """A storage's backend-specific parts (abstract) and the helpers every table module uses."""

    backend: str = ""

    # Story assignment and throttle windows are read-decide-write over several rows; concurrent
    # workers must not both decide. PostgreSQL: one transaction-scoped advisory lock serialises
    # them across workers (a few ms each). SQLite: BEGIN IMMEDIATE already serialises writers.
    _STORY_LOCK: str | None = None
    # Whether such a decision may share the group commit with a link's other calls. Where writes
    # are serialised anyway (SQLite: one thread, one write lock) it costs no transaction of its own
    # (one BEGIN, COMMIT and fsync fewer a routed link). Not under the story lock (PostgreSQL):
    # held for the whole shared transaction it would wait on, and be waited on by, the row locks
    # of the group's other writers (a deadlock), and would serialise their writes too.
    _DECIDE_IN_GROUP = False

    # A JSON list bound as parameter $n, as rows with one column "value" (for IN and INSERT ... SELECT).
    _JSON_ROWS = "json_each(${n})"

    def __init__(self, url: str, *, writers: int = 1) -> None:
        self.url = url
        self._group = GroupCommit(self._transact, writers=writers)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({_redact(self.url)!r})"

    # -- what a backend provides ---------------------------------------------------------------

    @abstractmethod
    async def _transact(self, body: Body[T], *, read_only: bool = False) -> T:
        """``await body(tx)`` in one transaction: committed when it returns, rolled back when it
        raises, errors translated. The body awaits only ``tx``'s statements, with pure code between
        them (no other I/O, nothing of the event loop's): SQLite runs it whole in its own thread,
        one hand-off per transaction instead of one per statement. ``read_only``: the body only
        reads; on SQLite it then reads a snapshot (BEGIN DEFERRED, WAL) and waits for no writer,
        where a writing body takes the write lock first (BEGIN IMMEDIATE) and waits for others'."""

    async def transact(self, body: Body[T], *, read_only: bool = False) -> T:
        """``_transact`` for modules that keep tables of their own here (sinks/outbox.py, parked.py)."""
        return await self._transact(body, read_only=read_only)

    async def batched(self, part: Body[T]) -> T:
        """``part`` in the next transaction shared with the parts handed in meanwhile (``GroupCommit``):
        the small calls every link makes (its alias, article, outcome, alert ledger, parked row)."""
        return await self._group.run(part)

    async def _flush_queued(self) -> None:
        """On close, before the connection goes: write the parts queued to ride with a later
        transaction (delivery marks, aliases), so a clean stop loses none of them."""
        with suppress(Exception):
            await self._group.flush()

    async def _decide(self, body: Body[T]) -> T:
        """A read-decide-write `body` (story, throttle window): in the group commit where
        ``_DECIDE_IN_GROUP``, else in a transaction of its own under ``_STORY_LOCK``. Either way it
        returns once committed, and may run again after a rollback (its decision is pure)."""
        if self._DECIDE_IN_GROUP:
            return await self.batched(body)
        return await self._transact(body)

    @abstractmethod
    def _ddl(self, script: str) -> list[str]:
        """CREATE statements of `script` (a schema._MIGRATIONS entry) for this backend's types."""

    @abstractmethod
    def _ts(self, value: datetime) -> Any:
        """A UTC datetime as this backend binds it."""

    @abstractmethod
    def _from_ts(self, value: Any) -> datetime | None:
        """A stored timestamp back to an aware UTC datetime."""

    # -- shared helpers ---------------------------------------------------------------------------

    def _row_out(self, row: dict[str, Any]) -> dict[str, Any]:
        return {k: (self._from_ts(v) if k in TS_COLUMNS else v) for k, v in row.items()}

    def _json_in(self, value: Any) -> Any:
        return orjson.loads(value) if isinstance(value, str | bytes) else value

    def _keyed(self, sql: str, n: int, name: str = "keys") -> str:
        return sql.replace("{" + name + "}", self._JSON_ROWS.replace("{n}", str(n)))

    async def _fetch_keyed(self, sql: str, keys: list[str], chunk: int = 1000) -> list[dict[str, Any]]:
        """The rows of read-only `sql` whose {keys} (the JSON list $1) are `keys`, `chunk` at a time:
        bounded statements however many keys are asked about."""
        rows: list[dict[str, Any]] = []
        for i in range(0, len(keys), chunk):
            part = _dumps(keys[i : i + chunk])
            rows += await self._transact(_fetching(self._keyed(sql, 1), part), read_only=True)
        return rows
