"""enrich agent: `article` in -> casualty figures and keyword matches -> `enriched` out.

The fetch agent enriches what it fetches itself (one pool call per article, stages/article.py) and
emits to `enriched`; this agent serves articles already on the `articles` topic or replayed to it.
"""

from __future__ import annotations

import asyncio

from ..runtime import Runtime
from ..stages.article import enrich_encoded
from ..stages.enrich import language_label
from .runner import Core, Emit


def make_core(rt: Runtime) -> Core:
    async def core(article: dict) -> list[Emit]:
        # CPU-bound: in the pool, like everything else that reads an article (story features, and
        # validating the result, too): the loop gets the bytes it sends.
        enriched = await asyncio.get_running_loop().run_in_executor(rt.pool, enrich_encoded, article)
        rt.metrics.articles_by_language.labels(language=language_label(enriched.language)).inc()
        return [Emit("enriched", enriched.canonical_url, enriched.data)]

    return core
