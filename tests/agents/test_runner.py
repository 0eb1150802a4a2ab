"""The error policy every agent applies (pure logic: the send function is a list)."""

import pytest

from wirewatch import contract
from wirewatch.agents.runner import Emit, Stage
from wirewatch.retry import backoff
from wirewatch.errors import PermanentError, Rejected, TransientError
from wirewatch.metrics import Metrics
from wirewatch.settings import RetrySettings
from wirewatch.sources.links import make_link


class Recorder:
    def __init__(self):
        self.sent = []
        self.slept = []

    async def send(self, schema, key, value):
        self.sent.append((schema, key, contract.decode(schema, value)))

    async def sleep(self, seconds):
        self.slept.append(seconds)


def stage(rec, attempts=3):
    return Stage("fetch", "link", "wirewatch.links", rec.send, Metrics(),
                 RetrySettings(attempts=attempts, backoff_initial=0.1, backoff_max=1.0), sleep=rec.sleep)


LINK = make_link("https://news.example.org/a", "cli")


async def test_ok_emits_outputs():
    rec = Recorder()

    async def core(link):
        return [Emit("filtered", link["link_id"], {"link_id": link["link_id"], "url": link["url"], "stage": "x",
                                                   "reason": "r", "detail": "", "at": "2026-11-24T00:00:00Z"})]

    assert await stage(rec).handle(contract.encode("link", LINK), core) == "ok"
    assert [s for s, _, _ in rec.sent] == ["filtered"]


async def test_rejected_becomes_filtered_with_reason():
    rec = Recorder()

    async def core(link):
        raise Rejected("too_short", "42 characters")

    assert await stage(rec).handle(contract.encode("link", LINK), core) == "filtered"
    (schema, key, msg), = rec.sent
    assert schema == "filtered" and key == LINK["link_id"]
    assert msg["reason"] == "too_short" and msg["stage"] == "fetch"


async def test_transient_is_retried_then_dead_lettered():
    rec = Recorder()
    calls = []

    async def core(link):
        calls.append(1)
        raise TransientError("timeout", "slow origin")

    assert await stage(rec, attempts=3).handle(contract.encode("link", LINK), core) == "dead_lettered"
    assert len(calls) == 3 and len(rec.slept) == 2
    (schema, _, letter), = rec.sent
    assert schema == "deadletter" and letter["reason"] == "timeout" and letter["attempts"] == 3
    assert letter["payload"] == LINK and letter["topic"] == "wirewatch.links"


async def test_transient_then_success():
    rec = Recorder()
    calls = []

    async def core(link):
        calls.append(1)
        if len(calls) == 1:
            raise TransientError("http_status", "503", retry_after=0.5)
        return []

    assert await stage(rec).handle(contract.encode("link", LINK), core) == "ok"
    assert rec.slept == [0.5]  # Retry-After honoured


async def test_permanent_is_dead_lettered_at_once():
    rec = Recorder()

    async def core(link):
        raise PermanentError("http_status", "HTTP 404 from x")

    assert await stage(rec).handle(contract.encode("link", LINK), core) == "dead_lettered"
    assert rec.slept == [] and rec.sent[0][2]["detail"] == "HTTP 404 from x"


@pytest.mark.parametrize("raw", [b"\xff\xfe garbage", b'{"url": 3}', b"{}"])
async def test_undecodable_input_is_dead_lettered_with_the_raw_payload(raw):
    rec = Recorder()

    async def core(link):  # pragma: no cover - never reached
        raise AssertionError

    assert await stage(rec).handle(raw, core) == "dead_lettered"
    letter = rec.sent[0][2]
    assert letter["reason"] == "invalid_message" and letter["link_id"] is None


async def test_a_bug_in_a_core_is_dead_lettered_not_raised():
    rec = Recorder()

    async def core(link):
        return {}["missing"]

    assert await stage(rec).handle(contract.encode("link", LINK), core) == "dead_lettered"
    assert rec.sent[0][2]["reason"] == "internal_error" and "KeyError" in rec.sent[0][2]["detail"]


def test_backoff_doubles_and_caps():
    policy = RetrySettings(attempts=10, backoff_initial=1.0, backoff_max=8.0)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (6, 8.0)]:
        assert ceiling / 2 <= backoff(attempt, policy) <= ceiling
    assert backoff(1, policy, retry_after=100.0) == 8.0
