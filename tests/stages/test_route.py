"""Routing rules (stages/route.py): loading and validating rules files, matching, alerts."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from wirewatch import contract
from wirewatch.errors import ConfigError
from wirewatch.stages import route
from wirewatch.stages.enrich import enrich

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RULES = ROOT / "services" / "wirewatch" / "defaults" / "rules.yaml"
RAISED_AT = "2026-11-24T08:15:04Z"


def _enriched(title: str | None, text: str, **over) -> dict:
    article = json.loads((ROOT / "schemas" / "examples" / "article.json").read_text())
    article.update(title=title, text=text, **over)
    enriched = enrich(article)
    if "language" in over:  # the rule's language filter is under test, not language detection
        enriched["language"] = over["language"]
    contract.validate("enriched", enriched)
    return enriched


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(body)
    return path


# -- the default rules: one alert for killed and/or wounded, none for ordinary news ---------------

CASUALTY_ARTICLES = [
    ("Blast kills 9", "At least nine people were killed and 23 wounded in the blast."),
    (None, "Two soldiers were wounded in a clash on the border."),
    ("Bus crash", "A man was killed when a bus left the road."),
    ("Storm", "The death toll rose to 40 on Tuesday, and 120 people were injured."),
]
ORDINARY_ARTICLES = [
    ("Rates held", "The central bank kept rates at 4.5 percent in 2026."),
    ("Match report", "The team scored 3 goals and killed the game in 20 minutes."),
    ("Safety drill", "No one was hurt. There were no casualties in the exercise."),
    ("Dam warning", "Engineers warned a breach could kill thousands."),
    ("Search", "Rescuers are looking for 4 hikers who are missing on the mountain."),
]


@pytest.mark.parametrize(("title", "text"), CASUALTY_ARTICLES)
def test_default_rules_raise_exactly_one_alert(title: str | None, text: str) -> None:
    rules = route.load_rules(DEFAULT_RULES)
    enriched = _enriched(title, text)
    matched = route.evaluate(rules, enriched)
    assert [r.name for r in matched] == ["people-killed-or-wounded"]
    alert = route.make_alert(matched[0], enriched, RAISED_AT)
    contract.validate("alert", alert)
    assert alert["severity"] == "critical"
    assert alert["evidence"]


@pytest.mark.parametrize(("title", "text"), ORDINARY_ARTICLES)
def test_default_rules_ignore_ordinary_news(title: str, text: str) -> None:
    assert route.evaluate(route.load_rules(DEFAULT_RULES), _enriched(title, text)) == []


# -- alerts ---------------------------------------------------------------------------------------


def test_alert_id_is_stable_and_specific() -> None:
    (rule,) = route.load_rules(DEFAULT_RULES)
    enriched = _enriched("Blast kills 9", "Nine people were killed.")
    a1 = route.make_alert(rule, enriched, RAISED_AT)
    a2 = route.make_alert(rule, enriched, "2026-11-24T09:00:00Z")  # a redelivery, later
    assert a1["alert_id"] == a2["alert_id"]
    assert len(a1["alert_id"]) == 24 and int(a1["alert_id"], 16) >= 0
    other = _enriched("Blast kills 9", "Nine people were killed.", canonical_url="https://example.org/other")
    assert route.make_alert(rule, other, RAISED_AT)["alert_id"] != a1["alert_id"]
    assert a1["story_id"] != route.make_alert(rule, other, RAISED_AT)["story_id"]
    assert route.alert_id("another-rule", a1["story_id"]) != a1["alert_id"]


def test_alert_evidence_is_the_matching_mentions_deduplicated(tmp_path: Path) -> None:
    path = _write(tmp_path, "rules:\n  - {name: mass, severity: warning, when_any: {killed: 10}}\n")
    enriched = _enriched(
        None,
        "Three people were killed on Monday. Three people were killed on Monday. "
        "By Friday 12 people had died and 12 were killed in all. 50 people were injured.",
    )
    (rule,) = route.evaluate(route.load_rules(path), enriched)
    alert = route.make_alert(rule, enriched, RAISED_AT)
    contract.validate("alert", alert)
    assert alert["evidence"] == ["By Friday 12 people had died and 12 were killed in all."]
    assert alert["figures"] == enriched["figures"]


# -- matching -------------------------------------------------------------------------------------

RULES_YAML = """
rules:
  - name: mass-casualty
    severity: critical
    when_any: {killed: 10}
  - name: quake
    severity: info
    keywords: [earthquake, quake]
    exclude: [drill]
  - name: french-injuries
    severity: warning
    when_any: {injured: 1}
    languages: [fr]
  - name: english-missing
    severity: warning
    when_any: {missing: 1}
    keywords: [flood, floods]
    languages: [en]
