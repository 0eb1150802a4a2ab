"""alert agent: `alert` in -> delivered to every configured channel, at least once per channel.

Thin like the other agents: decode (the runner), hand the alert to the alert sink
(sinks/delivery.py: retries waiting aside, parks the alerts of a channel that is down in storage
until it answers, throttles, failing-channel notices, the per-(alert, channel) ledger), emit
nothing, and let the runner's one error policy apply: an alert some channel will never get
(``PermanentError``: ``receiver_rejected``) becomes a dead letter with the whole alert, to replay;
the ledger makes the replay reach only the channels that do not have it yet. A channel that is
down is never a reason to dead-letter (issue 11). Storage trouble in the ledger is a
``TransientError`` the runner waits out.
"""

from __future__ import annotations

from typing import Any

from ..runtime import Runtime
from .runner import Core, Emit


def make_core(rt: Runtime) -> Core:
    assert rt.alerts is not None, "runtime not started"
    sink = rt.alerts

    async def core(alert: dict[str, Any]) -> list[Emit]:
        await sink.add(alert)
        await sink.flush()  # a barrier (nothing is buffered), kept so every sink user reads alike
        return []

    return core
