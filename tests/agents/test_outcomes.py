"""The outcomes path cannot loop, and a dead letter's first stage and reason survive (real SQLite
storage; the outage is a wrapper that refuses the first writes as a stopped database would)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from wirewatch import contract
from wirewatch.agents import outcomes
from wirewatch.agents.runner import Stage
from wirewatch.errors import Unavailable
from wirewatch.metrics import Metrics
from wirewatch.settings import RetrySettings
from wirewatch.sinks.storage import open_storage
from wirewatch.sources.links import make_link

LINK = make_link("https://news.example.org/gone", "cli")
LETTER = {
    "stage": "fetch",
    "reason": "http_status",
    "detail": "HTTP 404 from https://news.example.org/gone",
    "topic": "wirewatch.links",
    "payload": LINK,
    "link_id": LINK["link_id"],
    "url": LINK["url"],
    "at": "2026-12-06T03:00:00.000000Z",
    "attempts": 1,
}


class Flaky:
    """Real storage whose first `down` writes fail as they do while the database is stopped."""

    def __init__(self, storage, down: int) -> None:
        self.storage, self.down = storage, down

    async def record_outcome(self, *args, **kwargs):
        if self.down:
            self.down -= 1
            raise Unavailable("storage_unavailable", "connection refused")
        return await self.storage.record_outcome(*args, **kwargs)


@pytest.fixture
async def storage(tmp_path):
    s = open_storage(f"sqlite:///{tmp_path / 'w.db'}")
    await s.start()
    yield s
    await s.close()


async def sent_nothing(schema, key, value):
    raise AssertionError(f"the outcomes stage emitted onto {schema}")


async def nap(seconds):
    return None


async def test_a_404s_outcome_keeps_fetch_http_status_when_storage_fails_first(storage):
    rt = SimpleNamespace(storage=Flaky(storage, down=5))
    stage = Stage(
        "outcomes",
        "deadletter",
        "wirewatch.deadletter",
        sent_nothing,
        Metrics(),
        RetrySettings(attempts=2, backoff_initial=0.01, backoff_max=0.02),
        sleep=nap,
    )
    outcome = await stage.handle(contract.encode("deadletter", LETTER), outcomes.make_deadletter_core(rt))
    assert outcome == "ok"
    (row,) = await storage.outcomes()
    assert (row["outcome"], row["stage"], row["reason"]) == ("dead_lettered", "fetch", "http_status")


async def test_bad_messages_alike_get_a_row_each_keyed_on_hash_and_offset(storage):
    rt = SimpleNamespace(storage=storage)
    core = outcomes.make_deadletter_core(rt)
    raw = b'{"url": "no link id"}'
    for offset in range(5):  # five copies of one bad message, at five offsets
        letter = {
            **LETTER,
            "stage": "fetch",
            "reason": "invalid_message",
            "payload": {"url": "no link id"},
            "link_id": None,
            "url": None,
            "partition": 0,
            "offset": offset,
            "payload_sha256": "ab" * 32,
            "payload_bytes": len(raw),
        }
        await core(contract.decode("deadletter", contract.encode("deadletter", letter)))
    again = {**letter}
    await core(again)  # a redelivery of the last one: its own row again, not a sixth
    rows = await storage.outcomes()
    assert len(rows) == 5 and {r["reason"] for r in rows} == {"invalid_message"}
