"""A link waiting for its host's turn is not a failure: it is never dead-lettered for it.

The fetch stage as a worker runs it (agents/flow.Flow around runner.Stage around the fetch core)
against two real loopback origins. Sixty links to the first, a slow-ish host, queue for its
politeness turn (two requests at a time, a few a second) far longer than ``max_host_wait``, with
only two tries per link: each wait ends in ``NotYet("host_busy")``, which must spend no try. Links
to a second host, taken after the sixty, must come out while the first host's queue is still
being served. Counts and order only: no timing is asserted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from tests.harness.events import Event, Msg
from wirewatch import contract
from wirewatch.agents import fetch as fetch_agent
from wirewatch.agents.flow import Flow
from wirewatch.agents.runner import Stage
from wirewatch.runtime import Runtime
from wirewatch.settings import RetrySettings, load_settings
from wirewatch.sources.links import make_link

PAGE = """<!doctype html><html lang="en"><head><title>Ferry timetable changes for winter</title></head>
<body><article><h1>Ferry timetable changes for winter</h1>
<p>The island ferry will sail four times a day instead of six from the first week of November, the
harbour office said, because the morning crossings have carried few passengers since the autumn.</p>
<p>Islanders who work on the mainland asked for the early boat to stay, and the operator agreed to
keep it on weekdays while the late evening crossing is dropped until the spring timetable begins.</p>
</article></body></html>"""

BUSY_LINKS = 60
OTHER_LINKS = 4


@pytest.fixture
async def runtime(tmp_path) -> AsyncIterator[Runtime]:
    settings = load_settings(
        data_dir=str(tmp_path),
        extract_processes=0,
        feed_poll=False,
        # Sixty links at ten a second, two at a time, take seconds; a turn is waited for 0.5 s only.
        fetch={
            "allow_private_addresses": True,
            "robots": False,
            "per_host_concurrency": 2,
            "per_host_rate": 10.0,
            "per_host_burst": 2,
            "max_host_wait": 0.5,
        },
    )
    rt = Runtime(settings)
    await rt.start()
    yield rt
    await rt.close()


async def origin(host: str) -> tuple[web.AppRunner, str]:
    async def page(request: web.Request) -> web.Response:
        await asyncio.sleep(0.05)  # slow-ish: each request holds one of the host's two slots a while
        return web.Response(text=PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_get("/news/{n}", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    return runner, f"http://{host}:{runner.addresses[0][1]}"


async def test_links_queued_for_their_hosts_turn_are_all_stored_none_dead_lettered(runtime):
    out: list[tuple[str, str]] = []  # (schema, url) in the order emitted

    async def send(schema: str, key: str | None, value: bytes) -> None:
        out.append((schema, contract.decode(schema, value).get("url", "")))

    stage = Stage(
        "fetch",
        "link",
        "links",
        send,
        runtime.metrics,
        RetrySettings(attempts=2, backoff_initial=0.1, backoff_max=1.0, outage_backoff_max=1.0),
    )
    core = fetch_agent.make_core(runtime)
    flow = Flow("fetch", lambda raw: stage.handle(raw, core), window=16, limit=200)
    acked: list[int] = []
    # Politeness counts per host name: 127.0.0.1 and 127.0.0.2 are two hosts.
    (busy_runner, busy), (other_runner, other) = await origin("127.0.0.1"), await origin("127.0.0.2")
    try:
        busy_links = [make_link(f"{busy}/news/{i}", "test") for i in range(BUSY_LINKS)]
        other_links = [make_link(f"{other}/news/{i}", "test") for i in range(OTHER_LINKS)]
        for offset, link in enumerate(busy_links + other_links):
            await flow.take(Event(contract.encode("link", link), Msg("links-0", offset), acked, link["url"].encode()))

        async def all_out() -> None:
            while len(out) < BUSY_LINKS + OTHER_LINKS:
                await asyncio.sleep(0.05)

        await asyncio.wait_for(all_out(), 120)  # a guard against a hang, not a speed goal
        assert [schema for schema, _ in out] == ["enriched"] * (BUSY_LINKS + OTHER_LINKS)  # no dead letter
        assert {url for _, url in out} == {link["url"] for link in busy_links + other_links}
        waited = runtime.metrics.messages.labels(stage="fetch", outcome="waited")._value.get()
        assert waited > 0  # the busy host's queue did outlast max_host_wait: the test tests something
        # The second host's links were taken last but did not queue behind the first host's.
        last_other = max(i for i, (_, url) in enumerate(out) if url.startswith(other))
        assert last_other < BUSY_LINKS  # every one out before the busy host's last link
        await asyncio.sleep(0)
        assert sorted(acked) == list(range(BUSY_LINKS + OTHER_LINKS))
    finally:
        await flow.close()
        await busy_runner.cleanup()
        await other_runner.cleanup()
