"""No Docker engine runs here, so check what can be checked without one: the compose file and
Prometheus config parse, every WIREWATCH_* variable they set is a real setting with a valid value,
and every path the Dockerfile copies exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

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
            # ${VAR:-default} is resolved by compose; test the default.
            value = re.sub(r"\$\{[A-Z_]+:-(.*)\}", r"\1", value)
            monkeypatch.setenv(key, value)
    settings = load_settings()
    assert settings.broker == "kafka://kafka:9092"
    assert settings.storage_url.startswith("postgresql://")


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
