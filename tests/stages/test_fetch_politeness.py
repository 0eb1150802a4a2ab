"""Politeness: robots.txt (real origin), the per-host concurrency cap (real origin, counted by the
server), the token bucket and Retry-After pauses (a fake clock: no timed assertions)."""

from __future__ import annotations

import asyncio

import pytest

from tests.harness.loopback import FakeTime
from tests.harness.origin import Origin, loopback_settings
from wirewatch.errors import NotYet, PermanentError, TransientError
from wirewatch.settings import FetchSettings
from wirewatch.stages.fetch import build_client, fetch
from wirewatch.stages.politeness import MAX_TURN_WAIT, Politeness


def polite_settings(**kw) -> FetchSettings:
    return loopback_settings(**{"per_host_concurrency": 2, **kw})


@pytest.fixture
async def origin():
    async with Origin() as o:
        yield o


async def test_robots_disallow_is_permanent_and_robots_is_fetched_once(origin):
    s = polite_settings()
    polite = Politeness(s)
    async with build_client(s) as c:
        assert "Water rose" in (await fetch(origin.url("/article"), c, s, polite)).html
        for path in ("/private/story", "/no-wirewatch/story"):
            with pytest.raises(PermanentError) as e:
                await fetch(origin.url(path), c, s, polite)
            assert e.value.reason == "robots_disallowed" and origin.url(path) in e.value.detail
        await asyncio.gather(*(fetch(origin.url("/article"), c, s, polite) for _ in range(5)))
    assert origin.hits["/robots.txt"] == 1
    assert origin.hits["/private/story"] == origin.hits["/no-wirewatch/story"] == 0


async def test_robots_applies_to_every_hop(origin):
    s = polite_settings()
    async with build_client(s) as c:
        with pytest.raises(PermanentError) as e:
            await fetch(origin.url("/to-private"), c, s, Politeness(s))
    assert e.value.reason == "robots_disallowed" and origin.hits["/private/story"] == 0


async def test_robots_can_be_turned_off(origin):
    s = polite_settings(robots=False)
    async with build_client(s) as c:
        await fetch(origin.url("/private/story"), c, s, Politeness(s))
    assert origin.hits["/robots.txt"] == 0


async def test_missing_robots_allows_everything():
    s = polite_settings()
    async with Origin(robots=404) as o, build_client(s) as c:
        assert "Water rose" in (await fetch(o.url("/private/story"), c, s, Politeness(s))).html


async def test_unreadable_robots_disallows_for_now():
    s = polite_settings()
    async with Origin(robots=503) as o, build_client(s) as c:
        polite = Politeness(s)
        for _ in range(2):
            with pytest.raises(TransientError) as e:
                await fetch(o.url("/article"), c, s, polite)
            assert e.value.reason == "robots_unavailable" and "HTTP 503" in e.value.detail
        assert o.hits["/robots.txt"] == 1 and o.hits["/article"] == 0


async def test_robots_of_a_blocked_host_is_a_blocked_address(origin):
    s = polite_settings(allowed_networks=[])
    async with build_client(s) as c:
        with pytest.raises(PermanentError) as e:
            await fetch(origin.url("/article"), c, s, Politeness(s))
    assert e.value.reason == "blocked_address" and origin.hits["/robots.txt"] == 0


async def test_per_host_concurrency_is_capped(origin):
    s = polite_settings(robots=False, per_host_concurrency=2)
    polite = Politeness(s)
    async with build_client(s) as c:
        await asyncio.gather(*(fetch(origin.url("/slow"), c, s, polite) for _ in range(8)))
    assert origin.hits["/slow"] == 8
    assert origin.max_in_flight == 2


async def test_retry_after_pauses_the_host(origin):
    s = polite_settings(robots=False, max_host_wait=5.0)
    polite = Politeness(s)
    async with build_client(s) as c:
        with pytest.raises(TransientError) as e:
            await fetch(origin.url("/busy"), c, s, polite)
        assert e.value.retry_after == 120.0
        # The next link to that host is not sent at all while the pause lasts.
        with pytest.raises(TransientError) as e:
            await fetch(origin.url("/article"), c, s, polite)
    assert e.value.reason == "host_busy" and 100 < e.value.retry_after <= 120
    assert isinstance(e.value, NotYet)  # waiting out the host's break is no failure of the link
    assert origin.hits["/article"] == 0


