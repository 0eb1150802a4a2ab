"""throttle: at most N alerts per rule (and channel) per window; the rest go into one digest.

In:  a rule's ``Throttle`` (max, per) -- for all channels (channel "*", applied by the route agent
     when the alert is raised) or for one channel kind (applied by the alert agent as it delivers
     to channels of that kind) --, the time an alert is raised, and the window's bookkeeping (which
     alert ids were sent, which were held back) as storage keeps it.
Out: ``limit_for`` -> the limit a rule sets for a message on a channel kind, if any;
     ``window_of`` -> the fixed window an alert falls in; ``admit`` -> send it now or hold it for
     the digest (idempotent per alert id); ``make_digest`` -> the one ``digest`` alert listing what
     a closed window held back (schemas/alert.schema.json, kind "digest"; ``channel`` says which
     channel kind it goes to, "*" for all).

Windows are fixed (aligned to the epoch), not sliding, so that every worker and every redelivery
puts an alert in the same window and a digest's id (rule, channel, window) is stable.
Pure: storage (``throttle_admit``/``due_digests``) keeps the state under a transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from ..timeutil import iso

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_DIGEST_ITEMS = 200  # beyond this a digest says how many more were held back


ALL_CHANNELS = "*"
THROTTLED_KINDS = ("new", "update")  # what a rule raises; digests and notices are never held


def limit_for(rules: Iterable[Any], message: dict[str, Any], channel_kind: str) -> Any | None:
    """The per-channel ``Throttle`` the message's rule sets for `channel_kind`, or None (send).

    None for a digest or a notice, and for a rule no longer loaded (a reload removed it: nothing
    left to throttle by, and an alert is never dropped for it)."""
    if message.get("kind") not in THROTTLED_KINDS or not message.get("rule"):
        return None
    rule = next((r for r in rules if r.name == message["rule"]), None)
    return rule.channel_throttles.get(channel_kind) if rule is not None else None


def window_of(at: datetime, per: timedelta) -> tuple[datetime, datetime]:
    """[start, end) of the fixed window of length `per` that holds `at`."""
    n = (at - _EPOCH) // per
    start = _EPOCH + n * per
    return start, start + per


def admit(sent: list[str], held: list[dict[str, Any]], alert_id: str, limit: int) -> tuple[bool, bool]:
    """(send now?, state changed?) for `alert_id` in a window that has `sent` ids and `held` items.

    A redelivered alert gets the answer it got the first time, without counting twice."""
    if alert_id in sent:
        return True, False
    if any(h["alert_id"] == alert_id for h in held):
        return False, False
    return len(sent) < limit, True


def summary(alert: dict[str, Any]) -> dict[str, Any]:
    """What a digest keeps of a held-back alert."""
    return {k: alert.get(k) for k in (
        "alert_id", "kind", "story_id", "canonical_url", "url", "title", "sitename", "published", "figures", "raised_at",
    )}  # fmt: skip


def digest_id(rule: str, channel: str, start: datetime) -> str:
    # the hashed text is datetime.isoformat(), frozen: another shape would give a window already
    # delivered a new id and so a second digest (ids must stay the same across versions)
    return hashlib.sha256(f"{rule}\x1f{channel}\x1fdigest\x1f{start.isoformat()}".encode()).hexdigest()[:24]


def _iso(t: datetime) -> str:
    return iso(t, "seconds")  # a window's bounds are whole seconds; the shape digests always had


def make_digest(
    rule: str,
    severity: str,
    channel: str,
    start: datetime,
    end: datetime,
    held: list[dict[str, Any]],
    sent: int,
    raised_at: str,
) -> dict[str, Any]:
    """One alert listing every alert `rule` held back in the window [start, end)."""
    items = held[:MAX_DIGEST_ITEMS]
    return {
        "alert_id": digest_id(rule, channel, start),
        "kind": "digest",
        "rule": rule,
        "severity": severity,
        "raised_at": raised_at,
        "channel": channel,
        "window_start": _iso(start),
        "window_end": _iso(end),
        "sent_in_window": sent,
        "held_back": len(held),
        "items": items,
        # The fields every alert carries, so a channel that knows nothing of digests still shows
        # something useful: the first held-back link, and the held-back headlines as evidence.
        "url": next((i["url"] for i in items if i.get("url")), None) or f"wirewatch:digest/{rule}",
        "figures": {},
        "evidence": [f"{i.get('title') or i.get('url')}" for i in items],
        "keywords": [],
        "title": f"{len(held)} more alert{'s' if len(held) != 1 else ''} for {rule} between {_iso(start)} and {_iso(end)}",
    }
