"""enrich agent: `article` in -> casualty figures and keyword matches -> `enriched` out."""

from __future__ import annotations

from ..runtime import Runtime
from ..stages.enrich import enrich
from .runner import Core, Emit


def make_core(rt: Runtime) -> Core:
    async def core(article: dict) -> list[Emit]:
        # Pure and fast (regexes over one article): inline, no pool needed.
        return [Emit("enriched", article["canonical_url"], enrich(article))]

    return core
