"""outcomes agents: `filtered` and `deadletter` in -> the link's final outcome in storage.

With `stored` written by the store agent, every link in ends as exactly one row of outcomes, so
links in = stored + filtered + dead-lettered can be checked at any time.
"""

from __future__ import annotations

import hashlib

import orjson

from ..runtime import Runtime
from .runner import Core, Emit


def make_filtered_core(rt: Runtime) -> Core:
    async def core(item: dict) -> list[Emit]:
        await rt.storage.record_outcome(item["link_id"], item["url"], "filtered", item["stage"], item["reason"], item["detail"])
        return []

    return core


def make_deadletter_core(rt: Runtime) -> Core:
    async def core(letter: dict) -> list[Emit]:
        link_id = letter["link_id"]
        if not link_id:  # a message that never decoded: key its outcome on its content
            link_id = "dl-" + hashlib.sha256(orjson.dumps(letter["payload"], default=str)).hexdigest()[:24]
        await rt.storage.record_outcome(
            link_id, letter.get("url") or "", "dead_lettered", letter["stage"], letter["reason"], letter["detail"]
        )
        return []

    return core
