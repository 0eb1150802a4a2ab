"""Message templates: an alert or a channel notice in -> the text a person reads, per channel out.

    render(message, "text")   plain text (email's text part, apprise, Slack's fallback)
    render(message, "html")   HTML (email's HTML part); every value is escaped
    render(message, "slack")  Slack mrkdwn (its own escaping and <url|label> links)
    subject(message)          one line: the email subject, the Alertmanager summary

The layout of each lives in ``sinks/templates/`` (``string.Template``); this module turns a
message into the sections those templates place: the headline, the figures, what changed, the
evidence sentences, the places, the links. It is defensive on purpose: it renders every ``kind``
the schemas hold (``new``, ``update``, ``digest``, ``source_stale``; the notices
``channel_failing``, ``channel_recovered``) and
any kind added later, and a missing or odd field only leaves its section out.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from string import Template
from typing import Any

TEMPLATES = Path(__file__).resolve().parent / "templates"
DIALECTS = ("text", "html", "slack")
FIGURE_LABELS = {"killed": "killed", "injured": "injured", "missing": "missing"}
MAX_EVIDENCE = 5
MAX_ITEMS = 20
MAX_FIELD = 500


def message_id(message: dict[str, Any]) -> str:
    """The idempotency key of an alert (its alert_id) or of a notice (its notice_id)."""
    return str(message.get("alert_id") or message.get("notice_id") or "")


def _clip(value: Any, limit: int = MAX_FIELD) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def figure_text(fig: Any) -> str | None:
    """{"count": 9, "min": 9, "max": null} -> "at least 9"; a bare number -> itself."""
    if isinstance(fig, bool) or fig is None:
        return None
    if isinstance(fig, int):
        return str(fig)
    if not isinstance(fig, dict):
        return None
    count, lo, hi = fig.get("count"), fig.get("min"), fig.get("max")
    if lo is not None and hi is None:
        return f"at least {lo}"
    if lo is not None and hi is not None and lo != hi:
        return f"{lo}-{hi}"
    value = count if count is not None else lo
    return None if value is None else str(value)


def figures_of(figures: Any) -> list[tuple[str, str]]:
    if not isinstance(figures, dict):
        return []
    out = []
    for key, fig in figures.items():
        text = figure_text(fig)
        if text is not None:
            out.append((FIGURE_LABELS.get(key, str(key)), text))
    return out


def _previous_figures(message: dict[str, Any]) -> Any:
    # The update's field name is not settled across producers: accept the plausible spellings.
    for key in ("previous_figures", "previous"):
        value = message.get(key)
        if isinstance(value, dict):
            return value.get("figures", value)
    return None


def _place_name(place: Any) -> str | None:
    if isinstance(place, str):
        return place
    if isinstance(place, dict):
        name = place.get("name") or place.get("place")
        country = place.get("country")
        if name and country and country != name:
            return f"{name} ({country})"
        return name or country
    return None


def _http(url: Any) -> bool:
    return isinstance(url, str) and url.startswith(("http://", "https://"))


@dataclass
class Described:
    """A message reduced to the parts every template places."""

    kind: str
    headline: str
    subject: str
    title: str
    figures: list[tuple[str, str]] = field(default_factory=list)
    change: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    items: list[tuple[str, str | None]] = field(default_factory=list)
    sources: list[tuple[str, str | None]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    footer: str = ""


def _short_figures(figures: list[tuple[str, str]]) -> str:
    return ", ".join(f"{v} {k}" for k, v in figures)


def describe(message: dict[str, Any]) -> Described:
    kind = str(message.get("kind") or "new")
    title = _clip(message.get("title") or message.get("canonical_url") or message.get("url") or "untitled", 300)
    figures = figures_of(message.get("figures"))
    d = Described(kind=kind, headline=title, subject=title, title=title, figures=figures)

    if kind == "update":
        d.headline = f"Update: {title}"
        changes = message.get("changes")
        if isinstance(changes, list) and changes:
            for c in changes[:MAX_ITEMS]:
                if isinstance(c, dict):
                    who = f" ({_clip(c['sitename'], 100)})" if c.get("sitename") else ""
                    prev = c.get("previous")
                    label = FIGURE_LABELS.get(str(c.get("category")), str(c.get("category") or "?"))
                    d.change.append(f"{label}: {'none' if prev is None else prev} -> {c.get('current', '?')}{who}")
        else:
            prev = dict(figures_of(_previous_figures(message)))
            now = dict(figures)
            for label in dict.fromkeys([*prev, *now]):
                if prev.get(label) != now.get(label):
                    d.change.append(f"{label}: {prev.get(label, 'none')} -> {now.get(label, 'none')}")
        d.subject = f"update: {'; '.join(d.change) or _short_figures(figures)} - {title}"
    elif kind == "digest":
        entries = message.get("items") or message.get("alerts") or []
        entries = entries if isinstance(entries, list) else []
        count = message.get("held_back") or message.get("count") or len(entries)
        d.headline = f"{count} alerts held back" + (f": {title}" if message.get("title") else "")
        if message.get("window_start") or message.get("window_end"):
            d.change.append(
                f"window {message.get('window_start', '?')} to {message.get('window_end', '?')}"
                + (f", {message['sent_in_window']} sent in it" if message.get("sent_in_window") is not None else "")
            )
        d.subject = d.headline
        for entry in entries[:MAX_ITEMS]:
            if isinstance(entry, dict):
                sub = describe({**entry, "kind": entry.get("kind") or "new"})
                line = sub.title + (f" ({_short_figures(sub.figures)})" if sub.figures else "")
                url = entry.get("canonical_url") or entry.get("url")
                d.items.append((line, url if _http(url) else None))
            else:
                d.items.append((_clip(entry), None))
        if len(entries) > MAX_ITEMS:
            d.items.append((f"and {len(entries) - MAX_ITEMS} more", None))
    elif kind == "source_stale":
        source = _clip(message.get("source") or "?", 200)
        stale = message.get("stale_seconds")
        minutes = f"{float(stale) / 60:.0f} min" if isinstance(stale, (int, float)) else "a while"
        d.headline = f"Source {source} silent for {minutes}"
        if message.get("last_new_item_at"):
            d.change.append(f"last new item at {message['last_new_item_at']}")
        d.subject = d.headline
    elif kind in ("channel_failing", "channel_recovered"):
        channel = message.get("channel") or "?"
        target = message.get("target") or "?"
        if kind == "channel_failing":
            d.headline = f"Alert channel {channel} ({target}) failing since {message.get('failing_since') or '?'}"
            d.change.append(f"last error: {_clip(message.get('reason') or '?')}: {_clip(message.get('detail') or '')}")
            after = message.get("failing_after_seconds", message.get("deadline_seconds", "?"))
            d.change.append(f"declared failing after {after} s; its alerts wait, parked, and are sent when it is back")
        else:
            d.headline = f"Alert channel {channel} ({target}) delivers again"
        d.subject = d.headline
        d.title = d.headline
    elif figures:
        d.subject = f"{_short_figures(figures)} - {title}"

    evidence = message.get("evidence")
    if isinstance(evidence, list):
        d.evidence = [_clip(e) for e in evidence[:MAX_EVIDENCE] if isinstance(e, str) and e.strip()]
    sources = message.get("sources")
    if isinstance(sources, list):
        for src in sources[:MAX_ITEMS]:
            if isinstance(src, dict):
                said = _short_figures(figures_of(src.get("figures")))
                url = src.get("url")
                d.sources.append(
                    (
                        f"{_clip(src.get('sitename') or src.get('url') or '?', 200)}: {said or 'no figures'}",
                        url if _http(url) else None,
                    )
                )
    places = message.get("places")
    if isinstance(places, list):
        d.places = [p for p in (_place_name(x) for x in places[:MAX_ITEMS]) if p]

    canonical, shared = message.get("canonical_url"), message.get("url")
    if _http(canonical):
        d.links.append((str(message.get("sitename") or "Article"), str(canonical)))
    if _http(shared) and shared != canonical:
        d.links.append(("Shared link", str(shared)))
    for extra in message.get("links") or []:
        if _http(extra) and extra not in (canonical, shared):
            d.links.append(("Link", extra))

    parts = []
    if message.get("rule"):
        parts.append(f"rule {message['rule']}")
    if message.get("severity"):
        parts.append(str(message["severity"]))
    if message.get("story_id"):
        parts.append(f"story {message['story_id']}")
    if message_id(message):
        parts.append(f"id {message_id(message)}")
    if message.get("raised_at"):
        parts.append(f"raised {message['raised_at']}")
    d.footer = _clip(" | ".join(parts) or kind)
    return d


# -- dialects ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dialect:
    esc: Callable[[str], str]
    link: Callable[[str, str], str]  # (label, url) -> markup
    section: Callable[[str, list[str]], str]  # (heading, escaped lines) -> markup


def _slack_esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _text_section(heading: str, lines: list[str]) -> str:
    if not lines:
        return ""
    if not heading:
        return "".join(f"{line}\n" for line in lines)
    return f"{heading}:\n" + "".join(f"  - {line}\n" for line in lines)


def _html_section(heading: str, lines: list[str]) -> str:
    if not lines:
        return ""
    head = f'<h3 style="margin: 1em 0 .3em">{heading}</h3>\n' if heading else ""
    return head + "<ul>\n" + "".join(f"<li>{line}</li>\n" for line in lines) + "</ul>\n"


def _slack_section(heading: str, lines: list[str]) -> str:
    if not lines:
        return ""
    head = f"*{heading}*\n" if heading else ""
    return head + "".join(f"• {line}\n" for line in lines)


_DIALECTS = {
    "text": Dialect(lambda s: s, lambda label, url: f"{label}: {url}", _text_section),
    "html": Dialect(
        html.escape,
        lambda label, url: f'<a href="{html.escape(url, quote=True)}">{html.escape(label)}</a>',
        _html_section,
    ),
    "slack": Dialect(
        _slack_esc,
        # Slack links are <url|label>; a '|' or '>' inside either would end them early.
        lambda label, url: f"<{url.replace('>', '%3E').replace('|', '%7C')}|{_slack_esc(label).replace('|', '/')}>",
        _slack_section,
    ),
}

_EXT = {"text": "txt", "html": "html", "slack": "slack"}


@cache
def template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


def sections(message: dict[str, Any], dialect: str) -> dict[str, str]:
    """The values the templates substitute, already escaped for `dialect`."""
    d = describe(message)
    dl = _DIALECTS[dialect]
    figures = [dl.esc(f"{label}: {value}") for label, value in d.figures]
    items = [dl.link(text, url) if url else dl.esc(text) for text, url in d.items]
    sources = [dl.link(text, url) if url else dl.esc(text) for text, url in d.sources]
    return {
        "headline": dl.esc(d.headline),
        "title": dl.esc(d.title),
        "kind": dl.esc(d.kind),
        "figures": dl.section("Figures", figures),
        "change": dl.section("What changed" if d.kind == "update" else "", [dl.esc(c) for c in d.change]),
        "evidence": dl.section("Evidence", [dl.esc(e) for e in d.evidence]),
        "places": dl.section("Places", [dl.esc(p) for p in d.places]),
        "sources": dl.section("Who reported what", sources),
        "items": dl.section("Alerts", items),
        "links": dl.section("Links", [dl.link(label, url) for label, url in d.links]),
        "footer": dl.esc(d.footer),
    }


def render(message: dict[str, Any], dialect: str = "text") -> str:
    if dialect not in _DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; one of {DIALECTS}")
    return template(f"alert.{_EXT[dialect]}").safe_substitute(sections(message, dialect))


def subject(message: dict[str, Any]) -> str:
    line = template("subject.txt").safe_substitute(subject=describe(message).subject).strip()
    return _clip(line, 250)
