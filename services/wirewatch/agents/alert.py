"""alert agent: `alert` in -> delivered to every configured channel, at least once per channel;
out: a `deadletter` per (alert, channel) that could not be delivered.

How delivery is made sure of (the runner's few quick retries are not enough for a receiver that
is down for minutes):

- The alert message is held while it is delivered: the agent's offset cannot be committed until
  the core returns, and it returns only when every channel has the alert or has dead-lettered it.
  A crash meanwhile re-delivers the message; the storage ledger (``claim_alert`` /
  ``mark_delivered`` per (alert, channel)) skips the channels that already have it.
- Channels are tried side by side, so one failing receiver does not delay the others.
- ``TransientError`` (5xx, 429, timeouts, refused connections) is retried with capped, jittered
  exponential backoff, honouring ``Retry-After``, until the channel has been failing for
  ``channels.delivery_deadline`` seconds; the alert is then dead-lettered with reason
  ``delivery_deadline`` and the last error. The deadline runs from the start of the channel's
  *failure streak*, not from each alert: the first alert of an outage waits out the deadline, and
  while the outage goes on each later alert gets one try and is dead-lettered at once instead of
  holding the partition another deadline (the dead-letter topic keeps the whole alert for replay).
  The first success ends the streak.
- ``PermanentError`` (a 4xx, an SMTP 5xx) is dead-lettered at once with reason
  ``receiver_rejected`` and the receiver's answer in ``detail``.
- Per-channel throttling: when the alert's rule limits this channel kind
  (``throttle.channels.<kind>``, stages/throttle.py), an alert past the limit of its window is
  held in storage (window (rule, kind)) instead of sent, and counted with outcome ``throttled``;
  the digest timer (app.py -> agents/route.py ``flush_digests``) later sends one digest per
  (rule, kind) window, through channels of that kind only. Idempotent: a redelivered alert gets
  the answer it got the first time.
- A channel failing past its deadline is itself news: a ``channel_failing`` notice
  (schemas/notice.schema.json) goes once per streak through every other channel that is not
  failing, and a ``channel_recovered`` notice when it delivers again.

Metrics: ``wirewatch_alerts{channel,outcome}`` with outcome delivered, retried, rejected,
dead_lettered, duplicate or throttled; ``wirewatch_alert_delivery_seconds{channel}``;
``wirewatch_channel_failing{channel}``. ``channel`` is the channel's kind, never its URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Awaitable, Callable

from ..errors import PermanentError, TransientError
from ..metrics import Metrics
from ..runtime import Runtime
from ..settings import ChannelSettings
from ..sinks.channels import Channel
from ..sinks.storage import Storage
from ..stages import throttle
from ..stages.story import parse_time
from ..waiting import waiting
from .runner import Core, Emit, backoff, utcnow

log = logging.getLogger(__name__)


@dataclass
class Health:
    """One channel's failure streak, as this worker has seen it."""

    failing_since: float | None = None      # monotonic start of the streak; None when healthy
    failing_since_at: str = ""              # the same instant as a timestamp, for people
    noticed: bool = False                   # a channel_failing notice went out for this streak
    reason: str = ""
    detail: str = ""

    def fail(self, now: float, e: TransientError) -> None:
        if self.failing_since is None:
            self.failing_since, self.failing_since_at = now, utcnow()
        self.reason, self.detail = e.reason, e.detail

    def recover(self) -> bool:
        """End the streak; True if it had been announced as failing."""
        announced = self.noticed
        self.failing_since, self.failing_since_at, self.noticed = None, "", False
        return announced


@dataclass
class Undelivered:
    channel: Channel
    reason: str
    detail: str
    attempts: int


