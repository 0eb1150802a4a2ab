"""Alert channels against real receivers on loopback: an HTTP receiver (webhook, Slack, apprise
json://), an SMTP server (aiosmtpd) and a real Prometheus Alertmanager; plus the templates."""

from __future__ import annotations

import copy
import email
import email.policy
from pathlib import Path

import orjson
import pytest
from aiosmtpd.controller import Controller
from pydantic import SecretStr

from tests.conftest import free_port
from wirewatch import contract
from wirewatch.demo.receiver import AlertReceiver
from wirewatch.errors import ConfigError, PermanentError, TransientError
from wirewatch.settings import Settings, SmtpSettings
from wirewatch.sinks import render
from wirewatch.sinks.alertmanager import AlertmanagerChannel
from wirewatch.sinks.apprise_channel import AppriseChannel
from wirewatch.sinks.channels import Channel, build_channels
from wirewatch.sinks.mail import EmailChannel
from wirewatch.sinks.slack import SlackChannel
from wirewatch.sinks.webhook import WebhookChannel, verify

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
EXAMPLE = orjson.loads((EXAMPLES / "alert.json").read_bytes())
NOTICE = orjson.loads((EXAMPLES / "notice.json").read_bytes())
EVIDENCE = "At least nine people were killed and 23 wounded when a gas cylinder blew up in a crowded river market."
# A first alert of a story, written here so the test does not follow the example's kind.
ALERT = {
    **{k: v for k, v in EXAMPLE.items() if k not in ("previous_figures", "changes", "sources")},
    "alert_id": "2c57c7a3758a24404460f200",
    "kind": "new",
    "title": "Blast at a river market kills at least nine",
    "figures": {
        "killed": {"count": 9, "min": 9, "max": None},
        "injured": {"count": 23, "min": 23, "max": 23},
        "missing": None,
    },
    "evidence": ["Blast at a river market kills at least nine", EVIDENCE],
    "story_id": "s-1a2b3c4d5e",
    "sources": [{"url": EXAMPLE["canonical_url"], "sitename": "Example News", "figures": {"killed": 9, "injured": 23}}],
}


def alert(**changes) -> dict:
    a = copy.deepcopy(ALERT)
    a.update(changes)
    return a


def update_alert() -> dict:
    return {
        **copy.deepcopy(EXAMPLE),
        "alert_id": "upd-4b1f9e2c77aa",
        "story_id": "story-81c2",
        "places": [{"name": "Riverside Market", "country": "Exampleland"}, "Port Town"],
    }


def derived_update() -> dict:
    """An update without `changes`: what changed comes from previous_figures."""
    u = update_alert()
    del u["changes"]
    return u


def digest() -> dict:
    return {
        "alert_id": "dig-0a9c44e1b2",
        "kind": "digest",
        "rule": "people-killed-or-wounded",
        "severity": "warning",
        "raised_at": "2026-11-24T09:00:00Z",
        "url": "https://news.example.org/",
        "title": "River market blast",
        "figures": {},
        "evidence": [],
        "keywords": [],
        "channel": "*",
        "held_back": 2,
        "window_start": "2026-11-24T08:00:00Z",
        "window_end": "2026-11-24T09:00:00Z",
        "sent_in_window": 5,
        "items": [
            alert(),
            alert(alert_id="second-0001", title="A second report", canonical_url="https://news.example.org/b"),
        ],
    }


def stale() -> dict:
    return {
        "alert_id": "stale-0a9c44e1b2",
        "kind": "source_stale",
        "rule": "source-silent",
        "severity": "warning",
        "raised_at": "2026-11-24T09:00:00Z",
        "url": "https://feeds.example.org/world.xml",
        "title": "feed:world silent",
        "figures": {},
        "evidence": [],
        "keywords": [],
        "source": "feed:world",
        "stale_seconds": 5400,
        "last_new_item_at": "2026-11-24T07:30:00Z",
    }


@pytest.fixture
async def receiver():
    r = AlertReceiver()
    await r.start()
    yield r
    await r.stop()


