"""route agent: `enriched` in -> the rules that match -> one `alert` per matching rule out."""

from __future__ import annotations

from ..runtime import Runtime
from ..stages import route
from .runner import Core, Emit, utcnow


def make_core(rt: Runtime) -> Core:
    async def core(article: dict) -> list[Emit]:
        now = utcnow()
        return [
            Emit("alert", alert["alert_id"], alert)
            for alert in (route.make_alert(rule, article, now) for rule in route.evaluate(rt.rules, article))
        ]

    return core
