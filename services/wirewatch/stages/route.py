"""route stage: which enriched articles raise alerts, and which alert each story raises.

In:  rules from a YAML file (``load_rules``; format documented at the top of defaults/rules.yaml),
     an ``enriched`` payload (schemas/enriched.schema.json), and for ``decide`` the candidate
     stories (stages/story.py).
Out: the rules that match and why (``evaluate`` / ``explain``), and from ``decide`` the story the
     article joins plus the alerts to send (schemas/alert.schema.json): ``new`` the first time a
     rule matches a story, ``update`` when an article raises a figure the rule already announced,
     nothing for the other articles of the story (they are attached to it).

Rules are read by stages/route_rules.py (re-exported here). A rule matches when every condition
it sets holds:
    when_any / casualties   some casualty condition holds ("killed >= 10", "civilians killed >= 1")
    keywords   some keyword occurs in the title or text (whole word or phrase, case-insensitive)
    exclude    no exclude keyword occurs there
    languages  the article's language (primary subtag: "en-GB" -> "en") is listed
    countries / regions / places   some place of the article is in one of them
    sources    the article came from one of them (link source, site name, or domain)
An empty list or mapping sets no condition; a rule must set a casualty condition or keywords, or it
would alert on every article.

Alert ids are idempotency keys: ``new`` is stable per (rule, story), ``update`` per (rule, story,
figures announced), ``digest`` per (rule, channel, window); a redelivery never adds a notification.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from . import story as story_core
from .enrich import analysed_text
from .enrich.casualties import load_lexicon
from .enrich.keywords import match_keywords
from .enrich.sentences import sentences
from .route_rules import (  # the rules' names stay reachable as route.X
    CHANNEL_KINDS as CHANNEL_KINDS,
    SEVERITIES as SEVERITIES,
    Condition as Condition,
    Rule as Rule,
    Throttle as Throttle,
    load_rules as load_rules,
    parse_condition as parse_condition,
    parse_duration as parse_duration,
    victim_names as victim_names,
)

_MAX_KEYWORD_EVIDENCE = 3  # sentences quoted for a keyword-only rule


# -- matching -----------------------------------------------------------------------------------


def _language(enriched: dict[str, Any]) -> str:
    return (enriched.get("language") or "").split("-")[0].split("_")[0].lower()


def _figure(enriched: dict[str, Any], cond: Condition) -> int | None:
    """The figure `cond` compares: the category's reported figure, or for a victim type the
    largest count of a mention of that category and victim."""
    if cond.victim is None:
        f = (enriched.get("figures") or {}).get(cond.category)
        return f["count"] if f else None
    counts = [
        m["count"]
        for m in enriched.get("casualties") or []
        if m.get("category") == cond.category and (m.get("victim") or "").casefold() == cond.victim
    ]
    return max(counts) if counts else None


def _held(rule: Rule, enriched: dict[str, Any]) -> list[tuple[Condition, int]]:
    out = []
    for cond in rule.casualty_conditions():
        n = _figure(enriched, cond)
        if n is not None and n >= cond.n:
            out.append((cond, n))
    return out


def _source_matches(rule: Rule, enriched: dict[str, Any]) -> str | None:
    host = (urlsplit(enriched.get("canonical_url") or "").hostname or "").casefold()
    names = {(enriched.get("source") or "").casefold(), (enriched.get("sitename") or "").casefold()}
    for s in rule.sources:
        if s in names or host == s or host.endswith("." + s):
            return s
    return None


def explain(rule: Rule, enriched: dict[str, Any]) -> list[str] | None:
    """Why `rule` matches `enriched` (one line per condition that holds), or None if it does not."""
    why: list[str] = []
    if rule.languages:
        if _language(enriched) not in rule.languages:
            return None
        why.append(f"language {_language(enriched)}")
    if rule.any_of or rule.conditions:
        held = _held(rule, enriched)
        if not held:
            return None
        why.extend(f"{c} (reported {n})" for c, n in held)
    if rule.keywords or rule.exclude:
        doc = analysed_text(enriched)
        if rule.keywords:
            found = match_keywords(doc, rule.keywords)
            if not found:
                return None
            why.append("keywords " + ", ".join(repr(k) for k in found))
        if rule.exclude and match_keywords(doc, rule.exclude):
            return None
    if rule.countries or rule.places:
        places = [p for p in enriched.get("places") or [] if isinstance(p, dict)]
        hit = next(
            (
                p
                for p in places
                if (str(p.get("country_code") or "")).upper() in rule.countries
                or str(p.get("name") or "").casefold() in rule.places
            ),
            None,
        )
        if hit is None:
            return None
        why.append(f"place {hit.get('name')} ({hit.get('country_code')})")
    if rule.sources:
        s = _source_matches(rule, enriched)
        if s is None:
            return None
        why.append(f"source {s}")
    return why


def matches(rule: Rule, enriched: dict[str, Any]) -> bool:
    return explain(rule, enriched) is not None


def evaluate(rules: list[Rule], enriched: dict[str, Any]) -> list[Rule]:
    """The rules that match `enriched`, in file order."""
    return [r for r in rules if matches(r, enriched)]


# -- alerts -------------------------------------------------------------------------------------


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


def alert_id(rule_name: str, story_id: str) -> str:
    """A story's first alert for a rule: the same rule and story always give the same id."""
    return _hash(rule_name, story_id)


