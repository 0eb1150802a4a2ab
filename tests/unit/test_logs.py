"""Logging: JSON lines with the link's id and stage, floods summarised, long values cut."""

from __future__ import annotations

import io
import logging

import orjson
import pytest

from tests.harness.loopback import FakeTime
from wirewatch import logs


@pytest.fixture
def captured():
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    stream = io.StringIO()
    handler = logs.setup("INFO", "json", stream=stream)
    yield stream, handler
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in saved:
        root.addHandler(h)
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict]:
    return [orjson.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_the_link_and_stage(captured):
    stream, _ = captured
    log = logging.getLogger("wirewatch.test")
    logs.bind(stage="fetch", link_id="abc123")
    log.info("fetched %s", "https://news.example/a")
    logs.bind(stage=None, link_id=None)
    log.warning("no link here", extra={"reason": "x"})
    first, second = lines(stream)
    assert set(first) >= {"time", "level", "logger", "message", "link_id", "stage", "reason"}
    assert (first["link_id"], first["stage"], first["message"]) == ("abc123", "fetch", "fetched https://news.example/a")
    assert first["time"].endswith("Z") and first["level"] == "INFO" and first["logger"] == "wirewatch.test"
    assert (second["link_id"], second["reason"]) == (None, "x")


def test_long_values_are_truncated(captured):
    stream, _ = captured
    logging.getLogger("wirewatch.test").warning("bad url %s", "https://x.example/" + "a" * 8000)
    (line,) = lines(stream)
    assert len(line["message"]) < 1100 and "more characters]" in line["message"]


def test_tracebacks_stay_in_the_json_object(captured):
    stream, _ = captured
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("wirewatch.test").exception("failed")
    (line,) = lines(stream)
    assert "ValueError: boom" in line["exc"]


def test_a_flood_is_one_line_and_a_count_per_kind_and_interval():
    t = FakeTime()
    stream = io.StringIO()
    summary = logs.RepeatSummary(interval=60, clock=t.clock)
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.ContextFilter())
    handler.addFilter(summary)
    handler.setFormatter(logs.JsonFormatter())
    summary.emit_summary = handler.emit
    log = logging.getLogger("wirewatch.flood")
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.INFO)
    try:
        for i in range(1000):
            t.now += 0.01
            log.warning(
                "%s: dead-lettering: %s: %s",
                "fetch",
                "http_status",
                f"404 for link {i}",
                extra={"reason": "http_status"},
            )
            log.warning("%s: dead-lettering: %s: %s", "fetch", "timeout", f"link {i}", extra={"reason": "timeout"})
            log.info("progress %d", i)  # INFO is never summarised
        t.now += 60
        log.error("Unable connect to node with id %s", 1)
        summary.flush()
    finally:
        log.removeHandler(handler)
        log.propagate = True
    out = [line for line in lines(stream) if line["level"] != "INFO"]
    assert [(line["reason"], line.get("repeats")) for line in out] == [
        ("http_status", None),
        ("timeout", None),
        ("http_status", 999),
        ("timeout", 999),
        (None, None),
    ]
    assert "999 more like this in the last" in out[2]["message"]
    assert sum(1 for line in lines(stream) if line["level"] == "INFO") == 1000
