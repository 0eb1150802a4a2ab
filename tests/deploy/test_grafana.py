"""deploy/grafana/wirewatch.json: valid JSON that Grafana imports, every query names only series
wirewatch exports (metrics.py, the process collector, Prometheus's own `up`), and the views an
operator needs are there."""

from __future__ import annotations

import json
from pathlib import Path

from tests.harness.promql import PROMETHEUS_SERIES, exported, queryable, series_names

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "wirewatch.json"


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def panels() -> list[dict]:
    return [p for p in dashboard()["panels"] if p["type"] != "row"]


def test_it_is_an_importable_dashboard():
    d = dashboard()
    assert d["uid"] and d["title"] and d["schemaVersion"] >= 30
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for p in panels():
        assert p["datasource"]["uid"] == "${DS_PROMETHEUS}" and p["targets"], p["title"]
        grid = p["gridPos"]
        assert grid["x"] + grid["w"] <= 24, p["title"]


def test_every_query_uses_series_wirewatch_exports():
    known = queryable(exported()) | PROMETHEUS_SERIES
    for p in panels():
        for target in p["targets"]:
            used = series_names(target["expr"])
            assert used, f"{p['title']}: no series in {target['expr']!r}"
            assert used <= known, f"{p['title']}: {sorted(used - known)} is not in metrics.py"


def test_the_views_an_operator_needs_are_there():
    used = {name for p in panels() for t in p["targets"] for name in series_names(t["expr"])}
    for needed in (
        "wirewatch_stage_messages_total",
        "wirewatch_dead_letters_total",
        "wirewatch_filtered_total",
        "wirewatch_stage_latency_seconds_bucket",
        "wirewatch_consumer_lag",
        "wirewatch_alerts_total",
        "wirewatch_alert_delivery_seconds_bucket",
        "wirewatch_source_stale",
        "wirewatch_dependency_up",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
    ):
        assert needed in used, f"the dashboard has no panel on {needed}"
