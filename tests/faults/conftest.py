"""The fault suite's fixtures: the session's real Kafka and PostgreSQL, and the scenarios' settings
(short outages, so the whole suite takes a few minutes; `make bench-faults` runs the issue's)."""

from __future__ import annotations

import pytest

from .scenarios import Env


@pytest.fixture
def fault_env(kafka, postgres, tmp_path) -> Env:
    return Env(kafka=kafka, postgres=postgres, tmp=tmp_path)
