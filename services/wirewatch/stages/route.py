"""route stage: which enriched articles raise alerts, and the alerts they raise.

In:  rules from a YAML file (``load_rules``; format documented at the top of defaults/rules.yaml)
     and an ``enriched`` payload (schemas/enriched.schema.json).
Out: the rules that match it, in file order (``evaluate``), and for each an ``alert`` payload
     (``make_alert``, schemas/alert.schema.json).

A rule matches when every condition it sets holds:
    when_any   some category's reported figure (``figures[c]["count"]``) is >= its threshold
    keywords   some keyword occurs in the title or text (whole word, case-insensitive)
    exclude    no exclude keyword occurs there
    languages  the article's language (primary subtag: "en-GB" -> "en") is listed
An empty list or mapping sets no condition; a rule must set when_any or keywords, or it would
alert on every article.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import yaml

from ..errors import ConfigError
from .enrich import analysed_text
from .enrich.casualties import CATEGORIES, load_lexicon, split_sentences
from .enrich.keywords import match_keywords

SEVERITIES = ("info", "warning", "critical")
_FIELDS = {"name", "severity", "when_any", "keywords", "exclude", "languages", "description"}
_REQUIRED = ("name", "severity")
_MAX_KEYWORD_EVIDENCE = 3  # sentences quoted for a keyword-only rule


@dataclass(frozen=True)
class Rule:
    name: str
    severity: str  # "info" | "warning" | "critical"
    # {"killed": 1, "injured": 1}: killed >= 1 OR injured >= 1; empty: no casualty condition.
    # Read-only mapping; left out of the hash because mappings are not hashable.
    any_of: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    keywords: tuple[str, ...] = ()  # any of; empty: no keyword condition
    exclude: tuple[str, ...] = ()  # none of
    languages: tuple[str, ...] = ()  # empty: any language
    description: str = ""


def load_rules(path: Path) -> list[Rule]:
    """Parse and validate a rules file; ConfigError names the file, the rule and the field."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: rules file not found") from e
    except OSError as e:
        raise ConfigError(f"{path}: cannot read rules file: {e}") from e
    except yaml.YAMLError as e:
        where = getattr(e, "problem_mark", None)
        line = f" (line {where.line + 1}, column {where.column + 1})" if where else ""
        raise ConfigError(f"{path}: not valid YAML{line}: {getattr(e, 'problem', None) or e}") from e

    if not isinstance(data, dict) or set(data) != {"rules"}:
        got = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise ConfigError(f"{path}: expected a mapping with exactly one key 'rules', got {got}")
    if not isinstance(data["rules"], list):
        raise ConfigError(f"{path}: rules: expected a list of rules, got {_show(data['rules'])}")

    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(data["rules"]):
        rule = _parse_rule(raw, f"{path}: rules[{i}]")
        if rule.name in seen:
            # The alert id hashes the rule name: two rules with one name would share ids.
            raise ConfigError(f"{path}: rules[{i}] (name {rule.name!r}): name: duplicate of rules[{seen[rule.name]}]")
        seen[rule.name] = i
        rules.append(rule)
    return rules


def _show(v: Any) -> str:
    return repr(v) if isinstance(v, (str, int, float, bool)) or v is None else type(v).__name__