"""

MATCH_CASES = [
    ("Quake", "An earthquake killed 12 people.", "en", ["mass-casualty", "quake"]),
    ("Quake", "An earthquake killed 9 people.", "en", ["quake"]),
    ("Quake drill", "An earthquake drill was held.", "en", []),
    ("Séisme", "12 personnes ont été blessées.", "fr-FR", ["french-injuries"]),
    ("Floods", "Floods swept the valley and 5 people are missing.", "en-GB", ["english-missing"]),
    ("Floods", "Floods swept the valley and 5 people are missing.", "de", []),
    ("Search", "5 people are missing after the storm.", "en", []),
]


@pytest.mark.parametrize(("title", "text", "language", "expected"), MATCH_CASES)
def test_evaluate(tmp_path: Path, title: str, text: str, language: str, expected: list[str]) -> None:
    rules = route.load_rules(_write(tmp_path, RULES_YAML))
    enriched = _enriched(title, text, language=language)
    matched = route.evaluate(rules, enriched)
    assert [r.name for r in matched] == expected
    for rule in matched:
        contract.validate("alert", route.make_alert(rule, enriched, RAISED_AT))


def test_keyword_only_rule_quotes_keyword_sentences(tmp_path: Path) -> None:
    rules = route.load_rules(_write(tmp_path, RULES_YAML))
    enriched = _enriched("Strong quake", "The ground shook. An earthquake hit the coast.")
    (rule,) = route.evaluate(rules, enriched)
    assert route.make_alert(rule, enriched, RAISED_AT)["evidence"] == ["Strong quake", "An earthquake hit the coast."]


def test_loaded_rule_shape(tmp_path: Path) -> None:
    rules = route.load_rules(_write(tmp_path, RULES_YAML))
    assert rules[0] == route.Rule(name="mass-casualty", severity="critical", any_of={"killed": 10})
    assert dict(rules[3].any_of) == {"missing": 1}
    assert rules[3].keywords == ("flood", "floods") and rules[3].languages == ("en",)
    hash(rules[0])  # usable in sets


# -- bad rules files ------------------------------------------------------------------------------

ONE_RULE = "rules:\n  - name: a\n    severity: info\n    when_any: {killed: 1}\n"

BAD = [
    (
        "rules:\n  - {name: a, severity: info, when_any: {killed: 1}}\n  - {name: b, severity: info, when_any: {killed: 1}}\n"
        "  - {name: mass-casualty, severity: critical, when_any: {killed: ten}}\n",
        "rules.yaml:4: rules[2] (name 'mass-casualty'): when_any.killed: expected an integer >= 0, got 'ten'",
    ),
    (
        "rules:\n  - {name: a, severity: info, when_any: {killed: -1}}\n",
        "rules[0] (name 'a'): when_any.killed: expected an integer >= 0, got -1",
    ),
    (
        "rules:\n  - {name: a, severity: info, when_any: {killed: true}}\n",
        "when_any.killed: expected an integer >= 0, got True",
    ),
    (
        "rules:\n  - {name: a, severity: info, when_any: {dead: 1}}\n",
        "rules[0] (name 'a'): when_any.dead: unknown category",
    ),
    (
        "rules:\n  - {name: a, severity: urgent, when_any: {killed: 1}}\n",
        "rules[0] (name 'a'): severity: expected one of info, warning, critical, got 'urgent'",
    ),
    (
        "rules:\n  - {name: a, severity: info, when_any: {killed: 1}, treshold: 3}\n",
        "rules[0] (name 'a'): treshold: unknown field",
    ),
    ("rules:\n  - {severity: info, when_any: {killed: 1}}\n", "rules[0]: name: required"),
    ("rules:\n  - {name: a, when_any: {killed: 1}}\n", "rules[0] (name 'a'): severity: required"),
    (
        "rules:\n  - {name: a, severity: info, keywords: blast}\n",
        "rules[0] (name 'a'): keywords: expected a list of non-empty strings, got 'blast'",
    ),
    (
        "rules:\n  - {name: a, severity: info}\n",
        "rules[0] (name 'a'): when_any: a rule needs when_any, casualties or keywords",
    ),
    (
        "rules:\n  - {name: a, severity: info, when_any: [killed]}\n",
        "rules[0] (name 'a'): when_any: expected a mapping",
    ),
    (
        ONE_RULE + "  - name: a\n    severity: info\n    keywords: [x]\n",
        "rules[1] (name 'a'): name: duplicate of rules[0]",
    ),
    ("rules:\n  - just a string\n", "rules[0]: expected a mapping, got 'just a string'"),
    ("rules: {name: a}\n", "rules: expected a list of rules"),
    ("alerts: []\n", "expected a mapping with the key 'rules'"),
    (
        ONE_RULE + "extra: 1\n",
        "expected a mapping with the key 'rules' (and optionally 'regions'), got ['extra', 'rules']",
    ),
    ("", "expected a mapping with the key 'rules'"),
    ("rules: [\n  - {name: a\n", "not valid YAML (line"),
]


@pytest.mark.parametrize(("body", "message"), BAD)
def test_bad_rules_name_file_rule_and_field(tmp_path: Path, body: str, message: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(ConfigError) as err:
        route.load_rules(path)
    assert message in str(err.value)
    assert str(err.value).startswith(str(path))


def test_missing_rules_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="rules file not found"):
        route.load_rules(tmp_path / "nope.yaml")


# -- the richer rule conditions: victim types, places, regions, sources, any-language keywords -----

RICH_YAML = """
regions:
  great-lakes: [CD, RW, UG, BI]
