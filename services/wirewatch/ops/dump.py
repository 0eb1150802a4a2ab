"""What a worker is doing right now, as text: ``kill -USR1 <pid>`` logs it (cli.py).

For a worker that sits idle while work is left (a stall), the question is which await each task is
parked on, and what the stage windows and the Kafka consumer hold. The dump gives, compactly:
- every asyncio task of the event loop and of the Kafka consumer's thread, grouped by the chain of
  awaits it is parked on (one line a frame, innermost last), with a count per group;
- each stage's window (agents/flow.py): working, uncommitted, free slots, and per partition the
  lowest offset not yet done and how many are taken;
- the consumer's assignment, its paused partitions, committed and read offsets per partition.

Every read is defensive (faust's and aiokafka's attributes are private): what moved reads as
"unknown", never as a crash.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import Counter
from typing import Any

from .. import logs
from ..broker.faust_consumer import aiokafka_of, partition_state


def _chain(task: asyncio.Task) -> tuple[str, ...]:
    """The awaits a task is parked on, outermost first: its coroutine, what that awaits, and so on
    (``Task.get_stack`` gives only the outermost frame of a suspended coroutine)."""
    frames: list[str] = []
    obj: Any = task.get_coro()
    outer = None
    while obj is not None and len(frames) < 40:
        frame = getattr(obj, "cr_frame", None) or getattr(obj, "gi_frame", None) or getattr(obj, "ag_frame", None)
        if frame is None and outer is not None and type(obj).__name__.startswith("async_generator_"):
            # `async for` over an async generator awaits its asend(), which does not say whose:
            # the running one among the awaiting frame's locals is (faust's fetcher loop is one).
            obj = next((v for v in outer.f_locals.values() if inspect.isasyncgen(v) and v.ag_running), None)
            outer = None
            continue
        if frame is None:  # a future, or a coroutine that has finished
            if not hasattr(obj, "cr_frame"):
                frames.append(f"awaits {type(obj).__name__}")
            break
        code = frame.f_code
        frames.append(f"{code.co_filename.rsplit('/', 2)[-1]}:{frame.f_lineno} {code.co_name}")
        outer = frame
        obj = getattr(obj, "cr_await", None) or getattr(obj, "gi_yieldfrom", None) or getattr(obj, "ag_await", None)
    return tuple(frames)


def _task_lines(loop: asyncio.AbstractEventLoop, title: str) -> list[str]:
    try:
        tasks = list(asyncio.all_tasks(loop))
    except RuntimeError:  # the set changed while read (another thread's loop): once more
        tasks = list(asyncio.all_tasks(loop))
    groups: Counter[tuple[str, ...]] = Counter(_chain(t) for t in tasks)
    names: dict[tuple[str, ...], str] = {}
    for t in tasks:
        names.setdefault(_chain(t), t.get_name())
    lines = [f"{title}: {len(tasks)} tasks"]
    for chain, n in groups.most_common():
        lines.append(f"  x{n} {names[chain]}")
        lines.extend(f"      {f}" for f in chain[-8:] or ("(not started)",))
    return lines


def _flow_lines(flows: dict[str, Any]) -> list[str]:
    lines = ["stage windows:"]
    for name, flow in sorted(flows.items()):
        try:
            slots = getattr(flow._slots, "_value", "?")
            live = getattr(flow._live, "_value", "?")
            room = getattr(flow._room, "_value", "?")
            lines.append(
                f"  {name}: working {flow.working}, uncommitted {flow.uncommitted}, free slots {slots}, "
                f"free live {live}, free room {room}, dropped as revoked while held {flow.dropped_stale}"
            )
            for tp, tracker in sorted(flow._trackers.items(), key=str):
                tasks = flow._tasks.get(tp, {})
                # Taken, not done and with no task left: nothing will ever finish it (a stall).
                orphans = [o for o in tracker._taken if o not in tasks and o not in tracker._done]
                lines.append(
                    f"    {tp}: taken {len(tracker)}, lowest {tracker.lowest()}, tasks {len(tasks)}, "
                    f"done above the lowest {len(tracker._done)}, with no task {orphans[:20]}"
                )
        except Exception as e:  # noqa: BLE001
            lines.append(f"  {name}: unreadable ({type(e).__name__}: {e})")
    return lines


def _consumer_lines(app: Any) -> list[str]:
    lines = ["consumer:"]
    consumer: Any = getattr(app, "consumer", None)
    try:
        assigned = sorted(consumer.assignment(), key=str)
        lines.append(f"  assigned: {', '.join(f'{tp.topic}[{tp.partition}]' for tp in assigned) or 'none'}")
        for what, attr in (("paused", "_paused_partitions"), ("buffer full", "_buffered_partitions")):
            tps = sorted(getattr(consumer, attr, set()) or set(), key=str)
            lines.append(f"  {what}: {', '.join(f'{tp.topic}[{tp.partition}]' for tp in tps) or 'none'}")
        active = getattr(consumer, "_active_partitions", None)  # what faust's fetcher asks for
        idle = [tp for tp in assigned if active is not None and tp not in active]
        lines.append(f"  assigned, not fetched: {', '.join(f'{tp.topic}[{tp.partition}]' for tp in idle) or 'none'}")
        committed = getattr(consumer, "_committed_offset", {})
        read = getattr(consumer, "_read_offset", {})
        acked = getattr(consumer, "_acked", {})
        for tp in assigned:
            lines.append(
                f"  {tp.topic}[{tp.partition}]: committed {committed.get(tp)}, read {read.get(tp)}, "
                f"acked not committed {len(acked.get(tp, ()))}"
            )
        lines.append(f"  faust's own acks refused (events it skipped): {getattr(consumer, 'refused_acks', '?')}")
        lines += _aiokafka_lines(consumer)
        flow_control = getattr(app, "flow_control", None)
        if flow_control is not None:
            lines.append(f"  flow control active: {flow_control.is_active()}")
    except Exception as e:  # noqa: BLE001
        lines.append(f"  unreadable ({type(e).__name__}: {e})")
    return lines


def _aiokafka_lines(consumer: Any) -> list[str]:
    """aiokafka's own view, per assigned partition (faust_consumer.partition_state). Read from
    another thread's objects: best effort."""
    aio = aiokafka_of(consumer)
    assignment = getattr(getattr(getattr(aio, "_subscription", None), "subscription", None), "assignment", None)
    if assignment is None:
        return ["  aiokafka: no assignment"]
    lines = [f"  aiokafka assignment active: {getattr(assignment, 'active', '?')}"]
    for tp in sorted(getattr(assignment, "tps", ()), key=str):
        try:
            lines.append(f"  aiokafka {tp.topic}[{tp.partition}]: {partition_state(aio, tp)}")
        except Exception as e:  # noqa: BLE001 - changed under us (another thread): say so, go on
            lines.append(f"  aiokafka {tp.topic}[{tp.partition}]: unreadable ({type(e).__name__})")
    return lines


