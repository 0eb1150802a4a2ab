"""Stored rows in, the read API's JSON out (pure: no I/O, no clock).

card(story, figure_articles)   one story as the list shows it: title, places, killed/injured with
                               qualifier and who reported it, outlets, articles, last update
detail(story, articles)        the card plus every article (evidence sentences with offsets and
                               the figure's place in them) and the toll history
history(members)               each rise of a figure: when, to what, from which article
article(row, words)            a search hit with a snippet around the first matching word
alert(row)                     what was sent where, and how delivery went
"""

from __future__ import annotations

import re
from typing import Any

from wirewatch import timeutil
from wirewatch.stages.enrich.casualties import load_lexicon
from wirewatch.stages.story import parse_time

CATEGORIES = ("killed", "injured")
_TOKEN = re.compile(r"[\w][\w,.\-]*\w|\w", re.UNICODE)
_MAX_SPAN_WORDS = 5
_SNIPPET = 240


def iso(value: Any) -> str | None:
    t = parse_time(value)
    return timeutil.iso(t, "seconds") if t else None  # the API's documented shape: whole seconds


def _figure(category: str, state_figure: dict | None, article: dict | None) -> dict | None:
    """A story's highest figure, with the qualifier and bounds of the reading that gave it."""
    if not isinstance(state_figure, dict) or state_figure.get("count") is None:
        return None
    out = {
        "count": state_figure["count"],
        "qualifier": None,
        "min": None,
        "max": None,
        "url": state_figure.get("url"),
        "sitename": state_figure.get("sitename"),
    }
    readings = [
        c
        for c in (article or {}).get("casualties") or []
        if isinstance(c, dict) and c.get("category") == category and c.get("count") == out["count"]
    ]
    if readings:
        best = next((c for c in readings if c.get("qualifier")), readings[0])
        out.update(qualifier=best.get("qualifier"), min=best.get("min"), max=best.get("max"))
    return out


def card(story: dict, figure_articles: dict[str, dict]) -> dict:
    """`story`: story_id, title, first_at, last_at, updated_at, state; `figure_articles`: canonical_url
    -> {casualties} of the articles that hold the story's highest figures."""
    st = story.get("state") or {}
    figures = st.get("figures") or {}
    members = st.get("members") or []
    outlets = {m.get("sitename") or _host(m.get("canonical_url")) for m in members}
    return {
        "id": story["story_id"],
        "title": story.get("title") or st.get("title"),
        # The newest report's headline: the story's own title is its first report's, and a toll
        # that rose since makes that headline's figure stale.
        "latest_title": max(members, key=lambda m: m.get("at") or "").get("title") if members else None,
        "places": [p.title() for p in st.get("places") or []],
        "countries": list(st.get("countries") or []),
        **{
            cat: _figure(cat, figures.get(cat), figure_articles.get((figures.get(cat) or {}).get("url") or ""))
            for cat in CATEGORIES
        },
        "outlets": len(outlets),
        "articles": int(st.get("size") or len(members)),
        "rules": sorted((st.get("rules") or {}).keys()),
        "first_at": iso(story.get("first_at")),
        "last_at": iso(story.get("last_at")),
        "updated_at": iso(story.get("updated_at")),
    }


def _host(url: str | None) -> str:
    return (url or "").split("/")[2] if (url or "").count("/") >= 2 else (url or "")


def history(members: list[dict]) -> list[dict]:
    """Every rise of a story's killed/injured figure, oldest first, and the article that raised it."""
    out: list[dict] = []
    best: dict[str, int] = {}
    for m in sorted(members, key=lambda m: m.get("at") or ""):  # stable: same time, in the order they joined
        for cat in CATEGORIES:
            n = (m.get("figures") or {}).get(cat)
            if isinstance(n, int) and n > best.get(cat, -1):
                out.append(
                    {
                        "at": iso(m.get("at")),
                        "category": cat,
                        "previous": best.get(cat),
                        "count": n,
                        "canonical_url": m.get("canonical_url"),
                        "sitename": m.get("sitename"),
                        "title": m.get("title"),
                    }
                )
                best[cat] = n
    return out


def figure_span(sentence: str, count: int, language: str | None) -> list[int] | None:
    """[start, end] of the words in `sentence` that say `count` ("14", "1,200", "fourteen", "two
    dozen"), read with the casualty reader's own number grammar; None when it is not written there."""
    lex = load_lexicon(language or "en")
    tokens = list(_TOKEN.finditer(sentence))
    for i in range(len(tokens)):
        for j in range(min(len(tokens), i + _MAX_SPAN_WORDS) - 1, i - 1, -1):  # longest first
            start, end = tokens[i].start(), tokens[j].end()
            try:
                value = lex.number(sentence[start:end])
            except (ValueError, KeyError, TypeError):
                value = None
            if value == count:
                return [start, end]
    return None


