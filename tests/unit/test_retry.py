"""The one backoff/retry helper (pure logic: the sleep is a list)."""

import pytest

from wirewatch.errors import PermanentError, TransientError, Unavailable
from wirewatch.retry import Backoff, backoff, retry

POLICY = Backoff(backoff_initial=1.0, backoff_max=8.0)


def test_backoff_doubles_with_jitter_and_caps():
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        for _ in range(50):
            assert ceiling / 2 <= backoff(attempt, POLICY) <= ceiling


def test_retry_after_wins_but_is_capped():
    assert backoff(1, POLICY, retry_after=3.0) == 3.0
    assert backoff(1, POLICY, retry_after=3600.0) == 8.0
    assert backoff(1, POLICY, retry_after=-1.0) == 0.0


class Sleeps(list):
    async def __call__(self, seconds):
        self.append(seconds)


async def test_retry_forever_by_default_until_the_call_returns():
    sleeps, calls = Sleeps(), []

    async def call():
        calls.append(1)
        if len(calls) < 30:
            raise TransientError("storage_unavailable", "down")
        return "done"

    assert await retry(call, POLICY, sleep=sleeps) == "done"
    assert len(calls) == 30 and len(sleeps) == 29 and max(sleeps) <= POLICY.backoff_max


async def test_budget_by_error_then_reraises_and_reports_each_wait():
    sleeps, seen = Sleeps(), []

    async def call():
        raise TransientError("timeout", "slow", retry_after=0.25)

    with pytest.raises(TransientError):
        await retry(
            call, POLICY, budget=lambda e: 3, on_retry=lambda e, n, d: seen.append((e.reason, n, d)), sleep=sleeps
        )
    assert seen == [("timeout", 1, 0.25), ("timeout", 2, 0.25)] and sleeps == [0.25, 0.25]


async def test_anything_but_transient_propagates_at_once():
    sleeps = Sleeps()

    async def call():
        raise PermanentError("http_404", "gone")

    with pytest.raises(PermanentError):
        await retry(call, POLICY, sleep=sleeps)
    assert sleeps == []


async def test_unlimited_errors_count_apart_and_back_off_by_their_own_ceiling():
    sleeps, calls = Sleeps(), []
    outage = Backoff(backoff_initial=0.5, backoff_max=1.0)

    async def call():
        calls.append(1)
        if len(calls) <= 10:
            raise Unavailable("storage_unavailable", "down")
        raise TransientError("timeout", "slow")

    with pytest.raises(TransientError) as e:
        await retry(
            call,
            POLICY,
            budget=lambda e: None if isinstance(e, Unavailable) else 2,
            unlimited_policy=outage,
            sleep=sleeps,
        )
    assert e.value.reason == "timeout" and len(calls) == 12  # ten waits for the outage, then two tries
    assert max(sleeps[:10]) <= 1.0
