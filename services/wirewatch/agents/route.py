"""route agent: `enriched` in -> the rules that match -> the story it joins -> the alerts out.

The story decision runs inside one storage transaction under the story lock
(``Storage.assign_story``), on the open stories that share a candidate key with the article, so
concurrent route workers on other partitions never split one event into two stories, and the
state survives restarts and rebalances. The decision is saved before
the alerts are sent; a crash in between re-delivers the article, which finds itself already in
the story and re-sends the same alerts (same ids: the delivery ledger drops the duplicates).

Throttled rules: an alert beyond the rule's ``max`` per window (all channels together) is held in
storage, and ``flush_digests`` (a timer in app.py) sends one ``digest`` alert per closed window:
the rule-wide windows (channel "*", to every channel) and the per-channel-kind windows the alert
agent keeps (``throttle.channels``, to channels of that kind only).
"""

from __future__ import annotations

from datetime import timedelta

from ..runtime import Runtime
from ..stages import route, story as story_core, throttle
from .runner import Core, Emit, utcnow

ALL_CHANNELS = throttle.ALL_CHANNELS  # throttling here is per rule; the alert agent throttles per channel kind


def make_core(rt: Runtime) -> Core:
    async def core(article: dict) -> list[Emit]:
        now = utcnow()
        rules = rt.rules  # one snapshot per message: a reload mid-message cannot mix two rule sets
        matched = route.evaluate(rules, article)
        if not matched:
            return []
        if rt.storage is None:  # `wirewatch fetch`: no storage, the article is a story of its own
            return [Emit("alert", a["alert_id"], a) for a in (route.make_alert(r, article, now) for r in matched)]

        window = timedelta(seconds=rt.settings.route.story_window)
        follow_up = timedelta(seconds=rt.settings.route.story_follow_up) or None
        art = story_core.view(article)
        since = art.at - window

        def decide(rows: list[dict]) -> tuple[dict, route.Decision]:
            d = route.decide(
                article, matched, [story_core.Story.from_row(r) for r in rows], now, window, art, follow_up
            )
            return d.story.to_row(), d

        # Only the stories filed under one of the article's keys can match it (stages/story.py);
        # expired ones only through follow-up keys, back to the follow-up horizon.
        decision = await rt.storage.assign_story(
            article["canonical_url"],
            since,
            decide,
            list(story_core.keys(art)),  # storage sorts what it writes
            follow_up_since=since - follow_up if follow_up else None,
        )
        rt.metrics.stories.labels(outcome=decision.outcome).inc()
        by_name = {r.name: r for r in rules}
        out: list[Emit] = []
        for alert in decision.alerts:
            rule = by_name.get(alert["rule"])
            if rule is not None and rule.throttle is not None:
                # The window of the alert's own raised_at, so a re-sent alert lands where it did.
                raised_at = story_core.parse_time(alert["raised_at"])
                assert raised_at is not None  # route.make_alert always stamps it
                start, end = throttle.window_of(raised_at, rule.throttle.per)
                if not await rt.storage.throttle_admit(
                    rule.name,
                    ALL_CHANNELS,
                    start,
                    end,
                    rule.severity,
                    alert,
                    rule.throttle.max,
                    throttle.admit,
                    throttle.summary,
                ):
                    rt.metrics.alerts_raised.labels(kind="throttled").inc()
                    continue
            rt.metrics.alerts_raised.labels(kind=alert["kind"]).inc()
            out.append(Emit("alert", alert["alert_id"], alert))
        return out

    return core


async def flush_digests(rt: Runtime, emit) -> int:
    """Send one digest per closed throttle window that held alerts back; how many were sent.

    Emit, then mark: a crash in between re-sends the digest with the same id next time."""
    if rt.storage is None:
        return 0
    sent = 0
    for w in await rt.storage.due_digests():
        digest = throttle.make_digest(
            w["rule"],
            w["severity"],
            w["channel"],
            w["window_start"],
            w["window_end"],
            w["held"],
            len(w["sent"]),
            utcnow(),
        )
        await emit(Emit("alert", digest["alert_id"], digest))
        await rt.storage.mark_digest_sent(w["rule"], w["channel"], w["window_start"])
        rt.metrics.alerts_raised.labels(kind="digest").inc()
        sent += 1
    return sent
