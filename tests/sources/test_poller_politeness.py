"""The source poller under the fetch stage's Politeness: robots.txt, one per-host budget shared with
article fetches, and Retry-After pauses that hold for both. A real publisher on 127.0.0.1, the real
guarded client; the per-host clock is a fake one the Politeness sleeps on (no timed assertions).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web

from tests.harness.loopback import FakeTime, serve
from tests.harness.origin import loopback_settings
from wirewatch import contract
from wirewatch.agents import fetch as fetch_agent
from wirewatch.errors import TransientError
from wirewatch.metrics import Metrics
from wirewatch.runtime import Runtime
from wirewatch.settings import FetchSettings, SourceSettings, load_settings
from wirewatch.sources.links import make_link
from wirewatch.sources.poller import Source, SourcePoller
from wirewatch.stages.fetch import build_client, fetch
from wirewatch.stages.politeness import Politeness

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
SOURCES = SourceSettings(min_interval=60, max_interval=3600, backoff_max=4 * 3600, stale_after=6 * 3600)
ROBOTS = b"User-agent: *\nDisallow: /private/\n"
FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Estuary Courier</title>'
    b"<item><title>Ferry pier reopens</title><link>/story/e2</link><guid>e2</guid></item>"
    b"<item><title>Dredger runs aground</title><link>/story/e1</link><guid>e1</guid></item>"
    b"</channel></rss>"
)
STORY = (
    "<!doctype html><html lang='en'><head><title>Ferry pier reopens</title></head><body><article>"
    "<h1>Ferry pier reopens</h1>"
    "<p>The ferry pier on the east bank reopened on Monday after three weeks of repairs to its pilings, "
    "the harbour office said in a short statement to passengers.</p>"
    "<p>Crews replaced eleven timber posts that the October storm had split, and a new ramp was lifted "
    "into place by the floating crane that usually works the container berths.</p>"
    "<p>The first crossing left at seven in the morning with forty passengers and two delivery vans on "
    "board, and the timetable returns to its winter pattern from next week.</p>"
    "</article></body></html>"
)


@dataclass
class Publisher:
    """What the site serves; tests change it. ``hits`` counts requests per path."""

    robots: bytes = ROBOTS
    feed_status: int = 200
    story_status: int = 200
    headers: dict[str, str] = field(default_factory=dict)  # sent with a failing status
    hits: Counter = field(default_factory=Counter)
    base: str = ""

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture
async def publisher() -> AsyncIterator[Publisher]:
    p = Publisher()

    async def robots(request: web.Request) -> web.Response:
        return web.Response(body=p.robots, content_type="text/plain")

    async def feed(request: web.Request) -> web.Response:
        if p.feed_status != 200:
            return web.Response(status=p.feed_status, headers=p.headers)
        return web.Response(body=FEED, content_type="application/rss+xml")

    async def moved(request: web.Request) -> web.Response:
        return web.Response(status=301, headers={"Location": "/private/feed.xml"})

    async def story(request: web.Request) -> web.Response:
        if p.story_status != 200:
            return web.Response(status=p.story_status, headers=p.headers)
        return web.Response(text=STORY, content_type="text/html")

    routes = {
        "/robots.txt": robots,
        "/feed.xml": feed,
        "/private/feed.xml": feed,
        "/moved.xml": moved,
        "/story/{id}": story,
    }
    async with serve(routes, p.hits) as p.base:
        yield p


def fetch_settings(**kw) -> FetchSettings:
    return loopback_settings(**kw)


class Harness:
    def __init__(self, sources: list[Source], http, politeness: Politeness | None) -> None:
        self.now = T0
        self.links: list[dict] = []
        self.metrics = Metrics()

        async def submit(link: dict) -> None:
            contract.validate("link", link)
            self.links.append(link)

        self.poller = SourcePoller(
            sources, http, None, submit, self.metrics, SOURCES, politeness=politeness, clock=lambda: self.now
        )

    def metric(self, name: str, **labels: str) -> float | None:
        return self.metrics.registry.get_sample_value(name, labels)


async def test_a_feed_disallowed_by_robots_is_a_failing_source_never_a_crash(publisher):
    s = fetch_settings()
    blocked = Source("blocked", "feed", publisher.url("/private/feed.xml"), 300)
    moved = Source("moved", "feed", publisher.url("/moved.xml"), 300)  # allowed, but redirects into /private/
    allowed = Source("estuary", "feed", publisher.url("/feed.xml"), 300)
    async with build_client(s) as client:
        h = Harness([blocked, moved, allowed], client, Politeness(s))

        first = await h.poller.poll_once(blocked)
        assert (first.outcome, first.reason) == ("error", "robots_disallowed") and 150 <= first.delay <= 300
        h.now += timedelta(seconds=first.delay)
        second = await h.poller.poll_once(blocked)  # backs off like any failing source
        assert second.reason == "robots_disallowed" and 300 <= second.delay <= 600
        st = await h.poller.state_of(blocked)
        assert st.error_count == 2 and st.last_error.startswith("robots_disallowed: ")
        assert h.metric("wirewatch_source_consecutive_errors", source="blocked") == 2
        assert h.metric("wirewatch_source_polls_total", kind="feed", outcome="error") == 2

        assert (await h.poller.poll_once(moved)).reason == "robots_disallowed"
        assert (await h.poller.poll_once(allowed)).new == 2
    assert h.links and all(link["source"] == "feed:estuary" for link in h.links)
    assert publisher.hits["/private/feed.xml"] == 0 and publisher.hits["/moved.xml"] == 1
    assert publisher.hits["/robots.txt"] == 1  # one robots.txt for the origin, cached


async def test_robots_off_lets_the_poller_read_any_feed(publisher):
    s = fetch_settings(robots=False)
    blocked = Source("blocked", "feed", publisher.url("/moved.xml"), 300)
    async with build_client(s) as client:
        h = Harness([blocked], client, Politeness(s))
        assert (await h.poller.poll_once(blocked)).new == 2
    assert publisher.hits["/robots.txt"] == 0 and publisher.hits["/private/feed.xml"] == 1


async def test_feed_polls_and_article_fetches_share_one_host_budget(publisher):
    s = fetch_settings(robots=False, per_host_rate=1.0, per_host_burst=1, max_host_wait=10)
    t = FakeTime()
    polite = Politeness(s, clock=t.clock, sleep=t.sleep)
    feed = Source("estuary", "feed", publisher.url("/feed.xml"), 300)
    async with build_client(s) as client:
        h = Harness([feed], client, polite)
        assert (await h.poller.poll_once(feed)).new == 2  # the one token of the burst
        await fetch(publisher.url("/story/e1"), client, s, polite)  # waits for the poll's token to come back
        assert t.slept == [1.0]
        await h.poller.poll_once(feed)  # and the next poll waits for the fetch's
    assert t.slept == [1.0, 1.0]


async def test_a_retry_after_on_the_feed_pauses_article_fetches_of_the_host(publisher):
    s = fetch_settings(robots=False, max_host_wait=10)
    t = FakeTime()
    polite = Politeness(s, clock=t.clock, sleep=t.sleep)
    feed = Source("estuary", "feed", publisher.url("/feed.xml"), 300)
    publisher.feed_status, publisher.headers = 429, {"Retry-After": "120"}
    async with build_client(s) as client:
        h = Harness([feed], client, polite)
        result = await h.poller.poll_once(feed)
        assert (result.outcome, result.reason) == ("error", "http_status") and 150 <= result.delay <= 300
        with pytest.raises(TransientError) as e:
            await fetch(publisher.url("/story/e1"), client, s, polite)
    assert e.value.reason == "host_busy" and e.value.retry_after == pytest.approx(120)
    assert publisher.hits["/story/e1"] == 0


async def test_a_retry_after_on_an_article_pauses_the_feed_of_the_host(publisher):
    s = fetch_settings(robots=False, max_host_wait=10)
    t = FakeTime()
    polite = Politeness(s, clock=t.clock, sleep=t.sleep)
    feed = Source("estuary", "feed", publisher.url("/feed.xml"), 300)
    publisher.story_status, publisher.headers = 503, {"Retry-After": "900"}
    async with build_client(s) as client:
        with pytest.raises(TransientError):
            await fetch(publisher.url("/story/e1"), client, s, polite)
        h = Harness([feed], client, polite)
        result = await h.poller.poll_once(feed)
        assert (result.outcome, result.reason) == ("error", "host_busy")
        assert result.delay == 900  # the host's pause, longer than the first backoff step
        assert publisher.hits["/feed.xml"] == 0

        t.now += 900  # the pause is over: the feed is read again
        h.now += timedelta(seconds=900)
        assert (await h.poller.poll_once(feed)).new == 2


async def test_the_runtime_gives_the_fetch_agent_and_the_poller_one_politeness(publisher, tmp_path):
    settings = load_settings(
        data_dir=str(tmp_path),
        extract_processes=0,
        feed_poll=False,
        fetch={"allow_private_addresses": True, "robots": True},
    )
    rt = Runtime(settings)
    await rt.start()
    try:
        assert rt.politeness is not None
        core = fetch_agent.make_core(rt)
        (emitted,) = await core(make_link(publisher.url("/story/e1"), "test"))
        assert emitted.payload()["title"] == "Ferry pier reopens"
        h = Harness([Source("blocked", "feed", publisher.url("/private/feed.xml"), 300)], rt.http, rt.politeness)
        assert (await h.poller.poll_once(h.poller.sources[0])).reason == "robots_disallowed"
    finally:
        await rt.close()
    # The poller used the robots.txt the fetch agent had already read: one cache, one budget.
    assert publisher.hits["/robots.txt"] == 1 and publisher.hits["/private/feed.xml"] == 0
