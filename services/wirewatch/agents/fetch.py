"""fetch agent: `link` in -> resolve the redirect chain, fetch, extract, enrich -> `enriched` out.

Extraction and enrichment are CPU-bound: they run in the runtime's process pool as one call per
article (stages/article.py), so the event loop only moves bytes. The article goes straight to the
`enriched` topic, one hop fewer on the way to an alert; the `articles` topic and its enrich agent
remain for what is already on it or replayed to it.
The runtime's Politeness (one per worker, shared with the source poller) holds the per-host
limits and the robots.txt cache; the runtime's HTTP client holds the address guard. A link fetched
by way of its alias reports the redirect chain stored with the alias, followed by any new hops.
"""

from __future__ import annotations

import asyncio

from ..errors import Rejected
from ..runtime import Runtime
from ..stages import article as article_core, dedupe, fetch as fetch_core
from ..stages.enrich import language_label
from ..stages.politeness import Politeness
from ..timeutil import utc_now
from .runner import Core, Emit, utcnow


def make_core(rt: Runtime) -> Core:
    # The runtime's, so feed polls of a site and fetches of its articles share one per-host budget.
    politeness = rt.politeness or Politeness(rt.settings.fetch)

    async def core(link: dict) -> list[Emit]:
        # A fresh alias whose article is stored ends here as filtered "duplicate" (stages/dedupe.py).
        ttl = rt.settings.sources.alias_ttl
        alias = await dedupe.lookup(rt.storage, link["url"], ttl)
        decision = dedupe.decide(link["url"], alias, utc_now(), link["link_id"])
        assert rt.http is not None, "runtime not started"
        page = await fetch_core.fetch(decision.fetch_url, rt.http, rt.settings.fetch, politeness)
        known = {
            "link_id": link["link_id"],
            "source": link["source"],
            "url": link["url"],
            "redirects": [{"url": h.url, "status": h.status} for h in page.redirects],
            "status": page.status,
            "content_type": page.content_type,
            "fetched_at": utcnow(),
            "title": link.get("title"),
        }
        if decision.via_alias:  # a shortcut taken does not extend the alias it used
            known["redirects"] = [dict(h) for h in decision.redirects] + known["redirects"]
        # Decoding, extraction, enrichment and validating the result: CPU, so one call in the pool,
        # which gets the page's bytes and gives back the enriched topic's (the loop only moves bytes).
        try:
            article = await asyncio.get_running_loop().run_in_executor(
                rt.pool, article_core.read_encoded, page.body, page.content_type, page.final_url, known
            )
        except Rejected as e:
            rt.metrics.extraction(page.final_url, e.reason)
            raise
        rt.metrics.extraction(page.final_url, "extracted", article.text_chars)
        rt.metrics.articles_by_language.labels(language=language_label(article.language)).inc()
        if not decision.via_alias:
            await dedupe.remember(
                rt.storage,
                link["url"],
                page.final_url,
                article.canonical_url,
                ttl,
                known["redirects"],
                link["link_id"],
            )
        return [Emit("enriched", article.canonical_url, article.data)]

    return core
