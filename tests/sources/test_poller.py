"""sources.poller against a real HTTP origin on 127.0.0.1 and real SQLite storage.

The origin is a small publisher whose feed, sitemaps and homepage each test changes on the fly:
it answers conditional GETs properly (ETag / Last-Modified -> 304), can fail with any status, and
records the headers it received. Time is a clock the test moves, never a sleep.
"""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from aiohttp import web

from wirewatch import contract
from wirewatch.metrics import Metrics
from wirewatch.settings import SourceSettings, load_settings
from wirewatch.sinks import Storage, open_storage
from wirewatch.sources.poller import Source, SourcePoller, SourceState, sources_from

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
SETTINGS = SourceSettings(min_interval=60, max_interval=3600, backoff_max=4 * 3600, stale_after=6 * 3600)


def rss(items: list[tuple[str, str]], ttl: int | None = None) -> bytes:
    """An RSS 2.0 document; `items` newest first as (guid, title)."""
    body = "".join(f"<item><title>{t}</title><link>/story/{g}</link><guid>{g}</guid></item>" for g, t in items)
    ttl_el = f"<ttl>{ttl}</ttl>" if ttl else ""
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Quayside Ledger</title>{ttl_el}{body}</channel></rss>'.encode()


@dataclass
class Origin:
    """What the publisher serves; tests change it between polls."""

    feed: bytes = rss([("q2", "Harbour crane topples"), ("q1", "Tide tables revised")])
    version: int = 1
    feed_status: int = 200
    feed_headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = True
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # path -> (body, content type)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def change(self, feed: bytes) -> None:
        self.feed, self.version = feed, self.version + 1

    @property
    def etag(self) -> str:
        return f'"v{self.version}"'

    @property
    def last_modified(self) -> str:
        return format_datetime(T0 + timedelta(minutes=self.version), usegmt=True)


@pytest.fixture
async def origin() -> AsyncIterator[tuple[Origin, str]]:
    state = Origin()

    async def feed(request: web.Request) -> web.Response:
        state.requests.append((request.path, dict(request.headers)))
        if state.feed_status != 200:
            return web.Response(status=state.feed_status, headers=state.feed_headers)
        validators = {"ETag": state.etag, "Last-Modified": state.last_modified}
        if state.conditional and (
            request.headers.get("If-None-Match") == state.etag
            or request.headers.get("If-Modified-Since") == state.last_modified
        ):
            return web.Response(status=304, headers={**validators, **state.feed_headers})
        return web.Response(
            body=state.feed,
            content_type="application/rss+xml",
            headers={**validators, **state.feed_headers} if state.conditional else state.feed_headers,
        )

    async def files(request: web.Request) -> web.Response:
        state.requests.append((request.path, dict(request.headers)))
        if request.path not in state.files:
            return web.Response(status=404)
        body, ctype = state.files[request.path]
        return web.Response(body=body, headers={"Content-Type": ctype})

    app = web.Application()
    app.router.add_get("/feed.xml", feed)
    app.router.add_get("/{tail:.*}", files)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield state, f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture
async def storage(tmp_path) -> AsyncIterator[Storage]:
    store = open_storage(f"sqlite:///{tmp_path}/poller.db")
    await store.start()
    yield store
    await store.close()


class Harness:
    """A poller with a movable clock, collecting what it submits and alerts."""

    def __init__(
        self,
        sources: list[Source],
        storage: Storage | None,
        http: httpx.AsyncClient,
        settings: SourceSettings = SETTINGS,
    ) -> None:
        self.now = T0
        self.links: list[dict] = []
        self.alerts: list[dict] = []
        self.metrics = Metrics()

        async def submit(link: dict) -> None:
            contract.validate("link", link)
            self.links.append(link)

        async def alert(a: dict) -> None:
            contract.validate("alert", a)
            self.alerts.append(a)

        self.poller = SourcePoller(
            sources, http, storage, submit, self.metrics, settings, alert=alert, clock=lambda: self.now
        )

    def metric(self, name: str, **labels: str) -> float | None:
        return self.metrics.registry.get_sample_value(name, labels)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


