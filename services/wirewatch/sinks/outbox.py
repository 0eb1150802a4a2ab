"""The outbox: what wirewatch accepted is in storage before anyone is told it was, until it is settled.

Why: the embedded broker (tansu) keeps every topic and committed offset in memory, so a crash of
`wirewatch run` used to lose every link between intake and outcome and every alert between raise and
delivery, silently. Storage (SQLite under data_dir by default) survives a crash; the outbox puts the
two kinds of promises wirewatch makes into it:

- a **link** (schema ``link``, id ``link_id``) is written here before `POST /links` answers 202,
  before `wirewatch submit` prints its id and before the feed poller records the item as seen. It
  is *settled* when its outcome is final: filtered or dead-lettered (outcomes agents), or stored
  (store agent) and routed (route agent; the alerts it raised are written in that transaction);
- an **alert** (schema ``alert``, id ``alert_id``) is written when raised (route, digests, stale
  sources) and settled when the alert agent has delivered it to every channel (or dead-lettered it).

Rows go out on their topic at once (``deliver``). What is not settled goes out again:

- ``reopen()``, at the start of a worker on the embedded broker (tansu keeps nothing; the embedded
  Kafka may lose its unflushed tail in a reboot), sends every row accepted before the start and
  not settled;
- ``relay()``, on any broker, sends the rows whose first send failed or timed out (broker down),
  so intake answers 202 during a broker outage and the links flow once it is back.

Sending again is harmless by design: a link's outcome is one row per link_id, articles upsert on
the canonical URL, a re-routed article re-raises the same alert ids and the delivery ledger
(``alert_deliveries``) skips channels that already have an alert. Settled rows are pruned after a day.

Tables are this module's own (``outbox``), created on first use through ``Storage.transact``;
times are epoch seconds, so one statement serves PostgreSQL and SQLite.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from ..errors import PermanentError, Rejected, WirewatchError
from .own_tables import OwnTables

log = logging.getLogger(__name__)

__all__ = ["Outbox", "Row", "outbox_enabled", "resend_at_start"]

_DDL = (
    """CREATE TABLE IF NOT EXISTS outbox (
    schema      TEXT NOT NULL,
    id          TEXT NOT NULL,
    msg_key     TEXT,
    payload     TEXT NOT NULL,
    accepted_at DOUBLE PRECISION NOT NULL,
    sent_at     DOUBLE PRECISION,
    done        INTEGER NOT NULL DEFAULT 0,
    settled_at  DOUBLE PRECISION,
    PRIMARY KEY (schema, id)
)""",
    "CREATE INDEX IF NOT EXISTS outbox_open_idx ON outbox (settled_at, accepted_at)",
)
_ACCEPT = """INSERT INTO outbox (schema, id, msg_key, payload, accepted_at, sent_at)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (schema, id) DO NOTHING"""
_SENT = "UPDATE outbox SET sent_at = $3 WHERE schema = $1 AND id = $2 AND sent_at IS NULL"
# A row is settled when every part of its work is done: PARTS (bits) of `done`.
_SETTLE = """UPDATE outbox SET done = done | $3,
    settled_at = CASE WHEN settled_at IS NULL AND (done | $3) = $4 THEN $5 ELSE settled_at END
WHERE schema = $1 AND id = $2"""
_OPEN = """SELECT schema, id, msg_key, payload FROM outbox
WHERE settled_at IS NULL AND accepted_at < $1 {unsent} ORDER BY accepted_at LIMIT $2"""
_UNSEND = "UPDATE outbox SET sent_at = NULL WHERE settled_at IS NULL AND accepted_at < $1"
_PRUNE = "DELETE FROM outbox WHERE settled_at IS NOT NULL AND settled_at < $1"
_COUNT_OPEN = "SELECT schema, COUNT(*) AS n FROM outbox WHERE settled_at IS NULL GROUP BY schema"

# The parts of a link's work after which it is settled: stored (store agent) and routed (route
# agent) are two consumers of one topic, done in either order; a filtered or dead-lettered link is
# settled at once ("all"), as is a delivered alert.
PARTS = {"route": 1, "store": 2, "all": 3}

Send = Callable[[str, str | None, bytes], Awaitable[None]]
Encode = Callable[[str, dict[str, Any]], bytes]


@dataclass(frozen=True, slots=True)
class Row:
    """One promise: the topic's contract name, the id it is settled by, the message key and payload."""

    schema: str
    id: str
    key: str | None
    payload: dict[str, Any]


