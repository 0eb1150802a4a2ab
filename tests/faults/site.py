"""The loopback news site the fault tests fetch from: ordinary articles and casualty reports, each
at its own path, on an address of its own (127.0.0.3, so politeness towards the demo site on
127.0.0.1 does not slow it). A switch makes every page answer an error status for a while.

    site = FaultSite(); await site.start()
    site.news_url(7), site.report_url(2)     one article each; report n is casualty story n % len(EVENTS)
    site.fail_with = 404                     every page answers 404 until set back to None
"""

from __future__ import annotations

import asyncio
from collections import Counter

from aiohttp import web

# One casualty story each, written for these tests: (title, paragraphs). Different words throughout,
# so story grouping keeps them apart.
EVENTS = [
    (
        "Six killed as ferry capsizes off Marlow Bay",
        [
            "Six people were killed and eleven injured when a passenger ferry capsized in a sudden squall off "
            "the harbour wall at Marlow Bay on Sunday afternoon, the coastguard said.",
            "Fishing boats pulled survivors from the cold water; lifeboat crews searched the shallows until dark.",
            "The operator suspended its crossings while maritime investigators examine the hull and the cargo deck.",
        ],
    ),
    (
        "Market blast in Tessaro leaves four dead",
        [
            "Four people died and twenty-three were wounded after a gas cylinder exploded inside the crowded "
            "covered market of Tessaro early on Thursday, according to the fire brigade.",
            "Stallholders described a deafening bang followed by a wave of heat that shattered the glass roof.",
            "Engineers checked neighbouring buildings for cracks, and the municipal gas supply was shut off.",
        ],
    ),
    (
        "Nine dead after bus plunges into Velden ravine",
        [
            "Nine passengers were killed and fourteen hurt when an overnight coach left the mountain road at "
            "Velden Pass and fell into a ravine, police reported.",
            "Climbers and army helicopters helped lift the wounded from the gorge in freezing fog.",
            "The regional transport minister ordered inspections of every coach company licensed on that route.",
        ],
    ),
    (
        "Three workers die in Ashcombe warehouse fire",
        [
            "Three workers lost their lives and seven others suffered burns as fire tore through a textile "
            "warehouse in Ashcombe during the night shift, officials confirmed.",
            "Smoke from the bales of cotton drifted over the ring road, which stayed closed until morning.",
            "Union representatives demanded to know why the sprinkler system had been switched off.",
        ],
    ),
    (
        "Footbridge collapse at Quillan stadium kills five",
        [
            "Five football supporters were killed and thirty-one injured when a footbridge gave way beneath "
            "spectators leaving the Quillan stadium on Saturday evening.",
            "Paramedics set up a triage tent on the pitch as volunteers carried stretchers across the turf.",
            "The club postponed its next home fixture and the city engineer's office sealed the riverbank.",
        ],
    ),
    (
        "Freight trains collide near Oderby junction",
        [
            "Two railway employees were killed and six injured when two freight trains collided at a signal "
            "junction north of Oderby station before dawn.",
            "Wagons carrying timber and grain overturned, blocking both lines towards the capital.",
            "Rail safety inspectors recovered the data recorders from the two locomotives by midday.",
        ],
    ),
]

TOPICS = [
    "a new library",
    "the harbour festival",
    "a school orchestra",
    "the spring flower show",
    "a cycling lane",
    "the old lighthouse",
    "a farmers' cooperative",
    "the winter ferry timetable",
]


def _page(title: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!doctype html><html lang='en'><head><title>{title}</title></head><body>"
        f"<nav><a href='/'>Home</a> <a href='/world'>World</a></nav><article><h1>{title}</h1>{body}</article>"
        f"<footer>Copyright the Fault Gazette</footer></body></html>"
    )


def news_page(n: int) -> str:
    topic = TOPICS[n % len(TOPICS)]
    return _page(
        f"Council approves {topic}, plan number {n}",
        [
            f"The town council voted on Tuesday evening to go ahead with {topic}, plan number {n}, after a long "
            "debate in which residents on both sides of the question spoke for more than two hours.",
            "Supporters said the plan would bring visitors and trade to the quieter streets behind the quay, "
            "while its critics worried about the cost to the town budget over the next five years.",
            f"Work on {topic} is due to begin in the autumn, the council said, and the first phase should be "
            "finished before the end of next year if the weather and the suppliers allow it.",
        ],
    )


def report_page(n: int) -> str:
    title, paragraphs = EVENTS[n % len(EVENTS)]
    return _page(title, paragraphs)


class FaultSite:
    """A real HTTP server on 127.0.0.3; ``hits`` counts requests per path."""

    def __init__(self, host: str = "127.0.0.3") -> None:
        self.host = host
        self.fail_with: int | None = None
        self.delay = 0.0  # seconds each page takes: enough work in flight for a fault to land on
        self.hits: Counter = Counter()
        self._runner: web.AppRunner | None = None
        self.base = ""

    async def _serve(self, request: web.Request) -> web.Response:
        self.hits[request.path] += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_with is not None:
            return web.Response(status=self.fail_with, text="unavailable")
        kind, n = request.match_info["kind"], int(request.match_info["n"])
        html = report_page(n) if kind == "report" else news_page(n)
        return web.Response(text=html, content_type="text/html")

    async def start(self) -> FaultSite:
        app = web.Application()
        app.router.add_get("/{kind:news|report}/{n:\\d+}", self._serve)
        app.router.add_get("/robots.txt", lambda r: web.Response(text="User-agent: *\nAllow: /\n"))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.base = f"http://{self.host}:{site._server.sockets[0].getsockname()[1]}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def news_url(self, n: int) -> str:
        return f"{self.base}/news/{n}"

    def report_url(self, n: int) -> str:
        return f"{self.base}/report/{n}"

    def refetched(self) -> int:
        """Pages fetched more than once: work redone after a crash, a rebalance or a replay."""
        return sum(n - 1 for path, n in self.hits.items() if path != "/robots.txt")

    @staticmethod
    def stories(reports: int) -> int:
        """How many distinct casualty stories `reports` report links (numbered from 0) make."""
        return min(reports, len(EVENTS))