rules:
  - name: civilians
    severity: critical
    casualties: ["civilians killed >= 1"]
  - name: mass
    severity: critical
    casualties: ["killed >= 10"]
    regions: [great-lakes]
  - name: ghana
    severity: warning
    when_any: {killed: 1}
    countries: [gh]
  - name: goma-city
    severity: info
    when_any: {killed: 1}
    places: [Goma]
  - name: wire-only
    severity: info
    keywords: [ferry]
    sources: [lakeside.example, "Great Lakes Daily"]
  - name: arabic-blast
    severity: warning
    keywords: [انفجار]
"""

GOMA = [{"name": "Goma", "country_code": "CD", "kind": "city"}]
KUMASI = [{"name": "Kumasi", "country_code": "GH", "kind": "city"}]

RICH_CASES = [
    (
        "Ferry sinks",
        "Twelve people were killed when a ferry sank near Goma.",
        GOMA,
        "https://lakeside.example/a",
        ["mass", "goma-city", "wire-only"],
    ),
    (
        "Ferry sinks",
        "Twelve people were killed when a ferry sank near Goma.",
        GOMA,
        "https://other.example/a",
        ["mass", "goma-city"],
    ),
    ("Shelling", "Three civilians were killed in shelling overnight.", [], "https://other.example/b", ["civilians"]),
    ("Shelling", "Three soldiers were killed in shelling overnight.", [], "https://other.example/b", []),
    (
        "Tanker blast",
        "Twelve people were killed near Kumasi.",
        KUMASI,
        "https://other.example/c",
        ["mass", "ghana"][1:],
    ),
    ("انفجار في السوق", "وقع انفجار في السوق صباح اليوم.", [], "https://other.example/d", ["arabic-blast"]),
]


@pytest.mark.parametrize(("title", "text", "places", "url", "expected"), RICH_CASES)
def test_rich_conditions(tmp_path: Path, title, text, places, url, expected) -> None:
    rules = route.load_rules(_write(tmp_path, RICH_YAML))
    enriched = _enriched(title, text, canonical_url=url)
    enriched["places"] = places
    matched = route.evaluate(rules, enriched)
    assert [r.name for r in matched] == expected
    for rule in matched:
        assert route.explain(rule, enriched)
        contract.validate("alert", route.make_alert(rule, enriched, RAISED_AT))


def test_explain_says_which_conditions_held(tmp_path: Path) -> None:
    rules = {r.name: r for r in route.load_rules(_write(tmp_path, RICH_YAML))}
    enriched = _enriched(
        "Ferry sinks",
        "Twelve people were killed when a ferry sank near Goma.",
        canonical_url="https://news.lakeside.example/a",
    )
    enriched["places"] = GOMA
    assert route.explain(rules["mass"], enriched) == ["killed >= 10 (reported 12)", "place Goma (CD)"]
    assert route.explain(rules["wire-only"], enriched) == ["keywords 'ferry'", "source lakeside.example"]
    assert route.explain(rules["civilians"], enriched) is None


def test_articles_without_places_never_match_a_place_rule(tmp_path: Path) -> None:
    rules = {r.name: r for r in route.load_rules(_write(tmp_path, RICH_YAML))}
    enriched = _enriched("Ferry sinks", "Twelve people were killed when a ferry sank near Goma.")
    enriched.pop("places", None)
    assert not route.matches(rules["goma-city"], enriched) and not route.matches(rules["mass"], enriched)


def test_rich_rule_shape(tmp_path: Path) -> None:
    rules = {r.name: r for r in route.load_rules(_write(tmp_path, RICH_YAML + "    throttle: {max: 3, per: 30m}\n"))}
    assert rules["civilians"].conditions == (route.Condition("killed", 1, "civilians"),)
    assert rules["mass"].countries == ("CD", "RW", "UG", "BI")
    assert rules["ghana"].countries == ("GH",)
    assert rules["goma-city"].places == ("goma",)
    assert rules["arabic-blast"].throttle == route.Throttle(3, timedelta(minutes=30))
    assert rules["mass"].updates_on == ("killed", "injured")


def test_errors_name_the_line_of_the_field(tmp_path: Path) -> None:
    body = (
        "rules:\n"  # 1
        "  - name: fine\n"  # 2
        "    severity: info\n"  # 3
        "    when_any: {killed: 1}\n"  # 4
        "  - name: broken\n"  # 5
        "    severity: warning\n"  # 6
        "    casualties:\n"  # 7
        "      - killed >= 1\n"  # 8
        "      - civillians killed >= 1\n"  # 9
    )
    with pytest.raises(ConfigError) as err:
        route.load_rules(_write(tmp_path, body))
    assert str(err.value).startswith(
        f"{tmp_path / 'rules.yaml'}:9: rules[1] (name 'broken'): casualties[1]: unknown victim 'civillians'"
    )


def test_throttle_per_channel_kind(tmp_path: Path) -> None:
    rules = {
        r.name: r
        for r in route.load_rules(
            _write(
                tmp_path,
                (
                    "rules:\n"
                    "  - {name: both, severity: info, when_any: {killed: 1},\n"
                    "     throttle: {max: 5, per: 1h, channels: {slack: {max: 2, per: 1h}, email: {max: 1, per: 1d}}}}\n"
                    "  - {name: slack-only, severity: info, when_any: {killed: 1}, throttle: {channels: {slack: {max: 3, per: 30m}}}}\n"
                    "  - {name: none, severity: info, when_any: {killed: 1}}\n"
                ),
            )
        )
    }
    assert rules["both"].throttle == route.Throttle(5, timedelta(hours=1))
    assert dict(rules["both"].channel_throttles) == {
        "slack": route.Throttle(2, timedelta(hours=1)),
        "email": route.Throttle(1, timedelta(days=1)),
    }
    assert rules["slack-only"].throttle is None
    assert dict(rules["slack-only"].channel_throttles) == {"slack": route.Throttle(3, timedelta(minutes=30))}
    assert dict(rules["none"].channel_throttles) == {} and rules["none"].throttle is None


def test_a_bad_channel_throttle_names_its_line(tmp_path: Path) -> None:
    body = (
        "rules:\n"  # 1
        "  - name: chatty\n"  # 2
        "    severity: info\n"  # 3
        "    when_any: {killed: 1}\n"  # 4
        "    throttle:\n"  # 5
        "      max: 5\n"  # 6
        "      per: 1h\n"  # 7
        "      channels:\n"  # 8
        "        slack: {max: 2, per: 1h}\n"  # 9
        "        pager: {max: 1, per: 1h}\n"  # 10
    )
    with pytest.raises(ConfigError) as err:
        route.load_rules(_write(tmp_path, body))
    assert str(err.value).startswith(
        f"{tmp_path / 'rules.yaml'}:10: rules[0] (name 'chatty'): throttle.channels.pager: unknown channel kind"
    )
    with pytest.raises(ConfigError) as err:
        route.load_rules(_write(tmp_path, body.replace("pager: {max: 1, per: 1h}", "email: {max: 1, per: soon}")))
    assert str(err.value).startswith(
        f"{tmp_path / 'rules.yaml'}:10: rules[0] (name 'chatty'): throttle.channels.email.per: expected a duration"
    )


MORE_BAD = [
    (
        "rules:\n  - {name: a, severity: info, casualties: ['killed > 3']}\n",
        ":2: rules[0] (name 'a'): casualties[0]: expected '<category> >= <n>'",
    ),
    ("rules:\n  - {name: a, severity: info, casualties: ['dead >= 3']}\n", "casualties[0]: unknown category 'dead'"),
    (
        "rules:\n  - name: a\n    severity: info\n    when_any: {killed: 1}\n    countries: [Ghana]\n",
        ":5: rules[0] (name 'a'): countries[0]: expected an ISO 3166 alpha-2 code",
    ),
    (
        "rules:\n  - {name: a, severity: info, when_any: {killed: 1}, regions: [sahel]}\n",
        "regions[0]: unknown region 'sahel'; defined: none",
    ),
    ("regions: {sahel: [Mali]}\nrules: []\n", ":1: regions.sahel: expected a list of ISO 3166 country codes"),
    (
        "rules:\n  - {name: a, severity: info, when_any: {killed: 1}, throttle: {max: 0, per: 1h}}\n",
        "throttle.max: expected an integer >= 1, got 0",
    ),
    (
        "rules:\n  - {name: a, severity: info, when_any: {killed: 1}, throttle: {max: 2, per: soon}}\n",
        "throttle.per: expected a duration such as 30m",
    ),
    (
        "rules:\n  - {name: a, severity: info, when_any: {killed: 1}, throttle: {max: 2}}\n",
        "throttle: expected {max: <n>, per: <duration>}",
    ),
    (
        "rules:\n  - {name: a, severity: info, when_any: {killed: 1}, throttle: {}}\n",
        "throttle: expected {max: <n>, per: <duration>} and/or channels",
    ),
    (
        "rules:\n  - {name: a, severity: info, when_any: {killed: 1}, throttle: {max: 2, per: 1h, every: 3}}\n",
        "throttle: expected",
    ),
    (
        "rules:\n  - {name: a, severity: info, when_any: {killed: 1}, throttle: {channels: []}}\n",
        "throttle.channels: expected a mapping of channel kind",
    ),
    (
        "rules:\n  - {name: a, severity: info, when_any: {killed: 1}, throttle: {channels: {slack: {max: 0, per: 1h}}}}\n",
        "throttle.channels.slack.max: expected an integer >= 1, got 0",
    ),
    (
        "rules:\n  - {name: a, severity: info, when_any: {killed: 1}, throttle: {channels: {slack: {max: 2}}}}\n",
        "throttle.channels.slack: expected {max: <n>, per: <duration>}",
    ),
    (
        "rules:\n  - {name: a, severity: info, when_any: {killed: 1}, updates_on: [dead]}\n",
        "updates_on[0]: unknown category",
    ),
    (
        "rules:\n  - {name: a, severity: info, when_any: {killed: 1}, sources: [3]}\n",
        "sources: expected a list of non-empty strings",
    ),
]


@pytest.mark.parametrize(("body", "message"), MORE_BAD)
def test_more_bad_rules(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        route.load_rules(_write(tmp_path, body))
    assert message in str(err.value)
    assert str(err.value).startswith(str(tmp_path / "rules.yaml"))
