"""Stored stories for the read API tests: enriched articles written the way the store and route
agents write them (upsert_article, then assign_story with route.decide), so the rows, the story
state and the triggers' story cards are the real ones."""

from __future__ import annotations

from typing import Any

from wirewatch.settings import PACKAGE_DIR
from wirewatch.stages import route, story as story_core
from wirewatch.stages.enrich import enrich

RULES = route.load_rules(PACKAGE_DIR / "defaults" / "rules.yaml")


def article(
    url: str, title: str, text: str, at: str, sitename: str = "Example Wire", language: str = "en"
) -> dict[str, Any]:
    """An enriched article as the enrich stage makes it from `title` and `text`."""
    base = {
        "link_id": "l-" + url.rsplit("/", 1)[-1],
        "source": "test",
        "url": url,
        "final_url": url,
        "canonical_url": url,
        "status": 200,
        "content_type": "text/html",
        "fetched_at": at,
        "title": title,
        "text": text,
        "authors": [],
        "published": at,
        "language": language,
        "sitename": sitename,
        "description": None,
        "image": None,
        "redirects": [],
    }
    return enrich(base)


async def store(storage, enriched: dict[str, Any], now: str = "2026-12-01T12:00:00Z") -> Any:
    """Store `enriched` and route it into a story, as the pipeline does; the route decision."""
    await storage.upsert_article(enriched)
    matched = route.evaluate(RULES, enriched)
    if not matched:
        return None
    art = story_core.view(enriched)
    window = story_core.DEFAULT_WINDOW

    def decide(rows):
        d = route.decide(enriched, matched, [story_core.Story.from_row(r) for r in rows], now, window, art)
        return d.story.to_row(), d

    return await storage.assign_story(enriched["canonical_url"], art.at - window, decide, sorted(story_core.keys(art)))
