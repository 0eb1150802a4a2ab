"""create_app(settings) -> the Faust app with its topics, agents and web pages wired; nothing else.

Topics (see schemas/README.md for keys, producers and consumers):

    links --fetch--> articles --enrich--> enriched --store--> storage
                                                  \\--route--> alerts --alert--> channels
    any stage --(Rejected)--> filtered ----outcomes--> storage
    any stage --(errors)----> deadletter --outcomes--> storage

Every agent runs with concurrency 1: with faust-streaming, concurrency above 1 can commit an
offset past a message still in flight (faust issue #606). Scale out with partitions and workers.
"""

from __future__ import annotations

import asyncio
import logging

import faust
import orjson
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from . import contract
from .agents import alert, enrich, fetch, outcomes, route, store
from .api import routes as read_api
from .agents.runner import Core, Stage
from .broker.fetch_wait import use_fetch_max_wait
from .errors import InvalidMessage
from .runtime import Runtime
from .settings import Settings
from .sources.poller import SourcePoller, sources_from
from .sources.links import make_link, source_kind
from .stages.rules_watch import RulesWatcher
from .topics import TOPICS

log = logging.getLogger(__name__)

STAGES = ("fetch", "enrich", "route", "store", "alert", "outcomes")


def faust_broker_url(settings: Settings, bootstrap: str | None = None) -> str:
    if bootstrap:
        return "kafka://" + bootstrap
    return settings.broker


