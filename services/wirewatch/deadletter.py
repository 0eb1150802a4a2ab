"""Dead letters for operators: `wirewatch deadletter list|show|replay`.

In:  the dead-letter topic (every letter with the full message that failed, its stage, reason and
     the topic it was read from) and the `link_outcomes` rows in storage (one per link; they outlive
     the topic's retention but hold only the link's id, URL, stage and reason).
Out: counts by stage and reason, one letter as JSON, or the failed items put back on the input
     topic of the stage that failed them.

Why both sources: the topic keeps what a replay needs (an alert, an enriched article), but only for
its retention (7 days by default on Kafka); storage keeps every link's outcome forever. A letter
still on the topic is replayed as it was; a link whose letter has expired is replayed from its
outcome row as a fresh link message (same `link_id`), which redoes it from fetch.

Replay is idempotent, so running it twice (or while a first replay is still being worked) stores no
article twice and sends no alert twice: articles are upserted on the canonical URL, one outcome row
per `link_id`, the route stage raises the same alert ids for the same story, and the delivery ledger
skips a channel that already has an alert. Links stored or filtered since, and alerts every channel
has since, are not sent again at all (`--include-settled` sends them anyway). Letters nested by an
older outcomes stage (a letter about a letter) are unwrapped to the first stage and reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections import Counter
from collections.abc import AsyncGenerator, Iterable, Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from . import contract, timeutil
from .api.params import parse_when  # ISO 8601 or a duration back from now: 90s, 30m, 6h, 2d
from .errors import BadRequest, ConfigError, InvalidMessage
from .settings import Settings
from .topics import TOPICS

# The stages whose every item is a link: its outcome row says whether it was settled since.
LINK_STAGES = ("fetch", "enrich", "store", "outcomes")

# The key each topic's messages carry (schemas/README.md): same key, same partition, same order.
KEY_FIELD = {
    "link": "url",
    "article": "canonical_url",
    "enriched": "canonical_url",
    "alert": "alert_id",
    "filtered": "link_id",
    "deadletter": "link_id",
}


@dataclass
class Letter:
    """One dead letter as an operator sees it: the first stage and reason, where it was read."""

    stage: str
    reason: str
    detail: str
    topic: str
    payload: Any
    link_id: str | None
    url: str | None
    at: str
    source: str = "topic"  # "topic" (a letter on the dead-letter topic) or "outcome" (a row in storage)
    where: str = ""  # partition/offset on the dead-letter topic
    nested: int = 0  # letters about letters unwrapped to reach this one
    outcome: str | None = None  # the link's outcome row now, when there is one
    raw: dict = field(default_factory=dict)

    @property
    def ident(self) -> str:
        """What one failed item is: a letter read twice (a crash, a replay that failed again) is one."""
        if self.link_id:
            return f"{self.stage}:{self.link_id}:{_digest(self.payload) if self.stage == 'alert' else ''}"
        return f"{self.stage}:{_digest(self.payload)}"

    def as_dict(self) -> dict:
        out = {
            k: getattr(self, k)
            for k in (
                "stage",
                "reason",
                "detail",
                "topic",
                "link_id",
                "url",
                "at",
                "source",
                "where",
                "nested",
                "outcome",
            )
        }
        out["payload"] = self.payload
        return out


def _digest(value: Any) -> str:
    return hashlib.sha256(orjson.dumps(value, default=str, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def from_record(value: bytes, where: str = "") -> Letter | None:
    """A dead-letter topic record -> a Letter (the innermost when letters are nested); None if unreadable."""
    try:
        letter = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(letter, dict) or "stage" not in letter:
        return None
    outer, nested = letter, 0
    while _is_letter(letter.get("payload")):
        letter, nested = letter["payload"], nested + 1
    return Letter(
        stage=str(letter.get("stage")),
        reason=str(letter.get("reason")),
        detail=str(letter.get("detail") or ""),
        topic=str(letter.get("topic") or ""),
        payload=letter.get("payload"),
        link_id=letter.get("link_id") or outer.get("link_id"),
        url=letter.get("url") or outer.get("url"),
        at=str(outer.get("at") or ""),
        where=where,
        nested=nested,
        raw=outer,
    )


def _is_letter(value: Any) -> bool:
    return isinstance(value, dict) and {"stage", "reason", "topic", "payload"} <= value.keys()


def from_outcome(row: dict) -> Letter:
    return Letter(
        stage=row["stage"],
        reason=row["reason"],
        detail=row.get("detail") or "",
        topic="",
        payload=None,
        link_id=row["link_id"],
        url=row.get("url") or None,
        at="",
        source="outcome",
        outcome=row["outcome"],
    )


@dataclass
class Filter:
    stages: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    link_ids: tuple[str, ...] = ()
    include_settled: bool = False

    @classmethod
    def parse(
        cls,
        stages: Iterable[str] = (),
        reasons: Iterable[str] = (),
        since: str | None = None,
        until: str | None = None,
        link_ids: Iterable[str] = (),
        include_settled: bool = False,
    ) -> Filter:
        now = timeutil.utc_now()
        try:
            t0 = parse_when("since", since, now) if since else None
            t1 = parse_when("until", until, now) if until else None
        except BadRequest as e:
            raise ConfigError(e.detail) from e
        return cls(tuple(stages), tuple(reasons), t0, t1, tuple(link_ids), include_settled)

    def timed(self) -> bool:
        return self.since is not None or self.until is not None

    def keeps(self, letter: Letter) -> bool:
        if self.stages and letter.stage not in self.stages:
            return False
        if self.reasons and letter.reason not in self.reasons:
            return False
        if self.link_ids and letter.link_id not in self.link_ids:
            return False
        if not self.include_settled and settled(letter):
            return False
        if self.timed():
            at = timeutil.parse(letter.at)
            if at is None:  # an expired letter's outcome row carries no time: outside any range
                return False
            if (self.since and at < self.since) or (self.until and at >= self.until):
                return False
        return True


def settled(letter: Letter) -> bool:
    """Done since it was dead-lettered (a redelivery, an earlier replay): a link stored or filtered,
    an alert every channel has. A route letter cannot tell (its link's row says `stored` either way)."""
    if letter.stage == "alert":
        return letter.outcome == "delivered"
    return letter.stage in LINK_STAGES and letter.outcome in ("stored", "filtered")


def merge(letters: list[Letter], outcomes: list[dict], delivered: AbstractSet[str] = frozenset()) -> list[Letter]:
    """The latest letter per failed item, each with where it stands now (its link's outcome; for an
    alert, `delivered` when every channel has it), plus the dead-lettered outcome rows whose letter
    has left the topic (retention). Pure."""
    latest: dict[str, Letter] = {}
    for letter in with_outcomes(letters, outcomes, delivered):
        latest[letter.ident] = letter  # topic order per partition; a later copy wins
    seen_links = {letter.link_id for letter in letters if letter.link_id}
    for row in outcomes:
        if row["outcome"] == "dead_lettered" and row["link_id"] not in seen_links and row.get("url"):
            latest[f"outcome:{row['link_id']}"] = from_outcome(row)
    return list(latest.values())


def with_outcomes(letters: list[Letter], outcomes: list[dict], delivered: AbstractSet[str]) -> list[Letter]:
    """`letters`, each told where its item stands now: its link's outcome row; for an alert,
    `delivered` when every channel has it (its id in `delivered`). Pure but for setting `outcome`."""
    by_link = {row["link_id"]: row for row in outcomes}
    for letter in letters:
        if letter.stage == "alert":
            alert_id = letter.payload.get("alert_id") if isinstance(letter.payload, dict) else None
            letter.outcome = "delivered" if alert_id in delivered else "undelivered"
        elif letter.link_id in by_link:
            letter.outcome = by_link[letter.link_id]["outcome"]
    return letters


def counts(letters: Iterable[Letter]) -> list[dict]:
    """Letters by (stage, reason), most first."""
    return _count_rows(Counter((letter.stage, letter.reason) for letter in letters))


def _count_rows(c: Counter[tuple[str, str]]) -> list[dict]:
    return [{"stage": s, "reason": r, "count": n} for (s, r), n in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))]


