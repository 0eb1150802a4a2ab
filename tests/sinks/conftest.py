"""Storage fixtures shared by the storage tests: an empty database on each real backend.

``storage_url`` is parametrised over PostgreSQL (a fresh database per test on the session's server
from tests/conftest.py) and SQLite (a file in tmp_path), so every test that asks for ``storage`` or
``storage_url`` runs on both and the two backends cannot drift apart. On CI (CI=true) a missing
PostgreSQL fails the postgres half; elsewhere it is skipped.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.harness.postgres import PostgresServer
from wirewatch.sinks import Storage, open_storage


@pytest.fixture(params=["postgres", "sqlite"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to an empty database of the backend named by the parameter."""
    if request.param == "postgres":
        # Looked up only here, so the sqlite half runs on a machine without PostgreSQL.
        server: PostgresServer = request.getfixturevalue("postgres")
        return server.create_database(f"t_{uuid.uuid4().hex[:16]}")
    return f"sqlite:///{tmp_path}/store/wirewatch.db"


@pytest.fixture
async def storage(storage_url: str) -> AsyncIterator[Storage]:
    """``open_storage(storage_url)``, started; closed after the test."""
    store = open_storage(storage_url)
    await store.start()
    try:
        yield store
    finally:
        await store.close()
