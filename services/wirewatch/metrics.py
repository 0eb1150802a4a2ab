"""Every Prometheus metric wirewatch exports, declared in this one place.

Labels stay low-cardinality: stage, outcome, reason, channel, kind. Never a URL, and a domain only
in the per-domain extraction view, which caps the number of domains it tracks.
Build one ``Metrics`` per process (tests pass their own registry).
"""

from __future__ import annotations

import platform
from typing import Any
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

# Stage latencies span a cached 5 ms enrichment to a 30 s fetch timeout; buckets cover both ends
# with enough resolution around 0.1-2 s, where most fetches of news pages land.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)

# Read API answers are a few milliseconds from an index; the goal is p99 < 50 ms.
API_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
OUTCOMES = ("ok", "filtered", "dead_lettered", "retried", "waited")

# Per-domain extraction metrics: how many sites get their own series (the rest are "other"), and
# text-length buckets from a too-short stub through a brief, a news story to a long read.
EXTRACT_DOMAINS_TRACKED = 50
EXTRACT_CHAR_BUCKETS = (200, 500, 1000, 2000, 4000, 8000, 16000, 32000)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("wirewatch")
    except PackageNotFoundError:
        return "unknown"


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.messages = Counter(
            "wirewatch_stage_messages",
            "Messages handled by a stage, by outcome",
            ["stage", "outcome"],
            registry=r,
        )
        self.latency = Histogram(
            "wirewatch_stage_latency_seconds",
            "Time a stage spends on one message",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.dead_letters = Counter(
            "wirewatch_dead_letters",
            "Messages sent to the dead-letter topic, by stage and reason",
            ["stage", "reason"],
            registry=r,
        )
        self.filtered = Counter(
            "wirewatch_filtered",
            "Links deliberately not stored, by stage and reason",
            ["stage", "reason"],
            registry=r,
        )
        self.links_submitted = Counter(
            "wirewatch_links_submitted",
            "Links put on the links topic, by kind of source",
            ["kind"],
            registry=r,
        )
        self.feed_polls = Counter(
            "wirewatch_feed_polls",
            "Feed polls, by outcome",
            ["outcome"],
            registry=r,
        )
        # Per-source gauges are labelled with the source's configured name: names come from
        # settings (feeds, sitemaps, sites), so the series are as few as the configured sources.
        self.source_polls = Counter(
            "wirewatch_source_polls",
            "Polls of feeds, sitemaps and sites, by kind and outcome (new, unchanged, not_modified, error)",
            ["kind", "outcome"],
            registry=r,
        )
        self.source_idle = Gauge(
            "wirewatch_source_seconds_since_new_item",
            "Seconds since a source last yielded a new item (or since it was first polled)",
            ["source"],
            registry=r,
        )
        self.source_errors = Gauge(
            "wirewatch_source_consecutive_errors",
            "Failed polls of a source in a row (0 when healthy)",
            ["source"],
            registry=r,
        )
        self.source_stale = Gauge(
            "wirewatch_source_stale",
            "1 while a source has yielded nothing new for sources.stale_after",
            ["source"],
            registry=r,
        )
        self.stored = Counter(
            "wirewatch_articles_stored",
            "Articles written to storage",
            ["outcome"],
            registry=r,
        )
        self.alerts = Counter(
            "wirewatch_alerts",
            "Alert deliveries, by channel and outcome",
            ["channel", "outcome"],
            registry=r,
        )
        # One observation per delivered (alert, channel): from the first try to the receiver's
        # yes, so retries show; the buckets reach the default 15-minute delivery deadline.
        self.alert_delivery_latency = Histogram(
            "wirewatch_alert_delivery_seconds",
            "Time from first try to delivery of an alert, by channel kind",
            ["channel"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0, 900.0),
            registry=r,
        )
        self.channel_failing = Gauge(
            "wirewatch_channel_failing",
            "Channels of a kind declared failing: failing for longer than channels.failing_after",
            ["channel"],
            registry=r,
        )
        # Alerts waiting for their next try on a failing channel (sinks/delivery.py): aside in memory
        # for a short wait, parked in storage (sinks/parked.py) for a long one; a delivery wakes them.
        self.alerts_parked = Gauge(
            "wirewatch_alerts_parked",
            "Alerts waiting for their next delivery try (in memory or parked in storage), by channel kind",
            ["channel"],
            registry=r,
        )
        # Per-domain extraction health, the one place a domain is a label: a site that changes its
        # template shows as its text length falling or its rejections rising. Bounded: the first
        # EXTRACT_DOMAINS_TRACKED domains seen get their own series, every later one counts as "other".
        self.extract_domain_pages = Counter(
            "wirewatch_extract_domain_pages",
            "Pages extracted, by site and outcome (extracted or the rejection reason)",
            ["domain", "outcome"],
            registry=r,
        )
        self.extract_domain_chars = Histogram(
            "wirewatch_extract_domain_text_chars",
            "Characters of article text extracted, by site",
            ["domain"],
            buckets=EXTRACT_CHAR_BUCKETS,
            registry=r,
        )
        self._extract_domains: set[str] = set()
        # The (stage, outcome) children, looked up once: labels() costs a few us, and every message
        # of every stage counts at least one outcome.
        self._outcomes: dict[tuple[str, str], Any] = {}
        self.stories = Counter(
            "wirewatch_stories",
            "Alerting articles by story decision (new, attached, follow_up, update, "
            "known_article: already in its story, as a redelivery, a revision or a copy at another URL)",
            ["outcome"],
            registry=r,
        )
        self.alerts_raised = Counter(
            "wirewatch_alerts_raised",
            "Alerts the route stage raised, by kind (new, update, digest) or throttled",
            ["kind"],
            registry=r,
        )
        self.rules_reloads = Counter(
            "wirewatch_rules_reloads",
            "Reloads of the rules file, by outcome (ok, invalid)",
            ["outcome"],
            registry=r,
        )
        # The stage runtime's window (agents/flow.py): messages working now, and messages taken whose
        # offset is not committable yet (working, waiting aside, or done above one still running).
        self.in_flight = Gauge(
            "wirewatch_stage_in_flight",
            "Messages a stage's agent is working on (waits aside included)",
            ["stage"],
            registry=r,
        )
        self.uncommitted = Gauge(
            "wirewatch_stage_uncommitted",
            "Messages a stage took and cannot commit yet",
            ["stage"],
            registry=r,
        )
        # 1 while a stage's agent waits for a dependency (storage, the broker): it takes no new
        # message and retries the ones it holds without limit (agents/runner.py, Pause).
        self.stage_paused = Gauge(
            "wirewatch_stage_paused",
            "1 while a stage is paused, waiting for a dependency that is down",
            ["stage"],
            registry=r,
        )
        self.rules_loaded = Gauge("wirewatch_rules_loaded", "Alert rules in force", registry=r)
        self.outbox_resent = Counter(
            "wirewatch_outbox_resent",
            "Links and alerts the outbox sent again: reopen (the embedded broker "
            "lost them in a stop) or relay (their first send failed)",
            ["how"],
            registry=r,
        )
        self.up = Gauge("wirewatch_up", "1 while the service runs", registry=r)
        # Read API (api/routes.py): route is the route's name (stories, story, articles, alerts,
        # events), never the path with its ids; status is the HTTP status class (2xx, 4xx, 5xx).
        self.api_requests = Counter(
            "wirewatch_api_requests",
            "Read API requests, by route and status class",
            ["route", "status"],
            registry=r,
        )
        self.api_latency = Histogram(
            "wirewatch_api_latency_seconds",
            "Time to answer a read API request",
            ["route"],
            buckets=API_BUCKETS,
            registry=r,
        )
        self.api_event_streams = Gauge("wirewatch_api_event_streams", "Open story-board event streams", registry=r)
        # Readiness (ops/health.py): the gauge follows /health/ready, one series per dependency.
        self.ready = Gauge("wirewatch_ready", "1 while /health/ready answers 200", registry=r)
        self.dependency_up = Gauge(
            "wirewatch_dependency_up",
            "1 while a readiness check passes (broker, consumer_group, storage, extract_pool, rules)",
            ["dependency"],
            registry=r,
        )
        # Partition numbers are bounded by topic_partitions, so (topic, partition) stays a few dozen series.
        self.consumer_lag = Gauge(
            "wirewatch_consumer_lag",
            "Messages between the committed offset and the end of a partition assigned to this worker",
            ["topic", "partition"],
            registry=r,
        )
        self.partition_reseeks = Counter(
            "wirewatch_partition_reseeks_total",
            "Partitions sought back to their committed offset because reading them had stopped with messages "
            "waiting (broker/stall_watch.py)",
            ["topic"],
            registry=r,
        )
        # The language each enriched article was read in: a language with a casualty lexicon, or "und"
        # (another language, or none told): a rise of "und" is news the casualty reader skips.
        self.articles_by_language = Counter(
            "wirewatch_articles_by_language",
            "Articles enriched, by language: one with a casualty lexicon "
            "(en, fr, ar), or und (another language, or none could be told)",
            ["language"],
            registry=r,
        )
        self.build_info = Gauge(
            "wirewatch_build_info",
            "Always 1; the labels say which wirewatch and Python run",
            ["version", "python"],
            registry=r,
        )
        self.build_info.labels(version=_version(), python=platform.python_version()).set(1)
        # process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds, ... (Linux /proc)
        ProcessCollector(registry=r)

    def outcome(self, stage: str, outcome: str) -> None:
        child = self._outcomes.get((stage, outcome))
        if child is None:
            child = self._outcomes[stage, outcome] = self.messages.labels(stage=stage, outcome=outcome)
        child.inc()

    def extraction(self, url: str, outcome: str, chars: int | None = None) -> None:
        """Count one extraction of the page at ``url``: ``outcome`` is "extracted" or a rejection reason."""
        domain = self._extract_domain(url)
        self.extract_domain_pages.labels(domain=domain, outcome=outcome).inc()
        if chars is not None:
            self.extract_domain_chars.labels(domain=domain).observe(chars)

    def _extract_domain(self, url: str) -> str:
        try:
            host = (urlsplit(url).hostname or "").removeprefix("www.")
        except ValueError:
            host = ""
        if not host:
            return "other"
        if host not in self._extract_domains:
            if len(self._extract_domains) >= EXTRACT_DOMAINS_TRACKED:
                return "other"
            self._extract_domains.add(host)
        return host

    def prime(self, stages: tuple[str, ...]) -> None:
        """Create every (stage, outcome) series at zero so dashboards see them before the first event."""
        for stage in stages:
            self.latency.labels(stage=stage)
            for outcome in OUTCOMES:
                self.messages.labels(stage=stage, outcome=outcome)