# -- templates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", render.DIALECTS)
def test_new_alert_shows_figures_evidence_and_links(dialect):
    text = render.render(ALERT, dialect)
    assert "killed: at least 9" in text
    assert "injured: 23" in text
    assert EVIDENCE[:60] in text
    assert ALERT["canonical_url"] in text and ALERT["url"] in text
    assert ALERT["alert_id"] in (text if dialect != "slack" else render.sections(ALERT, "slack")["footer"])
    assert "$" not in text  # every placeholder was filled


@pytest.mark.parametrize("dialect", render.DIALECTS)
def test_update_shows_what_changed_who_said_it_and_the_places(dialect):
    arrow = "->" if dialect == "text" else "-&gt;"
    text = render.render(update_alert(), dialect)
    assert f"killed: 9 {arrow} 14 (Example News)" in text
    assert "Example Wire: 9 killed, 23 injured" in text
    assert "Riverside Market (Exampleland)" in text and "Port Town" in text
    assert "story-81c2" in (text if dialect != "slack" else render.sections(update_alert(), "slack")["footer"])
    assert render.subject(update_alert()).startswith("[wirewatch] update: killed: 9 -> 14")
    assert f"killed: 9 {arrow} at least 14" in render.render(derived_update(), dialect)


def test_the_messages_these_tests_send_honour_the_alert_schema():
    for message in (ALERT, update_alert(), digest(), stale()):
        contract.validate("alert", {k: v for k, v in message.items() if k != "places"})


@pytest.mark.parametrize(
    "message",
    [
        digest(),
        stale(),
        derived_update(),
        NOTICE,
        {**NOTICE, "kind": "channel_recovered"},
        {"alert_id": "odd-kind-001", "kind": "something_new"},
        {},
        {"figures": "nonsense", "evidence": [None, 3, "a sentence"], "places": [None, {"x": 1}], "alerts": "x"},
    ],
)
@pytest.mark.parametrize("dialect", render.DIALECTS)
def test_every_kind_and_odd_fields_render_without_error(message, dialect):
    text = render.render(message, dialect)
    assert text.strip() and "$" not in text
    assert render.subject(message).startswith("[wirewatch]")


def test_digest_lists_its_alerts_with_links():
    text = render.render(digest(), "html")
    assert "2 alerts held back" in text and "A second report" in text and "5 sent in it" in text
    assert "silent for 90 min" in render.render(stale(), "text")
    assert '<a href="https://news.example.org/b">' in text


def test_html_and_slack_escape_what_an_article_says():
    hostile = alert(title='<script>alert(1)</script> & "co"', evidence=["<b>9</b> killed & 3 <wounded>"])
    html_text = render.render(hostile, "html")
    assert "<script>" not in html_text and "&lt;script&gt;" in html_text
    slack_text = render.render(hostile, "slack")
    assert "<script>" not in slack_text and "&lt;b&gt;9&lt;/b&gt; killed &amp; 3" in slack_text
    # a javascript: link is never made a link
    assert "javascript" not in render.render(alert(url="javascript:alert(1)"), "html")


def test_message_id_is_the_alert_or_notice_key():
    assert render.message_id(ALERT) == ALERT["alert_id"]
    assert render.message_id(NOTICE) == NOTICE["notice_id"]


# -- webhook -----------------------------------------------------------------------------------


async def test_webhook_posts_the_alert_signed_with_its_idempotency_key(receiver):
    ch = WebhookChannel(receiver.url, SecretStr("s3cret"))
    await ch.start()
    try:
        await ch.send(ALERT)
        await ch.send(NOTICE)
    finally:
        await ch.close()
    assert receiver.received == [ALERT, NOTICE]
    contract.validate("alert", receiver.received[0])
    contract.validate("notice", receiver.received[1])
    assert receiver.keys() == [ALERT["alert_id"], NOTICE["notice_id"]]
    assert receiver.headers[1]["X-Wirewatch-Kind"] == "channel_failing"
    assert receiver.signatures_valid(b"s3cret")
    assert not verify(b"other", receiver.raw[0], receiver.headers[0]["X-Wirewatch-Signature"])


