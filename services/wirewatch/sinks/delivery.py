"""Alert delivery as a sink: ``add(alert)`` returns once every channel has the alert or holds it
parked for a channel that is down, or raises ``PermanentError`` naming the channels that will never
get it; the runner's one error policy (agents/runner.py) turns that into the dead letter, as for
any other stage.

Why one module of ~530 lines: in-memory retries, parking, the redelivery loop and the failing-channel
announcement all read and write one per-channel health record (streak start, probes, next probe);
split apart they would pass that state back and forth. Storage of parked rows is sinks/parked.py.

    start()      open every channel's client; start the redelivery loop of parked alerts (in a
                 worker: where ``requeue`` is set)
    add(alert)   deliver to every channel side by side (write-through: delivered, or parked in
                 storage, when it returns)
    flush()      a barrier only: nothing is buffered
    close()      stop the redelivery loop, close every channel; idempotent

How delivery is made sure of:

- The storage ledger (``claim_alert`` / ``mark_delivered`` per (alert, channel target),
  sinks/storage/ledgers.py) skips the channels that already have an alert, so a redelivered
  message (a crash before the commit, a replayed dead letter) notifies nobody twice. Ledger errors
  are storage errors (``Unavailable("storage_unavailable")``) and propagate: the runner waits.
- **Transient means wait** (issue 11). ``TransientError`` from a channel (5xx, 429, timeouts,
  refused connections) is never a dead letter: the alert is tried again, for as long as it takes.
  Short waits happen in memory, aside (``waiting.waiting()`` gives its working slot to an alert
  that is ready) with the one backoff helper (retry.py: capped, jittered, honouring
  ``Retry-After``), for one alert per channel at a time. Once its next wait would be a long one
  (the backoff reached ``channels.backoff_max``), another alert of the channel already waits in
  memory, or the channel is declared failing, the alert is **parked in storage**
  (sinks/parked.py) and its message completes, so a channel down for hours fills no window and
  holds no other alert; memory holds one page of parked rows at a time, and a restart finds them.
  A new alert is parked at once, without a try, while another of its channel waits in memory or
  while the channel is declared failing and has alerts parked (their probes watch it).
- The redelivery loop probes each channel with parked alerts with one of them, on the channel's
  own backoff; when a probe is delivered the rest go out a page at a time. Any delivery on a
  channel (an alert in memory or a probe) also wakes every alert waiting in memory for it.
- ``channels.failing_after`` (15 min) is when a channel that keeps failing is **declared
  failing**: ``wirewatch_channel_failing``, the ``alert_channels_failing`` detail of
  ``/health/ready`` and a ``channel_failing`` notice (schemas/notice.schema.json) once per failure
  streak through every other channel that is not failing; its alerts keep waiting, parked.
  A ``channel_recovered`` notice follows when it delivers again.
- ``PermanentError`` from a channel (a 4xx other than 408/429, an SMTP 5xx, a bad configuration)
  gives that channel up at once with reason ``receiver_rejected`` and the receiver's answer. A
  parked alert rejected when its channel answers again is put back on the alert topic (``requeue``)
  so the runner dead-letters it the one way.
- Per-channel throttling: when the alert's rule limits this channel kind
  (``throttle.channels.<kind>``, stages/throttle.py), an alert past the limit of its window is
  held in storage (window (rule, kind)) instead of sent, counted with outcome ``throttled``; the
  digest timer (agents/route.py ``flush_digests``) later sends one digest per window, through
  channels of that kind only. Idempotent: a redelivered alert gets the answer it got the first time.

Metrics: ``wirewatch_alerts{channel,outcome}`` (delivered, retried, parked, rejected,
dead_lettered, duplicate, throttled, notice), ``wirewatch_alert_delivery_seconds{channel}``,
``wirewatch_channel_failing{channel}``, ``wirewatch_alerts_parked{channel}`` (alerts waiting for
their next try: those aside in memory now plus storage's count of parked rows, read once per round
of the redelivery loop). ``channel`` is the channel's kind, never its URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .. import timeutil
from ..errors import PermanentError, TransientError, WirewatchError
from ..metrics import Metrics
from ..retry import Backoff, backoff, retry
from ..settings import ChannelSettings
from ..stages import throttle
from ..waiting import waiting
from .base import Sink
from .channels import Channel
from .parked import Parked, ParkedRow

log = logging.getLogger(__name__)

OUTCOMES = ("delivered", "retried", "parked", "rejected", "dead_lettered", "duplicate", "throttled")

# Parked alerts a channel that answers again is sent at once (side by side), page after page.
PAGE = 50


@dataclass
class Health:
    """One channel's failure streak, as this worker has seen it."""

    failing_since: float | None = None  # monotonic start of the streak; None when healthy
    failing_since_at: str = ""  # the same instant as a timestamp, for people
    noticed: bool = False  # declared failing (failing_after): gauge, readiness, notice
    reason: str = ""
    detail: str = ""
    probes: int = 0  # failed probes of its parked alerts in this streak (the redelivery backoff)
    next_probe: float = 0.0  # monotonic time of the next probe
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
        self.probes, self.next_probe = 0, 0.0
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
        requeue: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
        parked: Parked | None = None,
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
        # A parked alert its channel rejects when it answers again goes back on the alert topic
        # (app.py's send_alert), where the runner dead-letters it like any other rejection.
        self.requeue = requeue
        self.parked = parked if parked is not None else Parked(ledger)
        self._aside = {c.target: 0 for c in channels}  # waiting in memory for their next try
        # Parked in storage, as storage counted them at the start of the latest redelivery round:
        # never added to or taken from here, so no park or delivery in flight can count a row twice.
        # A park or a delivery wakes the loop, whose next round reads the count again.
        self._stored: dict[str, int] = {}
        self._wake = asyncio.Event()  # something was parked or left storage, or a channel delivered again
        self._loop: asyncio.Task[None] | None = None
        for c in channels:  # series exist at zero before the first delivery
            for outcome in OUTCOMES:
                metrics.alerts.labels(channel=c.kind, outcome=outcome)
            metrics.channel_failing.labels(channel=c.kind)
            metrics.alerts_parked.labels(channel=c.kind)

    # -- the sink lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        for c in self.channels:
            await c.start()
        # Only where a rejected alert can go back on the alert topic (a worker: app.py sets
        # requeue); a one-shot command on the same storage leaves the parked alerts to the workers.
        if self._loop is None and self.channels and self.requeue is not None:
            self._loop = asyncio.create_task(self._redeliver_forever(), name="alert-redelivery")

    async def close(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None
        for c in self.channels:
            await c.close()

    async def add(self, item: dict[str, Any]) -> None:
        """Deliver `item` to every channel it is for (or park it for a channel that is down); raise
        ``PermanentError`` (the first reason, every channel that failed in the detail) if any
        channel will never get it."""
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
        h = self.health[channel.target]
        if self._aside[channel.target] or (h.noticed and self._stored.get(channel.target)):
            # Another alert of this channel is trying it, aside in memory, or it is declared
            # failing and the parked ones probe it: their news tells when the channel is back,
            # so this one waits in storage without a try of its own.
            await self._park(channel, alert, "the channel is failing")
            return None
        started = self.clock()
        tries = 0

        async def send() -> None:
            nonlocal tries
            tries += 1
            await channel.send(alert)

        try:
            await self._until_due(channel, alert, send, lambda: tries)
        except PermanentError as e:
            self.metrics.alerts.labels(channel=kind, outcome="rejected").inc()
            return Undelivered(channel, e.reason, e.detail, tries)
        except TransientError as e:  # a long wait ahead: in storage, not in the stage's window
            if self._failing_long(h):
                await self._announce_failing(channel, h)
            await self._park(channel, alert, f"after {tries} tries: {e}")
            return None
        await self.ledger.mark_delivered(alert_id, channel.target)
        self.metrics.alerts.labels(channel=kind, outcome="delivered").inc()
        self.metrics.alert_delivery_latency.labels(channel=kind).observe(self.clock() - started)
        await self._recovered(channel)
        return None

    async def _until_due(
        self,
        channel: Channel,
        alert: dict[str, Any],
        send: Callable[[], Awaitable[None]],
        tries: Callable[[], int],
    ) -> None:
        """``send`` until it succeeds, retrying transient failures (retry.py) while the next wait
        is a short one, no other alert of the channel waits in memory and the channel is not due
        to be declared failing; then the last error is raised (the caller parks the alert in
        storage). Each wait is aside and ends early when the channel delivers something else
        (``Health.back``)."""
        h, kind = self.health[channel.target], channel.kind
        woken_by: asyncio.Event | None = None

        def budget(e: TransientError) -> int | None:  # 0: no more tries in memory
            nonlocal woken_by
            h.fail(self.clock(), e)
            woken_by = h.back
            # One alert per channel ramps up in memory; the others wait in storage for its news.
            waiting_here = self._aside[channel.target] > 0
            return 0 if waiting_here or self._failing_long(h) or self._long_wait(tries(), e) else None

        def retrying(e: TransientError, attempt: int, delay: float) -> None:
            self.metrics.alerts.labels(channel=kind, outcome="retried").inc()
            log.info("alert %s -> %s: %s; try %d in %.1fs", alert["alert_id"], channel.target, e, attempt + 1, delay)

        async def aside(delay: float) -> None:
            assert woken_by is not None and h.failing_since is not None
            delay = min(delay, max(h.failing_since + self.policy.failing_after - self.clock(), 0.0))
            self._count_aside(channel, +1)
            try:
                async with waiting():  # aside: the alert holds no working slot while it waits
                    await self._sleep_unless(woken_by, delay)
            finally:
                self._count_aside(channel, -1)

        await retry(send, self.policy, budget=budget, on_retry=retrying, sleep=aside)

    def _failing_long(self, h: Health) -> bool:
        """The channel has failed for ``failing_after``: time to declare it failing."""
        return h.failing_since is not None and self.clock() - h.failing_since >= self.policy.failing_after

    def _long_wait(self, tries: int, e: TransientError) -> bool:
        """After `tries` failed tries, is the next wait a long one (at the backoff's ceiling)?"""
        p = self.policy
        if e.retry_after is not None:
            return bool(e.retry_after >= p.backoff_max)
        return bool(p.backoff_initial * 2.0 ** max(tries - 1, 0) >= p.backoff_max)

    # -- parked in storage while a channel is down ------------------------------------------------

    async def _park(self, channel: Channel, alert: dict[str, Any], why: str) -> None:
        await self.parked.park(alert, channel.target)
        self.metrics.alerts.labels(channel=channel.kind, outcome="parked").inc()
        log.info("alert %s -> %s parked until the channel answers (%s)", alert["alert_id"], channel.target, why)
        self._wake.set()

    def _count_aside(self, channel: Channel, step: int) -> None:
        self._aside[channel.target] += step
        self._publish_parked(channel.kind)

    def _publish_parked(self, kind: str) -> None:
        n = sum(self._aside[c.target] + self._stored.get(c.target, 0) for c in self.channels if c.kind == kind)
        self.metrics.alerts_parked.labels(channel=kind).set(n)

    async def _redeliver_forever(self) -> None:
        tick = min(max(self.policy.backoff_initial, 0.01), 1.0)
        while True:
            self._wake.clear()
            try:
                await self.redeliver()
            except WirewatchError as e:  # storage down: the rows wait where they are
                log.warning("redelivery of parked alerts: %s; trying again", e)
            except Exception:  # the loop must outlive any one failure
                log.exception("redelivery of parked alerts failed; trying again")
            woken = asyncio.ensure_future(self._wake.wait())  # not self.sleep: that is the alerts' backoff
            try:
                await asyncio.wait((woken,), timeout=tick)
            finally:
                woken.cancel()

    async def redeliver(self) -> None:
        """One round: every channel with parked alerts whose next probe is due is tried."""
        self._stored = counts = await self.parked.counts()
        for kind in {c.kind for c in self.channels}:
            self._publish_parked(kind)
        now = self.clock()
        due = [c for c in self.channels if counts.get(c.target) and now >= self.health[c.target].next_probe]
        await asyncio.gather(*(self._drain(c) for c in due))

    async def _drain(self, channel: Channel) -> None:
        """One parked alert while the channel is failing (the probe); once one is delivered, the
        rest a page at a time, until none is left or a try fails again."""
        h = self.health[channel.target]
        lease = max(60.0, 4 * self.policy.timeout)
        while True:
            rows = await self.parked.take(channel.target, 1 if h.failing_since is not None else PAGE, lease)
            if not rows:
                return
            try:
                results = await asyncio.gather(*(self._redeliver_one(channel, r) for r in rows))
            except asyncio.CancelledError:  # closing: the rows wait for the next worker, not their lease
                await asyncio.shield(self.parked.release(rows))
                raise
            failed = [(r, e) for r, e in zip(rows, results) if e is not None]
            if failed:
                await self.parked.release([r for r, _ in failed])
                h.probes += 1
                h.next_probe = self.clock() + self._probe_delay(h.probes, failed[-1][1].retry_after)
                if self._failing_long(h):
                    await self._announce_failing(channel, h)
                return

    def _probe_delay(self, probes: int, retry_after: float | None) -> float:
        """The wait before the next probe of a channel with parked alerts. Probes back off only up to
        ``channels.probe_max`` (one small request each), so parked alerts go out within that long of
        the receiver answering again; a Retry-After is honoured as the receiver asked."""
        if retry_after is not None:
            return backoff(probes, self.policy, retry_after)
        return backoff(
            probes, Backoff(self.policy.backoff_initial, min(self.policy.backoff_max, self.policy.probe_max))
        )

    async def _redeliver_one(self, channel: Channel, row: ParkedRow) -> TransientError | None:
        alert, kind = row.alert, channel.kind
        if not await self.ledger.claim_alert(row.alert_id, channel.target, alert):
            self.metrics.alerts.labels(channel=kind, outcome="duplicate").inc()
        else:
            try:
                await channel.send(alert)
            except TransientError as e:
                self.health[channel.target].fail(self.clock(), e)
                self.metrics.alerts.labels(channel=kind, outcome="retried").inc()
                return e
            except PermanentError as e:  # the runner dead-letters it, the one way: back on the topic
                self.metrics.alerts.labels(channel=kind, outcome="rejected").inc()
                log.warning(
                    "parked alert %s -> %s rejected: %s; back to the alert stage", row.alert_id, channel.target, e
                )
                if self.requeue is None:
                    raise
                # It answers, so it is not down: the streak ends and the alert stage tries the
                # alert at once (a rejection again: the dead letter). Out of storage first, so
                # the stage may park it again; back in if the topic does not take it.
                await self._recovered(channel)
                await self._forget(channel, row)
                try:
                    await self.requeue(alert)
                except BaseException:
                    await asyncio.shield(self.parked.park(alert, channel.target))
                    raise
                return None
            else:
                # Delivered and no longer parked: handed in together, so they share one transaction
                # (storage's group commit), as the claims of a page's alerts share one before.
                await asyncio.gather(
                    self.ledger.mark_delivered(row.alert_id, channel.target), self._forget(channel, row)
                )
                self.metrics.alerts.labels(channel=kind, outcome="delivered").inc()
                self.metrics.alert_delivery_latency.labels(channel=kind).observe(max(time.time() - row.parked_at, 0.0))
                await self._recovered(channel)
                return None
        await self._forget(channel, row)
        return None

    async def _forget(self, channel: Channel, row: ParkedRow) -> None:
        await self.parked.done(row.alert_id, channel.target)
        self._wake.set()  # the next round counts what is left

    def failing(self) -> dict[str, dict[str, Any]]:
        """The channels declared failing, for readiness: target -> since, reason, alerts parked."""
        return {
            c.target: {
                "channel": c.kind,
                "failing_since": self.health[c.target].failing_since_at,
                "reason": self.health[c.target].reason,
                "parked": self._stored.get(c.target, 0),
            }
            for c in self.channels
            if self.health[c.target].noticed
        }

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

    # -- a channel failing past failing_after is an alert through the others ----------------------

    async def _recovered(self, channel: Channel) -> None:
        """A delivery ends any streak (waking the parked alerts); only a streak that was announced
        as failing is announced as over. The notice is built first: it names when the streak
        began, which recover() forgets."""
        h = self.health[channel.target]
        if h.failing_since is None:
            return
        self._wake.set()  # its parked alerts go out now, not at their channel's next probe
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
            "failing_after_seconds": self.policy.failing_after,
            "deadline_seconds": self.policy.failing_after,  # deprecated name of the same value
        }

    async def _announce_failing(self, channel: Channel, h: Health) -> None:
        if h.noticed or h.failing_since is None:
            return
        h.noticed = True
        self.metrics.channel_failing.labels(channel=channel.kind).inc()
        log.error(
            "alert channel %s failing for longer than %gs: %s: %s; its alerts wait, parked, and are tried again",
            channel.target,
            self.policy.failing_after,
            h.reason,
            h.detail,
        )
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
