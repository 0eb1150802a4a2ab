"""One typed settings object, loaded once at boot and passed down; nothing else reads the environment.

Why one module of ~600 lines: the settings are one object by design (loaded once, documented in
docs/settings.md from these fields); each stage has its own section class below.

Sources, highest first: keyword arguments, environment variables (``WIREWATCH_*``, nested fields
with ``__``, e.g. ``WIREWATCH_FETCH__MAX_BYTES``), a YAML file named by ``WIREWATCH_CONFIG``, and
the defaults below. Defaults run the whole service on one machine with nothing installed: an
embedded broker and SQLite storage under ``data_dir``. Secrets are ``SecretStr`` and print masked;
URLs that may carry credentials or tokens (storage, webhooks, Slack, Alertmanager) are ``SecretUrl``:
they print with their user, password, path and query masked, so an operator still sees the host.
Every model forbids unknown keys, so a typo in a nested name (env or YAML) is an error, not a default.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError

from . import yamlfile
from .errors import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parent
MASK = "**********"


def mask_url(url: str) -> str:
    """``url`` with whatever may be a credential hidden: user and password, path, query, fragment.

    postgresql://ww:pw@db:5432/ww -> postgresql://***@db:5432/***; a URL without a host part
    (sqlite:///var/x.db) carries no credentials and is shown whole.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return MASK
    if not parts.netloc:
        return url if parts.scheme else (MASK if url else "")
    host = parts.hostname or ""
    shown = f"{parts.scheme}://{'***@' if '@' in parts.netloc else ''}{f'[{host}]' if ':' in host else host}"
    shown += f":{port}" if port else ""
    return shown + ("/***" if parts.path.strip("/") or parts.query or parts.fragment else "")


class SecretUrl(SecretStr):
    """A URL that may hold a secret (a password, a token in its path or query): masked by ``mask_url``."""

    def _display(self) -> str:
        return mask_url(self.get_secret_value())


# pydantic serialises every SecretStr as a fixed mask; this keeps the URL's host visible in
# `wirewatch settings` while its secrets stay hidden.
MaskedUrl = Annotated[SecretUrl, PlainSerializer(lambda v: v._display(), return_type=str, when_used="json")]


def reveal(value: SecretStr | str | None) -> str:
    """The plain value of a secret setting (or of a plain string put there by model_copy)."""
    if value is None:
        return ""
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Strict(BaseModel):
    """A settings group: an unknown key (WIREWATCH_FETCH__MAX_BYTE, or a typo in YAML) is an error."""

    model_config = ConfigDict(extra="forbid")


class FeedSource(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Short name, used in the link's `source`")
    url: str
    interval: float = Field(300.0, ge=10, description="Seconds between polls")


class SitemapSource(FeedSource):
    """A news sitemap (or a sitemap index, plain or .xml.gz) polled like a feed."""

    interval: float = Field(600.0, ge=10, description="Seconds between polls")


class SiteSource(FeedSource):
    """A site's homepage: its feed is found by autodiscovery (<link rel=alternate>), then polled."""


class SourceSettings(Strict):
    """How feeds, sitemaps and sites are polled (sources/poller.py) and how links are deduplicated."""

    min_interval: float = Field(60.0, ge=1, description="Seconds: no source is polled more often, whatever it asks")
    max_interval: float = Field(
        3600.0, ge=1, description="Seconds: no healthy source waits longer, whatever its cache headers say"
    )
    backoff_max: float = Field(
        6 * 3600.0, ge=1, description="Seconds: ceiling of the backoff of a failing source (it is never given up)"
    )
    stale_after: float = Field(
        6 * 3600.0, ge=60, description="Seconds without a new item before a source is stale (metric + alert)"
    )
    alias_ttl: float = Field(
        24 * 3600.0,
        ge=0,
        description="Seconds a resolved link (url -> final -> canonical) is trusted; 0 turns aliases off",
    )
    seen_per_source: int = Field(5000, ge=10, description="Item ids remembered per source, so items are submitted once")
    sitemap_max_age: float = Field(
        2 * 86400.0, gt=0, description="Seconds: sitemap entries dated older than this are not submitted"
    )
    sitemap_max_children: int = Field(20, ge=1, description="Child sitemaps of an index read per poll, newest first")
    sitemaps: list[SitemapSource] = Field(
        default_factory=list, description='News sitemaps: JSON list of {"name", "url", "interval"}'
    )
    sites: list[SiteSource] = Field(
        default_factory=list,
        description='Homepages whose feed is autodiscovered: JSON list of {"name", "url", "interval"}',
    )


class FetchSettings(Strict):
    connect_timeout: float = Field(5.0, gt=0, description="Seconds to open a connection")
    read_timeout: float = Field(15.0, gt=0, description="Seconds between two reads")
    total_timeout: float = Field(30.0, gt=0, description="Seconds for a whole fetch, redirects included")
    max_bytes: int = Field(
        5_000_000, gt=0, description="Body size cap on the wire (before decompression); larger pages are refused"
    )
    max_redirects: int = Field(10, ge=0, description="Redirect hops followed before giving up")
    user_agent: str = Field(
        "wirewatch/0.1 (+https://github.com/wirewatch/wirewatch)", description="User-Agent of every request"
    )
    content_types: list[str] = Field(
        default_factory=lambda: ["text/html", "application/xhtml+xml"],
        description="Content types accepted as articles",
    )
    # Safety: secure by default; see services/wirewatch/stages/netguard.py.
    allow_private_addresses: bool = Field(
        False,
        description="TEST/DEV SWITCH: also connect to loopback, private, link-local, CGNAT and reserved addresses. "
        "Off in production: on, a shared link can reach internal hosts",
    )
    allowed_networks: list[str] = Field(
        default_factory=list,
        description="CIDRs fetched even though they are not public (an internal mirror, say); everything else stays refused",
    )
    max_decompressed_bytes: int = Field(
        20_000_000, gt=0, description="Body size cap after gzip/deflate decoding (max_bytes caps the bytes on the wire)"
    )
    max_header_bytes: int = Field(
        65_536, gt=0, description="Response header size cap; at most 100 KiB, the HTTP parser's own limit"
    )
    max_connections: int = Field(
        100, ge=1, description="Requests in flight on the fetch client, all hosts together (idle connections aside)"
    )
    keepalive_hosts: int = Field(
        1000,
        ge=1,
        description="Hosts whose idle connections the fetch client keeps open for their next request (at most "
        "per_host_concurrency each), least recently used closed first; at most a quarter of the process's "
        "open-file limit goes to them",
    )
    keepalive_expiry: float = Field(
        30.0, gt=0, description="Seconds an idle fetch connection stays open waiting for its host's next request"
    )
    per_host_concurrency: int = Field(2, ge=1, description="Requests in flight to one host at a time")
    per_host_rate: float = Field(1.0, gt=0, description="Requests per second to one host, sustained")
    per_host_burst: int = Field(
        4, ge=1, description="Requests to one host allowed back to back before per_host_rate applies"
    )
    max_host_wait: float = Field(
        30.0,
        ge=0,
        description="Seconds a fetch waits for its host's turn before it steps aside and tries again later (host_busy: no try spent, never dead-lettered)",
    )
    robots: bool = Field(True, description="Honour robots.txt (fetched through the same guarded client, cached)")
    robots_ttl: float = Field(3600.0, gt=0, description="Seconds a robots.txt stays cached")

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, v: list[str]) -> list[str]:
        import ipaddress

        for cidr in v:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as e:
                raise ValueError(f"{cidr!r} is not an IP network: {e}") from e
        return v


class RetrySettings(Strict):
    attempts: int = Field(4, ge=1, description="Tries of a transient failure before dead-lettering")
    backoff_initial: float = Field(0.5, ge=0, description="First backoff in seconds; doubles each try")
    backoff_max: float = Field(30.0, ge=0, description="Backoff ceiling in seconds")
    outage_backoff_max: float = Field(
        5.0,
        gt=0,
        description="Backoff ceiling in seconds while a dependency (storage, the broker) is down: "
        "the stage pauses and retries without limit, so this bounds how long after the outage it resumes",
    )


class SmtpSettings(Strict):
    """Email alerts. Off while `host` or `to` is empty."""

    host: str = Field("", description="SMTP server; empty turns email alerts off")
    port: int = Field(587, ge=1, le=65535, description="SMTP port: 587 with starttls, 465 with tls, 25 plain")
    security: Literal["starttls", "tls", "none"] = Field("starttls", description="starttls, tls (SMTPS) or none")
    username: str = Field("", description="Login name; empty sends without AUTH")
    password: SecretStr | None = Field(None, description="Login password")
    sender: str = Field("wirewatch@localhost", description="From address")
    to: list[str] = Field(default_factory=list, description="Recipients of every alert email")
    timeout: float = Field(15.0, gt=0, description="Seconds for one SMTP conversation")


class ChannelSettings(Strict):
    """Alert channels beyond `webhook_urls`, how each is retried, and when one is declared failing."""

    slack_webhook_urls: list[MaskedUrl] = Field(
        default_factory=list, description="Slack incoming-webhook URLs (they hold a token)"
    )
    alertmanager_urls: list[MaskedUrl] = Field(
        default_factory=list, description="Prometheus Alertmanager base URLs; alerts go to /api/v2/alerts"
    )
    apprise_urls: list[SecretStr] = Field(
        default_factory=list, description="Apprise notification URLs (ntfy://, tgram://, ...)"
    )
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    timeout: float = Field(10.0, gt=0, description="Seconds for one HTTP delivery attempt")
    failing_after: float = Field(
        900.0,
        gt=0,
        description="Seconds a channel keeps failing before it is declared failing (wirewatch_channel_failing, "
        "readiness detail, a notice through the other channels). Its alerts are never dead-lettered for it: they wait, "
        "parked in storage, and are tried until delivered. `delivery_deadline` is a deprecated alias",
    )
    backoff_initial: float = Field(1.0, ge=0, description="First wait between delivery tries, doubling")
    backoff_max: float = Field(
        60.0,
        ge=0,
        description="Longest wait between delivery tries; an alert whose next wait reaches it is parked in storage",
    )
    probe_max: float = Field(
        10.0,
        gt=0,
        description="Longest wait between two probes of a channel whose alerts are parked: how late they can "
        "be once it answers again (a Retry-After it sends is still honoured, up to backoff_max)",
    )
    failing_notice: bool = Field(
        True,
        description="When a channel is declared failing (failing_after), say so through the other channels",
    )

    @model_validator(mode="before")
    @classmethod
    def _delivery_deadline_is_failing_after(cls, data: Any) -> Any:
        """`delivery_deadline` (until issue 11 it dead-lettered alerts) still sets failing_after."""
        if isinstance(data, dict) and "delivery_deadline" in data:
            data = dict(data)
            old = data.pop("delivery_deadline")
            data.setdefault("failing_after", old)
            warnings.warn(
                "channels.delivery_deadline is deprecated: use channels.failing_after", DeprecationWarning, stacklevel=2
            )
        return data


class RouteSettings(Strict):
    """Stories, rule reloading and digests (stages/story.py, stages/rules_watch.py, stages/throttle.py)."""

    story_window: float = Field(
        48 * 3600.0, gt=0, description="Seconds after a story's last article in which a new article can still join it"
    )
    story_follow_up: float = Field(
        3 * 365 * 86400.0,  # a trial or a sentencing can come years after the event
        ge=0,
        description="Seconds after a story's window closed in which a strong match (same toll and a shared name, or the same two names) still joins it as a follow-up, raising no new alert; 0 turns follow-ups off",
    )
    rules_reload_interval: float = Field(
        5.0, ge=0, description="Seconds between checks of rules_file for changes; 0 turns hot reload off"
    )
    digest_interval: float = Field(
        30.0, gt=0, description="Seconds between checks for closed throttle windows whose digest is due"
    )


class IntakeSettings(Strict):
    """`POST /links`: who may submit, how much at once and how often (http/intake.py)."""

    token: SecretStr | None = Field(
        None,
        description="Bearer token `POST /links` requires (Authorization: Bearer ...). "
        "Required when web_host is not a loopback address",
    )
    max_urls: int = Field(100, ge=1, description="URLs one request may carry; more is refused with 413")
    rate: float = Field(
        5.0, gt=0, description="Requests per second one client (address) may make, sustained; more get 429"
    )
    burst: int = Field(20, ge=1, description="Requests one client may make back to back before `rate` applies")
    max_url_length: int = Field(2048, ge=64, le=8192, description="Characters a submitted URL may have")


class KafkaSettings(Strict):
    """Consumer-group timing. Production-sane defaults; tests shorten them to join groups fast."""

    session_timeout: float = Field(45.0, description="Seconds without a heartbeat before a worker leaves the group")
    heartbeat_interval: float = Field(3.0, description="Seconds between consumer heartbeats")
    rebalance_timeout: float = Field(60.0, description="Seconds members get to rejoin during a rebalance")
    commit_interval: float = Field(2.8, description="Seconds between offset commits")
    fetch_max_wait: float = Field(
        1.5,
        gt=0,
        le=30,
        description="Seconds a consumer fetch may wait for records; Apache Kafka answers as soon as one arrives, "
        "tansu only when the wait is over (the embedded tansu default uses 0.02)",
    )
    stall_reseek_after: float = Field(
        30.0,
        ge=0,
        description="Seconds an assigned partition may go unread while messages wait in it and nothing of it is in "
        "flight before it is sought back to its committed offset and read again (broker/stall_watch.py); 0: never",
    )
    group_instance_id: str = Field(
        "auto",
        description="Static group membership (KIP-345): a worker restarted under the same id gets its partitions back "
        "at once instead of after session_timeout, and the others do not stall. auto: <hostname>-<web_port> "
        "(unique per worker on a host) on Apache Kafka with the web server on; off: dynamic membership; "
        "anything else: the id itself (unique per worker, stable across its restarts)",
    )

    def instance_id(self, web_port: int, embedded: bool) -> str | None:
        """The group.instance.id this worker joins with, or None for dynamic membership."""
        value = self.group_instance_id.strip()
        if value == "off" or not value:
            return None
        if value != "auto":
            return value
        if embedded or web_port <= 0:  # tansu: not tried with static members; no port: no unique id
            return None
        import socket

        return f"{socket.gethostname()}-{web_port}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WIREWATCH_", env_nested_delimiter="__", extra="forbid")

    app_id: str = Field("wirewatch", description="Faust app id: the consumer group and topic-name prefix of tables")
    broker: str = Field(
        "embedded",
        description="`embedded` starts a broker for you (see embedded_broker); else kafka://host:port[;host:port]",
    )
    embedded_broker: Literal["tansu", "kafka"] = Field(
        "tansu", description="tansu needs nothing installed; kafka needs Java and fetches jars from Maven Central"
    )
    topic_prefix: str = Field("wirewatch.", description="Prefix of every topic name")
    topic_partitions: int = Field(4, ge=1, description="Partitions of each topic: the unit of scale-out")
    storage_url: MaskedUrl = Field(
        SecretUrl(""),
        description="postgresql://user:pass@host/db, or sqlite:///path; empty means SQLite under data_dir",
    )
    data_dir: Path = Field(Path("var"), description="Where embedded broker, SQLite and state live")
    outbox: Literal["auto", "on", "off"] = Field(
        "auto",
        description="Keep every accepted link and raised alert in storage until it is settled, and send it again "
        "after a crash or a broker outage (sinks/outbox.py); auto: on with the embedded broker",
    )
    web_host: str = Field("127.0.0.1", description="Address of the HTTP server; 0.0.0.0 in containers")
    web_port: int = Field(
        6066,
        ge=0,
        le=65535,
        description="/metrics, POST /links, /health, the read API and the story board; 0 turns the HTTP server off",
    )
    read_token: SecretStr | None = Field(
        None,
        description="Bearer token the read API and the story board require; unset: open to loopback clients only",
    )
    rules_file: Path = Field(PACKAGE_DIR / "defaults" / "rules.yaml", description="YAML alert rules, validated at boot")
    webhook_urls: list[MaskedUrl] = Field(
        default_factory=list, description="Alert receivers, JSON POST (a token in the URL stays masked)"
    )
    webhook_secret: SecretStr | None = Field(
        None, description="HMAC-SHA256 key signing webhook bodies (X-Wirewatch-Signature)"
    )
    feeds: list[FeedSource] = Field(
        default_factory=lambda: list(DEFAULT_FEEDS),
        description='RSS/Atom feeds: JSON list of {"name", "url", "interval"}',
    )
    feed_poll: bool = Field(
        True, description="Poll `feeds`, `sources.sitemaps` and `sources.sites`; off for workers that only process"
    )
    extract_processes: int | None = Field(
        None,
        ge=0,
        description="Processes that read articles (extract + enrich, one call per article); unset: one per core; 0 runs in a thread",
    )
    fetch_concurrency: int = Field(
        64,
        ge=1,
        description="Links one worker fetches at once (the fetch stage's window); a link waiting for its host's turn or a retry does not count",
    )
    stage_concurrency: int = Field(
        16,
        ge=1,
        description="Messages each other stage (enrich, store, route, alert, outcomes) works on at once",
    )
    max_message_bytes: int = Field(
        900_000,
        ge=16_384,
        le=1_000_000,
        description="Largest message wirewatch takes from or puts on a topic, in bytes; below "
        "the broker's limit (1 MiB by default). A bigger one is an input error: POST /links answers 413, a stage "
        "dead-letters it (message_too_large) with an excerpt and its sha256",
    )
    max_uncommitted: int = Field(
        10_000,
        ge=1,
        description="Messages a stage may have taken and not committed (waiting aside, or done above one still running); when reached it stops taking",
    )
    fetch: FetchSettings = Field(default_factory=FetchSettings)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    sources: SourceSettings = Field(default_factory=SourceSettings)
    channels: ChannelSettings = Field(default_factory=ChannelSettings)
    route: RouteSettings = Field(default_factory=RouteSettings)
    intake: IntakeSettings = Field(default_factory=IntakeSettings)
    startup_timeout: float = Field(
        300.0,
        gt=0,
        description="Seconds a worker waits at boot for the broker and storage (retrying with backoff) "
        "before it exits non-zero",
    )
    event_loop: Literal["auto", "uvloop", "asyncio"] = Field(
        "auto",
        description="The worker's event loop: uvloop (libuv; less CPU a message) or asyncio's own; auto: uvloop "
        "where it is installed, else asyncio",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")
    log_format: Literal["text", "json"] = Field(
        "text",
        description="text for people; json: one object a line (time, level, logger, message, link_id, stage, reason)",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, v: Any) -> Any:
        return v.upper() if isinstance(v, str) else v

    @field_validator("broker")
    @classmethod
    def _broker(cls, v: str) -> str:
        if v != "embedded" and not v.startswith("kafka://"):
            raise ValueError("must be 'embedded' or kafka://host:port")
        return v

    @model_validator(mode="after")
    def _intake_needs_a_token_beyond_loopback(self) -> Settings:
        if self.web_port and not is_loopback(self.web_host) and self.intake.token is None:
            raise ValueError(
                f"web_host {self.web_host} is reachable from other machines, so POST /links needs "
                "a token: set WIREWATCH_INTAKE__TOKEN"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, _YamlSource(settings_cls)

    @property
    def resolved_storage_url(self) -> str:
        return reveal(self.storage_url) or f"sqlite:///{(self.data_dir / 'wirewatch.db').resolve()}"

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"


class _YamlSource(PydanticBaseSettingsSource):
    """Values from the YAML file named by WIREWATCH_CONFIG (optional)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get("WIREWATCH_CONFIG")
        if not path:
            return {}
        try:
            data = yamlfile.load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"{path}: cannot read settings: {e}") from e
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a mapping of settings at the top level")
        return data


# Variables read outside the settings object (they locate files before settings exist).
_NOT_SETTINGS = {
    "WIREWATCH_CONFIG",
    "WIREWATCH_SCHEMAS_DIR",
    "WIREWATCH_KAFKA_JARS",
    "WIREWATCH_CASUALTY_CORPUS",
}  # the last: a test corpus path (tests/stages/test_casualties_gva.py)


def load_settings(**overrides: Any) -> Settings:
    """Build the settings once; anything wrong is one ConfigError with one line per problem, naming
    the variable (or the YAML file) and the setting, never a traceback.

    A WIREWATCH_* variable that names no setting is an error too, at any depth: a typo must not
    silently leave a default in force.
    """
    unknown = sorted(
        k
        for k in os.environ
        if k.startswith("WIREWATCH_")
        and k not in _NOT_SETTINGS
        and k.removeprefix("WIREWATCH_").split("__")[0].lower() not in Settings.model_fields
    )
    if unknown:
        raise ConfigError(
            "unknown settings in the environment: "
            + ", ".join(f"{k} (no setting {k.removeprefix('WIREWATCH_').split('__')[0].lower()!r})" for k in unknown)
        )
    try:
        return Settings(**overrides)
    except ValidationError as e:
        raise ConfigError("invalid settings:\n" + "\n".join(_explain(err, overrides) for err in e.errors())) from None
    except SettingsError as e:  # a list or object variable that is not JSON
        import re

        m = re.search(r'field "([^"]+)"', str(e))
        name = f"WIREWATCH_{m.group(1).upper()}" if m else "a WIREWATCH_* variable"
        raise ConfigError(f"{name}: not valid JSON (lists and objects are JSON, e.g. '[\"https://...\"]')") from None


def _explain(err: Any, overrides: dict[str, Any]) -> str:
    """One line for one pydantic error: where the value came from, the setting, what is wrong."""
    path = [str(p) for p in err["loc"]]
    setting = ".".join(path)
    names = [p for p in path if not p.isdigit()]
    where = None
    if names and names[0] not in overrides:
        for n in range(len(names), 0, -1):  # WIREWATCH_FEEDS holds feeds.0.url; WIREWATCH_FETCH__X holds fetch.x
            var = "WIREWATCH_" + "__".join(names[:n]).upper()
            if var in os.environ:
                where = var
                break
        if where is None and os.environ.get("WIREWATCH_CONFIG"):
            where = os.environ["WIREWATCH_CONFIG"]
    message = "no such setting" if err["type"] == "extra_forbidden" else err["msg"]
    value = (
        ""
        if err["type"] == "extra_forbidden" or isinstance(err.get("input"), (dict, list))
        else f" (got {str(err.get('input'))[:60]!r})"
    )
    if any(k in setting for k in ("password", "token", "secret", "url")):
        value = ""  # never echo what may be a secret
    return f"  {where + ': ' if where else ''}{setting + ': ' if setting else ''}{message}{value}"


# Real news feeds polled by `make run`. Arab News first: its short links (arab.news/xxxxx)
# are the kind of link wirewatch is built to resolve.
DEFAULT_FEEDS: tuple[FeedSource, ...] = (
    FeedSource(name="arab-news", url="https://www.arabnews.com/cat/1/rss.xml", interval=120),
    FeedSource(name="arab-news-world", url="https://www.arabnews.com/cat/4/rss.xml", interval=120),
    FeedSource(name="bbc-world", url="https://feeds.bbci.co.uk/news/world/rss.xml", interval=120),
    FeedSource(name="al-jazeera", url="https://www.aljazeera.com/xml/rss/all.xml", interval=120),
    FeedSource(name="france24", url="https://www.france24.com/en/rss", interval=180),
    FeedSource(name="un-news", url="https://news.un.org/feed/subscribe/en/news/all/rss.xml", interval=300),
)


def settings_markdown() -> str:
    """docs/settings.md, generated from the fields above (a test fails when the doc is stale)."""
    lines = [
        "# Settings",
        "",
        "Generated from `services/wirewatch/settings.py` by `wirewatch settings --markdown`; do not edit.",
        "",
        "Environment variables are `WIREWATCH_` + the name in capitals; nested names join with `__`",
        "(`WIREWATCH_FETCH__MAX_BYTES`); lists and objects are JSON. A YAML file named by",
        "`WIREWATCH_CONFIG` may hold the same names. Unknown `WIREWATCH_*` variables are an error.",
        "",
        "| setting | type | default | meaning |",
        "|---|---|---|---|",
    ]

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            ann = field.annotation
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                walk(ann, f"{prefix}{name}__")
                continue
            default = field.get_default(call_default_factory=True)
            if name == "feeds":
                shown = ", ".join(f.name for f in default)
            elif isinstance(default, Path) and default.is_absolute():
                shown = str(default.relative_to(PACKAGE_DIR.parents[1]))
            else:
                shown = repr(default) if not isinstance(default, str) else (default or '""')
            kind = getattr(ann, "__name__", None) or str(ann).replace("typing.", "").replace("pydantic.types.", "")
            kind = kind.replace("|", "or")
            desc = (field.description or "").replace("|", "\\|")
            lines.append(f"| `WIREWATCH_{(prefix + name).upper()}` | {kind} | `{shown}` | {desc} |")

    walk(Settings, "")
    return "\n".join(lines) + "\n"
