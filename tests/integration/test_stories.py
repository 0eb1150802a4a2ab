"""One alert per story on the real parts: ten outlets reporting one event raise one alert and a
rising toll one update, through Kafka and a real worker; story state lives in PostgreSQL, so two
route workers racing on one event agree, and a restarted worker remembers it."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest
from aiohttp import web

from tests.harness.pipeline import Outcomes, free_port, read_topic, settings_of, wait_until, worker_config
from tests.harness.ten_outlets import BODY, OTHERS, RISING, SAME_TOLL, TEN, Report
from tests.stages.test_story import enriched_of
from wirewatch import contract
from wirewatch.agents import route as route_agent
from wirewatch.demo.receiver import AlertReceiver
from wirewatch.runtime import Runtime
from wirewatch.settings import load_settings
from wirewatch.sinks.storage import open_storage
from wirewatch.sources.submit import submit_links
from wirewatch.stages import throttle
from wirewatch.worker_process import WorkerProcess

pytestmark = pytest.mark.integration
DEFAULT_RULES = Path(__file__).resolve().parents[2] / "services" / "wirewatch" / "defaults" / "rules.yaml"


# -- story state in PostgreSQL: concurrent workers, restarts ------------------------------------


async def _runtime(storage_url: str) -> Runtime:
    rt = Runtime(load_settings(storage_url=storage_url)).load()
    rt.storage = open_storage(storage_url)
    await rt.storage.start()
    return rt


async def test_two_route_workers_racing_on_one_event_raise_one_alert(postgres) -> None:
    url = postgres.create_database(f"stories_{uuid.uuid4().hex[:8]}")
    a, b = await _runtime(url), await _runtime(url)  # two workers: two pools, no shared memory
    try:
        cores = [route_agent.make_core(a), route_agent.make_core(b)]
        # Each worker takes every other outlet's article, all at once.
        results = await asyncio.gather(*(cores[i % 2](enriched_of(r)) for i, r in enumerate(TEN)))
        alerts = [e.value for out in results for e in out]
        assert [x["kind"] for x in alerts] == ["new"]
        (story,) = await a.storage.stories()
        assert story["state"]["size"] == 10 and story["story_id"] == alerts[0]["story_id"]

        rising = await asyncio.gather(cores[1](enriched_of(RISING)), cores[0](enriched_of(SAME_TOLL)))
        updates = [e.value for out in rising for e in out]
        assert [x["kind"] for x in updates] == ["update"]
        assert updates[0]["changes"][0]["previous"] == 27 and updates[0]["changes"][0]["current"] == 41
        for x in alerts + updates:
            contract.validate("alert", x)
    finally:
        await a.storage.close()
        await b.storage.close()

    # A restarted worker (new process, same database) remembers the story.
    c = await _runtime(url)
    try:
        core = route_agent.make_core(c)
        assert await core(enriched_of(TEN[4])) == []  # re-delivered member that raised nothing
        again = await core(enriched_of(RISING))  # re-delivered: the same update, the same id
        assert [e.value["alert_id"] for e in again] == [updates[0]["alert_id"]]
        other = await core(enriched_of(OTHERS[0]))
        assert [e.value["kind"] for e in other] == ["new"]
        assert len(await c.storage.stories()) == 2
        assert await c.storage.schema_version() >= 3

        # Throttle windows in PostgreSQL: one sent, the next held, one digest once the window closes.
        start = datetime(2026, 11, 23, 12, tzinfo=UTC)
        held_alert = other[0].value
        for alert, expected in ((updates[0], True), (held_alert, False), (held_alert, False)):
            assert (
                await c.storage.throttle_admit(
                    "r", "*", start, start + timedelta(hours=1), "critical", alert, 1, throttle.admit, throttle.summary
                )
                is expected
            )
        assert await c.storage.due_digests(start + timedelta(minutes=59)) == []
        (due,) = await c.storage.due_digests(start + timedelta(hours=1))
        assert due["sent"] == [updates[0]["alert_id"]] and [h["alert_id"] for h in due["held"]] == [
            held_alert["alert_id"]
        ]
        await c.storage.mark_digest_sent("r", "*", start)
        assert await c.storage.due_digests(start + timedelta(hours=2)) == []
    finally:
        await c.storage.close()


# -- end to end through Kafka -------------------------------------------------------------------

_MORE = (
    "Relatives waited at the port in Goma for news as boats returned from the search. The provincial "
    "government said it would publish a list of passengers once families had been informed.",
    "Boats on the lake are often overloaded because roads between the towns on its shores are poor, "
    "and inspections of the vessels are rare, according to transport officials in the province.",
)


class Outlets:
    """Ten outlets (and the follow-ups) on one loopback server: /<slug>/story.html each."""

    def __init__(self, reports: list[Report]) -> None:
        self.reports = {r.slug: r for r in reports}
        self.base = ""
        self._runner: web.AppRunner | None = None

    def page(self, r: Report) -> str:
        paras = [r.lead, *(p for p in re.split(r"(?<=\.) (?=[A-Z])", BODY) if p), *_MORE]
        body = "".join(f"<p>{p}</p>" for p in paras)
        return (
            f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{r.title} | {r.sitename}</title>'
            f'<meta property="og:title" content="{r.title}"><meta property="og:site_name" content="{r.sitename}">'
            f'<meta property="article:published_time" content="{r.published}">'
            f'<link rel="canonical" href="{self.url(r)}"></head><body>'
            f'<header><a href="/">{r.sitename}</a> <a href="/world">World</a> <a href="/africa">Africa</a></header>'
            f"<main><article><h1>{r.title}</h1>{body}</article></main>"
            f"<footer>Copyright {r.sitename}. All rights reserved.</footer></body></html>"
        )

    def url(self, r: Report) -> str:
        return f"{self.base}/{r.slug}/story.html"

    async def _handle(self, request: web.Request) -> web.Response:
        parts = request.path.strip("/").split("/")
        r = self.reports.get(parts[0]) if len(parts) == 2 and parts[1] == "story.html" else None
        if r is None:
            return web.Response(status=404, text="not found")
        return web.Response(text=self.page(r), content_type="text/html")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()  # port 0: the port it binds is its own
        self.base = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


async def _metric(web_port: int, series: str, at_least: float) -> bool:
    try:
        text = httpx.get(f"http://127.0.0.1:{web_port}/metrics", timeout=5).text
    except httpx.HTTPError:
        return False
    m = re.search(rf"^{re.escape(series)} (\S+)$", text, re.M)
    return m is not None and float(m.group(1)) >= at_least


async def _route_done(web_port: int, n: int) -> bool:
    return await _metric(web_port, 'wirewatch_stage_messages_total{outcome="ok",stage="route"}', n)


async def test_ten_outlets_one_alert_and_a_rising_toll_one_update_through_kafka(
    kafka, postgres, tmp_path: Path
) -> None:
    outlets = Outlets(TEN + [RISING, SAME_TOLL])
    await outlets.start()
    receiver = AlertReceiver()
    await receiver.start()
    storage_url = postgres.create_database(f"stories_e2e_{uuid.uuid4().hex[:8]}")
    web_port = free_port()
    rules = tmp_path / "rules.yaml"
    rules.write_text(DEFAULT_RULES.read_text())
    cfg = worker_config(
        kafka.bootstrap,
        storage_url,
        tmp_path,
        f"stories-{uuid.uuid4().hex[:6]}",
        [receiver.url],
        web_port=web_port,
        rules_file=str(rules),
        route={"rules_reload_interval": 0.2},
    )
    settings = settings_of(cfg)
    worker = WorkerProcess(cfg, tmp_path / "worker.log").start()
    try:
        async with Outcomes(storage_url) as db:
            links = await submit_links(kafka.bootstrap, settings, [outlets.url(r) for r in TEN], source="test")
            await wait_until(lambda: db.settled(len(links)), 180, "the ten links to be stored", worker)
            assert (await db.storage.counts())["stored"] == 10
            await wait_until(lambda: _route_done(web_port, 10), 60, "the route stage to take all ten", worker)
            await wait_until(lambda: _async(len(receiver.received) >= 1), 60, "the alert to arrive", worker)

            topic = settings.topic("alerts")
            alerts = [orjson.loads(v) for _, v in await read_topic(kafka.bootstrap, topic)]
            assert [a["kind"] for a in alerts] == ["new"], alerts
            assert alerts[0]["rule"] == "people-killed-or-wounded"
            assert alerts[0]["figures"]["killed"]["count"] == 27

            # A broken edit of the rules file while running: refused, named, the old rules stay.
            rules.write_text(
                "rules:\n  - name: people-killed-or-wounded\n    severity: loud\n    when_any: {killed: 1}\n"
            )
            await wait_until(
                lambda: _metric(web_port, 'wirewatch_rules_reloads_total{outcome="invalid"}', 1),
                30,
                "the bad rules to be refused",
                worker,
            )
            assert f"{rules}:3: rules[0] (name 'people-killed-or-wounded'): severity" in worker.log_tail(200)

            more = await submit_links(
                kafka.bootstrap, settings, [outlets.url(SAME_TOLL), outlets.url(RISING)], source="test"
            )
            await wait_until(lambda: db.settled(len(links) + len(more)), 120, "the follow-ups to be stored", worker)
            await wait_until(lambda: _route_done(web_port, 12), 60, "the route stage to take the follow-ups", worker)
            await wait_until(lambda: _async(len(receiver.received) >= 2), 60, "the update to arrive", worker)

            alerts = [orjson.loads(v) for _, v in await read_topic(kafka.bootstrap, topic)]
            assert sorted(a["kind"] for a in alerts) == ["new", "update"], alerts
            update = next(a for a in alerts if a["kind"] == "update")
            assert update["story_id"] == alerts[0]["story_id"]
            assert update["changes"][0]["previous"] == 27 and update["changes"][0]["current"] == 41
            assert update["canonical_url"] == outlets.url(RISING)
            assert {s["sitename"] for s in update["sources"]} >= {r.sitename for r in TEN}
            for a in alerts:
                contract.validate("alert", a)
            assert sorted(a["kind"] for a in receiver.received) == ["new", "update"]
            (story,) = await db.storage.stories()
            # The ten, the rise, and the vigil if enrich reads its "the 27 people who were killed" as a toll.
            from tests.stages.test_story import enriched_of

            vigil_alerts = bool((enriched_of(SAME_TOLL)["figures"].get("killed") or {}).get("count"))
            assert story["state"]["size"] == 11 + vigil_alerts
    finally:
        code = worker.stop()
        await receiver.stop()
        await outlets.stop()
    assert code == 0, worker.log_tail()


async def _async(value: bool) -> bool:
    return value


async def test_follow_ups_of_expired_stories_on_postgresql(postgres) -> None:
    """The follow-up query (expired stories filed under follow-up keys) on PostgreSQL's SQL."""
    from tests.stages.test_route_stories import _follow_ups_through_the_route_core

    rt = await _runtime(postgres.create_database(f"followups_{uuid.uuid4().hex[:8]}"))
    try:
        await _follow_ups_through_the_route_core(rt)
    finally:
        await rt.storage.close()