async def test_conditional_get_submits_only_new_items(origin, storage, http):
    state, base = origin
    feed = Source("quay", "feed", f"{base}/feed.xml", 300)
    h = Harness([feed], storage, http)

    first = await h.poller.poll_once(feed)
    assert (first.outcome, first.new) == ("new", 2)
    assert [link["url"] for link in h.links] == [f"{base}/story/q1", f"{base}/story/q2"]  # oldest first
    assert {link["source"] for link in h.links} == {"feed:quay"}

    h.now += timedelta(minutes=5)
    second = await h.poller.poll_once(feed)
    assert (second.outcome, second.new) == ("not_modified", 0)
    sent = state.requests[-1][1]
    assert sent["If-None-Match"] == '"v1"' and sent["If-Modified-Since"] == state.last_modified

    state.change(rss([("q3", "Ferry timetable"), ("q2", "Harbour crane topples"), ("q1", "Tide tables revised")]))
    h.now += timedelta(minutes=5)
    third = await h.poller.poll_once(feed)
    assert (third.outcome, third.new) == ("new", 1) and h.links[-1]["url"] == f"{base}/story/q3"
    assert h.metric("wirewatch_source_polls_total", kind="feed", outcome="not_modified") == 1
    assert h.metric("wirewatch_source_polls_total", kind="feed", outcome="new") == 2


async def test_next_poll_follows_cache_headers_and_ttl_within_bounds(origin, storage, http):
    state, base = origin
    feed = Source("quay", "feed", f"{base}/feed.xml", 300)
    h = Harness([feed], storage, http)

    state.feed_headers = {"Cache-Control": "max-age=900"}
    assert (await h.poller.poll_once(feed)).delay == 900
    st = await h.poller.state_of(feed)
    assert st.next_poll_at == T0 + timedelta(seconds=900)

    state.change(rss([("q9", "Pier closed")], ttl=30))  # RSS <ttl> in minutes
    state.feed_headers = {}
    assert (await h.poller.poll_once(feed)).delay == 1800

    state.change(rss([("q10", "Pier reopened")]))
    state.feed_headers = {"Cache-Control": "max-age=604800"}
    assert (await h.poller.poll_once(feed)).delay == SETTINGS.max_interval


async def test_failures_back_off_never_give_up_and_recover(origin, storage, http):
    state, base = origin
    feed = Source("quay", "feed", f"{base}/feed.xml", 300)
    h = Harness([feed], storage, http)

    state.feed_status = 503
    delays = []
    for _ in range(8):
        result = await h.poller.poll_once(feed)
        assert (result.outcome, result.reason) == ("error", "http_status")
        delays.append(result.delay)
        h.now += timedelta(seconds=result.delay)
    # retry.backoff: doubling ceilings with full jitter, each delay in [ceiling / 2, ceiling]
    assert all(c / 2 <= d <= c for d, c in zip(delays, [300, 600, 1200]))
    assert SETTINGS.backoff_max / 2 <= delays[-1] <= SETTINGS.backoff_max
    st = await h.poller.state_of(feed)
    assert st.error_count == 8 and "503" in st.last_error
    assert h.metric("wirewatch_source_consecutive_errors", source="quay") == 8

    state.feed_headers = {"Retry-After": "7200"}
    assert 7200 <= (await h.poller.poll_once(feed)).delay <= SETTINGS.backoff_max  # asked: a floor, under the cap

    state.feed_status, state.feed_headers = 200, {}
    ok = await h.poller.poll_once(feed)
    assert ok.outcome == "new" and st.error_count == 0 and st.last_error == ""
    assert h.metric("wirewatch_source_consecutive_errors", source="quay") == 0


async def test_unreachable_and_garbage_sources_are_errors_not_crashes(origin, storage, http):
    state, base = origin
    state.files["/not-a-feed"] = (b"<html><body>Under maintenance</body></html>", "text/html")
    garbage = Source("broken", "feed", f"{base}/not-a-feed", 300)
    gone = Source("gone", "feed", "http://127.0.0.1:9/feed.xml", 300)  # discard port: refused
    h = Harness([garbage, gone], storage, http)
    assert (await h.poller.poll_once(garbage)).reason == "not_a_feed"
    assert (await h.poller.poll_once(gone)).reason == "connect_error"
    assert h.links == []