@dataclass
class Replay:
    """What a replay sends: one message on a stage's input topic."""

    schema: str
    topic: str
    key: str | None
    value: bytes


class NotReplayable(Exception):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def plan(letter: Letter, settings: Settings, now: str) -> Replay:
    """The message that puts `letter`'s item back at the stage that failed it. Pure.

    The letter's own payload goes back on the topic it was read from; when that payload is gone
    (an expired letter, or only an excerpt of an oversize message was kept) a link with the same
    `link_id` goes on the links topic, which redoes the item from fetch."""
    schema_of = {settings.topic(name): schema for schema, name in TOPICS.items()}
    schema = schema_of.get(letter.topic)
    if schema and schema != "deadletter" and isinstance(letter.payload, dict):
        try:
            value = contract.relay(schema, letter.payload)  # whole: a later version's fields reach a later reader
        except InvalidMessage:
            value = None
        if value is not None:
            key = letter.payload.get(KEY_FIELD[schema])
            return Replay(schema, letter.topic, key if isinstance(key, str) else None, value)
    if letter.reason == "invalid_message":
        raise NotReplayable("invalid_message: the message breaks its schema; fix its producer and submit it again")
    if letter.stage not in LINK_STAGES and letter.source == "topic":
        raise NotReplayable(f"no {letter.topic or 'input'} message to replay (the letter kept no valid payload)")
    if not (letter.link_id and letter.url):
        raise NotReplayable("neither a valid payload nor a link id and URL to start over from")
    link = {"link_id": letter.link_id, "url": letter.url, "source": "replay", "submitted_at": now}
    try:
        return Replay("link", settings.topic("links"), letter.url, contract.encode("link", link))
    except InvalidMessage as e:
        raise NotReplayable(f"cannot rebuild its link: {e.detail}") from e


