"""The stage runtime's own CPU per message: what a message costs the event loop between two topics
besides its stage's core, against only moving its bytes, measured in the same run, on the worker's
event loop (``--runtime-loop``: uvloop where installed, as the worker).

Each message is taken into a Flow window (agents/flow.py), handled by Stage.handle (agents/runner.py:
decode and validate the input, call the core, validate and encode the output, send it and wait for
the ack, count the outcome) and acked in offset order. The core returns one enriched article (the
schema example, a link id of its own) and the send is acked at once: no broker, no faust, so what is
measured is the runtime, not Kafka. Rows, CPU microseconds per message (best of --runtime-rounds):

    bytes_only          orjson.loads of the input and orjson.dumps of the output: the floor
    runtime             the whole runtime as it runs
    runtime_jsonschema  the same with jsonschema's walk as the only validator (contract.py before
                        its compiled check), for the ratio
    pool_dict           the fetch agent's hand-off as it was: the core unpickles the pool's answer,
                        the enriched article as a dict, which the runtime then validates and encodes
    pool_bytes          the hand-off now: the pool's answer is the topic's bytes, validated and
                        serialised in the pool (stages/article.py ``Read``); the loop unpickles one
                        bytes object and hashes it (contract.trust). The pool's answers are pickled
                        before the clock starts, as the pool process does it on its own core

Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import pickle
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from wirewatch import contract
from wirewatch.agents.flow import Flow
from wirewatch.agents.runner import Emit, Stage
from wirewatch.boot import use_event_loop
from wirewatch.metrics import Metrics
from wirewatch.settings import RetrySettings
from wirewatch.stages.article import Read

EXAMPLES = Path(contract.schemas_dir()) / "examples"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("runtime")
    g.add_argument("--runtime-messages", type=int, default=3000, help="messages a round")
    g.add_argument("--runtime-rounds", type=int, default=4, help="rounds of each row (the fastest counts)")
    g.add_argument(
        "--runtime-loop",
        choices=["auto", "uvloop", "asyncio"],
        default="auto",
        help="the event loop, as the worker's event_loop setting (auto: uvloop where installed, as the worker runs)",
    )


class _TP(NamedTuple):
    topic: str
    partition: int


class _Message:
    __slots__ = ("offset", "tp")

    def __init__(self, tp: _TP, offset: int) -> None:
        self.tp, self.offset = tp, offset


class _Event:
    """What Flow.take reads of a faust event."""

    __slots__ = ("acked", "key", "message", "value")

    def __init__(self, value: bytes, tp: _TP, offset: int) -> None:
        self.value, self.key, self.message, self.acked = value, None, _Message(tp, offset), False

    def ack(self) -> None:
        self.acked = True


def _inputs(n: int) -> list[bytes]:
    link = orjson.loads((EXAMPLES / "link.json").read_bytes())
    return [orjson.dumps({**link, "link_id": f"{i:016x}"}) for i in range(n)]  # bytes of their own each


def _article() -> dict[str, Any]:
    return orjson.loads((EXAMPLES / "enriched.json").read_bytes())


async def _runtime(inputs: list[bytes], core: Callable[[dict], Any] | None = None) -> float:
    article = _article()

    async def made_here(link: dict) -> list[Emit]:
        return [Emit("enriched", article["canonical_url"], {**article, "link_id": link["link_id"]})]

    core = core or made_here

    async def send(schema: str, key: str | None, value: bytes) -> None:
        return None

    stage = Stage("fetch", "link", "bench.links", send, Metrics(), RetrySettings(), max_bytes=1_000_000)
    acked = asyncio.Event()  # set while nothing taken is unacked

    def changed(working: int, uncommitted: int) -> None:
        acked.clear() if uncommitted else acked.set()

    flow = Flow("fetch", lambda raw: stage.handle(raw, core), window=32, limit=512, on_change=changed)
    tp = _TP("bench.links", 0)
    started = time.process_time()
    for offset, raw in enumerate(inputs):
        await flow.take(_Event(raw, tp, offset))
    await acked.wait()
    return time.process_time() - started


async def _bytes_only(inputs: list[bytes]) -> float:
    article = _article()
    started = time.process_time()
    for raw in inputs:
        link = orjson.loads(raw)
        orjson.dumps({**article, "link_id": link["link_id"]})
    return time.process_time() - started


async def _runtime_jsonschema(inputs: list[bytes]) -> float:
    compile_, built = contract._compile, dict(contract._built)
    contract._compile = lambda v, schema: None  # no compiled check: jsonschema's walk decides everything, as before
    contract._built.clear()
    try:
        return await _runtime(inputs)
    finally:
        contract._compile = compile_
        contract._built.clear()
        contract._built.update(built)  # the other rows' compiled checks, not compiled again on their clock


def _answers(inputs: list[bytes], encoded: bool) -> dict[str, bytes]:
    """The pool's answer for each input's link id, pickled as it crosses the process boundary."""
    article = _article()
    out = {}
    for raw in inputs:
        link_id = orjson.loads(raw)["link_id"]
        enriched = {**article, "link_id": link_id}
        if encoded:
            data = contract.dumps("enriched", enriched)
            answer: Any = Read(data, enriched["canonical_url"], len(enriched["text"]), enriched["language"])
        else:
            answer = enriched
        out[link_id] = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
    return out


async def _pool_dict(inputs: list[bytes]) -> float:
    answers = _answers(inputs, encoded=False)

    async def core(link: dict) -> list[Emit]:
        enriched = pickle.loads(answers[link["link_id"]])
        return [Emit("enriched", enriched["canonical_url"], enriched)]

    return await _runtime(inputs, core)


async def _pool_bytes(inputs: list[bytes]) -> float:
    answers = _answers(inputs, encoded=True)

    async def core(link: dict) -> list[Emit]:
        read = pickle.loads(answers[link["link_id"]])
        return [Emit("enriched", read.canonical_url, read.data)]

    return await _runtime(inputs, core)


ROWS: dict[str, Callable[[list[bytes]], Any]] = {
    "bytes_only": _bytes_only,
    "runtime": _runtime,
    "runtime_jsonschema": _runtime_jsonschema,
    "pool_dict": _pool_dict,
    "pool_bytes": _pool_bytes,
}


async def _run(messages: int, rounds: int) -> dict:
    inputs = _inputs(messages)
    for row in ROWS.values():  # warm up: schemas compiled, code paths taken once
        await row(inputs[:200])
    best = {name: float("inf") for name in ROWS}
    for _ in range(rounds):  # interleaved, so a busy moment on a shared machine hits every row alike
        for name, row in ROWS.items():
            best[name] = min(best[name], await row(inputs))
    us = {name: round(seconds / messages * 1e6, 1) for name, seconds in best.items()}
    result = {
        "messages": messages,
        "rounds": rounds,
        "us_per_message": us,
        "runtime_over_bytes_only": round(us["runtime"] / us["bytes_only"], 1),
        "runtime_to_jsonschema_ratio": round(us["runtime"] / us["runtime_jsonschema"], 2),
        "pool_bytes_to_pool_dict_ratio": round(us["pool_bytes"] / us["pool_dict"], 2),
    }
    print(
        f"  CPU per message: {us['bytes_only']} us moving the bytes only, {us['runtime']} us through the runtime"
        f" ({result['runtime_over_bytes_only']}x), {us['runtime_jsonschema']} us with jsonschema's walk alone"
        f" (runtime {result['runtime_to_jsonschema_ratio']}x that); the pool's answer as a dict {us['pool_dict']} us,"
        f" as the topic's bytes {us['pool_bytes']} us ({result['pool_bytes_to_pool_dict_ratio']}x)",
        flush=True,
    )
    return result


def run(args: argparse.Namespace) -> dict:
    loop = use_event_loop(getattr(args, "runtime_loop", "auto"))  # the worker's loop, measured on it
    try:
        result = asyncio.run(_run(getattr(args, "runtime_messages", 3000), getattr(args, "runtime_rounds", 4)))
    finally:
        asyncio.set_event_loop_policy(None)  # what runs after this in the same process gets the default
    return {**result, "event_loop": loop}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    print(json.dumps(run(parser.parse_args())))