async def test_a_break_longer_than_max_turn_wait_spends_the_links_tries():
    t = FakeTime()
    polite = Politeness(FetchSettings(max_host_wait=5), clock=t.clock, sleep=t.sleep)
    polite.pause("https://news.example/a", MAX_TURN_WAIT - 1)
    with pytest.raises(NotYet):
        async with polite.slot("https://news.example/b"):
            pass
    polite.pause("https://news.example/a", MAX_TURN_WAIT + 100)  # Retry-After: a host down for us
    with pytest.raises(TransientError) as e:
        async with polite.slot("https://news.example/c"):
            pass
    assert e.value.reason == "host_busy" and not isinstance(e.value, NotYet)


async def test_token_bucket_allows_a_burst_then_the_rate():
    t = FakeTime()
    polite = Politeness(
        FetchSettings(per_host_rate=2.0, per_host_burst=3, max_host_wait=10), clock=t.clock, sleep=t.sleep
    )
    for _ in range(5):
        async with polite.slot("https://news.example/a"):
            pass
    assert t.slept == [0.5, 0.5]  # three back to back, then one every 1/rate seconds
    async with polite.slot("https://other.example/a"):  # hosts do not share a bucket
        pass
    assert t.slept == [0.5, 0.5]


async def test_a_turn_beyond_max_host_wait_is_host_busy():
    t = FakeTime()
    polite = Politeness(
        FetchSettings(per_host_rate=0.1, per_host_burst=1, max_host_wait=5), clock=t.clock, sleep=t.sleep
    )
    async with polite.slot("https://news.example/a"):
        pass
    with pytest.raises(TransientError) as e:
        async with polite.slot("https://news.example/b"):
            pass
    assert e.value.reason == "host_busy" and e.value.retry_after == pytest.approx(10.0)
    assert isinstance(e.value, NotYet)  # our own queue: not yet, never a failure
    assert t.slept == []


async def test_crawl_delay_slows_the_host(origin):
    s = polite_settings()
    async with Origin(robots=b"User-agent: *\nCrawl-delay: 7\n") as o, build_client(s) as c:
        t = FakeTime()
        polite = Politeness(s, clock=t.clock, sleep=t.sleep)
        await fetch(o.url("/article"), c, s, polite)
        await fetch(o.url("/xhtml"), c, s, polite)
    assert t.slept == [7.0]


async def test_host_table_is_bounded():
    polite = Politeness(FetchSettings(), max_hosts=10)
    for i in range(50):
        async with polite.slot(f"https://h{i}.example/"):
            pass
    assert len(polite._hosts) == 10
    assert "h49.example" in polite._hosts and "h0.example" not in polite._hosts


async def test_a_link_revoked_while_it_waits_for_its_working_slot_gives_its_host_turn_back():
    """The hang of the two-workers fault scenario: a link waiting aside for its host's turn gets
    the turn while every working slot is busy, so it waits for a slot with the turn in hand; a
    rebalance cancels it right there. The turn must go back to the host: with it lost, a host
    whose turns were all lost this way is refused to every later link (host_busy, forever)."""
    from tests.harness.events import Event, Msg
    from wirewatch.agents.flow import Flow

    url = "https://news.example/a"
    polite = Politeness(
        FetchSettings(per_host_concurrency=1, per_host_rate=1000, per_host_burst=1000, max_host_wait=1.0)
    )
    holder_in, holder_go, busy_go = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def hold_the_turn() -> None:  # another link of the host, in its request
        async with polite.slot(url):
            holder_in.set()
            await holder_go.wait()

    async def handle(value: str) -> None:
        if value == "waiter":
            async with polite.slot(url):  # waits aside for the turn, then for a working slot
                await asyncio.Event().wait()
        else:
            await busy_go.wait()  # a message working: it holds the only working slot

    holder = asyncio.create_task(hold_the_turn())
    await holder_in.wait()
    flow = Flow("fetch", handle, window=1, limit=100)
    acked: list[int] = []
    await flow.take(Event("waiter", Msg("p0", 0), acked))
    await flow.take(Event("busy", Msg("p0", 1), acked))  # taken once the waiter went aside
    holder_go.set()
    await holder  # the turn passes to the waiter, which now waits for the working slot
    await asyncio.sleep(0.01)
    assert flow.revoke(["p0"]) == 2
    await asyncio.sleep(0.01)

    async with polite.slot(url):  # the host's one turn is free again
        pass
    busy_go.set()
    await flow.close()
