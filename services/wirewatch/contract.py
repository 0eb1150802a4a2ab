"""The contract between stages: encode/decode topic payloads and validate them against `schemas/`.

Every message wirewatch produces is validated before it is sent, and every message it consumes is
validated after it is decoded; a payload that fails either way raises ``InvalidMessage``.
Strict on produce, tolerant on consume (schemas/README.md, "Compatibility"): what this version
writes must match its own schema exactly (``encode``, ``validate``), while what it reads may carry
fields a later version added: a record closed by ``additionalProperties: false`` is read as if it
were open, every known field still fully checked, and the fields it does not know are stripped
before a stage's core sees the payload (``decode``, ``accept``). So old and new workers can run side
by side through a rolling upgrade without dead-lettering each other's messages.
Formats (``date-time``, ``uri``) are checked: jsonschema skips a format whose checker package is missing
without a word, so loading a schema that uses a format nothing here can check is an error.
The verdict on exact bytes is remembered (``_Verdicts``): bytes this process encoded or already
validated are not walked again when another agent of the same worker decodes them.

Two validators, one verdict: a payload is first checked by fastjsonschema's compiled code of the
schema (about 15x less CPU than jsonschema walking it: 50 against 820 us for an enriched
article), and only one it refuses is walked by jsonschema, which names the offending field
(``best_match``) and has the last word. The schemas use only keywords draft 7 means the same way
as 2020-12 (type, properties, required, items, enum, const, oneOf, allOf, if/then, pattern,
lengths, minimum), and the compiled code checks formats with jsonschema's own checkers, so the
two agree on what is valid; where they could differ (fastjsonschema counts 1.0 as no integer),
jsonschema's "valid" wins. tests/contract holds them to the same verdicts. Each schema is
compiled once per mode: as written (produce) and with its records opened (consume); a message of
this version passes the first, so reading it costs what it did before tolerance, and only one
that the first refuses is checked by the second and stripped.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema
import orjson

from .errors import InvalidMessage

SCHEMA_NAMES = ("link", "article", "enriched", "alert", "filtered", "deadletter")


def schemas_dir() -> Path:
    """WIREWATCH_SCHEMAS_DIR, else the schemas shipped in the package (``wirewatch/schemas``: in a
    checkout a link to the repository's `schemas/`, in the wheel a copy), so an installed wirewatch
    needs no variable and no checkout."""
    env = os.environ.get("WIREWATCH_SCHEMAS_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent / "schemas"


@cache
def validator(name: str) -> jsonschema.protocols.Validator:
    path = schemas_dir() / f"{name}.schema.json"
    try:
        schema = orjson.loads(path.read_bytes())
    except FileNotFoundError as e:
        raise RuntimeError(f"schema {name!r} not found at {path}; set WIREWATCH_SCHEMAS_DIR") from e
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    unchecked = _formats(schema) - set(cls.FORMAT_CHECKER.checkers)
    if unchecked:  # e.g. date-time without rfc3339-validator: "yesterday" would pass
        raise RuntimeError(
            f"schema {name!r} uses formats jsonschema cannot check here: {sorted(unchecked)}; "
            "install the package jsonschema names for each (date-time: rfc3339-validator, uri: rfc3986-validator)"
        )
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _formats(node: Any) -> set[str]:
    """Every "format" a schema (or part of one) names."""
    if isinstance(node, dict):
        found = {node["format"]} if isinstance(node.get("format"), str) else set()
        return found.union(*(_formats(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_formats(v) for v in node))
    return set()


# Keywords draft 7 (fastjsonschema) and 2020-12 (the schemas' own draft) read the same way. A schema
# using any other (prefixItems, unevaluatedProperties, $ref, ...) gets no compiled check: a keyword
# fastjsonschema does not know would be skipped, and the check would pass what the schema refuses.
_SAME_IN_DRAFT7 = frozenset(
    "$schema $id title description deprecated type properties required additionalProperties items enum const "
    "oneOf anyOf allOf not if then else pattern minLength maxLength minimum maximum minItems maxItems "
    "format".split()
)

# Per jsonschema validator (the writer's schema as loaded): its compiled check, the reader's schema
# (records opened) with its walker and compiled check, and the pruner that strips unknown fields.
# Schemas loaded again (validator.cache_clear(), another directory) are built again; the validator
# is kept beside them so its id stays its own.
_built: dict[int, _Modes] = {}

Check = Callable[[Any], Any]
Prune = Callable[[Any], bool]  # strips unknown fields in place; True when it removed any


@dataclass(frozen=True)
class _Modes:
    writer: jsonschema.protocols.Validator
    strict: Check | None  # compiled check of the schema as written: what this version produces
    reader: jsonschema.protocols.Validator  # the schema with every closed record opened
    tolerant: Check | None  # compiled check of the reader's schema
    prune: Prune | None  # None: the schema closes no record, so nothing is ever unknown


def _modes(name: str) -> _Modes:
    v = validator(name)
    modes = _built.get(id(v))
    if modes is None or modes.writer is not v:
        assert isinstance(v.schema, dict)
        opened = _opened(v.schema)
        reader = type(v)(opened, format_checker=v.FORMAT_CHECKER)
        modes = _built[id(v)] = _Modes(v, _compile(v, v.schema), reader, _compile(v, opened), _pruner(name, v.schema))
    return modes


def _compile(v: jsonschema.protocols.Validator, schema: dict) -> Check | None:
    """fastjsonschema's code for `schema`, or None where draft 7 could read a keyword otherwise."""
    if not _keywords(schema) <= _SAME_IN_DRAFT7:
        return None
    checker = v.FORMAT_CHECKER  # the checkers validator() gave jsonschema
    formats = {f: functools.partial(checker.conforms, format=f) for f in _formats(schema)}
    draft7 = {**schema, "$schema": "http://json-schema.org/draft-07/schema#"}
    return fastjsonschema.compile(draft7, formats=formats, use_default=False)


def _fast_check(name: str) -> Check | None:
    """The compiled check of schema `name` as written (the produce side's)."""
    return _modes(name).strict


def _opened(node: Any) -> Any:
    """`node` with every ``additionalProperties: false`` left out: the reader's schema, which takes
    fields it does not know (a later version's) and checks every field it knows as before."""
    if isinstance(node, list):
        return [_opened(v) for v in node]
    if not isinstance(node, dict):
        return node
    return {
        k: (_opened(v) if k not in ("enum", "const") else v)
        for k, v in node.items()
        if not (k == "additionalProperties" and v is False)
    }


def _pruner(name: str, schema: dict) -> Prune | None:
    """A function that strips from a payload (valid under the reader's schema) every field the
    writer's schema does not know, where the writer's schema closes the record; None when it closes
    none. It follows `properties`, `items`, a map's `additionalProperties`, and `oneOf`/`anyOf` with
    one branch that takes objects: a closed record reached any other way (say in a `then`) could
    not be told from the others, so loading such a schema is an error, not a silent pass."""
    closed: list[int] = []

    def build(node: Any, where: str) -> Prune | None:
        if not isinstance(node, dict):
            return None
        parts: list[Prune] = []
        props: dict[str, Any] = node["properties"] if isinstance(node.get("properties"), dict) else {}
        inner = {key: p for key, sub in props.items() if (p := build(sub, f"{where}/{key}")) is not None}
        if node.get("additionalProperties") is False:
            closed.append(id(node))
            parts.append(_record(frozenset(props), inner))
        elif inner:
            parts.append(_record(None, inner))
        if isinstance(node.get("additionalProperties"), dict) and (
            p := build(node["additionalProperties"], f"{where}/*")
        ):
            parts.append(_values(p))
        if (p := build(node.get("items"), f"{where}/[]")) is not None:
            parts.append(_elements(p))
        for keyword in ("oneOf", "anyOf"):
            branches: list[Any] = node[keyword] if isinstance(node.get(keyword), list) else []
            pruners = [build(b, f"{where}/{keyword}") for b in branches]
            if any(pruners):
                if sum(_takes_objects(b) for b in branches) > 1:
                    raise RuntimeError(f"schema {name!r}: {where}/{keyword} has two branches that take an object")
                parts.extend(p for p in pruners if p is not None)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else _all(parts)

    prune = build(schema, "")
    unreached = _closed_records(schema) - set(closed)
    if unreached:
        raise RuntimeError(
            f"schema {name!r}: a record closed where a tolerant reader cannot follow it ({len(unreached)})"
        )
    return prune


def _record(known: frozenset[str] | None, inner: dict[str, Prune]) -> Prune:
    def prune(value: Any) -> bool:
        if not isinstance(value, dict):
            return False
        removed = False
        if known is not None and not known.issuperset(value):
            for key in [k for k in value if k not in known]:
                del value[key]
            removed = True
        for key, p in inner.items():
            if key in value and p(value[key]):
                removed = True
        return removed

    return prune


def _each(p: Prune, values: Callable[[Any], Any]) -> Prune:
    """`p` on every one of ``values(value)`` (none short-circuits: each is stripped)."""

    def prune(value: Any) -> bool:
        removed = False
        for v in values(value):
            removed = p(v) or removed
        return removed

    return prune


def _values(p: Prune) -> Prune:
    return _each(p, lambda value: value.values() if isinstance(value, dict) else ())


def _elements(p: Prune) -> Prune:
    return _each(p, lambda value: value if isinstance(value, list) else ())


def _all(parts: list[Prune]) -> Prune:
    def prune(value: Any) -> bool:
        removed = False
        for part in parts:
            removed = part(value) or removed
        return removed

    return prune


def _takes_objects(branch: Any) -> bool:
    kind = branch.get("type", "object") if isinstance(branch, dict) else "object"
    return kind == "object" or (isinstance(kind, list) and "object" in kind)


def _closed_records(node: Any) -> set[int]:
    """The ids of every part of a schema that says ``additionalProperties: false``."""
    if isinstance(node, list):
        return set().union(*(_closed_records(v) for v in node))
    if not isinstance(node, dict):
        return set()
    found = {id(node)} if node.get("additionalProperties") is False else set()
    return found.union(*(_closed_records(v) for k, v in node.items() if k not in ("enum", "const")))


def _keywords(node: Any) -> set[str]:
    """Every keyword a schema uses (not the names of its properties)."""
    if isinstance(node, list):
        return set().union(*(_keywords(v) for v in node))
    if not isinstance(node, dict):
        return set()
    found = set(node)
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            found |= set().union(*(_keywords(v) for v in value.values()))
        elif key not in ("enum", "const"):
            found |= _keywords(value)
    return found


def _first_error(name: str, walker: jsonschema.protocols.Validator, payload: Any) -> None:
    """jsonschema's verdict, which has the last word: raise InvalidMessage naming the field."""
    error = jsonschema.exceptions.best_match(walker.iter_errors(payload))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise InvalidMessage(f"{name} schema: {where}: {error.message[:300]}")


def validate(name: str, payload: Any) -> None:
    """Raise InvalidMessage naming the first offending field when `payload` breaks schema `name`
    as written: the produce side's check, which refuses a field the schema does not know."""
    modes = _modes(name)
    if modes.strict is not None:
        try:
            modes.strict(payload)
            return
        except fastjsonschema.JsonSchemaValueException:
            pass  # jsonschema decides, and says where
    _first_error(name, modes.writer, payload)


def _read(name: str, payload: Any) -> bool:
    """The consume side's check: raise InvalidMessage naming the field when a field `payload`'s
    schema knows is wrong. True when `payload` may hold fields the schema does not know (it is not
    exactly this version's), which ``_strip`` then takes out."""
    modes = _modes(name)
    if modes.strict is not None:
        try:
            modes.strict(payload)
            return False  # this version's message: nothing unknown in it
        except fastjsonschema.JsonSchemaValueException:
            pass
    if modes.tolerant is not None:
        try:
            modes.tolerant(payload)
        except fastjsonschema.JsonSchemaValueException:
            _first_error(name, modes.reader, payload)
    else:
        _first_error(name, modes.reader, payload)
    return modes.prune is not None


def _strip(name: str, payload: Any) -> None:
    prune = _modes(name).prune
    if prune is not None:
        prune(payload)


def accept(name: str, payload: dict) -> dict:
    """A decoded `payload` as this version reads it: its known fields checked (InvalidMessage names
    the first wrong one), the fields a later version added stripped (in place)."""
    if _read(name, payload):
        _strip(name, payload)
    return payload


class _Verdicts:
    """Digests of the exact bytes already found valid, per schema, each with whether reading them
    strips fields (a later version's); the oldest forgotten first.

    Validating an enriched article checks every field of it (50 us compiled, 820 us walked by
    jsonschema; a hash of the bytes is a few us), and in one worker the same bytes are validated three times: encoded by the fetch agent, decoded by the
    store and the route agents. A verdict on exact bytes cannot change (orjson encodes a dict the
    same way every time, and decoding the bytes gives back what was validated), so it is kept.
    """

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._valid: OrderedDict[tuple[int, bytes], bool] = OrderedDict()
        # Every validator a key was made for stays referenced, so its id is never reused by another
        # (after validator.cache_clear() a new "link" validator could get an old "enriched" one's id).
        self._seen: dict[int, jsonschema.protocols.Validator] = {}

    def key(self, name: str, raw: bytes) -> tuple[int, bytes]:
        # The validator itself, not only its name: schemas loaded again (another directory) start afresh.
        v = validator(name)
        self._seen.setdefault(id(v), v)
        return id(v), hashlib.blake2b(raw, digest_size=16).digest()

    def __contains__(self, key: tuple[int, bytes]) -> bool:
        return key in self._valid

    def strips(self, key: tuple[int, bytes]) -> bool | None:
        """None: not seen; else whether reading these bytes may strip fields."""
        return self._valid.get(key)

    def add(self, key: tuple[int, bytes], strips: bool = False) -> None:
        self._valid[key] = strips
        if len(self._valid) > self._size:
            self._valid.popitem(last=False)


_verdicts = _Verdicts()


def decode(name: str, raw: bytes | str | dict | None) -> dict:
    """Bytes off a topic -> a validated dict, as this version reads it (``accept``)."""
    key = None
    if isinstance(raw, dict):
        payload = raw
    else:
        if raw is None:
            raise InvalidMessage("empty message")
        try:
            payload = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            raise InvalidMessage(f"not JSON: {e}") from e
        key = _verdicts.key(name, raw.encode() if isinstance(raw, str) else raw)
    if not isinstance(payload, dict):
        raise InvalidMessage(f"{name} schema: (root): expected an object, got {type(payload).__name__}")
    strips = None if key is None else _verdicts.strips(key)
    if strips is None:
        strips = _read(name, payload)
        if key is not None:
            _verdicts.add(key, strips)
    if strips:
        if payload is raw:  # never strip the caller's own dict
            payload = orjson.loads(orjson.dumps(payload))
        _strip(name, payload)
    return payload


def encode(name: str, payload: dict) -> bytes:
    """A dict -> validated JSON bytes for a topic: strict, exactly this version's schema."""
    return trust(name, dumps(name, payload))


def dumps(name: str, payload: dict) -> bytes:
    """``encode`` without remembering the verdict: for a pool process, whose bytes the worker's
    event loop sends (``trust``), so that validating a payload costs the loop nothing."""
    validate(name, payload)
    return orjson.dumps(payload)


def trust(name: str, data: bytes) -> bytes:
    """Bytes ``dumps`` made for schema `name` in another process of this worker (the pool, from the
    same schemas): remembered as valid, as if encoded here, so the agents that decode them (store,
    route) do not check them again. A hash of the bytes (a few us), not a walk of the payload."""
    _verdicts.add(_verdicts.key(name, data))
    return data


def prepare(*names: str) -> None:
    """Load and compile the schemas `names` now (a fresh pool process's warm-up), not on first use."""
    for name in names:
        _modes(name)


def relay(name: str, payload: dict) -> bytes:
    """Bytes of a payload someone else wrote (a dead letter's, replayed) for its topic: checked as
    its consumers read it, and sent whole, so the fields a later version added reach a later reader."""
    data = orjson.dumps(payload)
    _read(name, orjson.loads(data))
    return data


def raw_text(raw: Any) -> Any:
    """The original payload for a dead letter: JSON object if it decodes, else text."""
    if isinstance(raw, (dict, list)):
        return raw
    if isinstance(raw, bytes):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            return raw.decode("utf-8", "replace")
    return raw
