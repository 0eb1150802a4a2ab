"""What the demo site's casualty reports must raise now that alerts are one per story.

The demo reports three casualty events' worth of articles, but two of them (the Kumasi tanker
explosion, then its rising toll) are one story. Which of the two is routed first depends on
partitions and timing, so the alerts are either ``new`` (12 killed) + ``update`` (19), or just
``new`` (19) when the later report is routed first. Both are right; these helpers accept both and
nothing else.
"""

from __future__ import annotations

CASUALTY_KINDS = ("casualty", "casualty_update")


def demo_stories(manifest: list[dict]) -> list[set[str]]:
    """Canonical URLs of the demo's casualty reports, one set per story (kumasi + kumasi_update)."""
    groups: dict[str, set[str]] = {}
    for m in manifest:
        if m["kind"] in CASUALTY_KINDS:
            groups.setdefault(m["key"].split("_")[0], set()).add(m["canonical_url"])
    return list(groups.values())


def _killed(alert: dict) -> int:
    return ((alert.get("figures") or {}).get("killed") or {}).get("count") or 0


def _unique(received: list[dict]) -> list[dict]:
    """One copy per alert_id: a redelivery under the same idempotency key is not a new alert."""
    seen: dict[str, dict] = {}
    for a in received:
        seen.setdefault(a["alert_id"], a)
    return list(seen.values())


def demo_alerts_complete(manifest: list[dict], received: list[dict]) -> bool:
    """Every story has alerted and has announced its highest toll (first, or by an update)."""
    for urls in demo_stories(manifest):
        mine = [a for a in received if a.get("canonical_url") in urls]
        highest = max(m["expect"]["killed"] for m in manifest if m["canonical_url"] in urls)
        if not mine or max(_killed(a) for a in mine) < highest:
            return False
    return True


def check_demo_alerts(manifest: list[dict], received: list[dict]) -> None:
    """One ``new`` alert per story, at most one ``update`` (for a higher toll), nothing else."""
    alerts = _unique(received)
    stories = demo_stories(manifest)
    everything = set().union(*stories)
    stray = [a["canonical_url"] for a in alerts if a.get("canonical_url") not in everything]
    assert not stray, f"alerts for articles that report no casualties: {stray}"
    for urls in stories:
        mine = sorted((a for a in alerts if a["canonical_url"] in urls), key=lambda a: a["kind"])
        kinds = [a["kind"] for a in mine]
        assert kinds in (["new"], ["new", "update"]), (urls, kinds)
        assert len({a["story_id"] for a in mine}) == 1, mine
        if kinds == ["new", "update"]:
            new, update = mine
            assert _killed(update) > _killed(new), (new["figures"], update["figures"])
            assert update["canonical_url"] != new["canonical_url"]
