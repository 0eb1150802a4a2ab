"""Every Prometheus metric wirewatch exports, declared in this one place.

Labels stay low-cardinality: stage, outcome, reason, channel, kind. Never a URL or a domain.
Build one ``Metrics`` per process (tests pass their own registry).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Stage latencies span a cached 5 ms enrichment to a 30 s fetch timeout; buckets cover both ends
# with enough resolution around 0.1-2 s, where most fetches of news pages land.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)

OUTCOMES = ("ok", "filtered", "dead_lettered", "retried")


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.messages = Counter(
            "wirewatch_stage_messages", "Messages handled by a stage, by outcome",
            ["stage", "outcome"], registry=r,
        )
        self.latency = Histogram(
            "wirewatch_stage_latency_seconds", "Time a stage spends on one message",
            ["stage"], buckets=LATENCY_BUCKETS, registry=r,
        )
        self.dead_letters = Counter(
            "wirewatch_dead_letters", "Messages sent to the dead-letter topic, by stage and reason",
            ["stage", "reason"], registry=r,
        )
        self.filtered = Counter(
            "wirewatch_filtered", "Links deliberately not stored, by stage and reason",
            ["stage", "reason"], registry=r,
        )
        self.links_submitted = Counter(
            "wirewatch_links_submitted", "Links put on the links topic, by kind of source",
            ["kind"], registry=r,
        )
        self.feed_polls = Counter(
            "wirewatch_feed_polls", "Feed polls, by outcome", ["outcome"], registry=r,
        )
        self.stored = Counter(
            "wirewatch_articles_stored", "Articles written to storage", ["outcome"], registry=r,
        )
        self.alerts = Counter(
            "wirewatch_alerts", "Alert deliveries, by channel and outcome", ["channel", "outcome"], registry=r,
        )
        self.up = Gauge("wirewatch_up", "1 while the service runs", registry=r)

    def outcome(self, stage: str, outcome: str) -> None:
        self.messages.labels(stage=stage, outcome=outcome).inc()

    def prime(self, stages: tuple[str, ...]) -> None:
        """Create every (stage, outcome) series at zero so dashboards see them before the first event."""
        for stage in stages:
            self.latency.labels(stage=stage)
            for outcome in OUTCOMES:
                self.messages.labels(stage=stage, outcome=outcome)
