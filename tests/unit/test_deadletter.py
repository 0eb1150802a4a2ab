"""The pure parts of `wirewatch deadletter`: which letters are kept, merged and how each is replayed."""

from __future__ import annotations

import orjson
import pytest

from wirewatch import deadletter as dl
from wirewatch.errors import ConfigError
from wirewatch.settings import load_settings

LINK = {"link_id": "a" * 32, "url": "https://news.example/a", "source": "cli", "submitted_at": "2026-12-06T01:00:00Z"}


def letter(
    stage="fetch",
    reason="http_status",
    payload=None,
    topic="wirewatch.links",
    at="2026-12-06T01:00:05Z",
    link_id="a" * 32,
    url="https://news.example/a",
) -> dict:
    return {
        "stage": stage,
        "reason": reason,
        "detail": "404",
        "topic": topic,
        "payload": LINK if payload is None else payload,
        "link_id": link_id,
        "url": url,
        "at": at,
        "attempts": 1,
    }


def read(value: dict) -> dl.Letter:
    out = dl.from_record(orjson.dumps(value), "0/1")
    assert out is not None
    return out


def test_nested_letters_keep_the_first_stage_and_reason():
    inner = letter()
    outer = letter(stage="outcomes", reason="storage_unavailable", payload=inner, topic="wirewatch.deadletter")
    got = read(letter(stage="outcomes", reason="storage_unavailable", payload=outer, topic="wirewatch.deadletter"))
    assert (got.stage, got.reason, got.topic, got.nested, got.payload) == (
        "fetch",
        "http_status",
        "wirewatch.links",
        2,
        LINK,
    )


def test_merge_keeps_the_latest_copy_and_adds_expired_links_from_storage():
    a, b = read(letter(at="2026-12-06T01:00:05Z")), read(letter(at="2026-12-06T02:00:05Z"))
    rows = [
        {
            "link_id": "a" * 32,
            "url": LINK["url"],
            "outcome": "dead_lettered",
            "stage": "fetch",
            "reason": "http_status",
        },
        {
            "link_id": "b" * 32,
            "url": "https://news.example/b",
            "outcome": "dead_lettered",
            "stage": "store",
            "reason": "storage_unavailable",
        },
        {"link_id": "dl-123", "url": "", "outcome": "dead_lettered", "stage": "fetch", "reason": "invalid_message"},
    ]
    merged = dl.merge([a, b], rows)
    assert [(m.source, m.link_id, m.at) for m in merged] == [
        ("topic", "a" * 32, "2026-12-06T02:00:05Z"),
        ("outcome", "b" * 32, ""),
    ]
    assert dl.counts(merged) == [
        {"stage": "fetch", "reason": "http_status", "count": 1},
        {"stage": "store", "reason": "storage_unavailable", "count": 1},
    ]


def test_filter_by_stage_reason_time_link_and_settled():
    x = read(letter())
    x.outcome = "dead_lettered"
    assert dl.Filter.parse(stages=["fetch"], reasons=["http_status"], link_ids=["a" * 32]).keeps(x)
    assert not dl.Filter.parse(stages=["store"]).keeps(x)
    assert dl.Filter.parse(since="2026-12-06T01:00:00Z", until="2026-12-06T01:01:00Z").keeps(x)
    assert not dl.Filter.parse(since="2026-12-06T01:00:06Z").keeps(x)
    x.outcome = "stored"  # replayed or redelivered since: settled
    assert not dl.Filter.parse().keeps(x) and dl.Filter.parse(include_settled=True).keeps(x)
    alert_letter = letter(stage="alert", reason="receiver_rejected", payload={"alert_id": "r1-s1-new"})
    undelivered, delivered = (dl.merge([read(alert_letter)], [], ids)[0] for ids in (set(), {"r1-s1-new"}))
    assert dl.Filter.parse().keeps(undelivered) and not dl.Filter.parse().keeps(delivered)
    with pytest.raises(ConfigError):
        dl.Filter.parse(since="last tuesday")


def test_plan_sends_the_payload_back_to_its_topic_or_starts_the_link_over():
    settings = load_settings()
    r = dl.plan(read(letter()), settings, "2026-12-06T03:00:00.000000Z")
    assert (r.schema, r.topic, r.key, orjson.loads(r.value)) == ("link", "wirewatch.links", LINK["url"], LINK)
    excerpt = read(letter(stage="fetch", reason="too_large", payload="<excerpt> sha256:..."))
    r = dl.plan(excerpt, settings, "2026-12-06T03:00:00.000000Z")
    assert orjson.loads(r.value) == {**LINK, "source": "replay", "submitted_at": "2026-12-06T03:00:00.000000Z"}
    with pytest.raises(dl.NotReplayable, match="invalid_message"):
        dl.plan(read(letter(reason="invalid_message", payload={"url": 3})), settings, "2026-12-06T03:00:00Z")
    with pytest.raises(dl.NotReplayable):
        dl.plan(
            read(letter(stage="alert", reason="receiver_rejected", payload="cut", topic="wirewatch.alerts")),
            settings,
            "2026-12-06T03:00:00Z",
        )


def test_a_letter_a_later_version_wrote_is_replayed_whole():
    # Its payload carries a field this version does not know: sent back as it was (the stage that
    # reads it strips what it does not know), not refused and not started over from the link.
    future = {**LINK, "priority": "high"}
    r = dl.plan(read(letter(payload=future)), load_settings(), "2026-12-06T03:00:00Z")
    assert (r.schema, r.topic, orjson.loads(r.value)) == ("link", "wirewatch.links", future)
