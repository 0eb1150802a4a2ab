"""The one backoff and retry helper of wirewatch: every loop that tries again uses this module.

    backoff(attempt, policy, retry_after)   seconds before try ``attempt + 1``: full jitter on a
                                            doubling delay capped at ``policy.backoff_max``;
                                            a server's Retry-After wins (capped too)
    await retry(call, policy, budget=...)   run ``call`` until it returns; a ``TransientError``
                                            is tried again after ``backoff``, as many times as
                                            ``budget(error)`` allows (None: without limit)

Users: the stage runner (agents/runner.py: an item's transient error gets ``RetrySettings.attempts``
tries, a dependency that is down, ``errors.Unavailable``, is waited for without limit, counted apart), the boot
wait (boot.py), alert delivery and the source poller (they read ``backoff``). A server's
Retry-After header is read by ``timeutil.parse_retry_after``. A policy is anything with ``backoff_initial`` and ``backoff_max``:
``RetrySettings`` and ``ChannelSettings`` fit, ``Backoff`` is one for code without settings.

Why not tenacity or stamina: both are well kept, but the loops here need three things they only
give through a callback each: the wait must happen inside ``waiting.waiting()`` (it gives the
message's working slot away), the delay must honour the error's own ``retry_after``, and the
number of tries depends on the class of the error (an item's failure gives up, a dependency's
outage never does). What is left of the library after three callbacks is this loop.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from .errors import TransientError

T = TypeVar("T")


class BackoffPolicy(Protocol):
    """What ``backoff`` reads: RetrySettings (agents) and ChannelSettings (alert delivery) both fit."""

    # Read-only, so that a frozen Backoff fits as well as a settings object.
    @property
    def backoff_initial(self) -> float: ...
    @property
    def backoff_max(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Backoff:
    """A policy for code without a settings object of its own (the boot wait, tests)."""

    backoff_initial: float = 0.5
    backoff_max: float = 10.0


def backoff(attempt: int, policy: BackoffPolicy, retry_after: float | None = None) -> float:
    """Seconds to wait before try `attempt + 1`: full jitter on a doubling, capped delay."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), policy.backoff_max)
    ceiling = min(policy.backoff_max, policy.backoff_initial * (2 ** (max(attempt, 1) - 1)))
    return random.uniform(ceiling / 2, ceiling)


# How many tries an error allows in all (None: without limit). The default: every TransientError
# is tried without limit; pass ``lambda e: n`` to give up after n tries.
Budget = Callable[[TransientError], "int | None"]
OnRetry = Callable[[TransientError, int, float], None]


def _forever(_: TransientError) -> int | None:
    return None


async def retry(
    call: Callable[[], Awaitable[T]],
    policy: BackoffPolicy,
    *,
    budget: Budget = _forever,
    on_retry: OnRetry | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    unlimited_policy: BackoffPolicy | None = None,
) -> T:
    """``await call()`` until it returns. A ``TransientError`` is retried after ``backoff`` while
    ``budget(error)`` allows another try, else re-raised; anything else propagates at once.

    Errors without a limit (``budget`` gives None: a dependency that is down) count apart from
    the others and back off by ``unlimited_policy`` (default: ``policy``), so an outage neither
    spends an item's tries nor leaves it waiting longer than the outage's own ceiling.
    ``on_retry(error, attempt, delay)`` runs before each wait (log it, count it); ``sleep`` does
    the wait (the runner's gives its working slot away meanwhile)."""
    limited = unlimited = 0
    while True:
        try:
            return await call()
        except TransientError as e:
            limit = budget(e)
            if limit is None:
                unlimited += 1
                attempt, delay = unlimited, backoff(unlimited, unlimited_policy or policy, e.retry_after)
            else:
                limited += 1
                if limited >= limit:
                    raise
                attempt, delay = limited, backoff(limited, policy, e.retry_after)
            if on_retry is not None:
                on_retry(e, attempt, delay)
            await sleep(delay)