def create_app(settings: Settings, runtime: Runtime | None = None, bootstrap: str | None = None) -> faust.App:
    """The Faust app. `bootstrap` overrides the broker (the embedded broker's address)."""
    rt = runtime or Runtime(settings).load()
    k = settings.kafka
    app = faust.App(
        settings.app_id,
        broker=faust_broker_url(settings, bootstrap),
        store="memory://",
        value_serializer="raw",
        key_serializer="raw",
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=k.session_timeout,
        broker_heartbeat_interval=k.heartbeat_interval,
        broker_rebalance_timeout=k.rebalance_timeout,
        broker_commit_interval=k.commit_interval,
        web_enabled=settings.web_port > 0,
        web_host=settings.web_host,
        web_port=settings.web_port or 6066,  # faust validates the port even when web is off
        web_bind=settings.web_host,
        producer_acks=-1,
    )
    use_fetch_max_wait(app, k.fetch_max_wait)  # before anything creates the consumer
    app.wirewatch_runtime = rt  # type: ignore[attr-defined]
    topics = {
        schema: app.topic(settings.topic(name), value_type=bytes, key_type=bytes, value_serializer="raw",
                          key_serializer="raw", partitions=settings.topic_partitions)
        for schema, name in TOPICS.items()
    }
    app.wirewatch_topics = topics  # type: ignore[attr-defined]
    rt.metrics.prime(STAGES)

    async def send(schema: str, key: str | None, value: bytes) -> None:
        fut = await topics[schema].send(key=key.encode() if key else None, value=value)
        await fut  # wait for the broker's ack before the input offset may be committed

    def wire(stage: str, schema: str, make_core, agent_name: str | None = None, batch: int = 1) -> None:
        topic = topics[schema]
        runner = Stage(stage, schema, topic.get_topic_name(), send, rt.metrics, settings.retry)
        holder: dict[str, Core] = {}

        async def agent(stream):
            await rt.ready.wait()
            core = holder.setdefault("core", make_core(rt))
            if batch <= 1:
                async for raw in stream:
                    await runner.handle(raw, core)
                return
            # An I/O-bound stage handles a batch at once, so one slow origin does not stall the
            # worker. faust acks a take() batch only when the loop asks for the next one, i.e.
            # after every message in it reached its outcome: offsets never pass work in flight
            # (unlike agent concurrency > 1, faust #606). handle() never raises.
            async for batch_values in stream.take(batch, within=settings.fetch_batch_wait):
                await asyncio.gather(*(runner.handle(raw, core) for raw in batch_values))

        name = agent_name or stage
        agent.__name__ = agent.__qualname__ = f"{name}_agent"
        app.agent(topic, name=f"wirewatch.{name}", concurrency=1)(agent)

    wire("fetch", "link", fetch.make_core, batch=settings.fetch_concurrency)
    wire("enrich", "article", enrich.make_core)
    wire("store", "enriched", store.make_core)
    wire("route", "enriched", route.make_core)
    wire("alert", "alert", alert.make_core)
    wire("outcomes", "filtered", outcomes.make_filtered_core, "outcomes-filtered")
    wire("outcomes", "deadletter", outcomes.make_deadletter_core, "outcomes-deadletter")

    async def submit(link: dict) -> None:
        await send("link", link["url"], contract.encode("link", link))
        rt.metrics.links_submitted.labels(kind=source_kind(link["source"])).inc()

    app.wirewatch_submit = submit  # type: ignore[attr-defined]

    @app.service
    class RuntimeService(faust.Service):  # opens storage, HTTP client and pool with the app
        async def on_start(self) -> None:
            await rt.start()
            rt.metrics.up.set(1)

        async def on_stop(self) -> None:
            rt.metrics.up.set(0)
            await rt.close()

    async def raise_alert(alert: dict) -> None:  # a stale source: the alert agent delivers it
        await send("alert", alert["alert_id"], contract.encode("alert", alert))

    sources = sources_from(settings)
    if settings.feed_poll and sources:
        @app.task
        async def poll_feeds() -> None:
            await rt.ready.wait()
            await SourcePoller(sources, rt.http, rt.storage, submit, rt.metrics, settings.sources,
                               alert=raise_alert, max_bytes=settings.fetch.max_bytes,
                               politeness=rt.politeness).run()

    @app.task
    async def send_digests() -> None:  # closed throttle windows -> one digest alert each
        await rt.ready.wait()
        while True:
            try:
                await route.flush_digests(rt, lambda e: send(e.schema, e.key, contract.encode(e.schema, e.value)))
            except Exception:  # storage down: the windows stay due and are sent on a later tick
                log.warning("sending digests failed; will retry", exc_info=True)
            await asyncio.sleep(settings.route.digest_interval)

    if settings.route.rules_reload_interval > 0:
        @app.task
        async def watch_rules() -> None:  # a valid edit of rules_file takes effect without a restart
            await RulesWatcher(settings.rules_file, rt.set_rules,
                                lambda outcome: rt.metrics.rules_reloads.labels(outcome=outcome).inc()).run(
                settings.route.rules_reload_interval)

    if settings.web_port > 0:  # the read API and the story board (api/routes.py)
        read_api.register(app, settings, rt)

    @app.page("/metrics")
    async def metrics_page(self, request):
        # aiohttp refuses a charset inside content_type=, so the header is set whole.
        return self.bytes(generate_latest(rt.metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    @app.page("/health")
    async def health_page(self, request):
        return self.json({"status": "ok"})

    @app.page("/links")
    class LinksView(faust.web.View):
        async def post(self, request):
            """Body: {"urls": ["https://...", ...]} or {"url": "..."}; answers with the link ids."""
            try:
                body = orjson.loads(await request.read())
                urls = body.get("urls") or ([body["url"]] if body.get("url") else [])
                if not isinstance(urls, list) or not urls:
                    raise InvalidMessage('expected {"urls": [...]} or {"url": "..."}')
                links = [make_link(str(u), "http") for u in urls]
            except (orjson.JSONDecodeError, InvalidMessage, AttributeError, TypeError) as e:
                return self.json({"error": str(e)}, status=400)
            for link in links:
                await submit(link)
            return self.json({"accepted": [{"link_id": l["link_id"], "url": l["url"]} for l in links]}, status=202)

    return app
