"""alert agent: `alert` in -> delivered to every configured channel, once per channel.

The storage ledger remembers which (alert, channel) pairs were delivered, so a redelivered alert
message, or the same article arriving twice, does not notify anyone twice. A channel that fails
transiently makes the runner retry the whole message; channels already delivered are skipped.
"""

from __future__ import annotations

from ..runtime import Runtime
from .runner import Core, Emit


def make_core(rt: Runtime) -> Core:
    async def core(alert: dict) -> list[Emit]:
        for channel in rt.channels:
            if not await rt.storage.claim_alert(alert["alert_id"], channel.target, alert):
                continue
            await channel.send(alert)
            await rt.storage.mark_delivered(alert["alert_id"], channel.target)
        return []

    return core
