"""Every schema is valid, has an example that validates, and is named in the topic table."""

import orjson
import pytest

from wirewatch import contract
from wirewatch.errors import InvalidMessage
from wirewatch.topics import TOPICS

SCHEMAS = contract.schemas_dir()


def test_every_topic_has_a_schema_and_an_example():
    for name in contract.SCHEMA_NAMES:
        assert (SCHEMAS / f"{name}.schema.json").is_file()
        assert (SCHEMAS / "examples" / f"{name}.json").is_file()
    assert set(TOPICS) == set(contract.SCHEMA_NAMES)


@pytest.mark.parametrize("name", contract.SCHEMA_NAMES)
def test_example_validates(name):
    example = orjson.loads((SCHEMAS / "examples" / f"{name}.json").read_bytes())
    contract.validate(name, example)
    assert contract.decode(name, contract.encode(name, example)) == example


def test_topic_table_names_every_topic():
    table = (SCHEMAS / "README.md").read_text()
    for schema, topic in TOPICS.items():
        assert f"`wirewatch.{topic}`" in table and f"`{schema}.schema.json`" in table


@pytest.mark.parametrize(
    "raw, fragment",
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "expected an object"),
        (b'{"url": "https://a.example/x"}', "link_id"),
        (None, "empty message"),
    ],
)
def test_bad_messages_raise_invalid_message_naming_the_problem(raw, fragment):
    with pytest.raises(InvalidMessage) as e:
        contract.decode("link", raw)
    assert fragment in str(e.value)
    assert e.value.reason == "invalid_message"


def test_date_time_formats_are_checked():
    link = orjson.loads((SCHEMAS / "examples" / "link.json").read_bytes())
    contract.validate("link", link)
    for bad in ("yesterday", "2026-13-01T00:00:00Z", "2026-11-24 08:15"):
        with pytest.raises(InvalidMessage) as e:
            contract.validate("link", {**link, "submitted_at": bad})
        assert "submitted_at" in str(e.value)


def test_a_format_nothing_can_check_refuses_to_load(tmp_path, monkeypatch):
    (tmp_path / "odd.schema.json").write_bytes(
        orjson.dumps(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {"when": {"type": "string", "format": "no-such-format"}},
            }
        )
    )
    monkeypatch.setenv("WIREWATCH_SCHEMAS_DIR", str(tmp_path))
    contract.validator.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="no-such-format"):
            contract.validator("odd")
    finally:
        contract.validator.cache_clear()


def test_bytes_already_found_valid_are_not_walked_again(monkeypatch):
    # An enriched article is encoded by the fetch agent and decoded by the store and route agents
    # of the same worker: the verdict on those exact bytes is kept, so the schema walk runs once.
    example = orjson.loads((contract.schemas_dir() / "examples" / "enriched.json").read_bytes())
    walks = []
    real = contract.validate
    monkeypatch.setattr(contract, "validate", lambda name, payload: (walks.append(name), real(name, payload)))
    raw = contract.encode("enriched", example)
    assert contract.decode("enriched", raw) == example
    assert contract.decode("enriched", raw.decode()) == example
    assert walks == ["enriched"]
    # Other bytes are walked, and invalid ones still refused; the same bytes as another schema too.
    broken = orjson.dumps({**example, "text": 5})
    with pytest.raises(InvalidMessage, match="text"):
        contract.decode("enriched", broken)
    with pytest.raises(InvalidMessage):
        contract.decode("enriched", broken)
    with pytest.raises(InvalidMessage):
        contract.decode("link", raw)


def test_bytes_a_pool_process_validated_are_trusted_not_walked_again(monkeypatch):
    # The pool validates and serialises an enriched article (contract.dumps) in its own process; the
    # event loop only hashes the bytes it receives (trust), and its store and route agents' decode
    # takes the verdict from there: nothing walks the payload on the loop.
    example = orjson.loads((contract.schemas_dir() / "examples" / "enriched.json").read_bytes())
    with pytest.raises(InvalidMessage, match="text"):
        contract.dumps("enriched", {**example, "text": 5})  # dumps validates like encode
    data = contract.dumps("enriched", {**example, "title": "A title only dumps has seen"})
    walks = []
    real = contract.validate
    monkeypatch.setattr(contract, "validate", lambda name, payload: (walks.append(name), real(name, payload)))
    assert contract.trust("enriched", data) is data
    assert contract.decode("enriched", data)["title"] == "A title only dumps has seen"
    assert walks == []