def update_id(rule_name: str, story_id: str, figures: Mapping[str, int]) -> str:
    """An update: stable per (rule, story, figures announced), so a redelivery is the same alert."""
    return _hash(rule_name, story_id, "update", *(f"{c}={n}" for c, n in sorted(figures.items())))


def _evidence(rule: Rule, enriched: dict[str, Any]) -> list[str]:
    out: list[str] = []
    held = {c for c, _ in _held(rule, enriched)}
    if held:
        for m in enriched.get("casualties") or []:
            # The mentions that reach a threshold, not every mention in a matching category.
            if m["evidence"] in out:
                continue
            if any(
                m["category"] == c.category
                and m["count"] >= c.n
                and (c.victim is None or (m.get("victim") or "").casefold() == c.victim)
                for c in held
            ):
                out.append(m["evidence"])
    else:
        doc = analysed_text(enriched)
        for s, e in sentences(doc, load_lexicon(_language(enriched) or "en")):  # read no further than needed
            if match_keywords(doc[s:e], rule.keywords) and doc[s:e] not in out:
                out.append(doc[s:e])
                if len(out) >= _MAX_KEYWORD_EVIDENCE:
                    break
    return out


def make_alert(
    rule: Rule, enriched: dict[str, Any], raised_at: str, story: story_core.Story | None = None
) -> dict[str, Any]:
    """The ``new`` alert `rule` raises for `enriched`, the first article of `story` for this rule
    (schemas/alert.schema.json). Without a story the article is a story of its own."""
    sid = story.story_id if story is not None else story_core.story_id(story_core.view(enriched))
    return {
        "alert_id": alert_id(rule.name, sid),
        "kind": "new",
        "rule": rule.name,
        "severity": rule.severity,
        "raised_at": raised_at,
        "story_id": sid,
        "link_id": enriched["link_id"],
        "canonical_url": enriched["canonical_url"],
        "url": enriched["url"],
        "title": enriched.get("title"),
        "sitename": enriched.get("sitename"),
        "published": enriched.get("published"),
        "language": enriched.get("language"),
        "figures": enriched["figures"],
        "previous_figures": None,
        "changes": [],
        "sources": story_core.sources(story) if story is not None else [],
        "evidence": _evidence(rule, enriched),
        "keywords": list(enriched.get("keywords") or []),
    }


def _announced(enriched: dict[str, Any], rule: Rule) -> dict[str, int]:
    return {c: f["count"] for c, f in (enriched.get("figures") or {}).items() if f and c in rule.updates_on}


