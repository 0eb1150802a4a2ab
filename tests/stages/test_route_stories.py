"""One alert per story (stages/route.py ``decide``), updates on a rising toll, throttling and
digests (stages/throttle.py), the backtest (backtest.py) and hot reload (stages/rules_watch.py).
The agent tests run the route core on real SQLite storage."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.harness.ten_outlets import OTHERS, RISING, SAME_TOLL, TEN
from tests.stages.test_story import enriched_of
from wirewatch import contract
from wirewatch.agents import route as route_agent
from wirewatch.backtest import replay
from wirewatch.runtime import Runtime
from wirewatch.settings import load_settings
from wirewatch.sinks.storage import open_storage
from wirewatch.stages import route, story as story_core, throttle
from wirewatch.stages.rules_watch import RulesWatcher

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RULES = ROOT / "services" / "wirewatch" / "defaults" / "rules.yaml"
NOW = "2026-11-23T12:00:00.000000Z"


def run(reports, rules=None, stories=None) -> tuple[list[dict], list[story_core.Story]]:
    """Every article through ``decide`` in order, with in-memory stories; the alerts raised."""
    rules = rules or route.load_rules(DEFAULT_RULES)
    stories = [] if stories is None else stories
    alerts: list[dict] = []
    for r in reports:
        e = enriched_of(r) if not isinstance(r, dict) else r
        matched = route.evaluate(rules, e)
        if not matched:
            continue
        d = route.decide(e, matched, stories, NOW)
        if all(s is not d.story for s in stories):
            stories.append(d.story)
        for a in d.alerts:
            contract.validate("alert", a)
        alerts.extend(d.alerts)
    return alerts, stories


def test_ten_outlets_raise_one_alert_and_a_rising_toll_one_update() -> None:
    alerts, stories = run(TEN + [SAME_TOLL, RISING])
    assert [a["kind"] for a in alerts] == ["new", "update"]
    new, update = alerts
    assert new["canonical_url"].startswith("https://kivu-wire.example/")
    assert new["story_id"] == update["story_id"] == stories[0].story_id
    assert update["previous_figures"] == {"killed": {"count": 27}}
    assert update["changes"] == [
        {
            "category": "killed",
            "previous": 27,
            "current": 41,
            "url": update["canonical_url"],
            "sitename": "Lakeside Wire",
        }
    ]
    assert update["figures"]["killed"]["count"] == 41
    # Who said what: every member that reported a figure (the ten outlets and the rise at least; the
    # vigil's "mourn the 27 people who were killed ... on Sunday" counts only if enrich reads it as this toll).
    reported = [m for m in stories[0].members if m.get("figures")]
    assert len(update["sources"]) == len(reported) >= 11 and update["sources"][-1]["figures"] == {"killed": 41}
    assert any("41" in s for s in update["evidence"])


def test_a_lower_or_equal_toll_raises_nothing() -> None:
    alerts, _ = run([RISING] + TEN + [SAME_TOLL])
    assert [a["kind"] for a in alerts] == ["new"]
    assert alerts[0]["figures"]["killed"]["count"] == 41


def test_other_events_are_their_own_stories() -> None:
    alerts, stories = run(TEN[:3] + OTHERS)
    assert [a["kind"] for a in alerts] == ["new", "new", "new"]
    assert len({a["story_id"] for a in alerts}) == 3 == len(stories)


def test_redelivery_sends_the_same_alerts_again_and_nothing_new() -> None:
    alerts, stories = run(TEN[:2] + [RISING])
    again, _ = run([TEN[0], RISING, TEN[1]], stories=stories)
    assert [a["alert_id"] for a in again] == [alerts[0]["alert_id"], alerts[1]["alert_id"]]
    assert stories[0].state["size"] == 3


def test_alert_ids_new_per_rule_and_story_update_per_figure() -> None:
    alerts, stories = run(TEN[:1] + [RISING])
    sid = stories[0].story_id
    assert alerts[0]["alert_id"] == route.alert_id("people-killed-or-wounded", sid)
    assert alerts[1]["alert_id"] == route.update_id("people-killed-or-wounded", sid, {"killed": 41})
    assert route.update_id("r", sid, {"killed": 41}) != route.update_id("r", sid, {"killed": 42})
    # The same story replayed elsewhere (a backtest, another worker) gets the same ids.
    again, _ = run(TEN[:1] + [RISING])
    assert [a["alert_id"] for a in again] == [a["alert_id"] for a in alerts]


def test_each_matching_rule_alerts_once_per_story(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n  - {name: any, severity: info, when_any: {killed: 1}}\n"
        "  - {name: mass, severity: critical, casualties: ['killed >= 30'], updates_on: [killed]}\n"
    )
    alerts, _ = run(TEN + [RISING], rules=route.load_rules(path))
    assert [(a["rule"], a["kind"]) for a in alerts] == [("any", "new"), ("any", "update"), ("mass", "new")]


# -- throttle and digests -----------------------------------------------------------------------


def test_fixed_windows() -> None:
    at = datetime(2026, 11, 23, 12, 40, tzinfo=UTC)
    assert throttle.window_of(at, timedelta(hours=1)) == (
        datetime(2026, 11, 23, 12, tzinfo=UTC),
        datetime(2026, 11, 23, 13, tzinfo=UTC),
    )


def test_admit_is_idempotent_per_alert() -> None:
    sent, held = ["a", "b"], [{"alert_id": "c"}]
    assert throttle.admit(sent, held, "a", 2) == (True, False)
    assert throttle.admit(sent, held, "c", 2) == (False, False)
    assert throttle.admit(sent, held, "d", 2) == (False, True)
    assert throttle.admit(sent, held, "d", 3) == (True, True)


def test_the_per_channel_digest_example_is_a_valid_alert() -> None:
    digest = orjson.loads((ROOT / "schemas" / "examples" / "alert-digest.json").read_bytes())
    contract.validate("alert", digest)
    assert digest["channel"] == "slack" and digest["held_back"] == len(digest["items"])


def test_limit_for_reads_the_rules_per_channel_limit(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n  - {name: r, severity: info, when_any: {killed: 1}, throttle: {max: 9, per: 1d, channels: {slack: {max: 2, per: 1h}}}}\n"
    )
    rules = route.load_rules(path)
    for kind in ("new", "update"):
        assert throttle.limit_for(rules, {"rule": "r", "kind": kind}, "slack") == route.Throttle(2, timedelta(hours=1))
    assert throttle.limit_for(rules, {"rule": "r", "kind": "new"}, "webhook") is None  # only the rule-wide limit
    assert throttle.limit_for(rules, {"rule": "r", "kind": "digest", "channel": "slack"}, "slack") is None
    assert throttle.limit_for(rules, {"kind": "channel_failing"}, "slack") is None
    assert throttle.limit_for(rules, {"rule": "gone", "kind": "new"}, "slack") is None  # removed by a reload


def test_a_digest_is_a_valid_alert() -> None:
    alerts, _ = run(TEN[:1] + OTHERS)
    start = datetime(2026, 11, 23, 12, tzinfo=UTC)
    d = throttle.make_digest(
        "r", "critical", "*", start, start + timedelta(hours=1), [throttle.summary(a) for a in alerts], 5, NOW
    )
    contract.validate("alert", d)
    assert d["kind"] == "digest" and d["held_back"] == 3 and len(d["evidence"]) == 3
    assert d["alert_id"] == throttle.digest_id("r", "*", start)


# -- the agent on real storage ------------------------------------------------------------------


@pytest.fixture
async def runtime(tmp_path: Path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - {name: any, severity: critical, when_any: {killed: 1}, throttle: {max: 2, per: 1h}}\n"
    )
    rt = Runtime(load_settings(storage_url=f"sqlite:///{tmp_path / 'ww.db'}", rules_file=rules)).load()
    rt.storage = open_storage(rt.settings.resolved_storage_url)
    await rt.storage.start()
    yield rt
    await rt.storage.close()


async def test_route_core_keeps_stories_in_storage_and_throttles(runtime) -> None:
    core = route_agent.make_core(runtime)
    out = [e for r in TEN + [RISING] for e in await core(enriched_of(r))]
    assert [e.value["kind"] for e in out] == ["new", "update"]
    assert all(e.key == e.value["alert_id"] for e in out)
    # A new worker (a restart) on the same storage: the story is remembered, nothing re-alerts.
    fresh = route_agent.make_core(runtime)
    assert [e.value["alert_id"] for e in await fresh(enriched_of(TEN[3]))] == []
    assert [e.value["alert_id"] for e in await fresh(enriched_of(RISING))] == [out[1].value["alert_id"]]
    (stored,) = await runtime.storage.stories()
    assert stored["state"]["size"] == 11
    # Third story-alert in the hour: held for the digest (max 2 per hour).
    assert await core(enriched_of(OTHERS[0])) == []
    assert runtime.metrics.alerts_raised.labels(kind="throttled")._value.get() == 1
    sent: list = []

    async def emit(e):
        sent.append(e.value)

    assert await route_agent.flush_digests(runtime, emit) == 0  # the window is still open
    due = await runtime.storage.due_digests(datetime.now(UTC) + timedelta(hours=2))
    assert len(due) == 1 and due[0]["held"][0]["title"] == OTHERS[0].title
    runtime.storage.due_digests = lambda now=None, f=runtime.storage.due_digests: f(
        datetime.now(UTC) + timedelta(hours=2)
    )
    assert await route_agent.flush_digests(runtime, emit) == 1
    contract.validate("alert", sent[0])
    assert sent[0]["kind"] == "digest" and sent[0]["items"][0]["canonical_url"].startswith("https://quarry")
    assert await route_agent.flush_digests(runtime, emit) == 0  # sent once


async def test_without_storage_each_article_alerts_on_its_own(tmp_path: Path) -> None:
    rt = Runtime(load_settings(storage_url=f"sqlite:///{tmp_path / 'x.db'}")).load()
    out = await route_agent.make_core(rt)(enriched_of(TEN[0]))
    assert [e.value["kind"] for e in out] == ["new"]


# -- backtest -----------------------------------------------------------------------------------


def test_backtest_replay_says_what_would_have_alerted_and_why(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n  - {name: mass, severity: critical, casualties: ['killed >= 10'], throttle: {max: 1, per: 1d}}\n"
    )
    articles = []
    for i, r in enumerate(TEN[:3] + [RISING] + OTHERS):
        e = enriched_of(r)
        e["first_seen"] = datetime(2026, 11, 22, 17, tzinfo=UTC) + timedelta(minutes=10 * i)
        articles.append(e)
    report = replay(route.load_rules(path), articles)
    assert [(line.outcome, line.canonical_url.split("/")[2]) for line in report.lines] == [
        ("new", "kivu-wire.example"),
        ("attached", "kivu-daily.example"),
        ("attached", "kivu-post.example"),
        ("held", "kivu-toll-rises.example"),
        ("held", "bus-gorge.example"),
    ]
    assert report.lines[0].why == ["killed >= 10 (reported 27)"]
    assert report.lines[3].changes[0]["current"] == 41
    assert report.totals() == {
        "articles": 6,
        "matched": 5,
        "stories": 2,
        "new": 1,
        "update": 0,
        "held": 2,
        "attached": 2,
    }
    assert "why: killed >= 10 (reported 27)" in report.lines[0].text()


# -- hot reload ---------------------------------------------------------------------------------


def test_a_valid_edit_reloads_and_a_bad_one_keeps_the_old_rules(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - {name: one, severity: info, when_any: {killed: 1}}\n")
    live: list = route.load_rules(path)
    outcomes: list[str] = []
    w = RulesWatcher(path, lambda rules: live.__setitem__(slice(None), rules), outcomes.append)
    w.prime()
    assert w.check().outcome == "unchanged"

    path.write_text("rules:\n  - {name: two, severity: info, when_any: {killed: 5}}\n")
    os.utime(path, ns=(1, 1))  # a new mtime even on a coarse clock
    assert w.check().outcome == "ok" and [r.name for r in live] == ["two"]

    path.write_text("rules:\n  - name: three\n    severity: loud\n    when_any: {killed: 5}\n")
    os.utime(path, ns=(2, 2))
    bad = w.check()
    assert bad.outcome == "invalid" and [r.name for r in live] == ["two"]
    assert f"{path}:3: rules[0] (name 'three'): severity:" in bad.error
    assert w.check().outcome == "unchanged"  # refused once, not on every poll
    assert outcomes == ["ok", "invalid"]

    path.write_text("rules:\n  - {name: four, severity: info, when_any: {killed: 5}}\n")
    os.utime(path, ns=(3, 3))
    assert w.check().outcome == "ok" and [r.name for r in live] == ["four"]


# -- `wirewatch rules test FILE` -----------------------------------------------------------------


async def test_rules_test_command_backtests_stored_articles(tmp_path: Path) -> None:
    import subprocess
    import sys

    from wirewatch.worker_process import settings_env

    db = f"sqlite:///{tmp_path / 'ww.db'}"
    storage = open_storage(db)
    await storage.start()
    try:
        for r in TEN[:3] + [RISING] + OTHERS:
            await storage.upsert_article(enriched_of(r))
    finally:
        await storage.close()
    rules = tmp_path / "try.yaml"
    rules.write_text("rules:\n  - name: mass\n    severity: critical\n    casualties: ['killed >= 10']\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
    env.update(settings_env({"storage_url": db}))

    def wirewatch(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "wirewatch", *args], env=env, capture_output=True, text=True, timeout=120
        )

    out = wirewatch("rules", "test", str(rules))
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("ALERT ") == 2 and out.stdout.count("UPDATE") == 1 and out.stdout.count("joins") == 2
    assert "why: killed >= 10 (reported 27)" in out.stdout and "killed: 27 -> 41" in out.stdout
    assert "6 stored articles, 5 matched a rule, 2 stories" in out.stdout

    lines = [orjson.loads(x) for x in wirewatch("rules", "test", "--json", str(rules)).stdout.splitlines()]
    assert lines[-1]["totals"]["update"] == 1 and lines[0]["outcome"] == "new"

    rules.write_text("rules:\n  - name: mass\n    severity: critical\n    casualties: ['kiled >= 10']\n")
    bad = wirewatch("rules", "test", str(rules))
    assert bad.returncode == 2 and f"{rules}:4: rules[0] (name 'mass'): casualties[0]: unknown category" in bad.stderr


async def test_stories_stored_before_the_index_are_filed_when_storage_upgrades(runtime) -> None:
    core = route_agent.make_core(runtime)
    assert [e.value["kind"] for r in TEN[:3] for e in await core(enriched_of(r))] == ["new"]

    # The database as version 5 left it: stories, no candidate keys.
    async def downgrade(tx: Any) -> None:
        await tx.execute("DELETE FROM story_keys")
        await tx.execute("DELETE FROM schema_version WHERE version >= 6")

    await runtime.storage.transact(downgrade)
    await runtime.storage.close()
    runtime.storage = open_storage(runtime.settings.resolved_storage_url)
    await runtime.storage.start()
    assert (await runtime.storage.transact(lambda tx: tx.fetchrow("SELECT count(*) AS n FROM story_keys")))["n"] > 0
    # The next outlet still joins the story it would have joined before.
    assert await route_agent.make_core(runtime)(enriched_of(TEN[3])) == []
    (stored,) = await runtime.storage.stories()
    assert stored["state"]["size"] == 4


# -- follow-ups of expired stories --------------------------------------------------------------


def test_a_follow_up_raises_no_new_alert_and_an_update_only_when_the_toll_rose() -> None:
    from tests.stages.test_story import follow_ups

    rules = route.load_rules(DEFAULT_RULES)
    first, charged, other, fourth = follow_ups()
    stories: list[story_core.Story] = []
    kinds = []
    for e in (first, charged, other, fourth):
        d = route.decide(e, route.evaluate(rules, e), stories, NOW, follow_up=timedelta(days=365))
        if all(s is not d.story for s in stories):
            stories.append(d.story)
        kinds.append((d.outcome, [a["kind"] for a in d.alerts]))
    assert kinds == [("new", ["new"]), ("follow_up", []), ("new", ["new"]), ("update", ["update"])]
    diner = stories[0]
    assert [m.get("follow_up", False) for m in diner.members] == [False, True, True]  # its history
    assert diner.state["follow_ups"] == 2 and diner.figures["killed"]["count"] == 4
    # Without follow-ups, the old event in the news again is a new story and a new alert.
    alone = route.decide(first, route.evaluate(rules, first), [], NOW).story
    d = route.decide(charged, route.evaluate(rules, charged), [alone], NOW)
    assert d.outcome == "new" and d.story is not alone


async def test_route_core_finds_an_expired_story_in_storage_for_a_follow_up(tmp_path: Path) -> None:

    runtime = Runtime(load_settings(storage_url=f"sqlite:///{tmp_path / 'ww.db'}")).load()  # the default rules
    runtime.storage = open_storage(runtime.settings.resolved_storage_url)
    await runtime.storage.start()
    try:
        await _follow_ups_through_the_route_core(runtime)
    finally:
        await runtime.storage.close()


async def _follow_ups_through_the_route_core(runtime) -> None:
    """The follow-up scenario through the route agent's core on `runtime`'s storage."""
    from tests.stages.test_story import follow_ups

    core = route_agent.make_core(runtime)
    first, charged, other, fourth = follow_ups()
    out = [[e.value["kind"] for e in await core(a)] for a in (first, charged, other, fourth)]
    assert out == [["new"], [], ["new"], ["update"]]
    assert runtime.metrics.stories.labels(outcome="follow_up")._value.get() == 1
    diner = next(s for s in await runtime.storage.stories() if s["state"]["size"] == 3)
    assert diner["state"]["follow_ups"] == 2
    assert await core(charged) == []  # a redelivered follow-up: already in its story
    assert runtime.metrics.stories.labels(outcome="known_article")._value.get() == 1
