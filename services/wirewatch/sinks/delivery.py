"""Alert delivery as a sink: ``add(alert)`` returns once every channel has the alert, or raises
``PermanentError`` naming the channels that will never get it; the runner's one error policy
(agents/runner.py) turns that into the dead letter, as for any other stage.

    start()      open every channel's client
    add(alert)   deliver to every channel side by side (write-through: delivered when it returns)
    flush()      a barrier only: nothing is buffered
    close()      close every channel; idempotent

How delivery is made sure of:

- The storage ledger (``claim_alert`` / ``mark_delivered`` per (alert, channel target),
  sinks/storage/ledgers.py) skips the channels that already have an alert, so a redelivered
  message (a crash before the commit, a replayed dead letter) notifies nobody twice. Ledger errors
  are storage errors (``Unavailable("storage_unavailable")``) and propagate: the runner waits.
- ``TransientError`` from a channel (5xx, 429, timeouts, refused connections) is retried with the
  one backoff helper (retry.py: capped, jittered, honouring ``Retry-After``) until the alert has
  been failing on that channel for ``channels.delivery_deadline`` seconds; only then is it given
  up with reason ``delivery_deadline``. Every alert waits its own deadline: a long outage is
  never a reason to give up an alert early.
- **A failing alert holds no other.** Each alert waits for its own next try (its own not-before),
  parked aside (``waiting.waiting()`` gives its working slot to an alert that is ready), so other
  alerts of that channel and every other channel go on at their own pace. The first delivery that
  succeeds on a channel after a failure wakes every alert parked on that channel, so once a
  receiver is back all its pending alerts go out within one backoff step, not each after its own.
- ``PermanentError`` from a channel (a 4xx, an SMTP 5xx) gives that channel up at once with
  reason ``receiver_rejected`` and the receiver's answer.
- Per-channel throttling: when the alert's rule limits this channel kind
  (``throttle.channels.<kind>``, stages/throttle.py), an alert past the limit of its window is
  held in storage (window (rule, kind)) instead of sent, counted with outcome ``throttled``; the
  digest timer (agents/route.py ``flush_digests``) later sends one digest per window, through
  channels of that kind only. Idempotent: a redelivered alert gets the answer it got the first time.
- A channel failing past the deadline is itself news: a ``channel_failing`` notice
  (schemas/notice.schema.json) goes once per failure streak through every other channel that is
  not failing, and a ``channel_recovered`` notice when it delivers again.

Metrics: ``wirewatch_alerts{channel,outcome}`` (delivered, retried, rejected, dead_lettered,
duplicate, throttled, notice), ``wirewatch_alert_delivery_seconds{channel}``,
``wirewatch_channel_failing{channel}``, ``wirewatch_alerts_parked{channel}`` (alerts waiting for
their next try). ``channel`` is the channel's kind, never its URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .. import timeutil
from ..errors import PermanentError, TransientError
from ..metrics import Metrics
from ..retry import retry
from ..settings import ChannelSettings
from ..stages import throttle
from ..waiting import waiting
from .base import Sink
from .channels import Channel

log = logging.getLogger(__name__)

OUTCOMES = ("delivered", "retried", "rejected", "dead_lettered", "duplicate", "throttled")


@dataclass
class Health:
    """One channel's failure streak, as this worker has seen it."""

    failing_since: float | None = None  # monotonic start of the streak; None when healthy
    failing_since_at: str = ""  # the same instant as a timestamp, for people
    noticed: bool = False  # a channel_failing notice went out for this streak
    reason: str = ""
    detail: str = ""
    # Set by the first delivery after a failure: every alert parked on the channel tries again now.
    back: asyncio.Event = field(default_factory=asyncio.Event)

    def fail(self, now: float, e: TransientError) -> None:
        if self.failing_since is None:
            self.failing_since, self.failing_since_at = now, timeutil.iso()
            self.back = asyncio.Event()
        self.reason, self.detail = e.reason, e.detail

    def recover(self) -> bool:
        """End the streak and wake the parked alerts; True if it had been announced as failing."""
        announced = self.noticed
        self.failing_since, self.failing_since_at, self.noticed = None, "", False
        self.back.set()
        return announced


@dataclass
class Undelivered:
    """A channel that will not get the alert: why, and after how many tries."""

    channel: Channel
    reason: str
    detail: str
    attempts: int