@pytest.mark.parametrize(
    "status, error, reason",
    [
        (503, TransientError, "receiver_error"),
        (429, TransientError, "receiver_error"),
        (400, PermanentError, "receiver_rejected"),
        (410, PermanentError, "receiver_rejected"),
    ],
)
async def test_http_answers_become_retry_or_dead_letter(status, error, reason):
    r = AlertReceiver(always_status=status, answer="no such hook")
    await r.start()
    chs = [WebhookChannel(r.url), SlackChannel(SecretStr(r.url)), AlertmanagerChannel(r.base_url)]
    try:
        for ch in chs:
            await ch.start()
            with pytest.raises(error) as e:
                await ch.send(ALERT)
            assert e.value.reason == reason
            if error is PermanentError:
                assert "no such hook" in e.value.detail and str(status) in e.value.detail
            await ch.close()
    finally:
        await r.stop()


async def test_a_receiver_that_is_not_there_is_transient():
    ch = WebhookChannel(f"http://127.0.0.1:{free_port()}/alerts")
    await ch.start()
    with pytest.raises(TransientError) as e:
        await ch.send(ALERT)
    await ch.close()
    assert e.value.reason == "receiver_unreachable"


# -- slack -------------------------------------------------------------------------------------


async def test_slack_gets_an_incoming_webhook_message(receiver):
    ch = SlackChannel(SecretStr(receiver.url + "/T000/B000/token"))
    await ch.start()
    await ch.send(update_alert())
    await ch.close()
    (body,) = receiver.received
    assert set(body) >= {"text", "blocks"}
    assert body["text"].startswith("Update: ")
    section = body["blocks"][0]["text"]
    assert section["type"] == "mrkdwn"
    assert "killed: 9 -&gt; 14" in section["text"]
    assert f"<{ALERT['canonical_url']}|Example News>" in section["text"]
    assert "token" not in ch.target


# -- email -------------------------------------------------------------------------------------


class Mailbox:
    def __init__(self, refuse: str | None = None) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp():
    servers = []

    def start(refuse: str | None = None) -> tuple[Mailbox, SmtpSettings]:
        box = Mailbox(refuse)
        port = free_port()
        controller = Controller(box, hostname="127.0.0.1", port=port)
        controller.start()
        servers.append(controller)
        return box, SmtpSettings(
            host="127.0.0.1",
            port=port,
            security="none",
            sender="alerts@wirewatch.test",
            to=["desk@newsroom.test", "editor@newsroom.test"],
            timeout=5,
        )

    yield start
    for c in servers:
        c.stop()


async def test_email_is_plain_and_html_with_the_alert_key_as_message_id(smtp):
    box, settings = smtp()
    ch = EmailChannel(settings)
    await ch.start()
    await ch.send(ALERT)
    await ch.close()
    (mail,) = box.messages
    assert box.envelopes[0].rcpt_tos == settings.to
    assert mail["Subject"].startswith("[wirewatch] at least 9 killed, 23 injured")
    assert mail["Message-ID"] == f"<{ALERT['alert_id']}.wirewatch@wirewatch.test>"
    plain = mail.get_body(("plain",)).get_content()
    html_part = mail.get_body(("html",)).get_content()
    assert EVIDENCE[:60] in plain and EVIDENCE[:60] in html_part
    assert f'href="{ALERT["canonical_url"]}"' in html_part


@pytest.mark.parametrize(
    "refuse, error, reason",
    [
        ("550 5.1.1 no such mailbox", PermanentError, "receiver_rejected"),
        ("451 4.3.0 try again later", TransientError, "receiver_error"),
    ],
)
async def test_smtp_refusals_become_dead_letter_or_retry(smtp, refuse, error, reason):
    _box, settings = smtp(refuse)
    ch = EmailChannel(settings)
    await ch.start()
    with pytest.raises(error) as e:
        await ch.send(ALERT)
    assert e.value.reason == reason and refuse.split()[0] in e.value.detail


