"""A host that never answers delays only its own links.

The fetch stage as a worker runs it (agents/flow.Flow around runner.Stage around the fetch core)
against real loopback servers: one origin that answers, and one that accepts connections and never
says a word. Links to the silent host are taken first; every ordinary link taken after them must
still come out, while the silent ones are still hanging, and nothing above the first silent link
may be acked (the commit waits for it). Counts and order only: no timing is asserted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from tests.harness.events import Event, Msg
from tests.harness.loopback import serve
from wirewatch import contract
from wirewatch.agents import fetch as fetch_agent
from wirewatch.agents.flow import Flow
from wirewatch.agents.runner import Stage
from wirewatch.runtime import Runtime
from wirewatch.settings import RetrySettings, load_settings
from wirewatch.sources.links import make_link

ARTICLE = """<!doctype html><html lang="en"><head><title>Bridge reopens after repairs</title></head><body>
<article><h1>Bridge reopens after repairs</h1>
<p>The old river bridge reopened to traffic on Monday morning after eight months of repairs to its
steel deck, the city engineer said, and buses returned to their usual routes by the afternoon.</p>
<p>Shopkeepers on both banks said trade had suffered while the crossing was closed and welcomed
the first cars with flags, coffee and a small brass band that played until the rain came.</p>
</article></body></html>"""


@pytest.fixture
async def silent_host() -> AsyncIterator[str]:
    """Accepts connections, reads the request, never answers."""
    held: list[asyncio.StreamWriter] = []

    async def never(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        while await reader.read(65536):
            pass

    # Another loopback address: politeness counts per host name, and the origin is 127.0.0.1.
    server = await asyncio.start_server(never, "127.0.0.2", 0)
    yield f"http://127.0.0.2:{server.sockets[0].getsockname()[1]}"
    for w in held:
        w.close()
    server.close()


@pytest.fixture
async def runtime(tmp_path) -> AsyncIterator[Runtime]:
    settings = load_settings(
        data_dir=str(tmp_path),
        extract_processes=0,
        feed_poll=False,
        # Never time out while the test runs: the silent links hang for as long as it lasts.
        fetch={
            "allow_private_addresses": True,
            "robots": False,
            "read_timeout": 600,
            "total_timeout": 600,
            "per_host_rate": 1000.0,
            "per_host_burst": 1000,
        },
    )
    rt = Runtime(settings)
    await rt.start()
    yield rt
    await rt.close()


async def test_links_to_a_silent_host_do_not_delay_the_others(runtime, silent_host):
    async def article(request: web.Request) -> web.Response:
        return web.Response(text=ARTICLE, content_type="text/html")

    emitted: list[str] = []

    async def send(schema: str, key: str | None, value: bytes) -> None:
        emitted.append(schema)

    stage = Stage("fetch", "link", "links", send, runtime.metrics, RetrySettings(attempts=1))
    core = fetch_agent.make_core(runtime)
    # Three working slots; the silent host takes two (its per-host limit), its third link waits
    # aside for its turn, and the ordinary links share what is left.
    flow = Flow("fetch", lambda raw: stage.handle(raw, core), window=3, limit=100)
    acked: list[int] = []
    async with serve({"/news/{n}": article}) as origin:
        silent = [make_link(f"{silent_host}/s/{i}", "test") for i in range(3)]
        ordinary = [make_link(f"{origin}/news/{i}", "test") for i in range(12)]
        for offset, link in enumerate(silent + ordinary):
            await flow.take(Event(contract.encode("link", link), Msg("links-0", offset), acked, link["url"].encode()))

        async def all_ordinary_out() -> None:
            while emitted.count("enriched") < len(ordinary):
                await asyncio.sleep(0.05)

        await asyncio.wait_for(all_ordinary_out(), 120)  # a guard against a hang, not a speed goal
        assert emitted == ["enriched"] * len(ordinary)  # the silent ones are still hanging
        assert flow.working == len(silent)
        assert acked == [] and flow.lowest_pending("links-0") == 0  # the commit waits for offset 0
        await flow.close()