@dataclass
class Decision:
    story: story_core.Story
    # "new" (a new story) | "attached" | "follow_up" (joined a story after its window closed) |
    # "update" (raised a figure) | "known_article" (already in its story: a redelivery, a revision,
    # or a copy of the article at another URL)
    outcome: str
    alerts: list[dict[str, Any]]  # to send: raised now, plus any this article raised before (a redelivery)
    changes: list[story_core.Change]
    raised: list[dict[str, Any]] = field(default_factory=list)  # raised by this decision only


def decide(
    enriched: dict[str, Any],
    matched: list[Rule],
    candidates: list[story_core.Story],
    raised_at: str,
    window: timedelta = story_core.DEFAULT_WINDOW,
    art: story_core.ArticleView | None = None,
    follow_up: timedelta | None = None,
) -> Decision:
    """The story `enriched` joins and the alerts it raises, given the rules it matched.

    Mutates and returns the chosen story (the caller saves it). A redelivered article whose
    figures raised nothing gets back the alerts it raised the first time (same ids). `art` is
    ``story.view(enriched)`` when the caller has it already (the MinHash is the costly part).
    With `follow_up`, an article that matches a story expired less than that ago as a follow-up
    (stages/story.py ``follow_up_score``) joins it: no "new" alert, an update only if it raises
    a figure the rule announced."""
    art = art if art is not None else story_core.view(enriched)
    story = story_core.match(art, candidates, window, follow_up)
    created = story is None
    if story is None:
        story = story_core.new_story(art)
    before = story.member(art.canonical_url)
    later = before is None and not created and story_core.expired(art, story, window)
    changes = story_core.attach(story, art)
    member = story.member(art.canonical_url)
    assert member is not None
    # A redelivery (or a revision raising nothing) re-sends what the article raised the first
    # time, in case the crash came between saving the story and sending: same ids, no duplicates.
    earlier = list(before.get("alerts") or []) if before is not None else []

    alerts: list[dict[str, Any]] = []
    rules_state = story.state.setdefault("rules", {})
    for rule in matched:
        state = rules_state.get(rule.name)
        if state is None and later:
            # An old event in the news again: it was announced (by this rule or another), so no
            # "new"; from now on this rule follows its figures.
            rules_state[rule.name] = {
                "figures": _announced(enriched, rule),
                "alert_id": alert_id(rule.name, story.story_id),
            }
            continue
        if state is None:
            alert = make_alert(rule, enriched, raised_at, story)
            rules_state[rule.name] = {"figures": _announced(enriched, rule), "alert_id": alert["alert_id"]}
            alerts.append(alert)
            continue
        announced: dict[str, int] = state["figures"]
        rises = [ch for ch in changes if ch.category in rule.updates_on and ch.current > announced.get(ch.category, -1)]
        if not rises:
            continue
        new = {**announced, **{ch.category: ch.current for ch in rises}}
        alert = make_alert(rule, enriched, raised_at, story)
        alert.update(
            alert_id=update_id(rule.name, story.story_id, new),
            kind="update",
            previous_figures={c: ({"count": n} if n is not None else None) for c, n in announced.items()},
            changes=[
                {
                    "category": ch.category,
                    "previous": announced.get(ch.category),
                    "current": ch.current,
                    "url": art.canonical_url,
                    "sitename": art.sitename,
                }
                for ch in rises
            ],
        )
        state["figures"] = new
        alerts.append(alert)
    member["alerts"] = earlier + alerts
    if later:
        member["follow_up"] = True  # the story keeps its history: when it came back, and with what
        story.state["follow_ups"] = story.state.get("follow_ups", 0) + 1
    if created:
        outcome = "new"
    elif any(a["kind"] == "update" for a in alerts):
        outcome = "update"
    elif before is not None:
        outcome = "known_article"
    else:
        outcome = "follow_up" if later else "attached"
    return Decision(story, outcome, earlier + alerts, changes, alerts)
