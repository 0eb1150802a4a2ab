"""Fixtures the end-to-end tests share: the sample news site and an alert receiver, both real
HTTP servers on loopback, started for one test and stopped after it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from wirewatch.demo.receiver import AlertReceiver
from wirewatch.demo.site import DemoSite


@pytest.fixture
async def site() -> AsyncIterator[DemoSite]:
    """The offline sample site: its manifest lists every short link and what it should become."""
    s = DemoSite()
    s.start()
    yield s
    s.stop()


@pytest.fixture
async def receiver() -> AsyncIterator[AlertReceiver]:
    """A webhook receiver that answers 200 and keeps every delivery (and the first per Idempotency-Key)."""
    r = AlertReceiver()
    await r.start()
    yield r
    await r.stop()