def resend_at_start(settings: Any) -> bool:
    """True when a restart may find the broker without what it acknowledged: the embedded broker.
    tansu keeps everything in memory; the embedded Apache Kafka does not fsync each message, so a
    reboot of the one machine can take its tail. Sending again is harmless; losing is not."""
    return bool(settings.broker == "embedded")


def outbox_enabled(settings: Any) -> bool:
    """settings.outbox: "on", "off", or "auto" (on with the embedded broker, where it is the durability)."""
    mode = getattr(settings, "outbox", "auto")
    return mode == "on" or (mode == "auto" and settings.broker == "embedded")


class Outbox:
    """The outbox table of one storage. ``storage`` may be a callable returning it (opened later)."""

    def __init__(
        self, storage: Any, *, send_timeout: float = 5.0, grace: float = 30.0, clock: Callable[[], float] = time.time
    ) -> None:
        self._tables = OwnTables(storage, _DDL)
        self.send_timeout = send_timeout  # a send slower than this is left to relay(): intake never hangs
        self.grace = grace  # relay() leaves a row this long to the send that accepted it
        self.clock = clock

    @property
    def storage(self) -> Any:
        return self._tables.storage

    # -- writing promises -------------------------------------------------------------------------

    async def accept(
        self, rows: Iterable[Row], *, sent: bool = False, settle: Row | None = None, part: str = "all"
    ) -> None:
        """Write `rows` (a row already there is kept as it is) in one transaction; with `settle`,
        mark `part` of that row's work done in the same one (PARTS). `sent`: the caller's own send follows at once and a
        crash before it is re-delivered by the broker (agents), so relay() need not send them."""
        now = self.clock()
        values = [(r.schema, r.id, r.key, orjson.dumps(r.payload).decode(), now, now if sent else None) for r in rows]

        async def accept(tx: Any) -> None:
            for v in values:
                await tx.execute(_ACCEPT, *v)
            if settle is not None:
                await tx.execute(_SETTLE, settle.schema, settle.id, PARTS[part], PARTS["all"], now)

        await self._tables.batched(accept)

    async def deliver(self, rows: list[Row], send: Send, encode: Encode) -> int:
        """Accept `rows`, then send each (at most ``send_timeout`` each) and mark the ones sent.
        A row that could not be sent stays for relay(); returns how many were sent now."""
        await self.accept(rows)
        return await self.send_rows(rows, send, encode)

    async def send_rows(self, rows: list[Row], send: Send, encode: Encode) -> int:
        sent: list[Row] = []
        for r in rows:
            try:
                await asyncio.wait_for(send(r.schema, r.key, encode(r.schema, r.payload)), self.send_timeout)
            except Exception as e:  # noqa: BLE001 - broker down, a timeout, a client error: the row is safe here
                log.warning("outbox: %s %s not sent now (%r); it is kept and sent again later", r.schema, r.id, e)
                break  # the broker is not answering: leave the rest to relay() too
            sent.append(r)
        if sent:
            now = self.clock()

            async def mark(tx: Any) -> None:
                for r in sent:
                    await tx.execute(_SENT, r.schema, r.id, now)

            await self._tables.batched(mark)
        return len(sent)

    # -- sending again ----------------------------------------------------------------------------

    async def open_rows(self, before: float, *, unsent_only: bool, limit: int = 500) -> list[Row]:
        """Rows accepted before `before` and not settled (only the never-sent ones: `unsent_only`)."""
        sql = _OPEN.replace("{unsent}", "AND sent_at IS NULL" if unsent_only else "")
        found = await self._tables.transact(lambda tx: tx.fetch(sql, before, limit), read_only=True)
        return [Row(r["schema"], r["id"], r["msg_key"], orjson.loads(r["payload"])) for r in found]

    async def reopen(self, started_at: float, send: Send, encode: Encode) -> int:
        """The embedded broker restarted (empty, or short of its tail): every row accepted before
        `started_at` and not settled is unsent again, and sent. Returns how many were sent."""
        await self._tables.transact(lambda tx: tx.execute(_UNSEND, started_at))
        return await self._relay_before(started_at, send, encode)

    async def relay(self, send: Send, encode: Encode) -> int:
        """Send the rows no one could send (never sent, older than ``grace``); how many were sent."""
        return await self._relay_before(self.clock() - self.grace, send, encode)

    async def _relay_before(self, before: float, send: Send, encode: Encode) -> int:
        total = 0
        while rows := await self.open_rows(before, unsent_only=True):
            n = await self.send_rows(rows, send, encode)
            total += n
            if n < len(rows):  # the broker stopped answering: try again on the next tick
                break
        return total

    async def prune(self, keep: float = 86400.0) -> None:
        before = self.clock() - keep
        await self._tables.transact(lambda tx: tx.execute(_PRUNE, before))

    async def open_counts(self) -> dict[str, int]:
        """Rows not settled yet, per schema (for tests and `wirewatch` diagnostics)."""
        rows = await self._tables.transact(lambda tx: tx.fetch(_COUNT_OPEN), read_only=True)
        return {r["schema"]: int(r["n"]) for r in rows}

    async def run(
        self,
        send: Send,
        encode: Encode,
        *,
        reopen: bool,
        started_at: float,
        interval: float = 2.0,
        on_resent: Callable[[str, int], None] | None = None,
    ) -> None:
        """The worker's outbox task: `reopen` once (resend_at_start), then relay and prune forever."""
        to_reopen, ticks = reopen, 0
        while True:
            try:
                if to_reopen:
                    n = await self.reopen(started_at, send, encode)
                    to_reopen = False
                    log.info("outbox: %d links and alerts the broker lost when it stopped were sent again", n)
                    if n and on_resent:
                        on_resent("reopen", n)
                n = await self.relay(send, encode)
                if n and on_resent:
                    on_resent("relay", n)
                if ticks % 1800 == 0:  # about hourly
                    await self.prune()
                ticks += 1
            except WirewatchError as e:  # storage down: the rows wait where they are
                log.warning("outbox: %s; trying again in %.0fs", e, interval)
            await asyncio.sleep(interval)


