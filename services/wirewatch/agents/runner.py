"""The error policy every agent applies, written once.

An agent's body is five steps: decode the message, call the stage's pure core, emit what it returns,
count the outcome, and on error apply this policy (DESIGN: failure classes, decided at the boundary
that translated the error into ``errors.py``'s tree):

- ``Rejected``        -> a ``filtered`` record with the reason (an outcome, not an error);
- ``Unavailable``     -> a dependency is down (storage, the broker): the stage *pauses* (its agent
                         takes no new message, offsets stay uncommitted, readiness names it,
                         ``wirewatch_stage_paused`` is 1) and the same step is tried again with
                         backoff for as long as it takes; never dead-lettered;
- ``NotYet``          -> not a failure: the item waits its turn (our per-host politeness queue, a
                         host's Retry-After or Crawl-delay): tried again after its ``retry_after``
                         for as long as it takes, aside (no working slot held), counted ``waited``;
                         spends none of its tries and never pauses the stage (other hosts go on);
- ``TransientError``  -> the item's own trouble (a host times out): retried with capped exponential
                         backoff and jitter (honouring ``retry_after``; the one helper:
                         ``retry.py``), then dead-lettered with the last reason;
- ``PermanentError``  -> dead-lettered at once with its reason;
- anything else       -> a bug: logged with its traceback and dead-lettered as ``internal_error``.

Emitting is a step like the core: the broker's errors arrive here already translated
(``broker/errors.py``), so a broker that is down pauses the stage and a message the broker will never
take (too large) dead-letters the input. A dead letter carries the input whole only when it is
small (``DEADLETTER_PAYLOAD_MAX``), else a bounded excerpt, and always the payload's sha256 and size.
The stage that reads dead letters (outcomes) never writes one: a letter onto its own input would
loop; what it cannot record is logged and counted.

Nothing escapes ``Stage.handle``: faust-streaming skips a message whose agent raised (the agent
restarts and later offsets are committed past it), so an agent that raises loses data.
Every send is awaited until the broker acknowledges it, before the agent moves on and faust may
commit the input offset: at-least-once from input to output.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from .. import contract, logs, timeutil
from ..errors import InvalidMessage, NotYet, PermanentError, Rejected, StageError, TransientError, Unavailable
from ..metrics import Metrics
from ..retry import Backoff, retry
from ..settings import RetrySettings
from ..waiting import waiting
from .flow import position

log = logging.getLogger(__name__)

# A dead letter carries its input whole up to this many bytes (a link, an alert, most articles:
# what `wirewatch deadletter replay` puts back), else the first EXCERPT_CHARS characters; the
# sha256 and size of the input always. A letter is then always far below the broker's limit.
DEADLETTER_PAYLOAD_MAX = 64 * 1024
EXCERPT_CHARS = 2000
# Seconds a send may wait for the broker's ack before the stage counts as paused. The Kafka client
# keeps retrying a send while the broker is away (up to faust's producer_request_timeout, 20 min)
# rather than failing it; waiting on is right (no duplicate send), but it is an outage: the stage
# stops taking and says so, like any other Unavailable.
SLOW_ACK = 5.0


def utcnow() -> str:
    return timeutil.iso()


@dataclass(slots=True)
class Emit:
    """One output message: the topic's contract name, its key and its payload, as a dict or as
    the bytes a pool process already validated and serialised for that schema (``contract.dumps``:
    the event loop then only sends them)."""

    schema: str
    key: str | None
    value: dict | bytes

    def payload(self) -> dict:
        """The payload as a dict, decoded if it came as bytes."""
        return orjson.loads(self.value) if isinstance(self.value, bytes) else self.value


Core = Callable[[dict], Awaitable[list[Emit]]]
Send = Callable[[str, str | None, bytes], Awaitable[None]]


class Pause:
    """Whether one agent waits for a dependency. While any of its messages does, ``resumed`` is
    clear (the agent's window takes nothing new: agents/flow.py), ``board[name]`` says why (the
    readiness check reads it) and the ``wirewatch_stage_paused`` gauge is 1."""

    def __init__(self, name: str, metrics: Metrics, board: dict[str, str] | None = None) -> None:
        self.name = name
        self.board = board if board is not None else {}
        self.gauge = metrics.stage_paused.labels(stage=name)
        self.waiting = 0
        self.resumed = asyncio.Event()
        self.resumed.set()
        self.since = 0.0

    def enter(self, reason: str, detail: str) -> None:
        self.waiting += 1
        if self.waiting == 1:
            self.since = time.monotonic()
            self.resumed.clear()
            self.gauge.set(1)
            # One line per outage, not per retry (the retries are counted: outcome "retried").
            log.warning(
                "%s paused: %s: %s; retrying until it is back", self.name, reason, detail, extra={"reason": reason}
            )
        self.board[self.name] = reason

    def leave(self) -> None:
        self.waiting -= 1
        if self.waiting == 0:
            self.board.pop(self.name, None)
            self.gauge.set(0)
            self.resumed.set()
            log.warning(
                "%s resumed after %.1f s", self.name, time.monotonic() - self.since, extra={"reason": "resumed"}
            )


class _SlowAck:
    """One send's watch: after ``seconds`` without its ack, the stage counts as paused (the Kafka
    client is still retrying: the broker is away) until ``done``."""

    __slots__ = ("_entered", "_pause", "_seconds", "_timer")

    def __init__(self, pause: Pause | None, seconds: float) -> None:
        self._pause, self._seconds, self._entered = pause, seconds, False
        self._timer = asyncio.get_running_loop().call_later(seconds, self._slow)

    def _slow(self) -> None:
        assert self._pause is not None
        self._entered = True
        self._pause.enter("broker_unavailable", f"no ack from the broker for {self._seconds:g} s; still waiting")

    def done(self) -> None:
        self._timer.cancel()
        if self._entered:
            self._entered = False
            assert self._pause is not None
            self._pause.leave()


@dataclass
class Stage:
    """A stage's adapter: which schema it reads and how it sends; the agent calls ``handle``."""

    name: str
    in_schema: str
    in_topic: str
    send: Send
    metrics: Metrics
    retry: RetrySettings
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)
    pause: Pause | None = None
    max_bytes: int | None = None  # settings.max_message_bytes: bigger in or out is message_too_large
    slow_ack: float = SLOW_ACK

    def __post_init__(self) -> None:
        if self.pause is None:
            self.pause = Pause(self.name, self.metrics)
        self._outage = Backoff(self.retry.backoff_initial, self.retry.outage_backoff_max)
        self._latency = self.metrics.latency.labels(stage=self.name)  # looked up once, not per message

    async def handle(self, raw: Any, core: Core) -> str:
        """Run `core` on one message and apply the policy. Returns the outcome; never raises."""
        started = time.perf_counter()
        payload: dict | None = None
        tries = [1]
        logs.bind(stage=self.name, link_id=None)  # every line logged about this message carries them
        try:
            self._check_size(raw, self.in_topic)
            payload = contract.decode(self.in_schema, raw)
            logs.bind(link_id=payload.get("link_id"))
            item = payload
            outputs = await self._patiently(lambda: core(item), tries)
            for out in outputs:
                await self._patiently(functools.partial(self.emit, out))
            outcome = "ok"
        except Rejected as e:
            outcome = await self._settle(functools.partial(self._filter, payload or {}, e), raw, payload, tries)
        except StageError as e:
            outcome = await self._fail(raw, payload, e.reason, e.detail, tries)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # a bug in a core must not stop the stream
            log.exception("%s: unexpected error", self.name)
            outcome = await self._fail(raw, payload, "internal_error", f"{type(e).__name__}: {e}", tries)
        self.metrics.outcome(self.name, outcome)
        self._latency.observe(time.perf_counter() - started)
        return outcome

    async def _patiently(self, step: Callable[[], Awaitable[Any]], tries: list[int] | None = None) -> Any:
        """``step()`` under the policy: an item's TransientError gets ``retry.attempts`` tries, an
        ``Unavailable`` dependency pauses the stage and is waited for without limit, and an item
        that is ``NotYet`` due waits aside without limit, spending none of its tries."""
        pause = self.pause
        assert pause is not None
        paused = [False]

        def budget(e: TransientError) -> int | None:
            return None if isinstance(e, (Unavailable, NotYet)) else self.retry.attempts

        def retrying(e: TransientError, attempt: int, delay: float) -> None:
            if isinstance(e, NotYet):  # its turn is not yet due: no failure, no try spent, no pause
                self.metrics.outcome(self.name, "waited")
                log.debug("%s: %s; again in %.1fs", self.name, e, delay)
                return
            self.metrics.outcome(self.name, "retried")
            if isinstance(e, Unavailable):
                if not paused[0]:
                    paused[0] = True
                    pause.enter(e.reason, e.detail)
                log.debug("%s: %s; try %d in %.1fs", self.name, e, attempt + 1, delay)
                return
            if tries is not None:
                tries[0] = attempt + 1
            log.info("%s: %s; try %d of %d in %.1fs", self.name, e, attempt + 1, self.retry.attempts, delay)

        async def aside(delay: float) -> None:
            async with waiting():  # the backoff holds no slot a ready message could use
                await self.sleep(delay)

        try:
            return await retry(
                step, self.retry, budget=budget, on_retry=retrying, sleep=aside, unlimited_policy=self._outage
            )
        finally:
            if paused[0]:
                pause.leave()

    async def _fail(self, raw: Any, payload: dict | None, reason: str, detail: str, tries: list[int]) -> str:
        if self.in_schema == "deadletter":  # never onto our own input: it would loop
            log.error(
                "%s: cannot record a dead letter (%s: %s); it stays on the dead-letter topic",
                self.name,
                reason,
                detail,
                extra={"reason": reason},
            )
            self.metrics.dead_letters.labels(stage=self.name, reason=reason).inc()
            return "dropped"
        return await self._settle(
            lambda: self._dead_letter(raw, payload, reason, detail, tries[0]), raw, payload, tries, fallback=False
        )

    async def _settle(
        self,
        write: Callable[[], Awaitable[str]],
        raw: Any,
        payload: dict | None,
        tries: list[int],
        fallback: bool = True,
    ) -> str:
        """Emit a filtered record or a dead letter, waiting out a broker outage. A filtered record
        the broker refuses for good becomes a dead letter; a dead letter it refuses is logged and
        counted (``dropped``): there is nowhere further to put it."""
        try:
            return await self._patiently(write)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            reason = e.reason if isinstance(e, StageError) else "internal_error"
            if fallback:
                return await self._fail(raw, payload, reason, f"{type(e).__name__}: {e}", tries)
            log.exception("%s: could not emit the dead letter of a message", self.name)
            self.metrics.dead_letters.labels(stage=self.name, reason=reason).inc()
            return "dropped"

    async def emit(self, out: Emit) -> None:
        if isinstance(out.value, bytes):
            value = contract.trust(out.schema, out.value)
        else:
            value = contract.encode(out.schema, out.value)
        self._check_size(value, f"the {out.schema} to emit")
        # The send is awaited in this task, with a timer that pauses the stage only if the ack is
        # slow: no task and no asyncio.wait per message (a fifth of the runtime's CPU a message,
        # benchmarks/bench_runtime.py). A cancelled message (rebalance, shutdown) cancels its send
        # with it, as the await is its own.
        slow = _SlowAck(self.pause, self.slow_ack)
        try:
            await self.send(out.schema, out.key, value)
        finally:
            slow.done()

    def _check_size(self, data: Any, what: str) -> None:
        """Size is an input error: PermanentError("message_too_large"), decided before the broker
        would refuse it (or after a foreign client put it on a topic)."""
        if self.max_bytes is not None and isinstance(data, (bytes, str)) and len(data) > self.max_bytes:
            raise PermanentError(
                "message_too_large", f"{what}: {len(data):,} bytes, over max_message_bytes ({self.max_bytes:,})"
            )

    async def _filter(self, payload: dict, e: Rejected) -> str:
        self.metrics.filtered.labels(stage=self.name, reason=e.reason).inc()
        link_id = payload.get("link_id") or "unknown-link"
        await self.emit(
            Emit(
                "filtered",
                link_id,
                {
                    "link_id": link_id,
                    "url": payload.get("url") or "unknown",
                    "stage": self.name,
                    "reason": e.reason,
                    "detail": e.detail,
                    "at": utcnow(),
                },
            )
        )
        return "filtered"

    async def _dead_letter(self, raw: Any, payload: dict | None, reason: str, detail: str, attempts: int) -> str:
        # One line per (stage, reason) per minute, the rest counted (logs.RepeatSummary).
        log.warning("%s: dead-lettering: %s: %s", self.name, reason, detail, extra={"reason": reason})
        self.metrics.dead_letters.labels(stage=self.name, reason=reason).inc()
        letter = dead_letter(self.name, self.in_topic, raw, payload, reason, detail, attempts)
        try:
            await self.emit(Emit("deadletter", letter["link_id"], letter))
        except InvalidMessage:  # a payload so broken that even its letter fails: keep the reason
            letter["payload"] = repr(letter["payload"])[:EXCERPT_CHARS]
            await self.emit(Emit("deadletter", None, letter))
        return "dead_lettered"


