"""The state dump (ops/dump.py, `kill -USR1`): what each stage window holds and what each task
awaits, read from the live objects. The real signal on a real worker: tests/integration/test_operations.py."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from tests.harness.events import Event, Msg
from wirewatch.agents.flow import Flow
from wirewatch.ops import dump


async def test_the_dump_names_each_window_and_the_await_each_task_is_parked_on():
    gate = asyncio.Event()

    async def parked_on_the_gate(value: str) -> None:
        await gate.wait()

    acked: list[int] = []
    flow = Flow("fetch", parked_on_the_gate, window=4, limit=100)
    for i in range(3):
        await flow.take(Event(f"p0-{i}", Msg("p0", i), acked))
    await asyncio.sleep(0)
    messages = dump.state(SimpleNamespace(wirewatch_flows={"fetch": flow}))
    text = "\n".join(messages)
    assert messages[0].startswith("state dump (kill -USR1)") and messages[-1] == "state dump ends"
    assert "fetch: working 3, uncommitted 3, free slots 1," in text
    assert "p0: taken 3, lowest 0, tasks 3, done above the lowest 0, with no task []" in text
    assert "x3 fetch:p0:" in text and "parked_on_the_gate" in text and "locks.py" in text, text
    assert "consumer:\n  unreadable" in text  # no consumer: said, not raised
    assert all(len(m) <= 1000 for m in messages)
    gate.set()
    await asyncio.sleep(0.01)
    assert acked == [0, 1, 2]
    await flow.close()
