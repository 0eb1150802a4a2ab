"""The contract between stages: encode/decode topic payloads and validate them against `schemas/`.

Every message wirewatch produces is validated before it is sent, and every message it consumes is
validated after it is decoded; a payload that fails either way raises ``InvalidMessage``.
Formats (``date-time``, ``uri``) are checked: jsonschema skips a format whose checker package is missing
without a word, so loading a schema that uses a format nothing here can check is an error.
The verdict on exact bytes is remembered (``_Verdicts``): bytes this process encoded or already
validated are not walked again when another agent of the same worker decodes them.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from functools import cache
from pathlib import Path
from typing import Any

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


def validate(name: str, payload: Any) -> None:
    """Raise InvalidMessage naming the first offending field when `payload` breaks schema `name`."""
    error = jsonschema.exceptions.best_match(validator(name).iter_errors(payload))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise InvalidMessage(f"{name} schema: {where}: {error.message[:300]}")


class _Verdicts:
    """Digests of the exact bytes already found valid, per schema; the oldest forgotten first.

    Validating an enriched article walks every field of it (about 1.5 ms of event-loop CPU), and in
    one worker the same bytes are validated three times: encoded by the fetch agent, decoded by the
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
