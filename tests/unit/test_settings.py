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
    assert s.fetch.max_bytes == 1234 and [u.get_secret_value() for u in s.webhook_urls] == ["http://127.0.0.1:9/x"]
    assert "hunter2" not in s.model_dump_json()


def test_yaml_file(monkeypatch, tmp_path):
    cfg = tmp_path / "wirewatch.yaml"
    cfg.write_text("topic_partitions: 8\nfeeds:\n  - {name: local, url: 'http://127.0.0.1/feed.xml', interval: 60}\n")
    monkeypatch.setenv("WIREWATCH_CONFIG", str(cfg))
    s = load_settings()
    assert s.topic_partitions == 8 and [f.name for f in s.feeds] == ["local"]


@pytest.mark.parametrize(
    "env, field",
    [
        ({"WIREWATCH_BROKER": "localhost:9092"}, "broker"),
        ({"WIREWATCH_TOPIC_PARTITIONS": "0"}, "topic_partitions"),
        ({"WIREWATCH_FETCH__MAX_BYTES": "lots"}, "fetch.max_bytes"),
        ({"WIREWATCH_NO_SUCH_THING": "1"}, "no_such_thing"),
    ],
)
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
    assert doc.read_text() == settings_markdown(), (
        "docs/settings.md is stale: run `wirewatch settings --markdown > docs/settings.md`"
    )


def test_every_secret_is_masked_even_inside_urls(monkeypatch):
    secrets = ["pg-pass", "hook-token", "slack-token", "am-pass", "ntfy-token", "smtp-pass", "sign-key", "intake-tok"]
    monkeypatch.setenv("WIREWATCH_STORAGE_URL", "postgresql://ww:pg-pass@db.internal:5432/ww")
    monkeypatch.setenv("WIREWATCH_WEBHOOK_URLS", '["https://hooks.example/in?token=hook-token"]')
    monkeypatch.setenv("WIREWATCH_WEBHOOK_SECRET", "sign-key")
    monkeypatch.setenv(
        "WIREWATCH_CHANNELS__SLACK_WEBHOOK_URLS", '["https://hooks.slack.example/services/T1/B2/slack-token"]'
    )
    monkeypatch.setenv("WIREWATCH_CHANNELS__ALERTMANAGER_URLS", '["http://am:am-pass@am.internal:9093"]')
    monkeypatch.setenv("WIREWATCH_CHANNELS__APPRISE_URLS", '["ntfy://ntfy-token@ntfy.example/topic"]')
    monkeypatch.setenv("WIREWATCH_CHANNELS__SMTP__PASSWORD", "smtp-pass")
    monkeypatch.setenv("WIREWATCH_INTAKE__TOKEN", "intake-tok")
    s = load_settings()
    for shown in (s.model_dump_json(indent=2), repr(s), str(s)):
        assert not [x for x in secrets if x in shown], shown
    dumped = s.model_dump_json()
    assert "postgresql://***@db.internal:5432/***" in dumped  # the host stays visible to an operator
    assert s.resolved_storage_url == "postgresql://ww:pg-pass@db.internal:5432/ww"


@pytest.mark.parametrize(
    "url, shown",
    [
        ("postgresql://u:p@h:5432/db", "postgresql://***@h:5432/***"),
        ("https://h.example/hook?token=t", "https://h.example/***"),
        ("http://[::1]:9093", "http://[::1]:9093"),
        ("sqlite:///var/wirewatch.db", "sqlite:///var/wirewatch.db"),
        ("", ""),
    ],
)
def test_mask_url(url, shown):
    from wirewatch.settings import mask_url

    assert mask_url(url) == shown


def test_nested_typos_are_errors_in_env_and_yaml(monkeypatch, tmp_path):
    monkeypatch.setenv("WIREWATCH_FETCH__MAX_BYTE", "10")
    with pytest.raises(ConfigError) as e:
        load_settings()
    assert str(e.value).splitlines()[1].strip() == "WIREWATCH_FETCH__MAX_BYTE: fetch.max_byte: no such setting"
    monkeypatch.delenv("WIREWATCH_FETCH__MAX_BYTE")
    cfg = tmp_path / "ww.yaml"
    cfg.write_text("fetch:\n  max_byte: 10\nchannels:\n  smtp: {hots: mail.example}\n")
    monkeypatch.setenv("WIREWATCH_CONFIG", str(cfg))
    with pytest.raises(ConfigError) as e:
        load_settings()
    lines = str(e.value).splitlines()[1:]
    assert sorted(line.strip() for line in lines) == [
        f"{cfg}: channels.smtp.hots: no such setting",
        f"{cfg}: fetch.max_byte: no such setting",
    ]


def test_a_list_that_is_not_json_is_one_line(monkeypatch):
    monkeypatch.setenv("WIREWATCH_WEBHOOK_URLS", "http://not-a-json-list")
    with pytest.raises(ConfigError) as e:
        load_settings()
    assert len(str(e.value).splitlines()) == 1 and "WIREWATCH_WEBHOOK_URLS" in str(e.value)


def test_binding_beyond_loopback_needs_an_intake_token(monkeypatch):
    monkeypatch.setenv("WIREWATCH_WEB_HOST", "0.0.0.0")
    with pytest.raises(ConfigError) as e:
        load_settings()
    assert "WIREWATCH_INTAKE__TOKEN" in str(e.value)
    monkeypatch.setenv("WIREWATCH_INTAKE__TOKEN", "t0ken")
    assert load_settings().intake.token.get_secret_value() == "t0ken"
    monkeypatch.setenv("WIREWATCH_WEB_PORT", "0")  # no HTTP server, nothing to protect
    monkeypatch.delenv("WIREWATCH_INTAKE__TOKEN")
    assert load_settings().web_port == 0
