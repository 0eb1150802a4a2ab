"""Logging of every wirewatch process, configured once from the settings.

- `log_format` text (for people) or json: one object a line with time, level, logger, message,
  link_id, stage, reason (null when unknown), plus exc for a traceback.
- link_id and stage come from the message being handled (`bind`, called by the stage runner),
  so every line about a link carries its id without each call site passing it.
- Floods are summarised: the first warning or error of a kind (logger, level, message template,
  stage, reason) in
  an interval is written, the rest are counted and written as one line when the interval ends
  ("... 1234 more like this in the last 60 s"). That covers a dead broker (the Kafka client logs
  every reconnect) and a burst of dead letters of one reason alike.
- Long values are truncated (a URL of 8,000 characters is not a log line).
"""

from __future__ import annotations

import contextvars
import logging
import sys
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import orjson

from . import timeutil

MAX_MESSAGE = 1000  # characters of a message kept; the rest is cut with a marker
SUMMARY_INTERVAL = 60.0  # seconds over which repeats of one kind of record are counted
QUIET_LOGGERS = ("trafilatura", "htmldate", "courlan", "httpx", "aiokafka", "charset_normalizer")

# Replaced, never mutated, by `bind`: the shared default is read-only.
_context: contextvars.ContextVar[Mapping[str, str | None]] = contextvars.ContextVar(
    "wirewatch_log_context", default=MappingProxyType({})
)


def bind(**values: str | None) -> None:
    """Attach values (link_id, stage) to every record logged from this task from now on."""
    _context.set({**_context.get(), **values})


def truncate(text: str, limit: int = MAX_MESSAGE) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... [{len(text) - limit} more characters]"


class ContextFilter(logging.Filter):
    """Fill record.link_id / stage / reason from `bind` (an explicit extra= wins) and cap the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = _context.get()
        for key in ("link_id", "stage", "reason"):
            if getattr(record, key, None) is None:
                setattr(record, key, ctx.get(key))
        message = record.getMessage()
        if len(message) > MAX_MESSAGE:
            record.msg, record.args = truncate(message), None
        return True


# extra={UNSUMMARISED: True}: a record asked for (a state dump) is never folded into a summary.
UNSUMMARISED = "wirewatch_unsummarised"


class RepeatSummary(logging.Filter):
    """Let the first record of a kind through per interval; count the rest and, once the interval is
    over, let one summary line through (on the next record of any kind, or at `flush`)."""

    def __init__(self, interval: float = SUMMARY_INTERVAL, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval, self.clock = interval, clock
        self._kinds: dict[tuple, list] = {}  # kind -> [window start, suppressed count, first record]
        self._lock = threading.Lock()
        self.emit_summary: Callable[[logging.LogRecord], None] = lambda record: None

    def filter(self, record: logging.LogRecord) -> bool:
        if (
            getattr(record, "_wirewatch_summary", False)
            or record.levelno < logging.WARNING
            or UNSUMMARISED in record.__dict__
        ):
            return True  # floods are of warnings and errors; INFO lines are the story of a run
        kind = (
            record.name,
            record.levelno,
            str(record.msg),
            getattr(record, "stage", None),
            getattr(record, "reason", None),
        )
        now = self.clock()
        with self._lock:
            due = self._due(now)
            entry = self._kinds.get(kind)
            if entry is None:
                self._kinds[kind] = [now, 0, record]
                passed = True
            else:
                entry[1] += 1
                passed = False
        for summary in due:
            self.emit_summary(summary)
        return passed

    def _due(self, now: float, everything: bool = False) -> list[logging.LogRecord]:
        out = []
        for kind, (start, count, first) in list(self._kinds.items()):
            if everything or now - start >= self.interval:
                del self._kinds[kind]
                if count:
                    out.append(self._summary(first, count, now - start))
        return out

    @staticmethod
    def _summary(first: logging.LogRecord, count: int, seconds: float) -> logging.LogRecord:
        text = truncate(first.getMessage(), 200)
        record = logging.LogRecord(
            first.name,
            first.levelno,
            first.pathname,
            first.lineno,
            "%s (%d more like this in the last %.0f s)",
            (text, count, seconds),
            None,
        )
        record.reason, record.link_id, record.stage = (
            getattr(first, "reason", None),
            None,
            getattr(first, "stage", None),
        )
        record.repeats = count
        record._wirewatch_summary = True
        return record

    def flush(self) -> None:
        with self._lock:
            due = self._due(self.clock(), everything=True)
        for summary in due:
            self.emit_summary(summary)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": timeutil.iso(datetime.fromtimestamp(record.created, UTC), "milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "link_id": getattr(record, "link_id", None),
            "stage": getattr(record, "stage", None),
            "reason": getattr(record, "reason", None),
        }
        if repeats := getattr(record, "repeats", None):  # set by the flood summary
            out["repeats"] = repeats
        if record.exc_info:
            out["exc"] = truncate(self.formatException(record.exc_info), 8000)
        return orjson.dumps(out).decode()


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        tags = " ".join(f"{k}={getattr(record, k)}" for k in ("stage", "link_id", "reason") if getattr(record, k, None))
        if tags:
            head, sep, tail = line.partition("\n")
            line = f"{head} [{tags}]{sep}{tail}"
        return line


class _Handler(logging.StreamHandler):
    def __init__(self, stream: Any, summary: RepeatSummary) -> None:
        super().__init__(stream)
        self.summary = summary
        summary.emit_summary = self.emit  # summaries skip the filters (they already passed them)
        self.addFilter(ContextFilter())
        self.addFilter(summary)

    def close(self) -> None:
        self.summary.flush()
        super().close()


def setup(
    level: str = "INFO", fmt: str = "text", stream: Any = None, interval: float = SUMMARY_INTERVAL
) -> logging.Handler:
    """Replace the root handlers with one configured handler; returns it."""
    handler = _Handler(stream or sys.stderr, RepeatSummary(interval))
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # An exception that ends a thread (the Kafka consumer's, say) is a log record too, not raw text.
    threading.excepthook = _log_thread_exception
    return handler


def flush() -> None:
    """Write the pending flood summaries now (before a last line that must stay last)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, _Handler):
            handler.summary.flush()
            handler.flush()


def _log_thread_exception(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    logging.getLogger("wirewatch").error(
        "thread %s died",
        getattr(args.thread, "name", "?"),
        exc_info=args.exc_value,
    )
