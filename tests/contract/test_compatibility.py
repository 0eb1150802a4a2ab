"""Strict on produce, tolerant on consume (schemas/README.md, "Compatibility"): a message a later
version wrote, with fields this version does not know at any level, is read with those fields
stripped and every known field still checked; what this version writes must match its own schema
exactly. Old and new workers side by side in a rolling upgrade dead-letter none of each other's
messages."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from wirewatch import contract
from wirewatch.errors import InvalidMessage
from wirewatch.stages import story_view

SCHEMAS = contract.schemas_dir()
EXAMPLES = sorted(p.stem for p in (SCHEMAS / "examples").glob("*.json"))
FUTURE = {"added_in_a_later_version": {"nested": [1, 2]}}


def example(stem: str) -> dict:
    payload = orjson.loads((SCHEMAS / "examples" / f"{stem}.json").read_bytes())
    if stem == "enriched":  # the example names no place and no one missing: so those records are reached too
        payload["places"] = [{"name": "Gaza City", "country_code": "PS", "kind": "city", "start": 3, "end": 12}]
        payload["figures"]["missing"] = {"count": 2, "min": 2, "max": None}
    return payload


def schema_of(stem: str) -> str:
    return stem.split("-")[0]  # alert-digest.json is an alert


def records(value: Any, node: Any, path: tuple = ()) -> Iterator[tuple[tuple, int]]:
    """The path of every object in `value` whose schema (`node`) closes it, with that schema part's id."""
    if not isinstance(node, dict):
        return
    if isinstance(value, dict):
        if node.get("additionalProperties") is False:
            yield path, id(node)
        for key, sub in (node.get("properties") or {}).items():
            if key in value:
                yield from records(value[key], sub, path + (key,))
        for branch in node.get("oneOf", []) + node.get("anyOf", []):
            if branch.get("type") in ("object", ["object"]) or "properties" in branch:
                yield from records(value, branch, path)
    elif isinstance(value, list) and isinstance(node.get("items"), dict):
        for i, item in enumerate(value):
            yield from records(item, node["items"], path + (i,))


def with_extra(payload: dict, path: tuple) -> dict:
    out = copy.deepcopy(payload)
    target = out
    for step in path:
        target = target[step]
    target.update(FUTURE)
    return out


def cases() -> Iterator[tuple[str, tuple]]:
    for stem in EXAMPLES:
        if stem == "notice":  # on no topic: a webhook body only this version writes
            continue
        schema = contract.validator(schema_of(stem)).schema
        for path, _ in records(example(stem), schema):
            yield stem, path


@pytest.mark.parametrize("stem, path", list(cases()))
def test_an_unknown_field_at_any_level_is_read_and_stripped_but_never_written(stem, path):
    name = schema_of(stem)
    original = example(stem)
    future = with_extra(original, path)
    raw = orjson.dumps(future)
    assert contract.decode(name, raw) == original  # the core sees this version's message
    assert contract.decode(name, raw) == original  # again, from the verdict on these bytes
    assert contract.accept(name, copy.deepcopy(future)) == original
    with pytest.raises(InvalidMessage, match="added_in_a_later_version"):
        contract.encode(name, future)
    with pytest.raises(InvalidMessage):
        contract.validate(name, future)


def test_the_examples_reach_every_closed_record_of_every_schema():
    # Otherwise the test above would miss a level: each closed record is in some example.
    reached: dict[str, set[int]] = {}
    for stem in EXAMPLES:
        schema = contract.validator(schema_of(stem)).schema
        reached.setdefault(schema_of(stem), set()).update(i for _, i in records(example(stem), schema))
    for name in reached:
        if name == "notice":
            continue
        assert contract._closed_records(contract.validator(name).schema) == reached[name], name


def test_every_record_of_a_topic_schema_is_closed_for_its_producer():
    # A record that declares its properties and leaves others open would let this version write a
    # field no schema names; only maps (additionalProperties: a schema) and free-form values stay open.
    def open_records(node: Any, where: str) -> Iterator[str]:
        if isinstance(node, list):
            for i, v in enumerate(node):
                yield from open_records(v, f"{where}/{i}")
        elif isinstance(node, dict):
            if "properties" in node and node.get("additionalProperties") is not False and node.get("type") == "object":
                yield where
            for key, value in node.items():
                if key not in ("if", "enum", "const"):
                    yield from open_records(value, f"{where}/{key}")

    for name in contract.SCHEMA_NAMES:
        assert list(open_records(contract.validator(name).schema, name)) == []


@pytest.mark.parametrize(
    "stem, path, value, field",
    [
        ("link", ("submitted_at",), 20261206, "submitted_at"),
        ("enriched", ("figures", "killed", "count"), "fourteen", "figures/killed/count"),
        ("enriched", ("casualties", 0, "category"), "maimed", "casualties/0/category"),
        ("enriched", ("story", "signature"), [1, 2, 3], "story/signature"),
        ("alert", ("changes", 0, "current"), -1, "changes/0/current"),
        ("deadletter", ("attempts",), "two", "attempts"),
    ],
)
def test_a_wrong_known_field_beside_unknown_ones_is_refused_naming_the_field(stem, path, value, field):
    payload = example(stem)
    for where, _ in records(payload, contract.validator(schema_of(stem)).schema):
        payload = with_extra(payload, where)  # a later version's fields everywhere
    target = payload
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(InvalidMessage) as e:
        contract.decode(schema_of(stem), orjson.dumps(payload))
    assert e.value.reason == "invalid_message"
    assert f": {field}: " in str(e.value) and "added_in_a_later_version" not in str(e.value)


