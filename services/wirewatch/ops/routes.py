"""The health and intake pages of a worker, and the readiness monitor behind them.

GET  /health/live    200 while the process serves HTTP and faust has not crashed (liveness)
GET  /health/ready   200 when broker, consumer group, storage, extraction pool and rules are
                     all fine and no stage is paused, else 503; the JSON body names what is
                     down and which stage waits for it (readiness)
GET  /health         the same as /health/ready (kept for old probes)
POST /links          {"urls": [...]} -> 202 with the link ids; 401 / 400 / 413 / 429 / 503
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, ProcessPoolExecutor

import faust

from ..runtime import Runtime
from ..settings import Settings, reveal
from ..sources.links import make_link
from . import kafka_state
from .health import Health
from .intake import IntakeRefused, RateLimiter, check_size, check_token, parse_body, validate_urls

log = logging.getLogger("wirewatch.ops")

PROBE_INTERVAL = 2.0  # seconds between readiness probes: "ready turns 503 within seconds"
SUBMIT_TIMEOUT = 10.0  # seconds POST /links waits for the broker's ack before answering 503


def pool_problem(pool: Executor | None) -> str | None:
    if pool is None:
        return "extraction pool not started"
    if isinstance(pool, ProcessPoolExecutor):
        if getattr(pool, "_broken", False):
            return f"extraction pool broken: {pool._broken}"  # the executor's own flag
        dead = [p.pid for p in (getattr(pool, "_processes", None) or {}).values() if not p.is_alive()]
        if dead:
            return f"extraction worker processes exited: {dead}"
    elif getattr(pool, "_shutdown", False):
        return "extraction pool shut down"
    return None


def crashed(app: faust.App) -> bool:
    """True once faust's app or consumer has crashed (mode's Service.crashed), or the thread that
    runs the Kafka consumer has died (it does when the broker stays away past the session timeout,
    without marking anything crashed)."""
    consumer = getattr(app, "consumer", None)
    if getattr(app, "crashed", False) or getattr(consumer, "crashed", False):
        return True
    thread = getattr(getattr(consumer, "_thread", None), "_thread", None)  # mode ServiceThread -> Thread
    return thread is not None and not thread.is_alive()


def crash_reason(app: faust.App) -> str:
    reason = getattr(app, "crash_reason", None) or getattr(getattr(app, "consumer", None), "crash_reason", None)
    if reason is None:
        return "the Kafka consumer thread died" if crashed(app) else "unknown"
    return f"{type(reason).__name__}: {reason}"[:300]


def worker_health(app: faust.App, rt: Runtime) -> Health:
    async def broker() -> str | None:
        return await kafka_state.broker_problem(app)

    async def consumer_group() -> str | None:
        return await kafka_state.group_problem(app)

    async def storage() -> str | None:
        if rt.storage is None or not rt.ready.is_set():
            return "storage not open"
        await rt.storage.schema_version()
        return None

    async def extract_pool() -> str | None:
        return pool_problem(rt.pool)

    async def rules() -> str | None:
        # Loaded (and validated) at boot; a bad hot reload keeps the previous rules in force.
        return None if rt.rules is not None else "rules not loaded"

    async def stages() -> str | None:
        # A stage waiting for a dependency takes no new message (agents/runner.py, Pause).
        if rt.paused:
            return "paused: " + ", ".join(f"{name} ({reason})" for name, reason in sorted(rt.paused.items()))
        return None

    return Health(
        {
            "broker": broker,
            "consumer_group": consumer_group,
            "storage": storage,
            "extract_pool": extract_pool,
            "rules": rules,
            "stages": stages,
        },
        rt.metrics,
    )


def publish_lag(app: faust.App, rt: Runtime) -> None:
    lag = kafka_state.consumer_lag(app)
    gauge = rt.metrics.consumer_lag
    gauge.clear()  # partitions move between workers: drop the ones no longer assigned here
    for (topic, partition), value in lag.items():
        gauge.labels(topic=topic, partition=str(partition)).set(value)


def install(
    app: faust.App,
    rt: Runtime,
    settings: Settings,
    submit: Callable[[dict], Awaitable[None]],
    needs_broker: bool = True,
) -> Health:
    """Register the health and intake pages and the readiness monitor on `app`; returns the monitor."""
    health = worker_health(app, rt)
    intake = settings.intake
    token = reveal(intake.token) or None
    limiter = RateLimiter(intake.rate, intake.burst)

    @app.task
    async def monitor_readiness() -> None:
        reported_crash = False
        while True:
            try:
                await health.probe()
                publish_lag(app, rt)
                if crashed(app) and not reported_crash:
                    # faust does not recover a crashed app (its consumer thread dies when the broker
                    # stays away past the session timeout): /health/live turns 503 so the
                    # orchestrator restarts the worker, which then waits for the broker at boot.
                    reported_crash = True
                    log.error(
                        "the Kafka app crashed (%s); /health/live answers 503 so the worker is restarted",
                        crash_reason(app),
                        extra={"reason": "app_crashed"},
                    )
            except Exception:  # the monitor must outlive any one failure
                log.exception("readiness probe failed")
            await asyncio.sleep(PROBE_INTERVAL)

    @app.page("/health/live")
    async def live(self, request):
        if crashed(app):
            return self.json({"status": "crashed", "reason": crash_reason(app)}, status=503)
        return self.json({"status": "alive"})

    def report() -> tuple[int, dict]:
        status, body = health.report()
        # A failing alert channel does not make the worker unready (its alerts wait, parked); it is said.
        failing = rt.alerts.failing() if rt.alerts is not None else {}
        return status, ({**body, "alert_channels_failing": failing} if failing else body)

    @app.page("/health/ready")
    async def ready(self, request):
        status, body = report()
        return self.json(body, status=status)

    @app.page("/health")
    async def health_page(self, request):
        status, body = report()
        return self.json(body, status=status)

    @app.page("/links")
    class LinksView(faust.web.View):
        async def post(self, request):
            """Body: {"urls": ["https://...", ...]} or {"url": "..."}; answers with the link ids."""
            try:
                check_token(request.headers.get("Authorization"), token)
                wait = limiter.allow(request.remote or "unknown")
                if wait:
                    return self.json(
                        {"error": "too many requests from this client"},
                        status=429,
                        headers={"Retry-After": str(max(1, round(wait)))},
                    )
                check_size(request.content_length, settings.max_message_bytes)
                raw = await request.read()
                check_size(len(raw), settings.max_message_bytes)
                urls = validate_urls(parse_body(raw), intake.max_urls, intake.max_url_length)
                if needs_broker and not health.is_up("broker"):  # else `submit` keeps them (sinks/outbox.py)
                    raise IntakeRefused(503, "the broker is unreachable; nothing was accepted, try again later")
                links = [make_link(u, "http") for u in urls]
                try:
                    await asyncio.wait_for(asyncio.gather(*(submit(link) for link in links)), SUBMIT_TIMEOUT)
                except (TimeoutError, Exception) as e:  # noqa: BLE001 - any failure to hand over is 503
                    log.warning(
                        "POST /links: broker did not take %d links: %s",
                        len(links),
                        type(e).__name__,
                        extra={"reason": "submit_failed"},
                    )
                    raise IntakeRefused(
                        503,
                        f"the broker did not acknowledge within {SUBMIT_TIMEOUT:g} s; "
                        "some links may have been taken, resubmitting is harmless",
                    ) from None
            except IntakeRefused as e:
                headers = {"WWW-Authenticate": "Bearer"} if e.status == 401 else None
                return self.json(e.body(), status=e.status, headers=headers)
            return self.json(
                {"accepted": [{"link_id": link["link_id"], "url": link["url"]} for link in links]}, status=202
            )

    return health
