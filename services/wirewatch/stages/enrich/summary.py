"""The article's figure per category, from its mentions.

In:  the mentions of one article (casualties.scan: written figures, implied persons, hit counts) and
where its headline ends. Out: ``{category: {"count", "min", "max"} | None}``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .implied import Person, implied_figures
from .mentions import CATEGORIES, HIT, IMPLIED, Mention


def summarize(mentions: Iterable[Mention], headline_end: int | None = None) -> dict[str, Any]:
    """{category: {"count", "min", "max"} | None}: the figure of the article's event for each category.

    Figures written as numbers come first: the largest reported, not the sum: an article repeats its
    toll ("at least 9 killed" in the headline, "nine people were killed" in the lede) and updates it
    ("rose to 12"), and the largest is the latest. Tolls of older events never reach here
    (find_casualties drops them). Ties go to the wider statement (higher min, then open-ended max).

    `headline_end`: where the article's headline ends in the text the mentions were read from.
    A headline states the event's toll; a larger figure further down is, in real pages, nearly
    always another event (a recalled disaster, a cumulative war toll, a related story's headline),
    so a category the headline gives is capped at the headline's figure (its upper bound for a
    range or a vague word: "kill dozens" still lets the body's "52" through).

    A category with no written figure takes the people the article implies (qualifier "implied",
    implied.implied_figures). The killed figure counts everyone the event killed, a perpetrator who
    died in it included (victim "perpetrator" in the mentions, so a consumer can tell them apart):
    a murder-suicide "leaves two dead". "4 people were shot" with 1 killed gives 3 injured when the
    article states no injured figure of its own.
    """
    mentions = list(mentions)
    written = [m for m in mentions if m.qualifier != IMPLIED]
    cap: dict[str, int] = {}
    if headline_end is not None:
        for m in written:
            if m.end <= headline_end:
                # "at least 32" / "more than a dozen" leave room for the body's exact figure ("14").
                top = 2 * m.count if m.max is None else m.max
                cap[m.category] = max(cap.get(m.category, 0), top)
    best: dict[str, Mention] = {}
    for m in written:
        if m.category in cap and m.count > cap[m.category]:
            continue
        cur = best.get(m.category)
        if cur is None or _rank(m) > _rank(cur):
            best[m.category] = m
    out: dict[str, Any] = {
        c: ({"count": best[c].count, "min": best[c].min, "max": best[c].max} if c in best else None) for c in CATEGORIES
    }
    implied = implied_figures(
        Person(m.category, m.key or "noun:person", m.victim, m.start, m.end, m.evidence, m.alive)
        for m in mentions
        if m.qualifier == IMPLIED
    )
    for c in ("killed", "injured"):
        n = implied.get(c, 0)
        if c == "injured" and out["killed"] is not None:
            # Real reports say the dead were shot before they say they died ("the teen was shot ...
            # he died at the hospital"), often without a name to tell them apart: people said to be
            # shot only count as injured beyond the number killed.
            # Not those the article says lived or tells apart from the dead (implied_figures' "alive").
            n = max(implied.get("alive", 0), n - out["killed"]["count"])
        if out[c] is None and n:
            out[c] = {"count": n, "min": n, "max": None}
    hit = best.get(HIT)
    if hit is not None and (best.get("injured") is None):
        killed = out["killed"]["count"] if out["killed"] else 0
        if hit.count > killed:
            n = hit.count - killed
            out["injured"] = {"count": n, "min": n, "max": None if hit.max is None else hit.max - killed}
    return out


def _rank(m: Mention) -> tuple[Any, ...]:
    return (m.count, m.min, math.inf if m.max is None else m.max)
