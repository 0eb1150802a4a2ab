"""The worker's event loop (boot.use_event_loop): uvloop where installed, asyncio's own otherwise."""

from __future__ import annotations

import asyncio
import sys

import pytest
import uvloop

from wirewatch.boot import use_event_loop
from wirewatch.errors import ConfigError


@pytest.fixture
def policy():
    yield
    asyncio.set_event_loop_policy(None)  # the default again for the tests after


def _kind_of_new_loop() -> type:
    loop = asyncio.new_event_loop()
    try:
        return type(loop)
    finally:
        loop.close()


def test_auto_and_uvloop_make_new_loops_uvloop(policy):
    for choice in ("auto", "uvloop"):
        asyncio.set_event_loop_policy(None)
        assert use_event_loop(choice) == "uvloop"
        assert _kind_of_new_loop() is uvloop.Loop


def test_asyncio_leaves_the_default_loop(policy):
    assert use_event_loop("asyncio") == "asyncio"
    assert _kind_of_new_loop() is not uvloop.Loop


def test_without_uvloop_auto_falls_back_and_uvloop_is_a_config_error(policy, monkeypatch):
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop -> ImportError
    assert use_event_loop("auto") == "asyncio"
    assert _kind_of_new_loop() is not uvloop.Loop
    with pytest.raises(ConfigError, match="uvloop"):
        use_event_loop("uvloop")
