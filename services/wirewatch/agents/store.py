"""store agent: `enriched` in -> idempotent upsert into storage, and the link's outcome `stored`.

Nothing is emitted; the input offset is committed only after the write returned, so a crash
re-delivers the article and the upsert (keyed on the canonical URL) makes the retry harmless.
"""

from __future__ import annotations

from ..runtime import Runtime
from .runner import Core, Emit


def make_core(rt: Runtime) -> Core:
    async def core(article: dict) -> list[Emit]:
        outcome = await rt.storage.upsert_article(article)
        await rt.storage.record_outcome(article["link_id"], article["url"], "stored", "store")
        rt.metrics.stored.labels(outcome=outcome).inc()
        return []

    return core