def _parse_rule(raw: Any, where: str) -> Rule:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping, got {_show(raw)}")
    name = raw.get("name")
    if isinstance(name, str) and name.strip():
        where = f"{where} (name {name!r})"

    def fail(fld: str, msg: str) -> ConfigError:
        return ConfigError(f"{where}: {fld}: {msg}")

    for key in raw:
        if key not in _FIELDS:
            raise fail(str(key), f"unknown field; expected one of {', '.join(sorted(_FIELDS))}")
    for key in _REQUIRED:
        if key not in raw:
            raise fail(key, "required")
    if not isinstance(name, str) or not name.strip():
        raise fail("name", f"expected a non-empty string, got {_show(name)}")
    severity = raw["severity"]
    if severity not in SEVERITIES:
        raise fail("severity", f"expected one of {', '.join(SEVERITIES)}, got {_show(severity)}")

    when_any = raw.get("when_any") or {}
    if not isinstance(when_any, dict):
        raise fail("when_any", f"expected a mapping of category to threshold, got {_show(when_any)}")
    thresholds: dict[str, int] = {}
    for cat, n in when_any.items():
        if cat not in CATEGORIES:
            raise fail(f"when_any.{cat}", f"unknown category; expected one of {', '.join(CATEGORIES)}")
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise fail(f"when_any.{cat}", f"expected an integer >= 0, got {_show(n)}")
        thresholds[cat] = n

    lists: dict[str, tuple[str, ...]] = {}
    for fld in ("keywords", "exclude", "languages"):
        v = raw.get(fld) or []
        if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
            raise fail(fld, f"expected a list of non-empty strings, got {_show(v)}")
        lists[fld] = tuple(x.strip().lower() if fld == "languages" else x for x in v)

    if not thresholds and not lists["keywords"]:
        raise fail("when_any", "a rule needs when_any or keywords, or it would alert on every article")
    description = raw.get("description") or ""
    if not isinstance(description, str):
        raise fail("description", f"expected a string, got {_show(description)}")

    return Rule(
        name=name.strip(),
        severity=severity,
        any_of=MappingProxyType(thresholds),
        keywords=lists["keywords"],
        exclude=lists["exclude"],
        languages=lists["languages"],
        description=description,
    )


def _language(enriched: dict) -> str:
    return (enriched.get("language") or "").split("-")[0].split("_")[0].lower()


def _casualty_categories(rule: Rule, enriched: dict) -> list[str]:
    """The categories whose reported figure reaches the rule's threshold."""
    figures = enriched.get("figures") or {}
    return [c for c, n in rule.any_of.items() if figures.get(c) and figures[c]["count"] >= n]


def matches(rule: Rule, enriched: dict) -> bool:
    if rule.languages and _language(enriched) not in rule.languages:
        return False
    if rule.any_of and not _casualty_categories(rule, enriched):
        return False
    if rule.keywords or rule.exclude:
        doc = analysed_text(enriched)
        if rule.keywords and not match_keywords(doc, rule.keywords):
            return False
        if rule.exclude and match_keywords(doc, rule.exclude):
            return False
    return True


def evaluate(rules: list[Rule], enriched: dict) -> list[Rule]:
    """The rules that match `enriched`, in file order."""
    return [r for r in rules if matches(r, enriched)]


def alert_id(rule_name: str, canonical_url: str) -> str:
    """Stable across redeliveries: the same rule and article always give the same id."""
    return hashlib.sha256(f"{rule_name}\x1f{canonical_url}".encode()).hexdigest()[:24]


def _evidence(rule: Rule, enriched: dict) -> list[str]:
    out: list[str] = []
    if rule.any_of:
        cats = set(_casualty_categories(rule, enriched))
        for m in enriched.get("casualties") or []:
            # The mentions that reach the threshold, not every mention in a matching category.
            if m["category"] in cats and m["count"] >= rule.any_of[m["category"]] and m["evidence"] not in out:
                out.append(m["evidence"])
    else:
        doc = analysed_text(enriched)
        for s, e in split_sentences(doc, load_lexicon(_language(enriched) or "en")):
            if match_keywords(doc[s:e], rule.keywords) and doc[s:e] not in out:
                out.append(doc[s:e])
                if len(out) >= _MAX_KEYWORD_EVIDENCE:
                    break
    return out


def make_alert(rule: Rule, enriched: dict, raised_at: str) -> dict:
    """The alert `rule` raises for `enriched` (schemas/alert.schema.json)."""
    return {
        "alert_id": alert_id(rule.name, enriched["canonical_url"]),
        "kind": "new",
        "rule": rule.name,
        "severity": rule.severity,
        "raised_at": raised_at,
        "link_id": enriched["link_id"],
        "canonical_url": enriched["canonical_url"],
        "url": enriched["url"],
        "title": enriched.get("title"),
        "sitename": enriched.get("sitename"),
        "published": enriched.get("published"),
        "language": enriched.get("language"),
        "figures": enriched["figures"],
        "evidence": _evidence(rule, enriched),
        "keywords": list(enriched.get("keywords") or []),
    }