class AlertSink(Sink):
    """Delivers alerts to every channel; keeps each channel's health between alerts."""

    def __init__(
        self,
        channels: list[Channel],
        ledger: Any,  # the Storage: claim_alert, mark_delivered, throttle_admit
        metrics: Metrics,
        policy: ChannelSettings,
        *,
        rules: Callable[[], list[Any]] = list,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.channels = channels
        self.ledger = ledger
        self.rules = rules  # the rules in force now (hot reload), for their per-channel throttles
        self.metrics = metrics
        self.policy = policy
        self.sleep = sleep
        self.clock = clock
        self.health = {c.target: Health() for c in channels}
        for c in channels:  # series exist at zero before the first delivery
            for outcome in OUTCOMES:
                metrics.alerts.labels(channel=c.kind, outcome=outcome)
            metrics.channel_failing.labels(channel=c.kind)
            metrics.alerts_parked.labels(channel=c.kind)

    # -- the sink lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        for c in self.channels:
            await c.start()

    async def close(self) -> None:
        for c in self.channels:
            await c.close()

    async def add(self, item: dict[str, Any]) -> None:
        """Deliver `item` to every channel it is for; raise ``PermanentError`` (the first reason,
        every channel that failed in the detail) if any channel will never get it."""
        failed = await self.deliver(item)
        if failed:
            for u in failed:
                self.metrics.alerts.labels(channel=u.channel.kind, outcome="dead_lettered").inc()
            raise PermanentError(
                failed[0].reason,
                "; ".join(f"{u.channel.target}: {u.reason} after {u.attempts} tries: {u.detail}" for u in failed),
            )

    async def flush(self) -> None:
        """Nothing is buffered: ``add`` returns once every channel has the alert."""

    # -- delivery ---------------------------------------------------------------------------------

    def channels_for(self, alert: dict[str, Any]) -> list[Channel]:
        """A digest names the channel its throttle held alerts back from (a kind or a target, or *)."""
        only = alert.get("channel")
        if not only or only == "*":
            return self.channels
        chosen = [c for c in self.channels if only in (c.kind, c.target)]
        if not chosen:  # never drop a message because its channel is gone from the settings
            log.warning("alert %s names channel %r, which is not configured: sending to all", alert["alert_id"], only)
            return self.channels
        return chosen

    async def deliver(self, alert: dict[str, Any]) -> list[Undelivered]:
        """Every channel side by side; the channels that will never get `alert`."""
        # A TaskGroup, not gather: when the ledger fails for one channel the others are cancelled
        # before the runner retries the message, so no send runs twice side by side.
        try:
            async with asyncio.TaskGroup() as tg:
                tasks = [tg.create_task(self._deliver_one(c, alert)) for c in self.channels_for(alert)]
        except BaseExceptionGroup as group:
            raise group.exceptions[0] from None
        return [u for u in (t.result() for t in tasks) if u is not None]

    async def _deliver_one(self, channel: Channel, alert: dict[str, Any]) -> Undelivered | None:
        alert_id, kind = alert["alert_id"], channel.kind
        limit = throttle.limit_for(self.rules(), alert, kind)
        if limit is not None and not await self._admit(alert, kind, limit):
            self.metrics.alerts.labels(channel=kind, outcome="throttled").inc()
            return None
        if not await self.ledger.claim_alert(alert_id, channel.target, alert):
            self.metrics.alerts.labels(channel=kind, outcome="duplicate").inc()
            return None
        started = self.clock()
        tries = 0

        async def send() -> None:
            nonlocal tries
            tries += 1
            await channel.send(alert)

        try:
            await self._until_due(channel, alert, send)
        except PermanentError as e:
            self.metrics.alerts.labels(channel=kind, outcome="rejected").inc()
            return Undelivered(channel, e.reason, e.detail, tries)
        except TransientError as e:
            h = self.health[channel.target]
            await self._announce_failing(channel, h)
            return Undelivered(
                channel,
                "delivery_deadline",
                f"failing for longer than the deadline ({self.policy.delivery_deadline:g}s); "
                f"last: {e.reason}: {e.detail}",
                tries,
            )
        await self.ledger.mark_delivered(alert_id, channel.target)
        self.metrics.alerts.labels(channel=kind, outcome="delivered").inc()
        self.metrics.alert_delivery_latency.labels(channel=kind).observe(self.clock() - started)
        await self._recovered(channel)
        return None

    async def _until_due(self, channel: Channel, alert: dict[str, Any], send: Callable[[], Awaitable[None]]) -> None:
        """``send`` until it succeeds, retrying transient failures (retry.py) until this alert has
        failed on this channel for the delivery deadline; each wait is parked aside and ends early
        when the channel delivers something else (``Health.back``)."""
        h, kind = self.health[channel.target], channel.kind
        first_failure: float | None = None
        woken_by: asyncio.Event | None = None

        def budget(e: TransientError) -> int | None:  # no more tries once this alert's deadline passed
            nonlocal first_failure, woken_by
            now = self.clock()
            h.fail(now, e)
            woken_by = h.back
            first_failure = now if first_failure is None else first_failure
            return None if now < self._due(first_failure) else 0

        def retrying(e: TransientError, attempt: int, delay: float) -> None:
            self.metrics.alerts.labels(channel=kind, outcome="retried").inc()
            log.info("alert %s -> %s: %s; try %d in %.1fs", alert["alert_id"], channel.target, e, attempt + 1, delay)

        async def park(delay: float) -> None:
            assert first_failure is not None and woken_by is not None
            delay = min(delay, max(self._due(first_failure) - self.clock(), 0.0))
            self.metrics.alerts_parked.labels(channel=kind).inc()
            try:
                async with waiting():  # aside: the alert holds no working slot while it waits
                    await self._sleep_unless(woken_by, delay)
            finally:
                self.metrics.alerts_parked.labels(channel=kind).dec()

        await retry(send, self.policy, budget=budget, on_retry=retrying, sleep=park)

    def _due(self, first_failure: float) -> float:
        return first_failure + self.policy.delivery_deadline

    async def _sleep_unless(self, back: asyncio.Event, delay: float) -> None:
        """``self.sleep(delay)``, ended early when `back` is set (the channel delivered again)."""
        if back.is_set():
            return
        sleeping = asyncio.ensure_future(self.sleep(delay))
        woken = asyncio.ensure_future(back.wait())
        try:
            await asyncio.wait((sleeping, woken), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (sleeping, woken):
                t.cancel()

    async def _admit(self, alert: dict[str, Any], kind: str, limit: Any) -> bool:
        """Send now, or hold for the (rule, channel kind) window's digest. Channels of one kind
        share the window, so every webhook gets the same alerts and the same digest."""
        # The window of the alert's own raised_at, so a redelivered alert lands where it did.
        at = timeutil.parse(alert.get("raised_at")) or timeutil.utc_now()
        start, end = throttle.window_of(at, limit.per)
        admitted: bool = await self.ledger.throttle_admit(
            alert["rule"],
            kind,
            start,
            end,
            alert.get("severity") or "warning",
            alert,
            limit.max,
            throttle.admit,
            throttle.summary,
        )
        return admitted

    # -- a channel failing past its deadline is an alert through the others ---------------------

    async def _recovered(self, channel: Channel) -> None:
        """A delivery ends any streak (waking the parked alerts); only a streak that was announced
        as failing is announced as over. The notice is built first: it names when the streak
        began, which recover() forgets."""
        h = self.health[channel.target]
        if h.failing_since is None:
            return
        notice = self._notice(channel, "channel_recovered", h) if h.noticed else None
        if h.recover() and notice is not None:
            self.metrics.channel_failing.labels(channel=channel.kind).dec()
            await self._notify_others(channel, notice)

    def _notice(self, channel: Channel, kind: str, h: Health) -> dict[str, Any]:
        since = h.failing_since_at or timeutil.iso()
        notice_id = hashlib.sha256(f"{kind}|{channel.target}|{since}".encode()).hexdigest()[:24]
        return {
            "notice_id": notice_id,
            "kind": kind,
            "severity": "warning" if kind == "channel_failing" else "info",
            "raised_at": timeutil.iso(),
            "channel": channel.kind,
            "target": channel.target,
            "failing_since": since,
            "reason": h.reason,
            "detail": h.detail[:2000],
            "deadline_seconds": self.policy.delivery_deadline,
        }

    async def _announce_failing(self, channel: Channel, h: Health) -> None:
        if h.noticed or h.failing_since is None:
            return
        h.noticed = True
        self.metrics.channel_failing.labels(channel=channel.kind).inc()
        log.error("alert channel %s failing for longer than its deadline: %s: %s", channel.target, h.reason, h.detail)
        await self._notify_others(channel, self._notice(channel, "channel_failing", h))

    async def _notify_others(self, failing: Channel, notice: dict[str, Any]) -> None:
        """One try per healthy channel: a notice must not hold alerts up behind a second outage."""
        if not self.policy.failing_notice:
            return
        others = [c for c in self.channels if c is not failing and self.health[c.target].failing_since is None]

        async def one(c: Channel) -> None:
            try:
                await c.send(notice)
                self.metrics.alerts.labels(channel=c.kind, outcome="notice").inc()
            except (TransientError, PermanentError) as e:
                log.warning("notice %s -> %s failed: %s", notice["kind"], c.target, e)

        await asyncio.gather(*(one(c) for c in others))
