"""outcomes agents: `filtered` and `deadletter` in -> the link's final outcome in storage.

With `stored` written by the store agent, every link in ends as exactly one row of outcomes, so
links in = stored + filtered + dead-lettered can be checked at any time. A message that never
decoded (no link id) gets a row of its own, keyed on its content hash and where it was read.
Storage being down pauses these agents (errors.Unavailable); the dead-letter agent never
dead-letters onto its own input (agents/runner.py), so a letter's first stage and reason are
what its row keeps, whatever failed on the way.
"""

from __future__ import annotations

import hashlib

import orjson

from ..runtime import Runtime
from .runner import Core, Emit


def make_filtered_core(rt: Runtime) -> Core:
    async def core(item: dict) -> list[Emit]:
        assert rt.storage is not None, "runtime not started"
        await rt.storage.record_outcome(
            item["link_id"], item["url"], "filtered", item["stage"], item["reason"], item["detail"]
        )
        return []

    return core


def outcome_key(letter: dict) -> str:
    """The outcome row's key of a dead letter without a link id (a message that never decoded):
    its content's hash *and* where it was read (topic, partition, offset), so two bad messages
    that happen to be alike still get a row each, and a redelivery of one lands on its own row."""
    content = letter.get("payload_sha256") or hashlib.sha256(orjson.dumps(letter["payload"], default=str)).hexdigest()
    where = f"{letter.get('topic')}:{letter.get('partition')}:{letter.get('offset')}"
    return "dl-" + hashlib.sha256(f"{content}@{where}".encode()).hexdigest()[:24]


def make_deadletter_core(rt: Runtime) -> Core:
    async def core(letter: dict) -> list[Emit]:
        link_id = letter["link_id"] or outcome_key(letter)
        assert rt.storage is not None, "runtime not started"
        await rt.storage.record_outcome(
            link_id, letter.get("url") or "", "dead_lettered", letter["stage"], letter["reason"], letter["detail"]
        )
        return []

    return core
