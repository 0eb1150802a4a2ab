"""The error policy every agent applies, written once.

An agent's body is five steps: decode the message, call the stage's pure core, emit what it returns,
count the outcome, and on error apply this policy:

- ``Rejected``        -> a ``filtered`` record with the reason (an outcome, not an error);
- ``TransientError``  -> retried here with capped exponential backoff and jitter (honouring
                         ``retry_after``; the one helper: ``retry.py``), then dead-lettered with
                         the last reason;
- ``PermanentError``  -> dead-lettered at once with its reason;
- anything else       -> a bug: logged with its traceback and dead-lettered as ``internal_error``.

Nothing escapes ``Stage.handle``: faust-streaming skips a message whose agent raised (the agent
restarts and later offsets are committed past it), so an agent that raises loses data.
Every send is awaited until the broker acknowledges it, before the agent moves on and faust may
commit the input offset: at-least-once from input to output.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from .. import contract, logs, timeutil
from ..errors import InvalidMessage, PermanentError, Rejected, TransientError
from ..metrics import Metrics
from ..retry import backoff, retry  # noqa: F401 - backoff: re-exported for the alert agent until it imports retry
from ..settings import RetrySettings
from ..waiting import waiting

log = logging.getLogger(__name__)


def utcnow() -> str:
    return timeutil.iso()


@dataclass(slots=True)
class Emit:
    """One output message: the topic's contract name, its key and its payload."""

    schema: str
    key: str | None
    value: dict


Core = Callable[[dict], Awaitable[list[Emit]]]
Send = Callable[[str, str | None, bytes], Awaitable[None]]


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

    async def handle(self, raw: Any, core: Core) -> str:
        """Run `core` on one message and apply the policy. Returns the outcome; never raises."""
        started = time.perf_counter()
        payload: dict | None = None
        tries = [1]
        logs.bind(stage=self.name, link_id=None)  # every line logged about this message carries them

        def retrying(e: TransientError, attempt: int, delay: float) -> None:
            tries[0] = attempt + 1
            self.metrics.outcome(self.name, "retried")
            log.info("%s: %s; try %d of %d in %.1fs", self.name, e, attempt + 1, self.retry.attempts, delay)

        async def aside(delay: float) -> None:
            async with waiting():  # the backoff holds no slot a ready message could use
                await self.sleep(delay)

        try:
            payload = contract.decode(self.in_schema, raw)
            logs.bind(link_id=payload.get("link_id"))
            item = payload
            outputs = await retry(lambda: core(item), self.retry, budget=lambda e: self.retry.attempts,
                                  on_retry=retrying, sleep=aside)
            for out in outputs:
                await self.emit(out)
            outcome = "ok"
        except Rejected as e:
            outcome = await self._filter(payload or {}, e)
        except (PermanentError, TransientError) as e:
            outcome = await self._dead_letter(raw, payload, e.reason, e.detail, tries[0])
        except asyncio.CancelledError:
            raise
        except Exception as e:  # a bug in a core must not stop the stream
            log.exception("%s: unexpected error", self.name)
            outcome = await self._dead_letter(raw, payload, "internal_error", f"{type(e).__name__}: {e}", tries[0])
        self.metrics.outcome(self.name, outcome)
        self.metrics.latency.labels(stage=self.name).observe(time.perf_counter() - started)
        return outcome

    async def emit(self, out: Emit) -> None:
        await self.send(out.schema, out.key, contract.encode(out.schema, out.value))

    async def _filter(self, payload: dict, e: Rejected) -> str:
        self.metrics.filtered.labels(stage=self.name, reason=e.reason).inc()
        link_id = payload.get("link_id") or "unknown-link"
        await self.emit(Emit("filtered", link_id, {
            "link_id": link_id, "url": payload.get("url") or "unknown", "stage": self.name,
            "reason": e.reason, "detail": e.detail, "at": utcnow(),
        }))
        return "filtered"

    async def _dead_letter(self, raw: Any, payload: dict | None, reason: str, detail: str, attempts: int) -> str:
        # One line per (stage, reason) per minute, the rest counted (logs.RepeatSummary).
        log.warning("%s: dead-lettering: %s: %s", self.name, reason, detail, extra={"reason": reason})
        self.metrics.dead_letters.labels(stage=self.name, reason=reason).inc()
        original = payload if payload is not None else contract.raw_text(raw)
        link_id = original.get("link_id") if isinstance(original, dict) else None
        url = original.get("url") if isinstance(original, dict) else None
        letter = {
            "stage": self.name, "reason": reason, "detail": detail[:2000], "topic": self.in_topic,
            "payload": original, "link_id": link_id if isinstance(link_id, str) else None,
            "url": url if isinstance(url, str) else None, "at": utcnow(), "attempts": attempts,
        }
        try:
            await self.emit(Emit("deadletter", letter["link_id"], letter))
        except InvalidMessage:  # a payload so broken that even its letter fails: keep the reason
            letter["payload"] = repr(original)[:10000]
            await self.emit(Emit("deadletter", None, letter))
        return "dead_lettered"