def state(app: Any) -> list[str]:
    """The dump, as log messages of a few lines each, every one under the log's message cap; the
    first begins with "state dump (kill -USR1)" and the last is "state dump ends"."""
    lines = ["state dump (kill -USR1)"]
    lines += _flow_lines(getattr(app, "wirewatch_flows", {}))
    lines += _consumer_lines(app)
    lines += _task_lines(asyncio.get_running_loop(), "event loop")
    # The Kafka consumer runs in a thread of its own with its own loop (faust's consumer thread).
    loop = getattr(getattr(getattr(app, "consumer", None), "_thread", None), "thread_loop", None)
    if isinstance(loop, asyncio.AbstractEventLoop) and loop is not asyncio.get_running_loop():
        try:
            lines += _task_lines(loop, "consumer thread")
        except Exception as e:  # noqa: BLE001 - read from another thread: best effort
            lines.append(f"consumer thread: unreadable ({type(e).__name__})")
    messages, part = [], ""
    for line in lines:
        line = logs.truncate(line, logs.MAX_MESSAGE // 2)
        if part and len(part) + len(line) + 1 > logs.MAX_MESSAGE - 100:
            messages.append(part)
            part = ""
        part = f"{part}\n{line}" if part else line
    return [*messages, part, "state dump ends"]
