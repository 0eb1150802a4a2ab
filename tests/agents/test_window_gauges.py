"""The stage windows' gauges (wirewatch_stage_in_flight, wirewatch_stage_uncommitted) are read from
each agent's window when /metrics is scraped, not set on every message (app.py)."""

from __future__ import annotations

from prometheus_client import generate_latest

from wirewatch.app import create_app
from wirewatch.settings import load_settings


def test_window_gauges_read_the_window_at_scrape():
    app = create_app(load_settings(web_port=6066))
    registry = app.wirewatch_runtime.metrics.registry

    def scraped() -> str:
        return generate_latest(registry).decode()

    # No window yet (the agent has not started): 0.
    assert 'wirewatch_stage_in_flight{stage="fetch"} 0.0' in scraped()
    assert 'wirewatch_stage_uncommitted{stage="outcomes-deadletter"} 0.0' in scraped()

    class Window:
        working, uncommitted = 3, 7

    app.wirewatch_flows["fetch"] = Window()
    text = scraped()
    assert 'wirewatch_stage_in_flight{stage="fetch"} 3.0' in text
    assert 'wirewatch_stage_uncommitted{stage="fetch"} 7.0' in text
    assert 'wirewatch_stage_in_flight{stage="route"} 0.0' in text
    del app.wirewatch_flows["fetch"]  # the agent stopped: back to 0
    assert 'wirewatch_stage_in_flight{stage="fetch"} 0.0' in scraped()