class Deliverer:
    """Delivers one alert to every channel; keeps each channel's health between alerts."""

    def __init__(
        self,
        channels: list[Channel],
        storage: Storage,
        metrics: Metrics,
        policy: ChannelSettings,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        topic: str = "alerts",
        rules: Callable[[], list] = list,
    ) -> None:
        self.channels = channels
        self.rules = rules  # the rules in force now (hot reload), for their per-channel throttles
        self.topic = topic
        self.storage = storage
        self.metrics = metrics
        self.policy = policy
        self.sleep = sleep
        self.clock = clock
        self.health = {c.target: Health() for c in channels}
        for c in channels:  # series exist at zero before the first delivery
            for outcome in ("delivered", "retried", "rejected", "dead_lettered", "duplicate", "throttled"):
                metrics.alerts.labels(channel=c.kind, outcome=outcome)
            metrics.channel_failing.labels(channel=c.kind)

    def channels_for(self, alert: dict) -> list[Channel]:
        """A digest names the channel its throttle held alerts back from (a kind or a target, or *)."""
        only = alert.get("channel")
        if not only or only == "*":
            return self.channels
        chosen = [c for c in self.channels if only in (c.kind, c.target)]
        if not chosen:  # never drop a message because its channel is gone from the settings
            log.warning("alert %s names channel %r, which is not configured: sending to all", alert["alert_id"], only)
            return self.channels
        return chosen

    async def deliver(self, alert: dict) -> list[Emit]:
        # A TaskGroup, not gather: when the ledger fails for one channel the others are cancelled
        # before the runner retries the message, so no send runs twice side by side.
        try:
            async with asyncio.TaskGroup() as tg:
                tasks = [tg.create_task(self._deliver_one(c, alert)) for c in self.channels_for(alert)]
        except BaseExceptionGroup as group:
            raise group.exceptions[0] from None
        return [self._dead_letter(alert, u) for u in (t.result() for t in tasks) if u is not None]

    async def _deliver_one(self, channel: Channel, alert: dict) -> Undelivered | None:
        alert_id, kind, h = alert["alert_id"], channel.kind, self.health[channel.target]
        limit = throttle.limit_for(self.rules(), alert, kind)
        if limit is not None and not await self._admit(alert, kind, limit):
            self.metrics.alerts.labels(channel=kind, outcome="throttled").inc()
            return None
        if not await self.storage.claim_alert(alert_id, channel.target, alert):
            self.metrics.alerts.labels(channel=kind, outcome="duplicate").inc()
            return None
        started = self.clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                await channel.send(alert)
            except PermanentError as e:
                self.metrics.alerts.labels(channel=kind, outcome="rejected").inc()
                return Undelivered(channel, e.reason, e.detail, attempt)
            except TransientError as e:
                now = self.clock()
                h.fail(now, e)
                assert h.failing_since is not None
                due = h.failing_since + self.policy.delivery_deadline
                if now >= due:
                    failing_for = now - h.failing_since
                    await self._announce_failing(channel, h)
                    return Undelivered(
                        channel, "delivery_deadline",
                        f"{channel.target}: failing for {failing_for:.0f}s (deadline {self.policy.delivery_deadline:g}s); "
                        f"last: {e.reason}: {e.detail}",
                        attempt,
                    )
                self.metrics.alerts.labels(channel=kind, outcome="retried").inc()
                delay = min(backoff(attempt, self.policy, e.retry_after), max(due - now, 0.0))
                log.info("alert %s -> %s: %s; try %d in %.1fs", alert_id, channel.target, e, attempt + 1, delay)
                async with waiting():  # other alerts go on meanwhile (agents/flow.py)
                    await self.sleep(delay)
                continue
            await self.storage.mark_delivered(alert_id, channel.target)
            self.metrics.alerts.labels(channel=kind, outcome="delivered").inc()
            self.metrics.alert_delivery_latency.labels(channel=kind).observe(self.clock() - started)
            # recover() ends any streak; only one that was announced as failing is announced as over.
            # The notice is built first: it names when the streak began, which recover() forgets.
            if h.failing_since is not None:
                notice = self._notice(channel, "channel_recovered", h) if h.noticed else None
                if h.recover() and notice is not None:
                    self.metrics.channel_failing.labels(channel=kind).dec()
                    await self._notify_others(channel, notice)
            return None

    async def _admit(self, alert: dict, kind: str, limit) -> bool:
        """Send now, or hold for the (rule, channel kind) window's digest. Channels of one kind
        share the window, so every webhook gets the same alerts and the same digest."""
        # The window of the alert's own raised_at, so a redelivered alert lands where it did.
        at = parse_time(alert.get("raised_at")) or datetime.now(UTC)
        start, end = throttle.window_of(at, limit.per)
        return await self.storage.throttle_admit(
            alert["rule"], kind, start, end, alert.get("severity") or "warning", alert, limit.max,
            throttle.admit, throttle.summary,
        )

    def _dead_letter(self, alert: dict, u: Undelivered) -> Emit:
        self.metrics.alerts.labels(channel=u.channel.kind, outcome="dead_lettered").inc()
        self.metrics.dead_letters.labels(stage="alert", reason=u.reason).inc()
        log.warning("alert %s -> %s: dead-lettering: %s: %s", alert["alert_id"], u.channel.target, u.reason, u.detail)
        letter = {
            "stage": "alert", "reason": u.reason, "detail": u.detail[:2000], "topic": self.topic,
            "payload": alert, "link_id": alert.get("link_id"), "url": alert.get("url"),
            "at": utcnow(), "attempts": u.attempts,
        }
        return Emit("deadletter", alert.get("link_id"), letter)

    # -- a channel failing past its deadline is an alert through the others ---------------------

    def _notice(self, channel: Channel, kind: str, h: Health) -> dict:
        since = h.failing_since_at or utcnow()
        notice_id = hashlib.sha256(f"{kind}|{channel.target}|{since}".encode()).hexdigest()[:24]
        return {
            "notice_id": notice_id, "kind": kind, "severity": "warning" if kind == "channel_failing" else "info",
            "raised_at": utcnow(), "channel": channel.kind, "target": channel.target, "failing_since": since,
            "reason": h.reason, "detail": h.detail[:2000], "deadline_seconds": self.policy.delivery_deadline,
        }

    async def _announce_failing(self, channel: Channel, h: Health) -> None:
        if h.noticed:
            return
        h.noticed = True
        self.metrics.channel_failing.labels(channel=channel.kind).inc()
        log.error("alert channel %s failing for longer than its deadline: %s: %s", channel.target, h.reason, h.detail)
        await self._notify_others(channel, self._notice(channel, "channel_failing", h))

    async def _notify_others(self, failing: Channel, notice: dict) -> None:
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


def make_core(rt: Runtime) -> Core:
    assert rt.storage is not None, "runtime not started"
    deliverer = Deliverer(rt.channels, rt.storage, rt.metrics, rt.settings.channels, topic=rt.settings.topic("alerts"),
                          rules=lambda: rt.rules)
    return deliverer.deliver
