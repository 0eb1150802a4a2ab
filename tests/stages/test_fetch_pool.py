"""The fetch client's connection pools (real origins on loopback): one pool per origin, reused
across requests and kept for the host's next request until ``keepalive_expiry``, the least recently
used closed past ``keepalive_hosts`` origins; the address guard on each."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import subprocess
import sys

import pytest

from tests.harness.origin import Origin, loopback_settings
from wirewatch.errors import PermanentError
from wirewatch.stages import fetch as fetch_module
from wirewatch.stages.fetch import HostPools, build_client, fetch, kept_hosts


async def test_one_pool_per_origin_and_its_connection_is_reused():
    s = loopback_settings(per_host_concurrency=2)
    async with Origin() as a, Origin() as b, build_client(s) as c:
        for _ in range(3):
            for o in (a, b):
                assert "Water rose" in (await fetch(o.url("/article"), c, s)).html
        pools = c._transport
        assert isinstance(pools, HostPools)
        assert len(pools._pools) == 2
        assert [len(p.connections) for p, _ in pools._pools.values()] == [1, 1]


async def test_a_redirect_keeps_its_connection_for_the_next_hop():
    # A connection is kept only once its response was read to the end: the page a redirect
    # carries is read and dropped, so a short link's hops share one connection per origin.
    s = loopback_settings(per_host_concurrency=1)
    async with Origin() as a, build_client(s) as c:
        for _ in range(3):
            result = await fetch(a.url("/r/moved"), c, s)
            assert result.final_url == a.url("/article")
        assert a.hits["/r/moved"] == a.hits["/article"] == 3
        assert len(a.peers) == 1


async def test_a_redirect_whose_page_never_ends_is_followed_on_a_new_connection():
    # The redirect's page stalls for 5 s, past the whole fetch's 3 s deadline: a drain that waited
    # for it would spend the deadline and fail the fetch, so success is the proof (no clock read).
    s = loopback_settings(total_timeout=3.0)
    async with Origin() as a, build_client(s) as c:
        result = await fetch(a.url("/r/moved-stalled"), c, s)
        assert result.final_url == a.url("/article")
        assert len(a.peers) == 2


async def test_cookies_last_one_redirect_chain_and_the_client_keeps_none():
    # A jar shared by every fetch would grow with every site's cookies, and httpx copies all of it
    # into each request it builds; a chain still carries the cookie one hop sets to the next.
    s = loopback_settings()
    async with Origin() as a, build_client(s) as c:
        assert (await fetch(a.url("/sets-cookies"), c, s)).final_url == a.url("/sets-cookies")
        result = await fetch(a.url("/cookie/set"), c, s)
        assert result.final_url == a.url("/cookie/need") and "Water rose" in result.html
        assert not list(c.cookies.jar)
        with pytest.raises(PermanentError) as e:  # the chain's cookie went with the chain
            await fetch(a.url("/cookie/need"), c, s)
        assert e.value.reason == "http_status" and "403" in e.value.detail


async def test_least_recently_used_origins_are_closed_past_keepalive_hosts():
    s = loopback_settings(keepalive_hosts=2)
    async with contextlib.AsyncExitStack() as stack:
        origins = [await stack.enter_async_context(Origin()) for _ in range(4)]
        c = await stack.enter_async_context(build_client(s))
        for o in origins:
            await fetch(o.url("/article"), c, s)
        pools = c._transport
        assert isinstance(pools, HostPools)
        assert len(pools._pools) <= 2
        kept = {f"http://127.0.0.1:{port}" for _, _, port in pools._pools}
        assert kept <= {o.base for o in origins[-2:]}


async def test_hosts_past_max_connections_keep_their_connection_for_the_next_request():
    # max_connections bounds requests in flight, not idle connections: a worker going round more
    # hosts than that reuses each host's connection rather than opening one a request.
    s = loopback_settings(max_connections=2)
    async with contextlib.AsyncExitStack() as stack:
        origins = [await stack.enter_async_context(Origin()) for _ in range(4)]
        c = await stack.enter_async_context(build_client(s))
        for _ in range(3):
            for o in origins:
                await fetch(o.url("/article"), c, s)
        assert [len(o.peers) for o in origins] == [1, 1, 1, 1]


async def test_a_host_idle_past_the_expiry_has_its_connection_closed():
    s = loopback_settings(keepalive_expiry=0.2)
    async with Origin() as a, Origin() as b, build_client(s) as c:
        await fetch(a.url("/article"), c, s)
        await asyncio.sleep(0.3)
        await fetch(b.url("/article"), c, s)  # any request looks the pools over
        pools = c._transport
        assert isinstance(pools, HostPools)
        assert [port for _, _, port in pools._pools] == [b.port]
        await fetch(a.url("/article"), c, s)
        assert len(a.peers) == 2


def test_idle_hosts_take_at_most_a_quarter_of_the_open_file_limit(monkeypatch):
    s = loopback_settings(keepalive_hosts=1000, per_host_concurrency=2)
    monkeypatch.setattr(fetch_module.resource, "getrlimit", lambda _: (1024, 4096))
    assert kept_hosts(s) == 128
    monkeypatch.setattr(fetch_module.resource, "getrlimit", lambda _: (1_048_576, 1_048_576))
    assert kept_hosts(s) == 1000
    monkeypatch.setattr(fetch_module.resource, "getrlimit", lambda _: (resource.RLIM_INFINITY,) * 2)
    assert kept_hosts(s) == 1000
    monkeypatch.setattr(fetch_module, "resource", None)  # no limit to read: the setting as it is
    assert kept_hosts(s) == 1000


def test_the_fetch_module_imports_where_there_is_no_resource_module():
    # `resource` is POSIX only: a None in sys.modules makes its import fail as it does on Windows.
    code = (
        "import sys; sys.modules['resource'] = None\n"
        "from wirewatch.settings import FetchSettings\n"
        "from wirewatch.stages.fetch import kept_hosts\n"
        "print(kept_hosts(FetchSettings(keepalive_hosts=77)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "77"


async def test_the_address_guard_holds_on_every_origins_pool():
    s = loopback_settings(allowed_networks=[])  # loopback no longer exempt
    async with Origin() as a, build_client(s) as c:
        for _ in range(2):
            with pytest.raises(PermanentError) as e:
                await fetch(a.url("/article"), c, s)
            assert e.value.reason == "blocked_address"
