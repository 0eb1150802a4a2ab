"""Settings: defaults need nothing installed; bad values fail at boot naming the field."""

import pytest

from wirewatch.errors import ConfigError
from wirewatch.settings import load_settings


def test_defaults_are_embedded(monkeypatch):
    monkeypatch.delenv("WIREWATCH_CONFIG", raising=False)
    s = load_settings()
    assert s.broker == "embedded" and s.resolved_storage_url.startswith("sqlite:///")
    assert any(f.name.startswith("arab-news") for f in s.feeds)
    assert s.topic("links") == "wirewatch.links"


def test_environment_and_nested(monkeypatch):
    monkeypatch.setenv("WIREWATCH_FETCH__MAX_BYTES", "1234")
    monkeypatch.setenv("WIREWATCH_WEBHOOK_URLS", '["http://127.0.0.1:9/x"]')
    monkeypatch.setenv("WIREWATCH_WEBHOOK_SECRET", "hunter2")
    s = load_settings()
    assert s.fetch.max_bytes == 1234 and s.webhook_urls == ["http://127.0.0.1:9/x"]
    assert "hunter2" not in s.model_dump_json()


def test_yaml_file(monkeypatch, tmp_path):
    cfg = tmp_path / "wirewatch.yaml"
    cfg.write_text("topic_partitions: 8\nfeeds:\n  - {name: local, url: 'http://127.0.0.1/feed.xml', interval: 60}\n")
    monkeypatch.setenv("WIREWATCH_CONFIG", str(cfg))
    s = load_settings()
    assert s.topic_partitions == 8 and [f.name for f in s.feeds] == ["local"]


@pytest.mark.parametrize("env, field", [
    ({"WIREWATCH_BROKER": "localhost:9092"}, "broker"),
    ({"WIREWATCH_TOPIC_PARTITIONS": "0"}, "topic_partitions"),
    ({"WIREWATCH_FETCH__MAX_BYTES": "lots"}, "fetch.max_bytes"),
    ({"WIREWATCH_NO_SUCH_THING": "1"}, "no_such_thing"),
])
def test_bad_values_name_the_field(monkeypatch, env, field):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ConfigError) as e:
        load_settings()
    assert field in str(e.value)


def test_settings_doc_is_current():
    from pathlib import Path

    from wirewatch.settings import settings_markdown

    doc = Path(__file__).resolve().parents[2] / "docs" / "settings.md"
    assert doc.read_text() == settings_markdown(), "docs/settings.md is stale: run `wirewatch settings --markdown > docs/settings.md`"