async def test_state_survives_a_restart(origin, tmp_path, http):
    state, base = origin
    feed = Source("quay", "feed", f"{base}/feed.xml", 300)
    url = f"sqlite:///{tmp_path}/restart.db"

    store = open_storage(url)
    await store.start()
    first = Harness([feed], store, http)
    state.feed_headers = {"Cache-Control": "max-age=1200"}
    await first.poller.poll_once(feed)
    await store.close()

    store = open_storage(url)
    await store.start()
    try:
        second = Harness([feed], store, http)
        second.now = T0 + timedelta(seconds=1200)
        saved = await second.poller.state_of(feed)
        assert saved.etag == '"v1"' and saved.next_poll_at == T0 + timedelta(seconds=1200)
        assert saved.last_new_item_at == T0 and len(saved.seen) == 2
        assert (await second.poller.poll_once(feed)).outcome == "not_modified"
        assert state.requests[-1][1]["If-None-Match"] == '"v1"'

        # A publisher without validators: the seen set alone keeps old items from being resubmitted.
        state.conditional = False
        assert (await second.poller.poll_once(feed)).outcome == "unchanged" and second.links == []
    finally:
        await store.close()


async def test_submit_failure_keeps_validators_so_nothing_is_lost(origin, storage, http):
    _, base = origin
    feed = Source("quay", "feed", f"{base}/feed.xml", 300)
    h = Harness([feed], storage, http)
    calls = []

    async def flaky(link: dict) -> None:
        calls.append(link["url"])
        if len(calls) == 2:
            raise ConnectionError("broker down")

    h.poller.submit = flaky
    result = await h.poller.poll_once(feed)
    assert result.outcome == "error"
    st = await h.poller.state_of(feed)
    assert st.etag is None and st.seen == ["q1"]

    h.poller.submit = lambda link: _collect(h.links, link)
    again = await h.poller.poll_once(feed)
    assert (again.outcome, again.new) == ("new", 1) and h.links[0]["url"].endswith("/story/q2")


async def _collect(into: list, link: dict) -> None:
    into.append(link)


async def test_a_silent_source_raises_one_stale_alert_per_episode(origin, tmp_path, http):
    state, base = origin
    feed = Source("quay", "feed", f"{base}/feed.xml", 300)
    url = f"sqlite:///{tmp_path}/stale.db"
    store = open_storage(url)
    await store.start()
    h = Harness([feed], store, http)
    await h.poller.poll_once(feed)  # two new items at T0
    assert h.metric("wirewatch_source_stale", source="quay") == 0

    h.now = T0 + timedelta(hours=5)
    await h.poller.poll_once(feed)
    assert h.alerts == [] and h.metric("wirewatch_source_seconds_since_new_item", source="quay") == 5 * 3600

    h.now = T0 + timedelta(hours=6, minutes=1)
    await h.poller.poll_once(feed)
    (alert,) = h.alerts
    assert alert["kind"] == "source_stale" and alert["source"] == "feed:quay" and alert["url"] == feed.url
    assert alert["stale_seconds"] == 6 * 3600 + 60 and alert["last_new_item_at"].startswith("2026-11-24T08:00:00")
    assert h.metric("wirewatch_source_stale", source="quay") == 1

    h.now += timedelta(hours=1)
    await h.poller.poll_once(feed)
    assert len(h.alerts) == 1  # one alert per episode, not one per poll
    await store.close()

    store = open_storage(url)  # nor one per restart
    await store.start()
    try:
        h2 = Harness([feed], store, http)
        h2.now = h.now + timedelta(hours=1)
        await h2.poller.poll_once(feed)
        assert h2.alerts == [] and h2.metric("wirewatch_source_stale", source="quay") == 1

        state.change(rss([("q5", "Harbour reopens")]))
        await h2.poller.poll_once(feed)
        assert h2.metric("wirewatch_source_stale", source="quay") == 0
        assert h2.metric("wirewatch_source_seconds_since_new_item", source="quay") == 0
        assert (await h2.poller.state_of(feed)).stale_alerted_at is None
    finally:
        await store.close()


async def test_a_failing_source_goes_stale_and_its_alert_says_why(origin, storage, http):
    state, base = origin
    state.feed_status = 500
    feed = Source("quay", "feed", f"{base}/feed.xml", 300)
    h = Harness([feed], storage, http)
    await h.poller.poll_once(feed)
    h.now = T0 + timedelta(hours=7)
    await h.poller.poll_once(feed)
    (alert,) = h.alerts
    assert "http_status" in alert["evidence"][0]


