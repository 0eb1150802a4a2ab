"""The producer's errors in the error tree (pure: exceptions built by hand, as aiokafka and faust raise them)."""

import asyncio

import pytest
from aiokafka import errors as kafka_errors
from faust.exceptions import ProducerSendError

from wirewatch.broker.errors import acked, translate
from wirewatch.errors import PermanentError, Unavailable


def wrapped(exc: Exception) -> ProducerSendError:
    """What faust raises from Producer.send: its own error, the client's as the cause."""
    try:
        raise ProducerSendError(f"Error while sending: {exc!r}") from exc
    except ProducerSendError as e:
        return e


@pytest.mark.parametrize(
    "exc",
    [
        kafka_errors.KafkaTimeoutError(),
        kafka_errors.NotLeaderForPartitionError(),
        kafka_errors.LeaderNotAvailableError(),
        kafka_errors.KafkaConnectionError("refused"),
        kafka_errors.NotEnoughReplicasError(),
        kafka_errors.TopicAuthorizationFailedError(),
        wrapped(kafka_errors.KafkaTimeoutError()),
        RuntimeError("producer is stopping"),
    ],
)
def test_down_or_unknown_is_unavailable_so_the_stage_waits(exc):
    err = translate(exc)
    assert isinstance(err, Unavailable) and err.reason == "broker_unavailable"
    assert type(exc).__name__ in err.detail or "ProducerSendError" in err.detail


@pytest.mark.parametrize(
    "exc",
    [
        kafka_errors.MessageSizeTooLargeError(),
        kafka_errors.RecordTooLargeError(),
        wrapped(kafka_errors.MessageSizeTooLargeError("The message is 1048620 bytes")),
    ],
)
def test_too_large_is_permanent(exc):
    err = translate(exc)
    assert isinstance(err, PermanentError) and err.reason == "message_too_large"


def test_a_rejected_record_is_permanent():
    assert translate(kafka_errors.InvalidTopicError()).reason == "broker_rejected"


async def test_acked_awaits_the_delivery_future_and_translates_its_failure():
    loop = asyncio.get_running_loop()

    async def send_ok():
        fut = loop.create_future()
        fut.set_result("metadata")
        return fut

    assert await acked(send_ok()) == "metadata"

    async def send_times_out():
        fut = loop.create_future()
        fut.set_exception(kafka_errors.KafkaTimeoutError())
        return fut

    with pytest.raises(Unavailable) as info:
        await acked(send_times_out())
    assert isinstance(info.value.__cause__, kafka_errors.KafkaTimeoutError)

    async def send_refused():
        raise wrapped(kafka_errors.MessageSizeTooLargeError())

    with pytest.raises(PermanentError):
        await acked(send_refused())
