"""What a PromQL query may name: the series wirewatch exports (metrics.py), read from a live
``Metrics()``, and a rough reader of the metric names an expression selects. Used by the checks
of the Prometheus rules and of the Grafana dashboard."""

from __future__ import annotations

import re

# Series Prometheus makes itself for every target, which wirewatch does not export.
PROMETHEUS_SERIES = {"up"}
PROMQL_WORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "offset",
    "bool",
    "inf",
    "nan",
}


def exported() -> dict[str, tuple[str, tuple[str, ...]]]:
    """What ``Metrics()`` exports: the name a query uses -> (type, label names).

    prometheus_client adds ``_total`` to a counter's name, and a histogram is queried through
    ``_bucket`` (with ``le``), ``_sum`` and ``_count``; the table keys the histogram by its own name.
    """
    from prometheus_client.metrics import MetricWrapperBase

    from wirewatch.metrics import Metrics

    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    for metric in vars(Metrics()).values():
        if isinstance(metric, MetricWrapperBase):
            (family,) = metric.describe()
            name = family.name + "_total" if family.type == "counter" else family.name
            out[name] = (family.type, tuple(metric._labelnames))  # no public accessor
    return out


def queryable(metrics: dict[str, tuple[str, tuple[str, ...]]]) -> set[str]:
    """Names a query may use: histograms through _bucket/_sum/_count, plus the process collector's."""
    from prometheus_client import CollectorRegistry, ProcessCollector

    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    names = {sample.name for family in registry.collect() for sample in family.samples}
    for name, (kind, _labels) in metrics.items():
        names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"} if kind == "histogram" else {name}
    return names


def series_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (not functions, keywords or label names)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", " ", e)  # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)  # range durations
    e = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\boffset\s+\S+", " ", e)
    names = set()
    for m in re.finditer(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*", e):
        if e[m.end() :].lstrip().startswith("(") or m.group().lower() in PROMQL_WORDS:
            continue
        names.add(m.group())
    return names
