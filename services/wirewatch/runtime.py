"""Everything a running worker shares: settings, metrics, the HTTP client, storage, the extraction
pool, rules and alert channels. Built once from the settings, opened when the Faust app starts and
closed when it stops; agents receive it instead of reaching for globals.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from .boot import pool_worker_init
from .metrics import Metrics
from .settings import Settings
from .sinks.channels import Channel, build_channels
from .sinks.delivery import AlertSink
from .sinks.storage import Storage, open_storage
from .stages import fetch as fetch_core, route as route_core
from .stages.enrich.lexicon import Lexicon, languages, load_lexicon
from .stages.politeness import Politeness

log = logging.getLogger(__name__)


def extraction_pool(processes: int | None) -> Executor:
    """The pool articles are read in (``stages.article.read``: extract + enrich, one call each):
    ``processes`` worker processes, one per core when None, or one thread for 0."""
    if processes is None:
        processes = os.cpu_count() or 1
    if processes <= 0:
        return ThreadPoolExecutor(1, thread_name_prefix="extract")
    # spawn, not fork: forking a process that runs an event loop and Kafka clients copies their
    # sockets and locks into the children. Each worker warms up before taking work, so the first
    # page it gets does not pay for importing trafilatura and loading its tables, and dies with
    # its parent, even a SIGKILLed one (boot.pool_worker_init).
    pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"), initializer=pool_worker_init)
    # Start and warm every process now, beside the broker's group join, not when the first
    # articles arrive: the pool spawns a process per submission that finds none idle, and a warm-up
    # (importing trafilatura, the lexicons, the date parser's locales) takes seconds.
    for _ in range(processes):
        pool.submit(_started)
    return pool


def _started() -> None:
    """A pool process's first task: nothing but proof that it has started and warmed up."""


@dataclass
class Runtime:
    settings: Settings
    metrics: Metrics = field(default_factory=Metrics)
    rules: list = field(default_factory=list)
    http: httpx.AsyncClient | None = None
    # One per worker: the fetch agent and the source poller share it, so a site's feed polls and
    # article fetches count against one per-host budget and one robots.txt cache.
    politeness: Politeness | None = None
    storage: Storage | None = None
    pool: Executor | None = None
    channels: list[Channel] = field(default_factory=list)
    alerts: AlertSink | None = None  # the channels as one sink (sinks/delivery.py)
    # Puts an alert back on the alert topic (app.py): a parked alert its channel rejects on return.
    requeue_alert: Callable[[dict], Awaitable[None]] | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    # Agents paused because a dependency is down (agents/runner.py, Pause): name -> reason; readiness reads it.
    paused: dict[str, str] = field(default_factory=dict)
    _started: bool = False
    _lexicons: asyncio.Future[list[Lexicon]] | None = None

    def load(self) -> Runtime:
        """Validate what can be checked without a network (rules) so a bad config fails at boot."""
        self.set_rules(route_core.load_rules(self.settings.rules_file))
        return self

    def set_rules(self, rules: list) -> None:
        """Replace the rules in force (boot, or a valid hot reload: stages/rules_watch.py)."""
        self.rules = rules
        self.metrics.rules_loaded.set(len(rules))

    def lexicons(self) -> asyncio.Future[list[Lexicon]]:
        """Every casualty lexicon, loading in a thread from the first call on (Runtime.start makes
        it). This process reads them too: route's keyword evidence and the read API's evidence
        highlighter. Compiling one takes 1-1.5 s (9 s at load 12), which the first alert or request
        would otherwise wait for on its own thread. Await it; never blocks the loop."""
        if self._lexicons is None:
            self._lexicons = asyncio.ensure_future(
                asyncio.to_thread(lambda: [load_lexicon(lang) for lang in languages()])
            )
        return self._lexicons

    async def start(self) -> None:
        if self._started:
            return
        self.lexicons()
        s = self.settings
        if not self.rules:
            self.load()
        self.http = fetch_core.build_client(s.fetch)
        self.politeness = Politeness(s.fetch)
        self.storage = open_storage(s.resolved_storage_url)
        await self.storage.start()
        self.pool = extraction_pool(s.extract_processes)
        self.channels = build_channels(s)
        self.alerts = AlertSink(
            self.channels, self.storage, self.metrics, s.channels, rules=lambda: self.rules, requeue=self.requeue_alert
        )
        await self.alerts.start()
        self._started = True
        self.ready.set()

    async def close(self) -> None:
        if not self._started:
            return
        self._started = False
        self.ready.clear()
        if self._lexicons is not None and not self._lexicons.done():
            self._lexicons.cancel()  # the thread finishes its file; nobody waits for it
        if self.alerts is not None:
            await self.alerts.close()
        if self.http is not None:
            await self.http.aclose()
        if self.storage is not None:
            await self.storage.close()
        if self.pool is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.pool.shutdown)
