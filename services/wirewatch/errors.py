"""The one error tree of wirewatch, and what the runtime does with each branch.

    WirewatchError
     ├── ConfigError            bad settings or rules: refuse to boot, name the file and field
     ├── Rejected(reason)       an *outcome*, not a failure: the item is filtered, with a reason
     ├── BadRequest(reason)     a read API request with a bad parameter: answered 400 with the detail
     └── StageError(reason)     a stage could not handle an item
          ├── TransientError    worth retrying (timeouts, connection resets, 5xx, 429): the item is
          │    │                retried with backoff, then dead-lettered
          │    ├── Unavailable  a dependency is down (storage, the broker): nothing is wrong with the
          │    │                item; the stage stops taking and retries without limit
          │    └── NotYet       the item waits its turn (our per-host politeness queue, a host's
          │                     Retry-After or Crawl-delay): retried without limit and without
          │                     spending its tries, waiting aside; the stage goes on
          └── PermanentError    will never succeed: dead-letter it with its reason
               └── InvalidMessage   a payload that does not match its schema

Lower-layer exceptions (httpx, asyncpg, lxml) are translated into this tree at the one
boundary that talks to them (``from e``), so agents only ever handle these classes.
``reason`` is a short, stable, low-cardinality code used as a metric label and stored
with dead letters; ``detail`` is free text for humans.
"""

from __future__ import annotations


class WirewatchError(Exception):
    """Base class of every error wirewatch raises on purpose."""


class ConfigError(WirewatchError):
    """Settings or rules are invalid; raised at boot (or on reload) before anything connects."""


class _Reasoned(WirewatchError):
    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)

    def __reduce__(self):  # survive the trip back from an extraction worker process
        return (self.__class__, (self.reason, self.detail))


class Rejected(_Reasoned):
    """The item is fine but not wanted (not an article, too short, ...). Counted as filtered."""


class BadRequest(_Reasoned):
    """A request to the read API (api/) that cannot be answered as asked; HTTP 400 with the detail."""


class StageError(_Reasoned):
    """A stage could not handle an item."""


class TransientError(StageError):
    """The same item may succeed later; the agent retries with backoff, then dead-letters."""

    def __init__(self, reason: str, detail: str = "", retry_after: float | None = None) -> None:
        super().__init__(reason, detail)
        self.retry_after = retry_after

    def __reduce__(self):
        return (self.__class__, (self.reason, self.detail, self.retry_after))


class Unavailable(TransientError):
    """A dependency every item needs (storage, the broker) is down. Raised by the boundary that
    talks to it; the runner pauses the stage's input and waits for as long as it takes, never
    dead-letters (a dead letter is for an item that can never succeed)."""


class NotYet(TransientError):
    """Not a failure: the item must wait its turn. Raised where wirewatch's own per-host politeness
    (a couple of requests at a time, a token rate) or a host's Retry-After / Crawl-delay leaves it
    no turn within ``fetch.max_host_wait``. The runner tries it again after ``retry_after`` (or a
    backoff) for as long as it takes, the wait spends none of ``retry.attempts`` and is done aside
    (``waiting.waiting()``: no working slot held), and the stage is not paused: other hosts' items
    go on. Only a real failure of the host (timeouts, 5xx) spends tries and can dead-letter."""


class PermanentError(StageError):
    """The item will never succeed; the agent dead-letters it at once."""


class InvalidMessage(PermanentError):
    """A message on a topic does not decode or does not match its schema."""

    def __init__(self, detail: str) -> None:
        super().__init__("invalid_message", detail)

    def __reduce__(self):
        return (self.__class__, (self.detail,))