async def test_smtp_server_down_is_transient():
    ch = EmailChannel(SmtpSettings(host="127.0.0.1", port=free_port(), security="none", to=["a@b.test"], timeout=2))
    with pytest.raises(TransientError) as e:
        await ch.send(ALERT)
    assert e.value.reason == "receiver_unreachable"


# -- Alertmanager ------------------------------------------------------------------------------


async def test_alertmanager_holds_the_alert_once_however_often_it_is_sent(alertmanager):
    ch = AlertmanagerChannel(alertmanager.url)
    await ch.start()
    a = alert(alert_id="am-" + ALERT["alert_id"])
    await ch.send(a)
    await ch.send(a)  # a redelivery updates the same Alertmanager alert
    await ch.send(update_alert())
    held = alertmanager.alerts(alert_id=a["alert_id"])
    assert len(held) == 1
    got = held[0]
    assert got["labels"]["alertname"] == "WirewatchCasualties"
    assert got["labels"]["severity"] == "critical" and got["labels"]["rule"] == ALERT["rule"]
    assert got["annotations"]["url"] == ALERT["canonical_url"]
    assert EVIDENCE[:60] in got["annotations"]["description"]
    assert got["generatorURL"] == ALERT["canonical_url"]
    upd = alertmanager.alerts(alert_id="upd-4b1f9e2c77aa")
    assert len(upd) == 1 and upd[0]["labels"]["kind"] == "update" and upd[0]["labels"]["story_id"] == "story-81c2"

    await ch.send(NOTICE)
    failing = alertmanager.alerts(alertname="WirewatchChannelFailing", target=NOTICE["target"])
    assert len(failing) == 1 and failing[0]["status"]["state"] == "active"
    await ch.send({**NOTICE, "kind": "channel_recovered"})
    # endsAt now resolves it: Alertmanager's API lists only unresolved alerts
    assert alertmanager.alerts(alertname="WirewatchChannelFailing", target=NOTICE["target"]) == []
    await ch.close()


# -- apprise -----------------------------------------------------------------------------------


async def test_apprise_delivers_through_a_real_endpoint(receiver):
    ch = AppriseChannel(SecretStr(receiver.base_url.replace("http://", "json://") + "/apprise"))
    await ch.start()
    await ch.send(ALERT)
    await ch.close()
    (body,) = receiver.received
    assert receiver.paths == ["/apprise"]
    assert body["title"].startswith("[wirewatch] at least 9 killed")
    assert EVIDENCE[:60] in body["message"]


async def test_apprise_failure_is_transient_and_a_bad_url_fails_at_start():
    r = AlertReceiver(always_status=503)
    await r.start()
    try:
        ch = AppriseChannel(r.base_url.replace("http://", "json://"))
        await ch.start()
        with pytest.raises(TransientError):
            await ch.send(ALERT)
        await ch.close()
    finally:
        await r.stop()
    with pytest.raises(ConfigError):
        await AppriseChannel("nosuchscheme://x").start()


# -- building channels from settings -----------------------------------------------------------


def test_channels_come_from_settings_and_name_no_secret():
    s = Settings(
        webhook_urls=["http://127.0.0.1:1/a?token=hook-secret"],
        channels={
            "slack_webhook_urls": ["https://hooks.slack.example/services/T/B/slack-secret"],
            "alertmanager_urls": ["http://127.0.0.1:9093"],
            "apprise_urls": ["ntfy://ntfy-secret@127.0.0.1/topic"],
            "smtp": {"host": "127.0.0.1", "to": ["desk@newsroom.test"], "password": "smtp-secret"},
        },
    )
    chans = build_channels(s)
    assert [c.kind for c in chans] == ["webhook", "slack", "alertmanager", "email", "apprise"]
    assert all(isinstance(c, Channel) for c in chans)
    assert len({c.target for c in chans}) == 5
    assert not any("secret" in c.target for c in chans)
    assert "slack-secret" not in repr(s) and "smtp-secret" not in repr(s)
    assert build_channels(Settings()) == []
