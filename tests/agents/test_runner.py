"""The error policy every agent applies (pure logic: the send function is a list)."""

import asyncio
import hashlib

import pytest

from wirewatch import contract
from wirewatch.agents.runner import Emit, Stage
from wirewatch.errors import NotYet, PermanentError, Rejected, TransientError, Unavailable
from wirewatch.metrics import Metrics
from wirewatch.retry import backoff
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
    return Stage(
        "fetch",
        "link",
        "wirewatch.links",
        rec.send,
        Metrics(),
        RetrySettings(attempts=attempts, backoff_initial=0.1, backoff_max=1.0),
        sleep=rec.sleep,
    )


LINK = make_link("https://news.example.org/a", "cli")


async def emits_filtered(link):
    return [
        Emit(
            "filtered",
            link["link_id"],
            {
                "link_id": link["link_id"],
                "url": link["url"],
                "stage": "x",
                "reason": "r",
                "detail": "",
                "at": "2026-11-24T00:00:00Z",
            },
        )
    ]


async def test_ok_emits_outputs():
    rec = Recorder()

    assert await stage(rec).handle(contract.encode("link", LINK), emits_filtered) == "ok"
    assert [s for s, _, _ in rec.sent] == ["filtered"]


async def test_an_output_already_encoded_by_the_pool_is_sent_as_it_is():
    rec = Recorder()
    sent = []

    async def send(schema, key, value):
        sent.append(value)

    example = contract.decode("enriched", (contract.schemas_dir() / "examples" / "enriched.json").read_bytes())
    data = contract.dumps("enriched", example)

    async def core(link):
        return [Emit("enriched", example["canonical_url"], data)]

    s = stage(rec)
    s.send = send
    assert await s.handle(contract.encode("link", LINK), core) == "ok"
    assert sent == [data] and sent[0] is data
    assert Emit("enriched", None, data).payload() == example


async def test_rejected_becomes_filtered_with_reason():
    rec = Recorder()

    async def core(link):
        raise Rejected("too_short", "42 characters")

    assert await stage(rec).handle(contract.encode("link", LINK), core) == "filtered"
    ((schema, key, msg),) = rec.sent
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
    ((schema, _, letter),) = rec.sent
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


# -- a dependency that is down (errors.Unavailable): pause and wait, never dead-letter -----------


async def test_a_dependency_down_pauses_the_stage_and_is_waited_for_beyond_attempts():
    rec = Recorder()
    s = stage(rec, attempts=2)
    seen_paused = []

    async def core(link):
        seen_paused.append(not s.pause.resumed.is_set())
        if len(seen_paused) <= 12:  # far more failures than attempts allow for an item's trouble
            raise Unavailable("storage_unavailable", "connection refused")
        return []

    assert await s.handle(contract.encode("link", LINK), core) == "ok"
    assert rec.sent == [] and len(rec.slept) == 12
    assert seen_paused[0] is False and all(seen_paused[1:])  # paused from the first failure on
    assert s.pause.resumed.is_set() and s.pause.board == {}
    assert s.metrics.stage_paused.labels(stage="fetch")._value.get() == 0
    assert max(rec.slept) <= s.retry.outage_backoff_max


async def test_an_outage_does_not_spend_the_items_own_tries():
    rec = Recorder()
    calls = []

    async def core(link):
        calls.append(1)
        if len(calls) <= 5:
            raise Unavailable("storage_unavailable", "down")
        raise TransientError("timeout", "slow origin")

    assert await stage(rec, attempts=3).handle(contract.encode("link", LINK), core) == "dead_lettered"
    assert len(calls) == 5 + 3  # the outage, then the item's own three tries
    ((_, _, letter),) = rec.sent
    assert letter["reason"] == "timeout" and letter["attempts"] == 3


async def test_waiting_for_a_turn_spends_no_tries_and_never_pauses_the_stage():
    rec = Recorder()
    s = stage(rec, attempts=2)
    seen_paused = []

    async def core(link):
        seen_paused.append(not s.pause.resumed.is_set())
        if len(seen_paused) <= 9:  # far more turns missed than the item has tries
            raise NotYet("host_busy", "no turn yet", retry_after=0.3)
        return []

    assert await s.handle(contract.encode("link", LINK), core) == "ok"
    assert rec.sent == [] and rec.slept == [0.3] * 9  # the host's own wait, not a growing backoff
    assert not any(seen_paused) and s.pause.board == {}  # the stage went on taking
    assert s.metrics.messages.labels(stage="fetch", outcome="waited")._value.get() == 9
    assert s.metrics.messages.labels(stage="fetch", outcome="retried")._value.get() == 0