def test_a_missing_required_field_is_still_refused_on_consume():
    link = example("link")
    del link["link_id"]
    with pytest.raises(InvalidMessage, match="link_id"):
        contract.decode("link", orjson.dumps({**link, **FUTURE}))


def test_decoding_a_dict_never_strips_the_callers_own():
    future = {**example("link"), **FUTURE}
    read = contract.decode("link", future)
    assert "added_in_a_later_version" in future and "added_in_a_later_version" not in read


def test_a_relayed_payload_keeps_a_later_versions_fields_and_is_checked_as_read():
    # A replayed dead letter written by a later version goes back whole: its readers decide.
    future = with_extra(example("enriched"), ("story",))
    assert orjson.loads(contract.relay("enriched", future)) == future
    with pytest.raises(InvalidMessage, match="status"):
        contract.relay("enriched", {**future, "status": "ok"})


def test_the_story_schema_names_every_feature_this_version_writes():
    # Producing is strict: a feature story_view adds must be added to enriched.schema.json too.
    known = set(contract.validator("enriched").schema["properties"]["story"]["properties"])
    assert {"v", "signature", "event_day", *story_view._SETS} <= known


def _breakages(node: Any) -> Iterator[Any]:
    """Payloads with one field broken (another type or value, or gone), with a later version's
    fields added beside it."""
    odd = [None, "", "x" * 5000, 0, -1, 1.5, 3.0, True, [], {}, [1], {"a": 1}]
    if isinstance(node, dict):
        yield {**node, **FUTURE}
        for key, value in node.items():
            yield {**{k: v for k, v in node.items() if k != key}, **FUTURE}
            for new in odd:
                yield {**node, key: new, **FUTURE}
            for inner in _breakages(value):
                yield {**node, key: inner}
    elif isinstance(node, list):
        for i, value in enumerate(node[:2]):
            for inner in _breakages(value):
                yield node[:i] + [inner] + node[i + 1 :]


@pytest.mark.parametrize("stem", [s for s in EXAMPLES if s != "notice"])
def test_the_compiled_reader_and_jsonschema_give_the_same_verdicts(stem):
    # The consume side asks the compiled checks first and jsonschema's walk of the opened schema only
    # about what they refuse: over thousands of payloads, the verdict is the walk's every time.
    name = schema_of(stem)
    walker = contract._modes(name).reader
    checked = refused = 0
    for payload in _breakages(example(stem)):
        expected = walker.is_valid(payload)
        try:
            contract.accept(name, copy.deepcopy(payload))
            verdict = True
        except InvalidMessage:
            verdict = False
        assert verdict == expected, f"{name}: accept says {verdict}, jsonschema {expected}: {payload}"[:2000]
        checked += 1
        refused += not expected
    assert checked > 50 and refused > 10


def test_a_schema_a_tolerant_reader_could_not_follow_refuses_to_load(tmp_path, monkeypatch):
    # Two closed records as alternatives: stripping by one's fields would cut the other's.
    record = {"type": "object", "additionalProperties": False}
    (tmp_path / "either.schema.json").write_bytes(
        orjson.dumps(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {
                    "x": {
                        "oneOf": [
                            {**record, "properties": {"a": {"type": "integer"}}},
                            {**record, "properties": {"b": {"type": "string"}}},
                        ]
                    }
                },
            }
        )
    )
    monkeypatch.setenv("WIREWATCH_SCHEMAS_DIR", str(tmp_path))
    contract.validator.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="two branches"):
            contract.decode("either", b'{"x": {"a": 1}}')
    finally:
        contract.validator.cache_clear()


async def test_a_dead_letter_keeps_the_message_as_it_came_with_a_later_versions_fields():
    # The core saw the message stripped; the letter keeps it whole, for a replay by a later version.
    from wirewatch.agents.runner import Stage
    from wirewatch.errors import PermanentError
    from wirewatch.metrics import Metrics
    from wirewatch.settings import RetrySettings

    sent: list[tuple[str, dict]] = []
    seen: list[dict] = []

    async def send(schema: str, key: str | None, value: bytes) -> None:
        sent.append((schema, orjson.loads(value)))

    async def core(link: dict) -> list:
        seen.append(link)
        raise PermanentError("bad_url", "not fetched")

    future = {**example("link"), **FUTURE}
    stage = Stage("fetch", "link", "wirewatch.links", send, Metrics(), RetrySettings())
    assert await stage.handle(orjson.dumps(future), core) == "dead_lettered"
    assert seen == [example("link")]
    ((schema, letter),) = sent
    assert schema == "deadletter" and letter["payload"] == future and letter["reason"] == "bad_url"
