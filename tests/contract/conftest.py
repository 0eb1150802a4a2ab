"""The contract tests that run a worker use the end-to-end tests' sample site and alert receiver."""

from tests.integration.conftest import receiver, site  # noqa: F401 - fixtures, shared not copied
