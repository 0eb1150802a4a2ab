"""`wirewatch rules test FILE`: which stored articles a rules file would have alerted on, and why.

In:  a rules file (validated exactly as at boot) and the articles in storage, replayed in the order
     they were first stored.
Out: one ``Line`` per article that matched a rule: the alert it would have raised (new, update,
     held for a digest) or the story it would have joined silently, with the conditions that held;
     then totals. Nothing is written and nothing is sent: stories and throttle windows are kept in
     memory, with the same pure cores the route agent uses (stages/route.py, story.py, throttle.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .settings import Settings
from .sinks.storage import open_storage
from .stages import route, story as story_core, throttle
from .timeutil import iso


@dataclass
class Line:
    canonical_url: str
    title: str | None
    rule: str
    outcome: str  # "new" | "update" | "held" (throttled into a digest) | "attached"
    story_id: str
    why: list[str]
    changes: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "canonical_url": self.canonical_url,
            "title": self.title,
            "rule": self.rule,
            "outcome": self.outcome,
            "story_id": self.story_id,
            "why": self.why,
            "changes": self.changes,
        }

    def text(self) -> str:
        head = {"new": "ALERT ", "update": "UPDATE", "held": "DIGEST", "attached": "  joins"}[self.outcome]
        out = f"{head} {self.rule}  story {self.story_id}  {self.canonical_url}\n        {self.title!r}\n        why: {'; '.join(self.why)}"
        for ch in self.changes:
            out += (
                f"\n        {ch['category']}: {ch['previous']} -> {ch['current']} ({ch.get('sitename') or ch['url']})"
            )
        return out


@dataclass
class Report:
    articles: int = 0
    matched: int = 0
    lines: list[Line] = field(default_factory=list)
    stories: set[str] = field(default_factory=set)

    def totals(self) -> dict[str, int]:
        out = {"articles": self.articles, "matched": self.matched, "stories": len(self.stories)}
        for kind in ("new", "update", "held", "attached"):
            out[kind] = sum(1 for line in self.lines if line.outcome == kind)
        return out


def _stamp(value: Any) -> datetime:
    t = story_core.parse_time(value)
    return t if t is not None else datetime(1970, 1, 1, tzinfo=UTC)


def replay(rules: list[route.Rule], articles: Iterable[dict], window: timedelta = story_core.DEFAULT_WINDOW) -> Report:
    """Replay `articles` (oldest first) through `rules`: what the route agent would have done."""
    report = Report()
    stories: list[story_core.Story] = []
    windows: dict[tuple[str, datetime], tuple[list[str], list[dict]]] = {}
    for article in articles:
        report.articles += 1
        why = {r.name: w for r in rules if (w := route.explain(r, article)) is not None}
        matched = [r for r in rules if r.name in why]
        if not matched:
            continue
        report.matched += 1
        at = _stamp(article.get("first_seen") or article.get("fetched_at"))
        raised_at = iso(at)
        since = story_core.view(article).at - window
        candidates = [s for s in stories if s.last_at >= since or s.member(article["canonical_url"])]
        d = route.decide(article, matched, candidates, raised_at, window)
        if all(s is not d.story for s in stories):
            stories.append(d.story)
        report.stories.add(d.story.story_id)
        alerted = {a["rule"]: a for a in d.raised}
        for rule in matched:
            alert = alerted.get(rule.name)
            outcome = alert["kind"] if alert else "attached"
            if alert and rule.throttle is not None:
                start, _ = throttle.window_of(at, rule.throttle.per)
                sent, held = windows.setdefault((rule.name, start), ([], []))
                send, changed = throttle.admit(sent, held, alert["alert_id"], rule.throttle.max)
                if changed:
                    (sent.append(alert["alert_id"]) if send else held.append(throttle.summary(alert)))
                outcome = outcome if send else "held"
            report.lines.append(
                Line(
                    article["canonical_url"],
                    article.get("title"),
                    rule.name,
                    outcome,
                    d.story.story_id,
                    why[rule.name],
                    (alert or {}).get("changes") or [],
                )
            )
    return report


async def backtest(settings: Settings, rules_file: Path) -> Report:
    rules = route.load_rules(rules_file)  # ConfigError: the CLI prints it and exits 2
    storage = open_storage(settings.resolved_storage_url)
    await storage.start()
    try:
        articles = await storage.articles()
    finally:
        await storage.close()
    articles.sort(key=lambda a: (_stamp(a.get("first_seen")), a["canonical_url"]))
    return replay(rules, articles, timedelta(seconds=settings.route.story_window))