async def test_a_real_failure_between_waits_still_spends_the_items_tries():
    rec = Recorder()
    calls = []

    async def core(link):
        calls.append(1)
        if len(calls) % 2:
            raise NotYet("host_busy", "no turn yet")
        raise TransientError("timeout", "slow origin")

    assert await stage(rec, attempts=3).handle(contract.encode("link", LINK), core) == "dead_lettered"
    assert len(calls) == 6  # three waits, three real tries
    ((_, _, letter),) = rec.sent
    assert letter["reason"] == "timeout" and letter["attempts"] == 3


async def test_the_broker_down_while_emitting_is_waited_out_and_the_output_sent_once():
    rec = Recorder()
    failures = [Unavailable("broker_unavailable", "KafkaTimeoutError")] * 4

    async def send(schema, key, value):
        if failures:
            raise failures.pop()
        await rec.send(schema, key, value)

    s = Stage("fetch", "link", "wirewatch.links", send, Metrics(), RetrySettings(attempts=1), sleep=rec.sleep)

    assert await s.handle(contract.encode("link", LINK), emits_filtered) == "ok"
    assert [schema for schema, _, _ in rec.sent] == ["filtered"] and len(rec.slept) == 4


async def test_an_output_the_broker_refuses_as_too_large_dead_letters_the_input():
    rec = Recorder()

    async def send(schema, key, value):
        if schema == "filtered":
            raise PermanentError("message_too_large", "MessageSizeTooLargeError")
        await rec.send(schema, key, value)

    s = Stage("fetch", "link", "wirewatch.links", send, Metrics(), RetrySettings(attempts=1), sleep=rec.sleep)

    assert await s.handle(contract.encode("link", LINK), emits_filtered) == "dead_lettered"
    ((schema, _, letter),) = rec.sent
    assert schema == "deadletter" and letter["reason"] == "message_too_large" and letter["payload"] == LINK


async def test_the_dead_letter_stage_never_writes_onto_its_own_input():
    rec = Recorder()
    s = Stage(
        "outcomes",
        "deadletter",
        "wirewatch.deadletter",
        rec.send,
        Metrics(),
        RetrySettings(attempts=2),
        sleep=rec.sleep,
    )
    letter = {
        "stage": "fetch",
        "reason": "http_status",
        "detail": "404",
        "topic": "wirewatch.links",
        "payload": LINK,
        "link_id": LINK["link_id"],
        "url": LINK["url"],
        "at": "2026-11-24T00:00:00Z",
        "attempts": 1,
    }

    async def core(item):
        raise PermanentError("storage_rejected", "value too long")

    assert await s.handle(contract.encode("deadletter", letter), core) == "dropped"
    assert rec.sent == []


async def test_a_large_input_is_dead_lettered_as_an_excerpt_with_its_hash():
    rec = Recorder()
    raw = b'{"link_id": "' + b"i" * 500_000 + b'", "url": "' + b"a" * 500_000 + b'"}'

    async def core(link):
        return []

    s = stage(rec)
    s.max_bytes = 900_000
    assert await s.handle(raw, core) == "dead_lettered"
    ((_, _, letter),) = rec.sent
    assert letter["reason"] == "message_too_large" and "max_message_bytes" in letter["detail"]
    assert letter["payload_bytes"] == len(raw) and letter["payload_sha256"] == hashlib.sha256(raw).hexdigest()
    assert isinstance(letter["payload"], str) and len(letter["payload"]) <= 2000
    assert letter["link_id"] is None and len(letter["url"]) <= 2000  # no field of it carries the size
    assert len(contract.encode("deadletter", letter)) < 10_000


async def test_a_send_the_broker_does_not_ack_for_long_pauses_the_stage_until_it_does():
    ack = asyncio.Event()
    seen = []

    async def send(schema, key, value):
        await ack.wait()
        seen.append(schema)

    s = Stage("fetch", "link", "wirewatch.links", send, Metrics(), RetrySettings(attempts=1), slow_ack=0.02)
    handling = asyncio.ensure_future(s.handle(contract.encode("link", LINK), emits_filtered))
    await asyncio.sleep(0.1)
    assert not s.pause.resumed.is_set() and s.pause.board == {"fetch": "broker_unavailable"}
    ack.set()
    assert await handling == "ok" and seen == ["filtered"]  # sent once, not again
    assert s.pause.resumed.is_set()


async def test_a_cancelled_message_cancels_its_pending_send():
    started = asyncio.Event()
    cancelled = []

    async def send(schema, key, value):
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(schema)
            raise

    s = Stage("fetch", "link", "wirewatch.links", send, Metrics(), RetrySettings(attempts=1), slow_ack=0.01)
    handling = asyncio.ensure_future(s.handle(contract.encode("link", LINK), emits_filtered))
    await started.wait()
    await asyncio.sleep(0.05)  # paused by now
    handling.cancel()
    with pytest.raises(asyncio.CancelledError):
        await handling
    await asyncio.sleep(0)
    assert cancelled == ["filtered"] and s.pause.resumed.is_set() and s.pause.board == {}
