"""Waiting aside: while a message waits for something other than work of its own (its host's
turn, a Retry-After, a backoff before the next try), ``async with waiting():`` gives its in-flight
slot to a message that is ready, and takes a slot again when the wait is over.

The stage runtime (agents/flow.py) sets what ``waiting()`` does for each message it runs; anywhere
else (a CLI call, a unit test) it does nothing. A context variable, so the code that waits
(stages/politeness.py, the retry loops) needs no handle on the runtime.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextvars import ContextVar

_aside: ContextVar[Callable[[], contextlib.AbstractAsyncContextManager[None]] | None] = ContextVar(
    "wirewatch_aside", default=None
)


def waiting() -> contextlib.AbstractAsyncContextManager[None]:
    """Wrap a wait in this: the message holds no slot while it lasts."""
    aside = _aside.get()
    return aside() if aside is not None else contextlib.nullcontext()


def set_aside(aside: Callable[[], contextlib.AbstractAsyncContextManager[None]] | None) -> None:
    """For the runtime: what ``waiting()`` does in the current task (each task has its own context)."""
    _aside.set(aside)
