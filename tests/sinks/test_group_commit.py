"""GroupCommit (sinks/storage/common.py): parts handed in while a batch is written go together in
the next transaction, each caller gets its own part's result, and one refused part fails alone.
Pure logic, so a plain function stands in for the transaction; tests/sinks/test_storage.py runs it
on both backends."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from wirewatch.errors import PermanentError, Unavailable
from wirewatch.sinks.storage.common import GroupCommit


def part(name: str) -> Any:
    async def run(tx: list[str]) -> str:
        if name == "bad":
            raise PermanentError("storage_rejected", "no")
        if name == "bug":
            raise KeyError(name)
        tx.append(name)
        return f"ok:{name}"

    return run


def recording() -> tuple[GroupCommit, list[list[str]]]:
    """A group commit whose transactions are lists of the parts' names, and those lists."""
    batches: list[list[str]] = []

    async def transact(body: Any) -> Any:
        tx: list[str] = []
        batches.append(tx)
        return await body(tx)

    return GroupCommit(transact), batches


async def test_parts_handed_in_during_a_write_share_the_next_transaction() -> None:
    batches: list[list[str]] = []
    gate = asyncio.Event()

    async def transact(body: Any) -> Any:
        tx: list[str] = []
        batches.append(tx)
        if len(batches) == 1:
            await gate.wait()  # the first commit is slow: the others queue behind it
        return await body(tx)

    group = GroupCommit(transact)
    first = asyncio.create_task(group.run(part("a")))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    rest = [asyncio.create_task(group.run(part(n))) for n in "bcd"]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(first, *rest) == ["ok:a", "ok:b", "ok:c", "ok:d"]
    assert batches == [["a"], ["b", "c", "d"]]


async def test_a_refused_part_fails_alone() -> None:
    committed: list[list[str]] = []

    async def transact(body: Any) -> Any:
        tx: list[str] = []
        result = await body(tx)  # raises for the batch holding "bad": nothing of it is committed
        committed.append(tx)
        return result

    group = GroupCommit(transact)
    results = await asyncio.gather(*(group.run(part(n)) for n in ("a", "bad", "c")), return_exceptions=True)
    assert results[0] == "ok:a" and results[2] == "ok:c"
    assert isinstance(results[1], PermanentError)
    assert sorted(name for tx in committed for name in tx) == ["a", "c"]


async def test_a_bug_in_one_part_fails_only_its_caller() -> None:
    async def transact(body: Any) -> Any:
        return await body([])

    group = GroupCommit(transact)
    results = await asyncio.gather(*(group.run(part(n)) for n in ("a", "bug", "c")), return_exceptions=True)
    assert results[0] == "ok:a" and results[2] == "ok:c"
    assert isinstance(results[1], KeyError)


async def test_storage_down_reaches_every_caller_of_the_batch() -> None:
    async def transact(body: Any) -> Any:
        raise Unavailable("storage_unavailable", "down")

    group = GroupCommit(transact)
    results = await asyncio.gather(*(group.run(part(n)) for n in "ab"), return_exceptions=True)
    assert all(isinstance(r, Unavailable) for r in results)
    with pytest.raises(Unavailable):  # and the next part tries again rather than hanging
        await group.run(part("c"))


async def test_a_part_nobody_waits_for_rides_with_the_next_transaction_or_goes_alone_soon() -> None:
    group, batches = recording()
    later = group.soon(part("alias"), within=5.0)
    await asyncio.sleep(0.01)
    assert batches == [] and not later.done()  # nothing written for it alone yet
    assert await group.run(part("article")) == "ok:article"
    assert batches == [["alias", "article"]] and later.result() == "ok:alias"

    alone = group.soon(part("alias-2"), within=0.05)
    assert await asyncio.wait_for(alone, 2) == "ok:alias-2"
    assert batches[-1] == ["alias-2"]


async def test_a_part_in_more_of_a_hurry_brings_the_queued_ones_forward() -> None:
    """An alert's delivery mark (due within 50 ms) queued behind an alias (due within 5 s) does not
    wait the alias's time: both go together at the earlier time."""
    group, batches = recording()
    alias = group.soon(part("alias"), within=60.0)
    mark = group.soon(part("mark"), within=0.01)
    assert await asyncio.wait_for(mark, 30) == "ok:mark"  # a guard against a hang, not a speed goal
    assert alias.result() == "ok:alias" and batches == [["alias", "mark"]]


async def test_no_caller_waits_forever_when_the_writer_stops_midway() -> None:
    """A batch written again part by part (one part refused) and the writer stopped on the way
    (shutdown cancels it): the parts not written yet hear it too, none waits forever."""

    async def transact(body: Any) -> Any:
        tx: list[str] = []
        result = await body(tx)
        if tx == ["c"]:
            raise asyncio.CancelledError
        return result

    group = GroupCommit(transact)
    results = await asyncio.wait_for(
        asyncio.gather(*(group.run(part(n)) for n in ("a", "bad", "c", "d")), return_exceptions=True), 10
    )
    assert results[0] == "ok:a" and isinstance(results[1], PermanentError)
    assert isinstance(results[2], Unavailable) and isinstance(results[3], Unavailable)
    assert await group.run(part("e")) == "ok:e"  # a new writer starts for the next part


async def test_a_part_handed_in_as_the_writer_ends_gets_a_writer() -> None:
    async def transact(body: Any) -> Any:
        return await body([])

    group = GroupCommit(transact)
    for name in "abc":  # each handed in by the same task the moment it hears back
        assert await group.run(part(name)) == f"ok:{name}"


async def test_with_two_writers_a_part_waits_only_when_both_are_writing() -> None:
    batches: list[list[str]] = []
    gates = [asyncio.Event(), asyncio.Event()]

    async def transact(body: Any) -> Any:
        tx: list[str] = []
        batches.append(tx)
        if len(batches) <= 2:
            await gates[len(batches) - 1].wait()  # the first two transactions are slow
        return await body(tx)

    group = GroupCommit(transact, writers=2)
    first = asyncio.create_task(group.run(part("a")))
    await asyncio.sleep(0)
    second = asyncio.create_task(group.run(part("b")))  # the first writer is busy: a second starts
    await asyncio.sleep(0)
    rest = [asyncio.create_task(group.run(part(n))) for n in "cd"]  # both busy: these wait together
    await asyncio.sleep(0)
    assert len(batches) == 2
    gates[1].set()
    assert await second == "ok:b"
    gates[0].set()
    assert await asyncio.gather(first, *rest) == ["ok:a", "ok:c", "ok:d"]
    assert sorted(map(sorted, batches)) == [["a"], ["b"], ["c", "d"]]


async def test_flush_writes_the_queued_parts_now_and_waits_for_them() -> None:
    """A storage closing (a clean stop) does not leave a delivery mark queued for later: unwritten,
    its alert would be sent again after the restart."""
    group, batches = recording()
    mark = group.soon(part("mark"), within=3600.0)
    await asyncio.wait_for(group.flush(), 30)  # a guard against a hang, not a speed goal
    assert mark.done() and mark.result() == "ok:mark" and batches == [["mark"]]
    await asyncio.wait_for(group.flush(), 30)  # nothing queued: returns at once
    assert batches == [["mark"]]