def evidence(article: dict) -> list[dict]:
    """The casualty readings of an article: figure, qualifier, sentence, offsets, figure highlight."""
    out = []
    for c in article.get("casualties") or []:
        if not isinstance(c, dict) or not c.get("evidence"):
            continue
        count = c.get("count")
        out.append(
            {
                "category": c.get("category"),
                "count": count,
                "qualifier": c.get("qualifier"),
                "min": c.get("min"),
                "max": c.get("max"),
                "victim": c.get("victim"),
                "attribution": c.get("attribution"),
                "sentence": c["evidence"],
                "start": c.get("start"),
                "end": c.get("end"),
                "figure": figure_span(c["evidence"], count, article.get("language"))
                if isinstance(count, int)
                else None,
            }
        )
    return out


def detail(story: dict, articles: list[dict], figure_articles: dict[str, dict]) -> dict:
    """The card, the articles (oldest first) and the toll history of one story."""
    members = (story.get("state") or {}).get("members") or []
    at = {m.get("canonical_url"): m.get("at") for m in members}
    items = []
    for a in articles:
        items.append(
            {
                "canonical_url": a["canonical_url"],
                "url": a.get("url"),
                "final_url": a.get("final_url"),
                "title": a.get("title"),
                "outlet": a.get("sitename") or _host(a["canonical_url"]),
                "published": a.get("published"),
                "at": iso(at.get(a["canonical_url"]) or a.get("first_seen")),
                "first_seen": iso(a.get("first_seen")),
                "language": a.get("language"),
                "figures": a.get("figures") or {},
                "evidence": evidence(a),
                "places": a.get("places") or [],
            }
        )
    stored = {i["canonical_url"] for i in items}
    for m in members:  # routed before the store agent wrote it (the two agents run side by side)
        if m.get("canonical_url") and m["canonical_url"] not in stored:
            items.append(
                {
                    "canonical_url": m["canonical_url"],
                    "url": m.get("url"),
                    "final_url": None,
                    "title": m.get("title"),
                    "outlet": m.get("sitename") or _host(m["canonical_url"]),
                    "published": None,
                    "at": iso(m.get("at")),
                    "first_seen": None,
                    "language": None,
                    "evidence": [],
                    "places": [],
                    "figures": {c: {"count": n} for c, n in (m.get("figures") or {}).items()},
                }
            )
    items.sort(key=lambda i: (i["at"] or "", i["canonical_url"]))
    return {**card(story, figure_articles), "items": items, "history": history(members)}


def snippet(text: str, words: tuple[str, ...]) -> str:
    """About _SNIPPET characters of `text` around the first matching word (the start without words)."""
    text = " ".join((text or "").split())
    pos = 0
    if words:
        m = re.search(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")", text, re.IGNORECASE)
        pos = m.start() if m else 0
    start = max(0, pos - _SNIPPET // 3)
    if start:
        start = text.find(" ", start) + 1 or start
    out = text[start : start + _SNIPPET]
    return ("…" if start else "") + out + ("…" if start + _SNIPPET < len(text) else "")


def article(row: dict, words: tuple[str, ...]) -> dict:
    return {
        "canonical_url": row["canonical_url"],
        "url": row.get("url"),
        "title": row.get("title"),
        "outlet": row.get("sitename") or _host(row["canonical_url"]),
        "published": row.get("published"),
        "first_seen": iso(row.get("first_seen")),
        "language": row.get("language"),
        "figures": row.get("figures") or {},
        "places": row.get("places") or [],
        "story_id": row.get("story_id"),
        "snippet": snippet(row.get("text") or "", words),
    }


def alert(row: dict) -> dict:
    a = row.get("alert") or {}
    return {
        "alert_id": row["alert_id"],
        "target": row["target"],
        "status": row["status"],
        "attempts": row["attempts"],
        "created_at": iso(row.get("created_at")),
        "updated_at": iso(row.get("updated_at")),
        "delivered_at": iso(row.get("delivered_at")),
        "kind": a.get("kind"),
        "rule": a.get("rule"),
        "severity": a.get("severity"),
        "story_id": a.get("story_id"),
        "title": a.get("title"),
        "canonical_url": a.get("canonical_url"),
        "figures": a.get("figures"),
    }