def link_row(link: dict[str, Any]) -> Row:
    return Row("link", link["link_id"], link["url"], link)


def alert_row(alert: dict[str, Any]) -> Row:
    return Row("alert", alert["alert_id"], alert["alert_id"], alert)


def settling(
    outbox: Outbox | None, make_core: Callable[[Any], Any], schema: str, part: str = "all"
) -> Callable[[Any], Any]:
    """`make_core` (an agent's core factory) whose core, once it returned, marks `part` (PARTS) of
    the message's link (schema "link", by link_id) or alert (schema "alert", by alert_id) done. The
    alerts the core returns are accepted in that same transaction, so a link is never settled with
    its alerts unsaved (route). A core that answers for good by raising (``PermanentError``,
    ``Rejected``: the runner dead-letters or files it) settles too, so a dead-lettered alert is not
    sent again at every start. Without an outbox, `make_core` unchanged."""
    if outbox is None:
        return make_core
    field = "link_id" if schema == "link" else "alert_id"

    def make(rt: Any) -> Any:
        core = make_core(rt)

        async def settled(value: dict[str, Any]) -> list[Any]:
            try:
                out: list[Any] = await core(value)
            except (PermanentError, Rejected):  # a final answer: the runner files it (dead letter,
                if value.get(field):  # filtered), which keeps the item; nothing to resend
                    await outbox.accept([], sent=True, settle=Row(schema, value[field], None, {}), part=part)
                raise
            if value.get(field):
                raised = [alert_row(e.value) for e in out if e.schema == "alert"]
                await outbox.accept(raised, sent=True, settle=Row(schema, value[field], None, {}), part=part)
            return out

        return settled

    return make
