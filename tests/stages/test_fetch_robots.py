"""robots.txt by RFC 9309 (protego), read from a real origin on 127.0.0.1 through the fetch client:
wildcards, ``$``, the longest match, Allow over Disallow, and the user-agent group that applies."""

from __future__ import annotations

import pytest

from tests.harness.origin import Origin, loopback_settings
from wirewatch.errors import PermanentError
from wirewatch.settings import FetchSettings
from wirewatch.stages.fetch import build_client
from wirewatch.stages.politeness import Politeness

SETTINGS = loopback_settings()


async def verdicts(robots: bytes, paths: list[str], settings: FetchSettings = SETTINGS) -> dict[str, bool]:
    """path -> allowed, as the worker's Politeness decides from ``robots``."""
    out = {}
    async with Origin(robots=robots) as o, build_client(settings) as c:
        polite = Politeness(settings)
        for path in paths:
            try:
                await polite.check_robots(o.url(path), c)
                out[path] = True
            except PermanentError as e:
                assert e.reason == "robots_disallowed"
                out[path] = False
        assert o.hits["/robots.txt"] == 1
    return out


async def test_allow_beats_a_shorter_disallow():
    # The standard library's parser takes the first matching line and blocks /news/ here.
    got = await verdicts(b"User-agent: *\nDisallow: /\nAllow: /news/\n", ["/news/flood-kills-nine", "/sport/x", "/"])
    assert got == {"/news/flood-kills-nine": True, "/sport/x": False, "/": False}


async def test_longest_match_wins_whatever_the_order():
    robots = b"User-agent: *\nAllow: /world/\nDisallow: /world/live/\nAllow: /world/live/report-\n"
    got = await verdicts(robots, ["/world/a", "/world/live/blog", "/world/live/report-1"])
    assert got == {"/world/a": True, "/world/live/blog": False, "/world/live/report-1": True}


async def test_allow_wins_a_tie():
    got = await verdicts(b"User-agent: *\nDisallow: /page\nAllow: /page\n", ["/page"])
    assert got == {"/page": True}


async def test_wildcards_and_end_anchor():
    robots = b"User-agent: *\nDisallow: /*.pdf$\nDisallow: /*/print/\nDisallow: /search*q=\n"
    got = await verdicts(
        robots, ["/files/report.pdf", "/files/report.pdf?x=1", "/a/print/b", "/a/b", "/search?page=2&q=fire", "/search"]
    )
    assert got == {
        "/files/report.pdf": False,
        "/files/report.pdf?x=1": True,
        "/a/print/b": False,
        "/a/b": True,
        "/search?page=2&q=fire": False,
        "/search": True,
    }


@pytest.mark.parametrize(
    "agent, allowed", [("wirewatch/0.1 (+https://example.org/bot)", False), ("otherbot/2.0", True)]
)
async def test_the_group_naming_our_product_token_applies(agent, allowed):
    robots = b"User-agent: *\nAllow: /\n\nUser-agent: wirewatch\nDisallow: /live/\n"
    got = await verdicts(robots, ["/live/x"], SETTINGS.model_copy(update={"user_agent": agent}))
    assert got == {"/live/x": allowed}


async def test_only_the_first_500_kib_count():
    # RFC 9309 2.5: a crawler may stop parsing after 500 KiB; a rule past it is never read.
    padding = b"# nothing to see here, just a long robots.txt comment line\n" * 9_000  # ~530 KB
    robots = b"User-agent: *\nDisallow: /early/\n" + padding + b"Disallow: /late/\n"
    got = await verdicts(robots, ["/early/a", "/late/a"])
    assert got == {"/early/a": False, "/late/a": True}
