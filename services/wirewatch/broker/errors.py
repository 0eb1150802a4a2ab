"""The broker's errors in wirewatch's error tree: the one place that knows aiokafka's and faust's.

    await acked(send())      await a produce until the broker acknowledges it; any failure comes
                             out as a StageError, never as a library exception
    translate(exc)           an exception from the producer (or the consumer's client) -> StageError

What each becomes (the runner, agents/runner.py, then does what its class says):

    the message is too large for the broker (MessageSizeTooLarge, RecordTooLarge, RecordListTooLarge)
                                        -> PermanentError("message_too_large"): dead-letter the input
    an invalid topic name, a corrupt record
                                        -> PermanentError("broker_rejected")
    anything else from the client: timeouts (KafkaTimeoutError), no leader (NotLeaderForPartition,
    LeaderNotAvailable), connection lost, not enough replicas, authorisation (an operator can fix
    it), a producer that is stopping, faust's ProducerSendError around any of these
                                        -> Unavailable("broker_unavailable"): the stage pauses and
                                           retries without limit; nothing is dead-lettered

faust wraps aiokafka's errors (``ProducerSendError(...) from exc``), so the cause chain is read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from aiokafka import errors as kafka_errors

from ..errors import PermanentError, StageError, Unavailable

_TOO_LARGE = (
    kafka_errors.MessageSizeTooLargeError,
    kafka_errors.RecordTooLargeError,
    kafka_errors.RecordListTooLargeError,
)
_REJECTED = (kafka_errors.InvalidTopicError, kafka_errors.CorruptRecordException)


def _chain(exc: BaseException):
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def translate(exc: BaseException) -> StageError:
    """The StageError an exception from the Kafka client stands for (see the module's table)."""
    if isinstance(exc, StageError):
        return exc
    detail = f"{type(exc).__name__}: {exc}"[:500]
    for cause in _chain(exc):
        if isinstance(cause, _TOO_LARGE):
            return PermanentError("message_too_large", detail)
        if isinstance(cause, _REJECTED):
            return PermanentError("broker_rejected", detail)
    return Unavailable("broker_unavailable", detail)


async def acked(send: Awaitable[Any]) -> Any:
    """``await`` a send and then its delivery future (faust's ``topic.send`` returns one); a failure
    of either is raised as ``translate`` says."""
    try:
        fut = await send
        return await fut if asyncio.isfuture(fut) or asyncio.iscoroutine(fut) else fut
    except asyncio.CancelledError:
        raise
    except Exception as e:
        raise translate(e) from e