def dead_letter(
    stage: str, topic: str, raw: Any, payload: dict | None, reason: str, detail: str, attempts: int
) -> dict:
    """The dead letter of one input message: the input whole when small, else a bounded excerpt;
    its sha256 and size always (the outcome row's key for a message without a link id)."""
    data = raw if isinstance(raw, bytes) else (raw.encode() if isinstance(raw, str) else orjson.dumps(raw, default=str))
    # The message as it came, not as decoded: decoding strips a later version's fields, which a
    # replay by that version needs (schemas/README.md, Compatibility).
    original = contract.raw_text(raw) if isinstance(raw, bytes | dict) or payload is None else payload
    link_id = original.get("link_id") if isinstance(original, dict) else None
    url = original.get("url") if isinstance(original, dict) else None
    if len(data) > DEADLETTER_PAYLOAD_MAX:  # never the whole payload: it may be what was too big
        original = data[: EXCERPT_CHARS * 4].decode("utf-8", "replace")[:EXCERPT_CHARS]
    where = position()
    return {
        "stage": stage,
        "reason": reason,
        "detail": detail[:2000],
        "topic": topic,
        "partition": where[1] if where else None,
        "offset": where[2] if where else None,
        "payload": original,
        "link_id": link_id if isinstance(link_id, str) and len(link_id) <= 64 else None,
        "url": url[:2000] if isinstance(url, str) else None,
        "at": utcnow(),
        "attempts": attempts,
        "payload_sha256": hashlib.sha256(data).hexdigest(),
        "payload_bytes": len(data),
    }
