"""A worker killed (kill -9) in the middle of SQLite's group commits loses nothing it acknowledged.

A child process writes links as the store and route agents do (the article with its ``stored``
outcome, the story decision, the alert ledger), many at once so they share group commits, and
prints each link the moment its calls return: the moment the agent would commit its offset. The
test kills it mid-stream and opens the file: every acknowledged link is there, whole."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from wirewatch.sinks.storage import open_storage

EXAMPLE = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "enriched.json"

CHILD = r"""
import asyncio, json, sys
from datetime import UTC, datetime
from wirewatch.sinks.storage import open_storage

async def main(url, example):
    item = json.loads(open(example).read())
    store = open_storage(url)
    await store.start()
    at = datetime(2026, 3, 1, tzinfo=UTC)

    async def link(i):
        article = {**item, "link_id": f"l-{i}", "canonical_url": f"https://e.test/{i}", "url": f"https://s.test/{i}"}
        await store.add(article, stored_by="store")
        save = {"story_id": f"s-{i % 7}", "title": "t", "first_at": at, "last_at": at, "state": {"size": i}}
        await store.assign_story(article["canonical_url"], at, lambda rows: (save, None), [f"p:{i % 7}"])
        await store.claim_alert(f"a-{i}", "webhook", {"alert_id": f"a-{i}"})
        print(i, flush=True)  # acknowledged: the agent commits the offset now

    slots = asyncio.Semaphore(24)

    async def one(i):
        async with slots:
            await link(i)

    await asyncio.gather(*(one(i) for i in range(100000)))

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_sqlite_killed_mid_group_commit_loses_no_acknowledged_link(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/w.db"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, url, str(EXAMPLE), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert child.stdout is not None and child.stderr is not None
    acked: list[str] = []
    try:
        while len(acked) < 300:
            line = await asyncio.wait_for(child.stdout.readline(), 60)
            if not line:
                break
            acked.append(f"l-{line.decode().strip()}")
        assert len(acked) >= 300, (await child.stderr.read()).decode()
    finally:
        child.kill()  # SIGKILL mid-stream: groups in flight, some written, some not
        await child.wait()
    acked += [f"l-{n}" for n in (await child.stdout.read()).decode().split()]

    async with open_storage(url) as store:
        stored = {o["link_id"] for o in await store.outcomes() if o["outcome"] == "stored"}
        articles = {link for a in await store.articles() for link in a["link_ids"]}
        claimed = await store.transact(lambda tx: tx.fetch("SELECT alert_id FROM alert_deliveries"), read_only=True)
    assert set(acked) <= stored and set(acked) <= articles
    assert {f"a-{link[2:]}" for link in acked} <= {r["alert_id"] for r in claimed}
