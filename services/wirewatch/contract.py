"""The contract between stages: encode/decode topic payloads and validate them against `schemas/`.

Every message wirewatch produces is validated before it is sent, and every message it consumes is
validated after it is decoded; a payload that fails either way raises ``InvalidMessage``.
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
jsonschema's "valid" wins. tests/contract holds them to the same verdicts.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections import OrderedDict
from collections.abc import Callable
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

# Compiled checks, per jsonschema validator: schemas loaded again (validator.cache_clear(), another
# directory) are compiled again. The validator is kept beside its check so its id stays its own.
_compiled: dict[int, tuple[jsonschema.protocols.Validator, Callable[[Any], Any] | None]] = {}


def _fast_check(name: str) -> Callable[[Any], Any] | None:
    v = validator(name)
    entry = _compiled.get(id(v))
    if entry is None or entry[0] is not v:
        assert isinstance(v.schema, dict)
        check = None
        if _keywords(v.schema) <= _SAME_IN_DRAFT7:
            checker = v.FORMAT_CHECKER  # the checkers validator() gave jsonschema
            formats = {f: functools.partial(checker.conforms, format=f) for f in _formats(v.schema)}
            draft7 = {**v.schema, "$schema": "http://json-schema.org/draft-07/schema#"}
            check = fastjsonschema.compile(draft7, formats=formats, use_default=False)
        entry = _compiled[id(v)] = (v, check)
    return entry[1]


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


def validate(name: str, payload: Any) -> None:
    """Raise InvalidMessage naming the first offending field when `payload` breaks schema `name`."""
    check = _fast_check(name)
    if check is not None:
        try:
            check(payload)
            return
        except fastjsonschema.JsonSchemaValueException:
            pass  # jsonschema decides, and says where
    error = jsonschema.exceptions.best_match(validator(name).iter_errors(payload))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise InvalidMessage(f"{name} schema: {where}: {error.message[:300]}")


class _Verdicts:
    """Digests of the exact bytes already found valid, per schema; the oldest forgotten first.

    Validating an enriched article checks every field of it (50 us compiled, 820 us walked by
    jsonschema; a hash of the bytes is a few us), and in one worker the same bytes are validated three times: encoded by the fetch agent, decoded by the
    store and the route agents. A verdict on exact bytes cannot change (orjson encodes a dict the
    same way every time, and decoding the bytes gives back what was validated), so it is kept.
    """

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._valid: OrderedDict[tuple[int, bytes], None] = OrderedDict()
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

    def add(self, key: tuple[int, bytes]) -> None:
        self._valid[key] = None
        if len(self._valid) > self._size:
            self._valid.popitem(last=False)


_verdicts = _Verdicts()


def decode(name: str, raw: bytes | str | dict | None) -> dict:
    """Bytes off a topic -> a validated dict."""
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
    if key is None or key not in _verdicts:
        validate(name, payload)
        if key is not None:
            _verdicts.add(key)
    return payload


def encode(name: str, payload: dict) -> bytes:
    """A dict -> validated JSON bytes for a topic."""
    validate(name, payload)
    data = orjson.dumps(payload)
    _verdicts.add(_verdicts.key(name, data))
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
