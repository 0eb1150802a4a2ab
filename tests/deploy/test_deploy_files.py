"""No Docker engine runs here, so check what can be checked without one: the compose file and
Prometheus config parse, every WIREWATCH_* variable they set is a real setting with a valid value,
and every path the Dockerfile copies exists. The Prometheus alerting rules use only series that
wirewatch exports, fire on synthetic series as they should (promtool, Debian's prometheus package),
and docs/operations.md has a runbook per alert and a metrics table that matches metrics.py."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.harness.promql import PROMETHEUS_SERIES, exported, queryable, series_names
from wirewatch.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_has_the_whole_stack():
    services = compose()["services"]
    assert {"kafka", "postgres", "intake", "worker", "prometheus"} <= set(services)
    for name in ("intake", "worker"):
        assert services[name]["image"] == "wirewatch:latest"


@pytest.mark.parametrize("service", ["intake", "worker"])
def test_compose_settings_are_valid(service, monkeypatch):
    env = compose()["services"][service]["environment"]
    for key, value in env.items():
        if key.startswith("WIREWATCH_"):
            value = str(value)
            # ${VAR:-default} is resolved by compose; test the default. ${VAR:?msg} must be set.
            value = re.sub(r"\$\{[A-Z_]+:-(.*)\}", r"\1", value)
            value = re.sub(r"\$\{[A-Z_]+:\?.*\}", "operator-set-token", value)
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("WIREWATCH_WEB_HOST", "0.0.0.0")  # what the image sets
    settings = load_settings()
    assert settings.broker == "kafka://kafka:9092"
    assert settings.resolved_storage_url.startswith("postgresql://")
    assert settings.intake.token is not None, "the image binds 0.0.0.0: compose must set an intake token"


def test_compose_restarts_and_checks_readiness():
    services = compose()["services"]
    for name, service in services.items():
        assert service.get("restart") in ("unless-stopped", "always"), f"{name} has no restart policy"
    for name in ("intake", "worker"):
        test = " ".join(services[name]["healthcheck"]["test"])
        assert "/health/ready" in test, f"{name}'s healthcheck must ask the readiness endpoint"
        assert set(services[name]["depends_on"]) == {"kafka", "postgres"}
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_dockerfile_installs_the_locked_wheel_on_a_pinned_base():
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^ARG BASE=python:[\w.-]+@sha256:[0-9a-f]{64}$", text, re.M), "pin the base image by digest"
    assert all(line.split()[1] == "${BASE}" for line in text.splitlines() if line.startswith("FROM "))
    assert "--require-hashes -r requirements.lock" in text and "/health/ready" in text


def test_dockerignore_keeps_the_context_small():
    lines = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "ignore everything, then allow what the build copies"
    allowed = {entry[1:].rstrip("/") for entry in lines if entry.startswith("!")}
    copied = set()
    for line in (DEPLOY / "Dockerfile").read_text().splitlines():
        m = re.match(r"COPY (?!--from)(.+) (\S+)$", line.strip())
        if m:
            copied |= set(m.group(1).split())
    assert {c.rstrip("/") for c in copied} == allowed


def test_lock_pins_every_dependency_with_hashes():
    import tomllib

    from packaging.requirements import Requirement

    lock = (DEPLOY / "requirements.lock").read_text()
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)(?: ;[^\\\n]*)? \\$", lock, re.M))  # a pin may carry markers
    pins = {re.sub(r"[-_.]+", "-", k).lower(): v for k, v in pins.items()}
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    for dep in deps:
        req = Requirement(dep)
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        assert name in pins, f"{req.name} is not in deploy/requirements.lock: run `make lock`"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"{req.name}=={pins[name]} breaks {dep}: run `make lock`"
        )
    blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", lock.split("\n", 2)[-1])
    assert all("--hash=sha256:" in b for b in blocks if "==" in b)


def test_dockerfile_copies_paths_that_exist():
    for line in (DEPLOY / "Dockerfile").read_text().splitlines():
        m = re.match(r"COPY (?!--from)(.+) (\S+)$", line.strip())
        if m:
            for src in m.group(1).split():
                assert (REPO / src).exists(), f"Dockerfile copies missing {src}"


def test_prometheus_scrapes_the_workers():
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    (job,) = config["scrape_configs"]
    assert job["dns_sd_configs"][0]["port"] == 6066


# -- Prometheus alerting rules and the operations guide -----------------------------------------

RULES = DEPLOY / "prometheus" / "rules.yml"
OPERATIONS = REPO / "docs" / "operations.md"


def rules() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def test_series_names_reads_promql():
    expr = (
        'sum by (stage, reason) (rate(wirewatch_dead_letters_total{stage!="x"}[15m] offset 5m)) > 3 * '
        'max(up{job="w"}) and on (stage) wirewatch:stage_input:rate15m unless absent(wirewatch_up == 0.5e1)'
    )
    assert series_names(expr) == {"wirewatch_dead_letters_total", "up", "wirewatch:stage_input:rate15m", "wirewatch_up"}


def test_alert_rules_use_only_exported_series():
    known = queryable(exported()) | PROMETHEUS_SERIES | {r["record"] for r in rules() if "record" in r}
    used = {name for rule in rules() for name in series_names(rule["expr"])}
    assert used, "no series found in rules.yml"
    assert used <= known, f"rules.yml uses series wirewatch does not export: {sorted(used - known)}"


def test_prometheus_loads_the_rules_and_compose_mounts_them():
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    assert config["rule_files"] == ["rules.yml"]
    mounts = compose()["services"]["prometheus"]["volumes"]
    assert "./prometheus/rules.yml:/etc/prometheus/rules.yml:ro" in mounts
    assert "./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in mounts


def test_every_alert_has_a_runbook_section():
    doc = OPERATIONS.read_text()
    headings = {m.group(1) for m in re.finditer(r"^### (Wirewatch\w+)\s*$", doc, re.M)}
    alerts = {r["alert"]: r for r in rules() if "alert" in r}
    assert set(alerts) == headings, "docs/operations.md needs one '### <alert>' runbook section per alert rule"
    for name, rule in alerts.items():
        assert rule["annotations"]["runbook"] == f"docs/operations.md#{name.lower()}"
        assert rule["labels"]["severity"] in ("warning", "critical")


def test_operations_metrics_table_matches_metrics_py():
    rows = {}
    for line in OPERATIONS.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`wirewatch_"):
            labels = tuple(re.findall(r"`(\w+)`", cells[2]))
            rows[cells[0].strip("`")] = (cells[1], labels)
            assert cells[3], f"{cells[0]}: say what it means"
    expected = exported()
    table = "\n".join(
        f"| `{n}` | {k} | {', '.join(f'`{x}`' for x in ls) or '—'} | ... |" for n, (k, ls) in expected.items()
    )
    assert rows == expected, f"docs/operations.md's metrics table is stale; its rows should be:\n{table}"


def promtool() -> str:
    from tests.conftest import unavailable

    path = shutil.which("promtool")
    if path is None:
        unavailable("promtool", "install Debian's prometheus package (make test-deps does)")
    return path


def test_promtool_accepts_the_config_and_rules():
    done = subprocess.run(
        [promtool(), "check", "config", str(DEPLOY / "prometheus" / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_alert_rules_fire_when_they_should_and_only_then():
    # tests/deploy/rules_test.yml: synthetic series for each alert, firing and quiet cases.
    done = subprocess.run(
        [promtool(), "test", "rules", str(Path(__file__).with_name("rules_test.yml"))],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_ci_checks_formatting_lint_and_types_before_the_tests():
    steps = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines() if line.startswith("make ")]
    assert steps[:2] == ["make lint", 'make test PYTEST_ARGS="-q -p no:cacheprovider"'], steps
    makefile = (REPO / "Makefile").read_text()
    recipe = makefile.split("\nlint: install\n", 1)[1].split("\n\n", 1)[0]
    assert "ruff format --check" in recipe and "ruff check" in recipe and "mypy" in recipe, recipe
    # The whole tree, not a list of files that were clean once.
    assert "\nLINT_PATHS ?= services tests benchmarks\n" in makefile
    assert "ignore_errors" not in (REPO / "pyproject.toml").read_text(), "no module is exempt from mypy"
