"""fetch agent: `link` in -> resolve the redirect chain, fetch, extract -> `article` out.

Extraction is CPU-bound, so it runs in the runtime's worker pool and never blocks the event loop.
"""

from __future__ import annotations

import asyncio

from ..runtime import Runtime
from ..stages import extract as extract_core
from ..stages import fetch as fetch_core
from ..stages.urls import canonical_url
from .runner import Core, Emit, utcnow


def make_core(rt: Runtime) -> Core:
    async def core(link: dict) -> list[Emit]:
        page = await fetch_core.fetch(link["url"], rt.http, rt.settings.fetch)
        loop = asyncio.get_running_loop()
        ex = await loop.run_in_executor(rt.pool, extract_core.extract, page.html, page.final_url)
        canonical = canonical_url(ex.canonical_url or page.final_url)
        article = {
            "link_id": link["link_id"],
            "source": link["source"],
            "url": link["url"],
            "final_url": page.final_url,
            "canonical_url": canonical,
            "redirects": [{"url": h.url, "status": h.status} for h in page.redirects],
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
