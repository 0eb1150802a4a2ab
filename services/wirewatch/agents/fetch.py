"""fetch agent: `link` in -> resolve the redirect chain, fetch, extract -> `article` out.

Extraction is CPU-bound, so it runs in the runtime's worker pool and never blocks the event loop.
The runtime's Politeness (one per worker, shared with the source poller) holds the per-host
limits and the robots.txt cache; the runtime's HTTP client holds the address guard. A link fetched
by way of its alias reports the redirect chain stored with the alias, followed by any new hops.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from ..errors import Rejected
from ..runtime import Runtime
from ..stages import dedupe
from ..stages import extract as extract_core
from ..stages import fetch as fetch_core
from ..stages.politeness import Politeness
from ..stages.urls import canonical_url
from .runner import Core, Emit, utcnow


def make_core(rt: Runtime) -> Core:
    # The runtime's, so feed polls of a site and fetches of its articles share one per-host budget.
    politeness = rt.politeness or Politeness(rt.settings.fetch)

    async def core(link: dict) -> list[Emit]:
        # A fresh alias whose article is stored ends here as filtered "duplicate" (stages/dedupe.py).
        ttl = rt.settings.sources.alias_ttl
        alias = await dedupe.lookup(rt.storage, link["url"], ttl)
        decision = dedupe.decide(link["url"], alias, datetime.now(UTC), link["link_id"])
        page = await fetch_core.fetch(decision.fetch_url, rt.http, rt.settings.fetch, politeness)
        loop = asyncio.get_running_loop()
        try:
            ex = await loop.run_in_executor(rt.pool, extract_core.extract, page.html, page.final_url)
        except Rejected as e:
            rt.metrics.extraction(page.final_url, e.reason)
            raise
        rt.metrics.extraction(page.final_url, "extracted", len(ex.text))
        canonical = canonical_url(ex.canonical_url or page.final_url)
        redirects = [{"url": h.url, "status": h.status} for h in page.redirects]
        if decision.via_alias:  # a shortcut taken does not extend the alias it used
            redirects = [dict(h) for h in decision.redirects] + redirects
        else:
            await dedupe.remember(rt.storage, link["url"], page.final_url, canonical, ttl, redirects, link["link_id"])
        article = {
            "link_id": link["link_id"],
            "source": link["source"],
            "url": link["url"],
            "final_url": page.final_url,
            "canonical_url": canonical,
            "redirects": redirects,
            "status": page.status,
            "content_type": page.content_type,
            "fetched_at": utcnow(),
            "title": ex.title or link.get("title"),
            "text": ex.text,
            "authors": list(ex.authors),
            "published": ex.published,
            "language": ex.language,
            "sitename": ex.sitename,
            "description": ex.description,
            "image": ex.image,
        }
        return [Emit("article", canonical, article)]

    return core
