"""store agent: `enriched` in -> added to the storage sink (an idempotent upsert), and the link's
outcome `stored`.

Nothing is emitted; ``flush`` returns before the core does, so the input offset is committed only
after the article is durable; a crash re-delivers the article and the upsert (keyed on the
canonical URL) makes the retry harmless. Storage errors are already the error tree's
(``storage_unavailable`` transient, ``storage_rejected`` permanent): the runner applies the policy.
"""

from __future__ import annotations

from typing import Any

from ..runtime import Runtime
from .runner import Core, Emit


def make_core(rt: Runtime) -> Core:
    assert rt.storage is not None, "runtime not started"
    storage = rt.storage

    async def core(article: dict[str, Any]) -> list[Emit]:
        # The article, its link and the link's outcome in one transaction: one commit per link.
        outcome = await storage.add(article, stored_by="store")
        await storage.flush()
        rt.metrics.stored.labels(outcome=outcome).inc()
        return []

    return core