NEWS_CHILD = b"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
 xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
 <url><loc>/2026/11/24/lock-gates</loc><news:news><news:publication_date>2026-11-24T07:00:00Z</news:publication_date>
 <news:title>Lock gates jammed</news:title></news:news></url>
 <url><loc>/2026/11/01/old</loc><news:news><news:publication_date>2026-11-01T07:00:00Z</news:publication_date>
 <news:title>Old news</news:title></news:news></url></urlset>"""
PLAIN_CHILD = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
 <url><loc>/2026/11/23/dredging</loc><lastmod>2026-11-23T20:00:00Z</lastmod></url></urlset>"""


async def test_sitemap_index_with_gzipped_children(origin, storage, http):
    state, base = origin
    state.files["/sitemap-index.xml"] = (
        f"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>{base}/sm/today.xml.gz</loc><lastmod>2026-11-24T07:30:00Z</lastmod></sitemap>
      <sitemap><loc>/sm/yesterday.xml</loc><lastmod>2026-11-23T21:00:00Z</lastmod></sitemap>
      <sitemap><loc>/sm/missing.xml</loc><lastmod>2026-11-23T21:00:00Z</lastmod></sitemap>
      <sitemap><loc>/sm/2024.xml</loc><lastmod>2024-12-31</lastmod></sitemap>
    </sitemapindex>""".encode(),
        "application/xml",
    )
    state.files["/sm/today.xml.gz"] = (gzip.compress(NEWS_CHILD), "application/x-gzip")
    state.files["/sm/yesterday.xml"] = (PLAIN_CHILD, "text/xml")
    sitemap = Source("quay-news", "sitemap", f"{base}/sitemap-index.xml", 600)
    h = Harness([sitemap], storage, http)

    result = await h.poller.poll_once(sitemap)
    assert (result.outcome, result.new) == ("new", 2)  # the old entry and the missing child do not count
    assert [(link["url"], link["title"]) for link in h.links] == [
        (f"{base}/2026/11/23/dredging", None),
        (f"{base}/2026/11/24/lock-gates", "Lock gates jammed"),
    ]
    assert {link["source"] for link in h.links} == {"sitemap:quay-news"}
    assert "/sm/2024.xml" not in [path for path, _ in state.requests]

    assert (await h.poller.poll_once(sitemap)).outcome == "unchanged"


async def test_site_feed_is_autodiscovered_then_polled(origin, storage, http):
    state, base = origin
    state.files["/"] = (
        b'<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml">'
        b"</head><body>Quayside Ledger</body></html>",
        "text/html",
    )
    state.files["/bare"] = (b"<html><body>no feeds here</body></html>", "text/html")
    site = Source("quay-site", "site", f"{base}/", 300)
    bare = Source("bare", "site", f"{base}/bare", 300)
    h = Harness([site, bare], storage, http)

    result = await h.poller.poll_once(site)
    assert (result.outcome, result.new) == ("new", 2) and {link["source"] for link in h.links} == {"site:quay-site"}
    st = await h.poller.state_of(site)
    assert st.url == f"{base}/feed.xml" and st.etag == '"v1"'

    homepage_hits = sum(1 for path, _ in state.requests if path == "/")
    await h.poller.poll_once(site)
    assert sum(1 for path, _ in state.requests if path == "/") == homepage_hits  # discovered once, remembered

    assert (await h.poller.poll_once(bare)).reason == "no_feed_found"


async def test_the_loop_waits_for_the_saved_schedule(origin, storage, http):
    _, base = origin
    feed = Source("quay", "feed", f"{base}/feed.xml", 300)
    await storage.save_source_state(
        SourceState(name="feed:quay", kind="feed", url=feed.url, next_poll_at=T0 + timedelta(seconds=120)).to_row()
    )
    h = Harness([feed], storage, http)
    slept: list[float] = []

    class Done(Exception):
        pass

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        h.now += timedelta(seconds=seconds)
        if len(slept) == 3:
            raise Done

    h.poller.sleep = sleep
    with pytest.raises(Done):
        await h.poller._loop(feed)
    assert slept == [120, 300, 300] and len(h.links) == 2


def test_sources_come_from_settings():
    s = load_settings(
        feeds=[{"name": "a", "url": "https://a.example/rss", "interval": 60}],
        sources={
            "sitemaps": [{"name": "b", "url": "https://b.example/news.xml"}],
            "sites": [{"name": "c", "url": "https://c.example/"}],
        },
    )
    assert [(x.kind, x.name) for x in sources_from(s)] == [("feed", "a"), ("sitemap", "b"), ("site", "c")]
