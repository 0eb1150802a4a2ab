"""Boot and shutdown of a worker process: wait for what it needs, and never outstay a stop.

- `wait_for_dependencies`: before the Faust worker starts, the broker and storage must answer.
  Each is tried with capped, jittered backoff and the wait is logged (what, where, why, next try);
  after `startup_timeout` the worker gives up with one line naming what never came up
  (`BootTimeout`). A permanent problem (a storage URL with a bad scheme, wrong credentials)
  fails at once: waiting would not fix it.
- `ShutdownWatchdog`: once a stop is asked for (SIGTERM, SIGINT), the worker has `grace` seconds
  to stop cleanly; after that its child processes are killed and it exits, whatever hangs.
- `use_event_loop`: the worker's event loop, uvloop where installed (settings.event_loop).
- `pool_worker_init`: an extraction process asks the kernel to be killed when the worker dies,
  even by SIGKILL, so it never outlives it as an orphan (the embedded broker does the same).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from .errors import ConfigError, PermanentError, WirewatchError
from .settings import Settings, mask_url

log = logging.getLogger("wirewatch.boot")
T = TypeVar("T")


class BootTimeout(WirewatchError):
    """A dependency did not answer within startup_timeout."""


async def _kafka_problem(bootstrap: str) -> None:
    from aiokafka.client import AIOKafkaClient

    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        await client.bootstrap()
    finally:
        await client.close()


async def _storage_problem(url: str) -> None:
    from .sinks.storage import open_storage

    storage = open_storage(url)  # ConfigError at once for a scheme it does not know
    await storage.start()
    await storage.close()


async def wait_for_dependencies(settings: Settings, bootstrap: str, clock=time.monotonic, sleep=asyncio.sleep) -> None:
    """Return when the broker and storage both answer; BootTimeout after settings.startup_timeout."""
    from .retry import Backoff, backoff

    deadline = clock() + settings.startup_timeout
    url = settings.resolved_storage_url
    waits = {
        f"Kafka at {bootstrap}": lambda: _kafka_problem(bootstrap),
        f"storage at {mask_url(url)}": lambda: _storage_problem(url),
    }
    attempt = 0
    last: dict[str, str] = {}
    while waits:
        attempt += 1
        for what, probe in list(waits.items()):
            try:
                await asyncio.wait_for(probe(), max(1.0, min(10.0, deadline - clock())))
            except (ConfigError, PermanentError) as e:
                raise ConfigError(f"{what}: {e}") from None
            except Exception as e:  # noqa: BLE001 - anything else may be "not up yet"
                last[what] = f"{type(e).__name__}: {e}".strip(": ")[:200] or type(e).__name__
                continue
            if attempt > 1:
                log.info("%s answers now (after %d tries)", what, attempt)
            del waits[what]
            last.pop(what, None)
        if not waits:
            return
        pause = backoff(attempt, Backoff())
        left = deadline - clock()
        if left <= 0:
            raise BootTimeout(
                f"gave up after {settings.startup_timeout:g} s (startup_timeout) waiting for "
                + "; ".join(f"{w} ({last[w]})" for w in waits)
            )
        log.warning(
            "waiting for %s (try %d, next in %.1f s, %.0f s left)",
            "; ".join(f"{w}: {last[w]}" for w in waits),
            attempt,
            min(pause, left),
            left,
            extra={"reason": "boot_wait"},
        )
        await sleep(min(pause, left))


def run_in_thread(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to the end on a fresh event loop in another thread: for synchronous boot code
    that must not create or close the main thread's loop (faust's worker makes its own later)."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = asyncio.run(coro)
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            result["error"] = e

    thread = threading.Thread(target=run, name="wirewatch-boot")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def use_event_loop(choice: str) -> str:
    """Make `choice` (settings.event_loop) the kind of every loop created from here on, as faust's
    `--loop uvloop` does (mode.loop.uvloop: the policy); return the one chosen. uvloop runs each
    socket event and callback in C, where the main process spends much of its CPU moving bytes;
    `auto` falls back to asyncio's loop where uvloop is not installed. Call it before anything makes
    a loop."""
    if choice == "asyncio":
        return "asyncio"
    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError as e:
        if choice == "uvloop":
            raise ConfigError(f"event_loop is uvloop, which is not installed: {e}") from e
        return "asyncio"
    return "uvloop"


def pool_worker_init() -> None:
    """Initializer of the extraction pool's processes: die with the worker, then warm up.

    What the warm-up loaded (trafilatura's tables, the lexicons, the gazetteer: ~160,000 objects)
    lives as long as the process, so it is frozen out of the cyclic collector's sight: a collection
    then walks only what articles allocate (the collector's CPU in a pool call on the ScrapingHub
    pages 1.9-2.0% -> 0.7%)."""
    from .broker.base import _die_with_parent  # the broker's children use the same request
    from .stages.article import warm_up

    _die_with_parent()
    warm_up()
    gc.collect()  # the warm-up's own garbage first: frozen objects are never collected
    gc.freeze()


def child_pids(pid: int | None = None) -> list[int]:
    """Direct children of `pid` (this process by default), read from /proc."""
    pid = pid or os.getpid()
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


# Seconds a stopping worker gets before its children are killed and it exits: inside the 30 s
# that Docker (stop_grace_period in compose is 40 s) and Kubernetes give before SIGKILL.
SHUTDOWN_GRACE = 25.0


class ShutdownWatchdog:
    """`start()` when a stop begins; if the process is still here `grace` seconds later, kill its
    children and exit with `code`. A thread, so it fires even when the event loop is stuck."""

    def __init__(self, grace: float, code: int = 1) -> None:
        self.grace, self.code = grace, code
        self._timer: threading.Timer | None = None

    def start(self) -> None:
        if self._timer is None:
            self._timer = threading.Timer(self.grace, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def _fire(self) -> None:
        # No logging calls here: a stuck process may hold a logging lock. Format one record with
        # the configured formatter and write it straight to stderr, then kill and exit.
        children = child_pids()
        record = logging.LogRecord(
            log.name,
            logging.ERROR,
            __file__,
            0,
            "still stopping after %g s; killing %d child processes and exiting",
            (self.grace, len(children)),
            None,
        )
        record.reason, record.link_id, record.stage = "shutdown_timeout", None, None
        handlers = logging.getLogger().handlers
        try:
            line = handlers[0].format(record) if handlers else record.getMessage()
            os.write(2, (line + "\n").encode())
        except Exception:  # noqa: BLE001, S110 - exiting matters more than saying so
            pass
        for pid in children:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        os._exit(self.code)