def test_uri_formats_are_checked():
    enriched = orjson.loads((SCHEMAS / "examples" / "enriched.json").read_bytes())
    for field in ("final_url", "canonical_url"):
        for bad in (
            "not a url",
            "/world/market-blast.html",
            "https://news.example.org/a b",
            "https://bücher.example/x",
        ):
            with pytest.raises(InvalidMessage) as e:
                contract.validate("enriched", {**enriched, field: bad})
            assert field in str(e.value)


@pytest.mark.parametrize(
    "link",
    [
        "https://bücher.example/über uns/marktplatz?seite=2",  # a Unicode host, path and query
        "https://xn--bcher-kva.example/%C3%BCber",  # the same, as punycode and percent-encoding
        "https://пример.example/статья/взрыв",
        "https://news.example.org/a|b{c}^d[1]?q=x|y^z&p=50%",  # raw in what httpx sends, not in a URI
    ],
)
def test_a_fetched_idn_or_unicode_url_passes_the_uri_format(link):
    # What fetch does to every hop (check_http_url) and store keys on (canonical_url) are ASCII URIs.
    from wirewatch.stages.urls import as_uri, canonical_url, check_http_url

    enriched = orjson.loads((SCHEMAS / "examples" / "enriched.json").read_bytes())
    final = as_uri(check_http_url(link))  # what article.read records
    payload = {**enriched, "url": link, "final_url": final, "canonical_url": canonical_url(final)}
    contract.validate("enriched", payload)
    assert payload["canonical_url"].isascii()


def test_the_submitted_link_is_not_format_checked():
    # Arbitrary user text is fetch's to judge (bad_url, with a reason), not the link schema's.
    link = orjson.loads((SCHEMAS / "examples" / "link.json").read_bytes())
    contract.validate("link", {**link, "url": "arab.news/jtxzg über"})


def _mutations(node, path=()):
    """Every way of breaking one field of ``node``: other types and values in its place, the field
    gone, an unknown field beside it; nested objects and lists too."""
    odd = [None, "", "yesterday", "not a url", "x" * 5000, 0, -1, 1.5, 3.0, True, [], {}, [1], {"a": 1}]
    if isinstance(node, dict):
        yield path + ("+",), {**node, "unknown_field": 1}
        for key, value in node.items():
            yield path + (key, "-"), {k: v for k, v in node.items() if k != key}
            for new in odd:
                yield path + (key,), {**node, key: new}
            for where, inner in _mutations(value, path + (key,)):
                yield where, {**node, key: inner}
    elif isinstance(node, list):
        yield path + ("[]",), []
        for i, value in enumerate(node[:2]):
            for where, inner in _mutations(value, path + (i,)):
                yield where, node[:i] + [inner] + node[i + 1 :]


@pytest.mark.parametrize("name", contract.SCHEMA_NAMES)
def test_the_compiled_check_and_jsonschema_give_the_same_verdicts(name):
    # contract.validate asks fastjsonschema's compiled check first and jsonschema only about what it
    # refuses: over thousands of broken payloads, its verdict is jsonschema's every time.
    example = orjson.loads((SCHEMAS / "examples" / f"{name}.json").read_bytes())
    walker = contract.validator(name)
    checked = refused = 0
    for where, payload in _mutations(example):
        expected = walker.is_valid(payload)
        try:
            contract.validate(name, payload)
            verdict = True
        except InvalidMessage:
            verdict = False
        assert verdict == expected, f"{name} {where}: validate says {verdict}, jsonschema {expected}"
        checked += 1
        refused += not expected
    assert checked > 50 and refused > 10


def test_a_schema_using_a_keyword_draft_7_reads_otherwise_is_walked_by_jsonschema_only(tmp_path, monkeypatch):
    # fastjsonschema (draft 7) would skip prefixItems and pass what the schema refuses.
    (tmp_path / "pair.schema.json").write_bytes(
        orjson.dumps(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {"pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]}},
            }
        )
    )
    monkeypatch.setenv("WIREWATCH_SCHEMAS_DIR", str(tmp_path))
    contract.validator.cache_clear()
    try:
        assert contract._fast_check("pair") is None
        contract.validate("pair", {"pair": ["a", 1]})
        with pytest.raises(InvalidMessage, match="pair/1"):
            contract.validate("pair", {"pair": ["a", "b"]})
    finally:
        contract.validator.cache_clear()
