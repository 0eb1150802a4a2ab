"""The source poller: configured feeds, news sitemaps and sites in; new links (and stale-source
alerts) out, with the state of every source kept in storage so a restart changes nothing.

Per source, forever:

    wait until next_poll_at
    GET with If-None-Match / If-Modified-Since          (conditional GET; 304 = nothing new)
    parse: feed (feeds.py) | sitemap or index (sitemaps.py) | site: feed found by discovery.py
    submit the items not in the source's seen set, oldest first
    next_poll_at = now + schedule.next_delay(...)        (TTL, Cache-Control, Expires, Retry-After)
                 | now + schedule.error_delay(...)       (failures back off; never given up)
    staleness: no new item for sources.stale_after -> gauge + one alert per stale episode
    save the state (validators, schedule, error count, seen ids) to storage

Validators are saved only once every item of that response has been submitted: if the broker is
down mid-way, the next poll gets a full 200 again instead of a 304 that would lose the rest.
A failing poll never raises out of the loop; it is counted, logged and retried later.

With the worker's Politeness (the one the fetch agent uses), every request of a poll, redirect
hops, sitemap children and homepages included, asks robots.txt first and takes a turn of its
host: a site's feed polls and article fetches share one per-host budget, and a Retry-After from
either pauses both. A source that robots.txt disallows fails its poll (robots_disallowed) and
backs off like any other failing source. Every request is the one guarded GET
(stages/http_get.py): the address guard, caps (on the wire and after decompression), hop limit and
failure reasons are those of an article fetch.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx

from ..errors import InvalidMessage, StageError, TransientError
from ..metrics import Metrics
from ..settings import FetchSettings, Settings, SourceSettings
from ..stages.http_get import Limits, get
from ..stages.politeness import Politeness
from ..timeutil import iso, utc_now
from . import schedule
from .discovery import discover_feeds
from .feeds import parse_feed_document
from .links import make_link
from .sitemaps import children_to_read, parse_sitemap, recent

log = logging.getLogger(__name__)

_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
_NOT_MODIFIED = frozenset({304})
REDISCOVER_EVERY = 3  # consecutive failures of a discovered feed before the homepage is asked again
ALIAS_PRUNE_EVERY = 3600.0


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    kind: str  # feed | sitemap | site
    url: str
    interval: float


def sources_from(settings: Settings) -> list[Source]:
    """Every configured source; names are unique per kind (the state key is "kind:name")."""
    out = [Source(f.name, "feed", f.url, f.interval) for f in settings.feeds]
    out += [Source(s.name, "sitemap", s.url, s.interval) for s in settings.sources.sitemaps]
    out += [Source(s.name, "site", s.url, s.interval) for s in settings.sources.sites]
    return out


@dataclass
class SourceState:
    """One row of storage's source_state table."""

    name: str
    kind: str
    url: str = ""  # what was polled: the configured URL, or the feed discovered on a site
    etag: str | None = None
    last_modified: str | None = None
    next_poll_at: datetime | None = None
    error_count: int = 0
    last_error: str = ""
    last_polled_at: datetime | None = None
    last_new_item_at: datetime | None = None  # or when the source was first polled
    stale_alerted_at: datetime | None = None
    seen: list[str] = field(default_factory=list)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SourceState:
        return cls(**{k: row[k] for k in cls.__dataclass_fields__ if k in row and row[k] is not None})

    def to_row(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class StateStore(Protocol):
    async def load_source_state(self, name: str) -> dict[str, Any] | None: ...
    async def save_source_state(self, state: dict[str, Any]) -> None: ...
    async def prune_aliases(self, now: datetime | None = None) -> int: ...


@dataclass(frozen=True, slots=True)
class PollResult:
    outcome: str  # new | unchanged | not_modified | error
    new: int
    delay: float
    reason: str = ""


@dataclass(frozen=True, slots=True)
class _Item:
    url: str
    title: str | None
    key: str  # what the seen set remembers


def make_stale_alert(source: Source, since: datetime, now: datetime, last_error: str = "") -> dict[str, Any]:
    """The alert (schemas/alert.schema.json, kind source_stale) for a source silent since `since`.

    The id hashes the source and the start of the silence, so one stale episode is one alert, however
    often it is re-raised (each poll after a restart): the alert agent's ledger delivers it once.
    """
    idle = max(0.0, (now - since).total_seconds())
    key = f"source_stale|{source.kind}:{source.name}|{since.isoformat()}"
    return {
        "alert_id": hashlib.sha256(key.encode()).hexdigest()[:24],
        "kind": "source_stale",
        "rule": "source-stale",
        "severity": "warning",
        "raised_at": iso(now),
        "source": f"{source.kind}:{source.name}",
        "url": source.url,
        "title": f"{source.kind} {source.name} has yielded no new item for {idle / 3600:.1f} h",
        "stale_seconds": round(idle, 3),
        "last_new_item_at": iso(since),
        "figures": {},
        "evidence": [f"last error: {last_error}"] if last_error else [],
        "keywords": [],
    }


class SourcePoller:
    """Polls sources forever; `submit(link)` for each new item, `alert(alert)` for a stale source."""

    def __init__(
        self,
        sources: list[Source],
        http: httpx.AsyncClient,
        storage: StateStore | None,
        submit: Callable[[dict[str, Any]], Awaitable[None]],
        metrics: Metrics,
        settings: SourceSettings,
        *,
        alert: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
        max_bytes: int | None = None,
        fetch: FetchSettings | None = None,
        user_agent: str | None = None,
        politeness: Politeness | None = None,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.sources = sources
        self.http = http
        self.storage = storage
        self.submit = submit
        self.alert = alert
        self.metrics = metrics
        self.settings = settings
        self.bounds = schedule.Bounds(settings.min_interval, settings.max_interval, settings.backoff_max)
        # The caps and hop limit of an article fetch (fetch settings); max_bytes, if given, on the wire.
        limits = Limits.of(fetch or FetchSettings())
        self.limits = limits if max_bytes is None else replace(limits, max_bytes=max_bytes)
        self.user_agent = user_agent
        self.politeness = politeness
        self.clock = clock
        self.sleep = sleep
        self.states: dict[str, SourceState] = {}

    # -- state ---------------------------------------------------------------------------------

    @staticmethod
    def key(source: Source) -> str:
        return f"{source.kind}:{source.name}"

    async def state_of(self, source: Source) -> SourceState:
        """The source's state: in memory, else from storage, else new."""
        key = self.key(source)
        if key in self.states:
            return self.states[key]
        row = None
        if self.storage is not None:
            try:
                row = await self.storage.load_source_state(key)
            except StageError as e:  # storage down: poll from scratch rather than not at all
                log.warning("%s: cannot load saved state, starting fresh: %s", key, e)
        state = SourceState.from_row(row) if row else SourceState(name=key, kind=source.kind)
        self.states[key] = state
        return state

    async def _save(self, state: SourceState) -> None:
        if self.storage is None:
            return
        try:
            await self.storage.save_source_state(state.to_row())
        except StageError as e:
            log.warning("%s: cannot save state (kept in memory): %s", state.name, e)

    # -- one poll ------------------------------------------------------------------------------

    async def poll_once(self, source: Source) -> PollResult:
        """Poll `source` once, submit what is new, schedule the next poll, save. Never raises."""
        state = await self.state_of(source)
        now = self.clock()
        state.last_polled_at = now
        if state.last_new_item_at is None:
            state.last_new_item_at = now  # silence is measured from the first poll
        try:
            result = await self._poll(source, state, now)
            state.error_count = 0
            state.last_error = ""
        except asyncio.CancelledError:
            raise
        except Exception as e:  # a source's failure must never stop its loop
            reason, detail = (e.reason, e.detail) if isinstance(e, StageError) else ("internal_error", repr(e))
            if not isinstance(e, StageError):
                log.exception("%s: unexpected error while polling", self.key(source))
            state.error_count += 1
            state.last_error = f"{reason}: {detail}"[:500]
            retry_after = e.retry_after if isinstance(e, TransientError) else None
            headers = {"retry-after": str(int(retry_after))} if retry_after is not None else None
            delay = schedule.error_delay(state.error_count, source.interval, self.bounds, headers, now)
            result = PollResult("error", 0, delay, reason)
            log.warning(
                "%s: poll failed (%d in a row, next try in %.0fs): %s: %s",
                self.key(source),
                state.error_count,
                delay,
                reason,
                detail,
            )
        state.next_poll_at = now + timedelta(seconds=result.delay)
        await self._check_stale(source, state, now)
        await self._save(state)
        self.metrics.source_polls.labels(kind=source.kind, outcome=result.outcome).inc()
        self.metrics.source_errors.labels(source=source.name).set(state.error_count)
        if source.kind == "feed":
            self.metrics.feed_polls.labels(outcome="error" if result.outcome == "error" else "ok").inc()
        return result

    async def _poll(self, source: Source, state: SourceState, now: datetime) -> PollResult:
        url = source.url
        if source.kind == "site":
            url = await self._feed_of_site(source, state)
        if state.url != url:  # a new URL (config change, rediscovery): old validators mean nothing
            state.url, state.etag, state.last_modified = url, None, None
        status, headers, body, final_url = await self._get(url, state.etag, state.last_modified)
        if status == 304:
            return PollResult("not_modified", 0, schedule.next_delay(source.interval, self.bounds, headers, now))
        ttl = None
        if source.kind == "sitemap":
            items = await self._sitemap_items(body, final_url, now)
        else:
            doc = parse_feed_document(body, final_url)
            ttl = doc.ttl
            items = [_Item(i.url, i.title, i.guid) for i in doc.items]
        new = await self._submit_new(source, state, items, now)
        state.etag = headers.get("etag")
        state.last_modified = headers.get("last-modified")
        delay = schedule.next_delay(source.interval, self.bounds, headers, now, ttl)
        log.info("%s: %d items, %d new, next poll in %.0fs", self.key(source), len(items), new, delay)
        return PollResult("new" if new else "unchanged", new, delay)

    async def _feed_of_site(self, source: Source, state: SourceState) -> str:
        rediscover = not state.url or (state.error_count and state.error_count % REDISCOVER_EVERY == 0)
        if not rediscover:
            return state.url
        _, _, body, final_url = await self._get(source.url, None, None)
        found = discover_feeds(body, final_url)
        if not found:
            raise TransientError("no_feed_found", f"{source.url}: the page advertises no RSS/Atom feed")
        if found[0] != state.url:
            log.info("%s: discovered feed %s", self.key(source), found[0])
        return found[0]

    async def _sitemap_items(self, body: bytes, base_url: str, now: datetime) -> list[_Item]:
        s = self.settings
        inflated_cap = self.limits.max_decompressed_bytes
        sitemap = parse_sitemap(body, base_url, inflated_cap)
        entries = list(sitemap.entries)
        if sitemap.kind == "index":
            for child in children_to_read(sitemap, now, s.sitemap_max_age, s.sitemap_max_children):
                # One broken child (a 404 for yesterday's file) must not hide today's.
                try:
                    _, _, child_body, child_url = await self._get(child, None, None)
                    child_map = parse_sitemap(child_body, child_url, inflated_cap)
                except StageError as e:
                    log.warning("sitemap child %s skipped: %s", child, e)
                    continue
                entries.extend(child_map.entries)  # an index of indexes is not followed further
        return [_Item(e.url, e.title, e.url) for e in recent(entries, now, s.sitemap_max_age)]

    async def _submit_new(self, source: Source, state: SourceState, items: list[_Item], now: datetime) -> int:
        seen = set(state.seen)
        new = 0
        try:
            for item in items:
                if item.key in seen:
                    continue
                try:
                    link = make_link(item.url, self.key(source), item.title)
                except InvalidMessage as e:
                    log.warning("%s: item %r not submitted: %s", self.key(source), item.url[:200], e)
                else:
                    await self.submit(link)
                    new += 1
                seen.add(item.key)
                state.seen.append(item.key)
        finally:
            cap = self.settings.seen_per_source
            if len(state.seen) > cap:
                del state.seen[: len(state.seen) - cap]
            if new:
                state.last_new_item_at = now
                state.stale_alerted_at = None
        return new

    async def _get(
        self, url: str, etag: str | None, last_modified: str | None
    ) -> tuple[int, httpx.Headers, bytes, str]:
        """(status, headers, body, final URL) of a GET; a StageError for every failure.

        The one guarded GET (stages/http_get.py), as for an article: with a Politeness every hop
        is asked of its origin's robots.txt and waits for its host's turn, and the caps, hop limit
        and reasons are the fetch stage's. A 304 answers a conditional poll.
        """
        headers = {"Accept": _ACCEPT}
        if self.user_agent:
            headers["User-Agent"] = self.user_agent
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        page = await get(url, self.http, self.limits, self.politeness, headers=headers, accept=_NOT_MODIFIED)
        return page.status, page.headers, page.body, page.final_url

    # -- staleness -----------------------------------------------------------------------------

    async def _check_stale(self, source: Source, state: SourceState, now: datetime) -> None:
        since = state.last_new_item_at or now
        idle = max(0.0, (now - since).total_seconds())
        stale = idle >= self.settings.stale_after
        self.metrics.source_idle.labels(source=source.name).set(idle)
        self.metrics.source_stale.labels(source=source.name).set(1 if stale else 0)
        if not stale or state.stale_alerted_at is not None:
            return
        log.warning("%s: stale: no new item for %.0fs", self.key(source), idle)
        if self.alert is None:
            return
        try:
            await self.alert(make_stale_alert(source, since, now, state.last_error))
        except Exception as e:  # noqa: BLE001 - raised again on the next poll
            log.warning("%s: stale alert not sent, will retry: %r", self.key(source), e)
            return
        state.stale_alerted_at = now

    # -- loops ---------------------------------------------------------------------------------

    async def run(self) -> None:
        await asyncio.gather(*(self._loop(s) for s in self.sources), self._prune_aliases())

    async def _loop(self, source: Source) -> None:
        state = await self.state_of(source)
        while True:
            if state.next_poll_at is not None:
                wait = (state.next_poll_at - self.clock()).total_seconds()
                if wait > 0:
                    # Capped: a schedule saved under older, longer settings must not outlive them.
                    await self.sleep(min(wait, self.bounds.backoff_max))
            await self.poll_once(source)

    async def _prune_aliases(self) -> None:
        while self.storage is not None:
            try:
                gone = await self.storage.prune_aliases(self.clock())
                if gone:
                    log.info("pruned %d expired aliases", gone)
            except StageError as e:
                log.warning("cannot prune aliases: %s", e)
            await self.sleep(ALIAS_PRUNE_EVERY)
