"""Readiness: is this worker able to do its job right now, and if not, what is down.

Named checks (broker, consumer group, storage, extraction pool, rules) are probed together on a
timer, each bounded by a timeout, and `/health/ready` serves the last result, so the endpoint
answers at once whatever hangs. Every probe sets `wirewatch_ready` and
`wirewatch_dependency_up{dependency}`. An outage is logged once when it starts (ERROR), reminded
every `remind_every` seconds with how many checks failed, and once when it ends: not once per
retry, which is what the libraries underneath do.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ..metrics import Metrics

log = logging.getLogger("wirewatch.health")

# A check returns None when the dependency is fine, else a short text saying what is wrong;
# raising (or overrunning the timeout) counts as down, with the exception as the text.
CheckFn = Callable[[], Awaitable[str | None]]


@dataclass
class _State:
    ok: bool | None = None  # None: not probed yet
    detail: str = ""
    since: float = 0.0
    failures: int = 0
    reminded: float = 0.0


@dataclass
class Health:
    checks: dict[str, CheckFn]
    metrics: Metrics
    timeout: float = 2.0
    remind_every: float = 300.0
    clock: Callable[[], float] = time.monotonic
    states: dict[str, _State] = field(default_factory=dict)
    _on_ready: list[Callable[[], None]] = field(default_factory=list)
    _was_ready: bool = False

    def __post_init__(self) -> None:
        self.states = {name: _State() for name in self.checks}
        self.metrics.ready.set(0)
        for name in self.checks:
            self.metrics.dependency_up.labels(dependency=name).set(0)

    @property
    def ready(self) -> bool:
        return all(s.ok for s in self.states.values())

    def is_up(self, name: str) -> bool:
        return bool(self.states[name].ok)

    def on_first_ready(self, callback: Callable[[], None]) -> None:
        """Run `callback` once, when every check first passes (the "running" banner)."""
        self._on_ready.append(callback)

    async def probe(self) -> bool:
        results = await asyncio.gather(*(self._run(fn) for fn in self.checks.values()))
        now = self.clock()
        for name, problem in zip(self.checks, results):
            self._record(name, problem, now)
        ready = self.ready
        self.metrics.ready.set(1 if ready else 0)
        if ready and not self._was_ready:
            self._was_ready = True
            for callback in self._on_ready:
                callback()
            self._on_ready.clear()
        return ready

    async def _run(self, fn: CheckFn) -> str | None:
        try:
            return await asyncio.wait_for(fn(), self.timeout)
        except TimeoutError:
            return f"no answer within {self.timeout:g} s"
        except Exception as e:  # noqa: BLE001 - any failure of a check means "down", with its text
            return f"{type(e).__name__}: {e}"[:300]

    def _record(self, name: str, problem: str | None, now: float) -> None:
        s = self.states[name]
        self.metrics.dependency_up.labels(dependency=name).set(0 if problem else 1)
        if problem is None:
            if s.ok is False:
                log.warning(
                    "%s is back after %.0f s down (%d failed checks)",
                    name,
                    now - s.since,
                    s.failures,
                    extra={"reason": f"{name}_recovered"},
                )
            if s.ok is not True:
                s.ok, s.detail, s.since, s.failures = True, "", now, 0
            return
        if s.ok is not False:
            # An outage starts (a dependency not up at the first probe is "starting", logged at INFO).
            level = logging.ERROR if s.ok else logging.INFO
            log.log(level, "%s is down: %s", name, problem, extra={"reason": f"{name}_down"})
            s.ok, s.since, s.failures, s.reminded = False, now, 0, now
        s.failures += 1
        s.detail = problem
        if now - s.reminded >= self.remind_every:
            s.reminded = now
            log.error(
                "%s still down after %.0f s (%d failed checks): %s",
                name,
                now - s.since,
                s.failures,
                problem,
                extra={"reason": f"{name}_down"},
            )

    def report(self) -> tuple[int, dict]:
        """(HTTP status, body) of /health/ready."""
        checks = {
            name: {"ok": bool(s.ok), **({"detail": s.detail or "not checked yet"} if not s.ok else {})}
            for name, s in self.states.items()
        }
        down = [name for name, s in self.states.items() if not s.ok]
        body = {"status": "ready" if not down else "not_ready", "down": down, "checks": checks}
        return (200 if not down else 503), body

    async def run(self, interval: float) -> None:
        while True:
            try:
                await self.probe()
            except Exception:  # the monitor itself must never die
                log.exception("health probe failed")
            await asyncio.sleep(interval)
