"""The read API tests run on both real backends, like the storage tests (tests/sinks/conftest.py)."""

from tests.sinks.conftest import storage, storage_url  # noqa: F401 - fixtures shared with the storage tests