# -- the side that talks to Kafka and storage --------------------------------------------------


# Letters read from the topic, and asked about in storage, at a time. The consumer fetches at most
# FETCH_BYTES of a partition before its records are taken, so memory holds about a page whatever the
# topic's length (a record larger than that still comes, alone).
PAGE = 500
FETCH_BYTES = 1 << 20


async def read_pages(
    bootstrap: str, topic: str, page: int = PAGE, timeout: float = 60.0
) -> AsyncGenerator[list[Letter], None]:
    """The letters on the dead-letter topic now (up to the end offsets found at the start), `page`
    at a time, partition by partition in offset order. Reads without a consumer group: nothing is
    committed, the workers' group is not disturbed. Leaving early (``aclosing``) stops the read:
    ``--limit`` reads no further than it needs. `timeout` bounds a wait with nothing read."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=FETCH_BYTES,
        fetch_max_bytes=4 * FETCH_BYTES,
    )
    await consumer.start()
    try:
        parts = await consumer._client.fetch_all_metadata()
        tps = [TopicPartition(topic, p) for p in sorted(parts.partitions_for_topic(topic) or ())]
        if not tps:
            return
        consumer.assign(tps)
        begin = await consumer.beginning_offsets(tps)
        end = await consumer.end_offsets(tps)
        for tp in tps:
            consumer.seek(tp, begin[tp])
        remaining = {tp for tp in tps if end[tp] > begin[tp]}
        out: list[Letter] = []
        deadline = time.monotonic() + timeout
        while remaining:
            if time.monotonic() > deadline:
                raise ConfigError(f"reading {topic} waited more than {timeout:.0f} s for a letter; is the broker up?")
            batch = await consumer.getmany(*remaining, timeout_ms=500, max_records=page - len(out))
            for tp, records in batch.items():
                deadline = time.monotonic() + timeout
                for r in records:
                    if r.offset < end[tp]:
                        letter = from_record(r.value, f"{tp.partition}/{r.offset}")
                        if letter is not None:
                            out.append(letter)
                    if r.offset >= end[tp] - 1:
                        remaining.discard(tp)
            for tp in list(remaining):  # compacted or deleted offsets at the end: nothing more to read
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
            if len(out) >= page or (out and not remaining):
                yield out
                out = []
    finally:
        await consumer.stop()


async def read_letters(bootstrap: str, topic: str, timeout: float = 60.0) -> list[Letter]:
    """Every letter on the dead-letter topic now (see `read_pages`), in one list."""
    return [letter async for page in read_pages(bootstrap, topic, timeout=timeout) for letter in page]


async def copies(settings: Settings, bootstrap: str) -> AsyncGenerator[Letter, None]:
    """Every letter, one at a time, each with where its item stands now (``with_outcomes``): those on
    the topic a page at a time, storage asked about each page's links and alerts only; then the
    dead-lettered links whose letter has left the topic, read from storage a page at a time, never
    every outcome row at once (millions, on a long-running service). A letter read twice (a crash,
    a replay that failed again) comes twice, in topic order: ``tally`` and ``load`` keep the latest.
    Memory: a page of letters, and the id of each link the topic names (to leave its outcome row out
    of the second part): bounded by the topic's letters (its retention), never by storage's rows.
    The ids themselves, not a hash of them: two links whose hashes collide would lose one."""
    from .sinks.storage import open_storage

    storage = open_storage(settings.resolved_storage_url)
    await storage.start()
    try:
        on_topic: set[str] = set()  # the links named on the topic
        async with contextlib.aclosing(read_pages(bootstrap, settings.topic("deadletter"))) as pages:
            async for page in pages:
                link_ids = sorted({letter.link_id for letter in page if letter.link_id})
                on_topic.update(link_ids)
                outcomes = [dict(row) for row in await storage.outcomes_of(link_ids)]
                delivered = await storage.delivered_among(sorted(_alert_ids(page)))
                for letter in with_outcomes(page, outcomes, delivered):
                    yield letter
        async for row in storage.dead_lettered_outcomes():
            if row["link_id"] not in on_topic and row.get("url"):
                yield from_outcome(dict(row))
    finally:
        await storage.close()


def _alert_ids(letters: list[Letter]) -> set[str]:
    return {
        str(letter.payload["alert_id"])
        for letter in letters
        if letter.stage == "alert" and isinstance(letter.payload, dict) and letter.payload.get("alert_id")
    }


class _Latest:
    """The latest copy of each failed item, in the order items were first read; a copy `flt` does
    not keep stands for its item as None. ``add`` refuses a new item once `limit` are kept."""

    def __init__(self, limit: int | None) -> None:
        self.by: dict[str, Any] = {}  # ident -> what the caller keeps of the latest copy, or None
        self.kept, self.limit, self.limited = 0, limit, False

    def add(self, key: str, value: Any) -> bool:
        """False (and `limited`) when `key` is a new item past the limit: the caller stops reading."""
        old = self.by.get(key, _ABSENT)
        if old is _ABSENT and value is not None and self.limit is not None and self.kept >= self.limit:
            self.limited = True
            return False
        self.kept += (value is not None) - (old is not None and old is not _ABSENT)
        self.by[key] = value
        return True

    def values(self) -> list[Any]:
        return [v for v in self.by.values() if v is not None]


_ABSENT = object()


async def _latest(settings: Settings, bootstrap: str, flt: Filter, limit: int | None, keep: Any) -> _Latest:
    """Read every copy (see `copies`); of each item's latest, what ``keep(letter)`` returns if `flt`
    keeps it. Items are told apart by their ident (a few dozen characters, never the payload), not
    by a hash of it: a collision would fold two failed items into one and drop one from the count."""
    latest = _Latest(limit)
    async with contextlib.aclosing(copies(settings, bootstrap)) as letters:
        async for letter in letters:
            if not latest.add(letter.ident, keep(letter) if flt.keeps(letter) else None):
                break
    return latest


async def load(settings: Settings, bootstrap: str, flt: Filter, limit: int | None = None) -> list[Letter]:
    """The letters `flt` keeps, the latest copy of each (as ``merge``), the first `limit` of them
    when a limit is given. Whole letters, every one held: ``show`` keeps only those it names."""
    return (await _latest(settings, bootstrap, flt, limit, lambda letter: letter)).values()


async def find(settings: Settings, bootstrap: str, flt: Filter, which: str) -> Letter | None:
    """`wirewatch deadletter show`: the letter named by link id or partition/offset `which` (the
    latest copy of its item, as ``load``; the last such item when several match), holding only
    the letters that match: memory is a page whatever the topic's length."""
    found = (
        await _latest(settings, bootstrap, flt, None, lambda x: x if which in (x.link_id, x.where) else None)
    ).values()
    return found[-1] if found else None


