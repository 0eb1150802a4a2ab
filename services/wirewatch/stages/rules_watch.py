"""Hot reload of the rules file: a changed file in, the new rules (or why they were refused) out.

``RulesWatcher.check()`` looks at the file's modification time, size and content hash; when they
changed it loads the file with ``route.load_rules``. A valid file replaces the rules (``apply`` is
called with them); an invalid one changes nothing, so the old rules keep running, and the
ConfigError (file, line, rule, field) is logged and returned. The same broken content is reported
once, not on every poll. ``run()`` polls every ``interval`` seconds (app.py runs it as a task).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from . import route

log = logging.getLogger(__name__)


@dataclass
class Reload:
    outcome: str  # "unchanged" | "ok" | "invalid"
    rules: list[route.Rule] | None = None
    error: str = ""


@dataclass
class RulesWatcher:
    path: Path
    apply: Callable[[list[route.Rule]], None]
    on_outcome: Callable[[str], None] = lambda outcome: None
    _stamp: tuple[Any, ...] | None = None
    _digest: str = ""
    _refused: str = ""
    _started: bool = field(default=False)

    def prime(self) -> None:
        """Remember the file as it is now (the rules already loaded at boot came from it)."""
        self._stamp, self._digest = self._read_stamp()
        self._started = True

    def _read_stamp(self) -> tuple[tuple[Any, ...] | None, str]:
        try:
            st = self.path.stat()
            data = self.path.read_bytes()
        except OSError:
            return None, ""
        return (st.st_mtime_ns, st.st_size), hashlib.sha256(data).hexdigest()

    def check(self) -> Reload:
        if not self._started:
            self.prime()
            return Reload("unchanged")
        stamp, digest = self._read_stamp()
        if stamp == self._stamp or (digest and digest == self._digest):
            self._stamp = stamp
            return Reload("unchanged")
        self._stamp = stamp
        try:
            rules = route.load_rules(self.path)
        except ConfigError as e:
            if digest != self._refused:  # say it once per broken version, not every poll
                self._refused = digest
                log.error("rules reload refused, the previous rules stay in force: %s", e)
                self.on_outcome("invalid")
            return Reload("invalid", error=str(e))
        self._digest, self._refused = digest, ""
        self.apply(rules)
        log.info("rules reloaded from %s: %d rules (%s)", self.path, len(rules), ", ".join(r.name for r in rules))
        self.on_outcome("ok")
        return Reload("ok", rules=rules)

    async def run(self, interval: float) -> None:
        self.prime()
        while True:
            await asyncio.sleep(interval)
            try:
                self.check()
            except Exception:  # a watcher bug must not stop the worker; the old rules stay
                log.exception("rules watcher failed")
