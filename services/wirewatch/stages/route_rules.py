"""Alert rules: the YAML file (format at the top of defaults/rules.yaml) read into ``Rule`` values.

In:  a rules file path (``load_rules``), or one condition / duration as written there.
Out: ``Rule`` (with its ``Condition`` list and ``Throttle`` limits), validated: ``ConfigError``
     names the file, the line, the rule and the field of the first thing wrong.

Pure apart from reading the file. stages/route.py matches articles against these rules and
decides the alerts; it re-exports every name here, so ``route.load_rules`` stays the entry point.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from .. import yamlfile
from ..errors import ConfigError
from .enrich.casualties import CATEGORIES, LEXICON_DIR

SEVERITIES = ("info", "warning", "critical")
_FIELDS = {
    "name", "severity", "description", "when_any", "casualties", "keywords", "exclude", "languages",
    "countries", "regions", "places", "sources", "updates_on", "throttle",
}  # fmt: skip
_TOP = {"rules", "regions"}
_REQUIRED = ("name", "severity")
_CONDITION = re.compile(r"^\s*(?:(?P<victim>[^\W\d_][\w ]*?)\s+)?(?P<cat>\w+)\s*>=\s*(?P<n>\d+)\s*$")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_COUNTRY = re.compile(r"^[A-Z]{2}$")
# Channel.kind of every channel in sinks/ (a rule may throttle per kind); kept here so loading
# rules stays free of the channels' clients.
CHANNEL_KINDS = ("webhook", "slack", "email", "alertmanager", "apprise")


@dataclass(frozen=True)
class Condition:
    """``<victim> <category> >= n``; victim None means any victim."""

    category: str
    n: int
    victim: str | None = None

    def __str__(self) -> str:
        return f"{self.victim + ' ' if self.victim else ''}{self.category} >= {self.n}"


@dataclass(frozen=True)
class Throttle:
    max: int  # alerts per window; the rest go into one digest when the window closes
    per: timedelta


@dataclass(frozen=True)
class Rule:
    name: str
    severity: str  # "info" | "warning" | "critical"
    # {"killed": 1, "injured": 1}: killed >= 1 OR injured >= 1; empty: no casualty condition.
    # Read-only mapping; left out of the hash because mappings are not hashable.
    any_of: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    conditions: tuple[Condition, ...] = ()  # more casualty conditions, OR-ed with any_of
    keywords: tuple[str, ...] = ()  # any of; empty: no keyword condition
    exclude: tuple[str, ...] = ()  # none of
    languages: tuple[str, ...] = ()  # empty: any language
    countries: tuple[str, ...] = ()  # ISO 3166 alpha-2, regions already expanded
    places: tuple[str, ...] = ()  # place names, case-folded
    sources: tuple[str, ...] = ()  # link source, site name or domain, case-folded
    updates_on: tuple[str, ...] = ("killed", "injured")  # figures whose rise raises an update
    throttle: Throttle | None = None  # all channels together, applied when the alert is raised
    # {channel kind: limit}, applied by the alert agent as it delivers to channels of that kind.
    channel_throttles: Mapping[str, Throttle] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    description: str = ""

    def casualty_conditions(self) -> list[Condition]:
        return [Condition(c, n) for c, n in self.any_of.items()] + list(self.conditions)


# -- loading ----------------------------------------------------------------------------------


class _Lines:
    """Line numbers of the YAML nodes, by path (("rules", 2, "when_any", "killed") -> 7)."""

    def __init__(self, node: yaml.Node | None) -> None:
        self.lines: dict[tuple[Any, ...], int] = {}
        if node is not None:
            self._walk(node, ())

    def _walk(self, node: yaml.Node, path: tuple[Any, ...]) -> None:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = k.value if isinstance(k, yaml.ScalarNode) else str(k.start_mark.line)
                self.lines[path + (key,)] = k.start_mark.line + 1
                self._walk(v, path + (key,))
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                self._walk(v, path + (i,))

    def of(self, path: tuple[Any, ...]) -> int | None:
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path)


def _read_yaml(path: Path) -> tuple[Any, _Lines]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: rules file not found") from e
    except (OSError, UnicodeError) as e:
        raise ConfigError(f"{path}: cannot read rules file: {e}") from e
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as e:
        where = getattr(e, "problem_mark", None)
        line = f" (line {where.line + 1}, column {where.column + 1})" if where else ""
        raise ConfigError(f"{path}: not valid YAML{line}: {getattr(e, 'problem', None) or e}") from e
    finally:
        loader.dispose()
    return data, _Lines(node)


def load_rules(path: Path) -> list[Rule]:
    """Parse and validate a rules file; ConfigError names the file, the line, the rule and the field."""
    path = Path(path)
    data, lines = _read_yaml(path)

    def at(p: tuple[Any, ...]) -> str:
        line = lines.of(p)
        return f"{path}:{line}" if line else str(path)

    if not isinstance(data, dict) or "rules" not in data or set(data) - _TOP:
        got = sorted(map(str, data)) if isinstance(data, dict) else type(data).__name__
        raise ConfigError(f"{at(())}: expected a mapping with the key 'rules' (and optionally 'regions'), got {got}")
    regions = _parse_regions(data.get("regions"), at)
    if not isinstance(data["rules"], list):
        raise ConfigError(f"{at(('rules',))}: rules: expected a list of rules, got {_show(data['rules'])}")

    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(data["rules"]):
        rule = _parse_rule(raw, i, regions, functools.partial(_at_rule, at, i))
        if rule.name in seen:
            # The alert id hashes the rule name: two rules with one name would share ids.
            raise ConfigError(
                f"{at(('rules', i, 'name'))}: rules[{i}] (name {rule.name!r}): name: duplicate of rules[{seen[rule.name]}]"
            )
        seen[rule.name] = i
        rules.append(rule)
    return rules


def _show(v: Any) -> str:
    return repr(v) if isinstance(v, (str, int, float, bool)) or v is None else type(v).__name__


def _at_rule(at: Callable[[tuple[Any, ...]], str], i: int, p: tuple[Any, ...]) -> str:
    """`at` for a path inside rules[i]."""
    return at(("rules", i, *p))


def _parse_regions(raw: Any, at: Callable[[tuple[Any, ...]], str]) -> dict[str, tuple[str, ...]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{at(('regions',))}: regions: expected a mapping of region name to country codes, got {_show(raw)}"
        )
    out: dict[str, tuple[str, ...]] = {}
    for name, codes in raw.items():
        if (
            not isinstance(codes, list)
            or not codes
            or not all(isinstance(c, str) and _COUNTRY.match(c.upper()) for c in codes)
        ):
            raise ConfigError(
                f"{at(('regions', name))}: regions.{name}: expected a list of ISO 3166 country codes (GH, NG, ...), got {_show(codes)}"
            )
        out[str(name).casefold()] = tuple(c.upper() for c in codes)
    return out


@lru_cache(maxsize=1)
def victim_names() -> frozenset[str]:
    """Every victim name a lexicon can give a mention (lexicon/*.yaml ``victims[].name``)."""
    names = set()
    for path in LEXICON_DIR.glob("*.yaml"):
        for v in (yamlfile.load(path.read_text(encoding="utf-8")) or {}).get("victims", []):
            names.add(str(v["name"]).casefold())
    return frozenset(names)


def parse_condition(text: str) -> Condition:
    """``"killed >= 10"`` or ``"civilians killed >= 1"``; ValueError says what is wrong."""
    m = _CONDITION.match(text)
    if not m:
        raise ValueError(f"expected '<category> >= <n>' or '<victim> <category> >= <n>', got {text!r}")
    cat, victim = m["cat"].lower(), (" ".join(m["victim"].split()).casefold() if m["victim"] else None)
    if cat not in CATEGORIES:
        raise ValueError(f"unknown category {m['cat']!r} in {text!r}; expected one of {', '.join(CATEGORIES)}")
    if victim is not None and victim not in victim_names():
        raise ValueError(
            f"unknown victim {m['victim']!r} in {text!r}; expected one of {', '.join(sorted(victim_names()))}"
        )
    return Condition(cat, int(m["n"]), victim)


def parse_duration(v: Any) -> timedelta:
    if isinstance(v, int) and not isinstance(v, bool) and v > 0:
        return timedelta(seconds=v)
    m = _DURATION.match(v) if isinstance(v, str) else None
    if not m or int(m[1]) <= 0:
        raise ValueError(f"expected a duration such as 30m, 1h, 1d or seconds, got {_show(v)}")
    return timedelta(seconds=int(m[1]) * _UNITS[m[2]])


def _parse_rule(raw: Any, i: int, regions: dict[str, tuple[str, ...]], at: Callable[[tuple[Any, ...]], str]) -> Rule:
    where = f"rules[{i}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{at(())}: {where}: expected a mapping, got {_show(raw)}")
    name = raw.get("name")
    if isinstance(name, str) and name.strip():
        where = f"{where} (name {name!r})"

    def fail(fld: str, msg: str, *path: Any) -> ConfigError:
        return ConfigError(f"{at(path or tuple(fld.split('.')))}: {where}: {fld}: {msg}")

    for key in raw:
        if key not in _FIELDS:
            raise fail(str(key), f"unknown field; expected one of {', '.join(sorted(_FIELDS))}")
    for key in _REQUIRED:
        if key not in raw:
            raise fail(key, "required", "name" if "name" in raw else None)
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
    for fld in (
        "keywords",
        "exclude",
        "languages",
        "casualties",
        "countries",
        "regions",
        "places",
        "sources",
        "updates_on",
    ):
        v = raw.get(fld) or []
        if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
            raise fail(fld, f"expected a list of non-empty strings, got {_show(v)}")
        lists[fld] = tuple(x.strip() for x in v)

    conditions = []
    for j, text in enumerate(lists["casualties"]):
        try:
            conditions.append(parse_condition(text))
        except ValueError as e:
            raise fail(f"casualties[{j}]", str(e), "casualties", j) from None
    countries = []
    for j, c in enumerate(lists["countries"]):
        if not _COUNTRY.match(c.upper()):
            raise fail(f"countries[{j}]", f"expected an ISO 3166 alpha-2 code such as GH, got {c!r}", "countries", j)
        countries.append(c.upper())
    for j, r in enumerate(lists["regions"]):
        if r.casefold() not in regions:
            known = ", ".join(sorted(regions)) or "none: define them under the top-level key 'regions'"
            raise fail(f"regions[{j}]", f"unknown region {r!r}; defined: {known}", "regions", j)
        countries.extend(c for c in regions[r.casefold()] if c not in countries)
    for j, c in enumerate(lists["updates_on"]):
        if c not in CATEGORIES:
            raise fail(
                f"updates_on[{j}]", f"unknown category; expected one of {', '.join(CATEGORIES)}", "updates_on", j
            )

    throttle, channel_throttles = _parse_throttle(raw.get("throttle"), fail)

    if not thresholds and not conditions and not lists["keywords"]:
        raise fail("when_any", "a rule needs when_any, casualties or keywords, or it would alert on every article")
    description = raw.get("description") or ""
    if not isinstance(description, str):
        raise fail("description", f"expected a string, got {_show(description)}")

    return Rule(
        name=name.strip(),
        severity=severity,
        any_of=MappingProxyType(thresholds),
        conditions=tuple(conditions),
        keywords=lists["keywords"],
        exclude=lists["exclude"],
        languages=tuple(x.lower() for x in lists["languages"]),
        countries=tuple(countries),
        places=tuple(x.casefold() for x in lists["places"]),
        sources=tuple(x.casefold() for x in lists["sources"]),
        updates_on=lists["updates_on"] or Rule.updates_on,
        throttle=throttle,
        channel_throttles=MappingProxyType(channel_throttles),
        description=description,
    )


def _parse_limit(t: Any, fld: str, fail: Callable[..., ConfigError]) -> Throttle:
    if not isinstance(t, dict) or set(t) != {"max", "per"}:
        raise fail(
            fld, f"expected {{max: <n>, per: <duration>}}, got {_show(t) if not isinstance(t, dict) else sorted(t)}"
        )
    if isinstance(t["max"], bool) or not isinstance(t["max"], int) or t["max"] < 1:
        raise fail(f"{fld}.max", f"expected an integer >= 1, got {_show(t['max'])}")
    try:
        return Throttle(t["max"], parse_duration(t["per"]))
    except ValueError as e:
        raise fail(f"{fld}.per", str(e)) from None


def _parse_throttle(t: Any, fail: Callable[..., ConfigError]) -> tuple[Throttle | None, dict[str, Throttle]]:
    """``{max, per}`` for all channels together, ``channels: {<kind>: {max, per}}`` per channel kind,
    or both (an alert must pass the rule's limit, then the channel's)."""
    if t is None:
        return None, {}
    if not isinstance(t, dict) or not t or set(t) - {"max", "per", "channels"}:
        got = _show(t) if not isinstance(t, dict) else sorted(t)
        raise fail(
            "throttle", f"expected {{max: <n>, per: <duration>}} and/or channels: {{<kind>: {{max, per}}}}, got {got}"
        )
    overall = (
        _parse_limit({k: t[k] for k in ("max", "per") if k in t}, "throttle", fail) if {"max", "per"} & set(t) else None
    )
    channels: dict[str, Throttle] = {}
    raw = t.get("channels")
    if "channels" in t:
        if not isinstance(raw, dict) or not raw:
            raise fail(
                "throttle.channels",
                f"expected a mapping of channel kind ({', '.join(CHANNEL_KINDS)}) to {{max, per}}, got {_show(raw)}",
            )
        for kind, limit in raw.items():
            if kind not in CHANNEL_KINDS:
                raise fail(
                    f"throttle.channels.{kind}", f"unknown channel kind; expected one of {', '.join(CHANNEL_KINDS)}"
                )
            channels[kind] = _parse_limit(limit, f"throttle.channels.{kind}", fail)
    return overall, channels
