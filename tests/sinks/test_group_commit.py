"""GroupCommit (sinks/storage/articles.py): adds that arrive while a batch is written go together in
the next one, each add returns its own result, and one refused item fails alone. Pure logic, so a
plain function stands in for the transaction; tests/sinks/test_storage.py runs it on both backends."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from wirewatch.errors import PermanentError, Unavailable
from wirewatch.sinks.storage.articles import GroupCommit


def item(name: str) -> Any:
    return ([name], None)


async def test_adds_during_a_write_share_the_next_commit() -> None:
    batches: list[list[str]] = []
    gate = asyncio.Event()

    async def write(batch: list[Any]) -> list[str]:
        batches.append([params[0] for params, _ in batch])
        if len(batches) == 1:
            await gate.wait()  # the first commit is slow: the others queue behind it
        return [f"ok:{params[0]}" for params, _ in batch]

    group = GroupCommit(write)
    first = asyncio.create_task(group.add(item("a")))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    rest = [asyncio.create_task(group.add(item(n))) for n in "bcd"]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(first, *rest) == ["ok:a", "ok:b", "ok:c", "ok:d"]
    assert batches == [["a"], ["b", "c", "d"]]


async def test_a_refused_item_fails_alone() -> None:
    async def write(batch: list[Any]) -> list[str]:
        if any(params[0] == "bad" for params, _ in batch):
            raise PermanentError("storage_rejected", "no")
        return ["inserted"] * len(batch)

    group = GroupCommit(write)
    results = await asyncio.gather(*(group.add(item(n)) for n in ("a", "bad", "c")), return_exceptions=True)
    assert results[0] == results[2] == "inserted"
    assert isinstance(results[1], PermanentError)


async def test_storage_down_reaches_every_caller_of_the_batch() -> None:
    async def write(batch: list[Any]) -> list[str]:
        raise Unavailable("storage_unavailable", "down")

    group = GroupCommit(write)
    results = await asyncio.gather(*(group.add(item(n)) for n in "ab"), return_exceptions=True)
    assert all(isinstance(r, Unavailable) for r in results)
    with pytest.raises(Unavailable):  # and the next add tries again rather than hanging
        await group.add(item("c"))
