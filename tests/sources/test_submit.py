"""`wirewatch submit` with no broker: the failure is the error tree's Unavailable, not a bare retry."""

import asyncio

import pytest

from wirewatch.errors import Unavailable
from wirewatch.settings import load_settings
from wirewatch.sources.submit import submit_links


def test_no_broker_and_no_outbox_is_broker_unavailable():
    settings = load_settings(outbox="off")
    with pytest.raises(Unavailable) as caught:
        asyncio.run(submit_links(None, settings, ["https://news.example/a"], source="test"))
    assert caught.value.reason == "broker_unavailable"