async def tally(settings: Settings, bootstrap: str, flt: Filter, limit: int | None = None) -> dict:
    """`wirewatch deadletter list`: letters by (stage, reason) (see `counts`). The topic is read a
    page at a time and of each letter only its stage, reason and source are kept (one shared tuple
    per kind), so memory grows by a dict entry per failed item, never by a payload; with `limit`,
    the first `limit` letters only, and the read stops there."""
    shapes: dict[tuple[str, str, bool], tuple[str, str, bool]] = {}

    def shape(letter: Letter) -> tuple[str, str, bool]:
        key = (letter.stage, letter.reason, letter.source == "outcome")
        return shapes.setdefault(key, key)

    latest = await _latest(settings, bootstrap, flt, limit, shape)
    kinds = latest.values()
    by = Counter((stage, reason) for stage, reason, _ in kinds)
    expired = sum(1 for *_, was in kinds if was)
    return {"rows": _count_rows(by), "letters": len(kinds), "expired": expired, "limited": latest.limited}


# Refusals a replay report names one by one; past that it counts them (a topic of a million bad
# messages must not make a million-line report, nor hold one in memory).
REFUSED_SHOWN = 100


async def replay(
    settings: Settings, bootstrap: str, flt: Filter, limit: int | None = None, dry_run: bool = False
) -> dict:
    """`wirewatch deadletter replay`: the latest copy of each item `flt` keeps (the first `limit`
    items when a limit is given) put back at the stage that failed it (see `plan`), the broker's
    acks awaited a page at a time; with `dry_run` nothing is sent. Two reads, so that memory holds
    a page of letters whatever the topic's length: the first finds where each item's latest copy is
    (its partition/offset, as ``tally`` keeps its kind), the second reads the letters again and
    sends those copies, stopping once all are sent. Returns counts by stage and reason, and the
    letters that cannot be replayed (the first REFUSED_SHOWN named, every one counted)."""
    from .sources.submit import open_producer

    places = await _latest(settings, bootstrap, flt, limit, lambda letter: letter.where)
    todo: dict[str, str] = {ident: where for ident, where in places.by.items() if where is not None}
    del places
    now = timeutil.iso()
    by: Counter[str] = Counter()
    refused: list[dict] = []
    not_replayable = 0
    producer = await open_producer(bootstrap, settings) if todo and not dry_run else None
    try:
        page: list[Replay] = []
        async with contextlib.aclosing(copies(settings, bootstrap)) as letters:
            async for letter in letters:
                if todo.get(letter.ident, _ABSENT) != letter.where:
                    continue  # an earlier copy, or an item the first read did not keep
                del todo[letter.ident]
                if flt.keeps(letter):  # not settled between the two reads
                    try:
                        r = plan(letter, settings, now)
                    except NotReplayable as e:
                        not_replayable += 1
                        if len(refused) < REFUSED_SHOWN:
                            refused.append(_refusal(letter, e.why))
                    else:
                        by[f"{letter.stage}: {letter.reason} -> {r.topic}"] += 1
                        page.append(r)
                if len(page) >= PAGE or (page and not todo):
                    await _send(producer, page)
                    page = []
                if not todo:
                    break
        await _send(producer, page)
    finally:
        if producer is not None:
            await producer.stop()
    return {
        "dry_run": dry_run,
        "replayed": sum(by.values()),
        "not_replayable": not_replayable,
        "by_stage_reason": dict(sorted(by.items())),
        "refused": refused,
    }


def _refusal(letter: Letter, why: str) -> dict:
    return {
        "stage": letter.stage,
        "reason": letter.reason,
        "link_id": letter.link_id,
        "where": letter.where,
        "why": why,
    }


async def _send(producer: Any, page: list[Replay]) -> None:
    """Send a page of replays and await the broker's ack for each (None: a dry run, nothing sent)."""
    if producer is None or not page:
        return
    acks = [await producer.send(r.topic, r.value, key=r.key.encode() if r.key else None) for r in page]
    await asyncio.gather(*acks)
