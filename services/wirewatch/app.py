"""create_app(settings) -> the Faust app with its topics, agents and web pages wired; nothing else.

Topics (see schemas/README.md for keys, producers and consumers):

    links --fetch--> enriched --store--> storage     (fetch extracts and enriches: one pool call)
                             \\--route--> alerts --alert--> channels
    articles --enrich--> enriched                    (articles already there, or replayed)
    any stage --(Rejected)--> filtered ----outcomes--> storage
    any stage --(errors)----> deadletter --outcomes--> storage

Every agent is one faust agent instance that takes messages into a bounded window and runs each
on its own (agents/flow.py): messages finish in any order, and offsets are acked to faust in
order, so a commit never passes a message still in flight (unlike faust's agent concurrency,
faust issue #606). Scale out further with partitions and workers.
"""

from __future__ import annotations

import asyncio
import logging
import time

import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from . import contract
from .agents import alert, enrich, fetch, outcomes, route, store
from .agents.flow import Flow
from .agents.runner import Core, Pause, Stage
from .api import routes as read_api
from .broker import faust_consumer, stall_watch
from .broker.errors import acked
from .broker.stall_watch import StallWatch
from .ops import routes as ops_routes
from .runtime import Runtime
from .settings import Settings
from .sinks.outbox import Outbox, alert_row, link_row, outbox_enabled, resend_at_start, settling
from .sources.links import source_kind
from .sources.poller import SourcePoller, sources_from
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
    datadir = settings.data_dir / "faust"  # faust makes only its last folder
    datadir.parent.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.app_id,
        broker=faust_broker_url(settings, bootstrap),
        store="memory://",
        # faust's own state folder (empty with memory stores) goes under data_dir, not into the
        # working directory as "<app id>-data", which a read-only container root cannot hold.
        datadir=str(datadir),
        value_serializer="raw",
        key_serializer="raw",
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=k.session_timeout,
        broker_heartbeat_interval=k.heartbeat_interval,
        broker_rebalance_timeout=k.rebalance_timeout,
        broker_commit_interval=k.commit_interval,
        # Static membership: a restarted worker takes its partitions back without a rebalance
        # (settings.KafkaSettings.group_instance_id); None keeps dynamic membership.
        consumer_group_instance_id=k.instance_id(settings.web_port, settings.broker == "embedded"),
        web_enabled=settings.web_port > 0,
        web_host=settings.web_host,
        web_port=settings.web_port or 6066,  # faust validates the port even when web is off
        web_bind=settings.web_host,
        producer_acks=-1,
        # The stage runtime acks in offset order itself (agents/flow.py) and drops the work of
        # revoked partitions instead of waiting for it: a rebalance never waits on a slow host.
        stream_wait_empty=False,
        # Messages buffered per agent before faust pauses fetching (default 4096): the window takes
        # from here, so a few hundred keep it fed, and memory stays flat however long the topic.
        stream_buffer_maxsize=512,
    )
    # Before anything creates the consumer: our fetch wait, and only the windows' acks counted.
    faust_consumer.install(app, k.fetch_max_wait)
    ack = faust_consumer.stage_ack(app)
    app.wirewatch_runtime = rt  # type: ignore[attr-defined]
    topics = {
        schema: app.topic(
            settings.topic(name),
            value_type=bytes,
            key_type=bytes,
            value_serializer="raw",
            key_serializer="raw",
            partitions=settings.topic_partitions,
        )
        for schema, name in TOPICS.items()
    }
    app.wirewatch_topics = topics  # type: ignore[attr-defined]
    rt.metrics.prime(STAGES)

    async def send(schema: str, key: str | None, value: bytes) -> None:
        # Wait for the broker's ack before the input offset may be committed; its errors come out
        # in the error tree (broker/errors.py): down -> Unavailable, too large -> PermanentError.
        await acked(topics[schema].send(key=key.encode() if key else None, value=value))

    flows: dict[str, Flow] = {}
    app.wirewatch_flows = flows  # type: ignore[attr-defined]  # read by ops/dump.py (kill -USR1)

    def wire(stage: str, schema: str, make_core, agent_name: str | None = None, window: int | None = None) -> None:
        topic = topics[schema]
        name = agent_name or stage
        runner = Stage(
            stage,
            schema,
            topic.get_topic_name(),
            send,
            rt.metrics,
            settings.retry,
            pause=Pause(name, rt.metrics, rt.paused),
            max_bytes=settings.max_message_bytes,
        )
        holder: dict[str, Core] = {}
        # The window's gauges are read from it when /metrics is scraped: set on every take and every
        # done, two locked gauges cost about 1% of the event loop's CPU in a drain (issue 10).
        rt.metrics.in_flight.labels(stage=name).set_function(lambda: flows[name].working if name in flows else 0)
        rt.metrics.uncommitted.labels(stage=name).set_function(lambda: flows[name].uncommitted if name in flows else 0)

        async def agent(stream):
            await rt.ready.wait()
            core = holder.setdefault("core", make_core(rt))
            # Per-message completion (agents/flow.py): messages finish in any order, acks go to
            # faust in offset order, so a commit never passes a message still in flight.
            flow = flows[name] = Flow(
                name,
                lambda raw: runner.handle(raw, core),
                window or settings.stage_concurrency,
                settings.max_uncommitted,
                gate=runner.pause.resumed.wait,
                ack=ack,
            )
            try:
                async for event in stream.noack().events():
                    await flow.take(event)
            finally:
                flows.pop(name, None)
                await flow.close()

        agent.__name__ = agent.__qualname__ = f"{name}_agent"
        # concurrency=1: one agent instance takes; the window inside it is the concurrency.
        app.agent(topic, name=f"wirewatch.{name}", concurrency=1)(agent)

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]  # faust calls it (app, revoked); its stub wants every argument optional
    async def on_revoked(app_: faust.App, revoked: set, **kwargs) -> None:
        # Work on partitions leaving this worker stops here, unacked: their new owner starts at the
        # committed offset. Nothing waits for a slow host or a failing channel to finish.
        cancelled = sum(flow.revoke(revoked) for flow in list(flows.values()))
        if cancelled:
            log.info("rebalance: dropped %d messages in flight; the partitions' new owners redo them", cancelled)
        try:
            await app_.consumer.commit()  # what was done before the rebalance, so little is redone
        except Exception:  # the commit timer of the next owner's generation covers it
            log.warning("commit at rebalance failed", exc_info=True)

    # What intake accepted and route raised is kept in storage until settled (sinks/outbox.py).
    box = Outbox(lambda: rt.storage) if outbox_enabled(settings) else None
    app.wirewatch_outbox = box  # type: ignore[attr-defined]

    wire("fetch", "link", fetch.make_core, window=settings.fetch_concurrency)
    wire("enrich", "article", enrich.make_core)
    wire("store", "enriched", settling(box, store.make_core, "link", "store"))
    wire("route", "enriched", settling(box, route.make_core, "link", "route"))
    wire("alert", "alert", settling(box, alert.make_core, "alert"))
    wire("outcomes", "filtered", settling(box, outcomes.make_filtered_core, "link"), "outcomes-filtered")
    wire("outcomes", "deadletter", settling(box, outcomes.make_deadletter_core, "link"), "outcomes-deadletter")

    async def submit_many(links: list[dict]) -> None:
        if box is not None:  # in storage before the caller hears "accepted"
            await rt.ready.wait()  # storage opens with the app; the web server may answer before
            await box.deliver([link_row(link) for link in links], send, contract.encode)
        else:
            for link in links:
                await send("link", link["url"], contract.encode("link", link))
        for link in links:
            rt.metrics.links_submitted.labels(kind=source_kind(link["source"])).inc()

    async def submit(link: dict) -> None:
        await submit_many([link])

    async def send_alert(alert: dict) -> None:  # alerts raised outside an agent: digests, stale sources
        if box is not None:
            await box.deliver([alert_row(alert)], send, contract.encode)
        else:
            await send("alert", alert["alert_id"], contract.encode("alert", alert))

    rt.requeue_alert = send_alert  # a parked alert rejected on return: dead-lettered by the alert agent

    if box is not None:
        started_at = time.time()  # what was accepted before this, the restarted embedded broker may lack

        @app.task
        async def relay_outbox() -> None:
            await rt.ready.wait()
            await box.run(
                send,
                contract.encode,
                reopen=resend_at_start(settings),
                started_at=started_at,
                on_resent=lambda how, n: rt.metrics.outbox_resent.labels(how=how).inc(n),
            )

    app.wirewatch_submit = submit  # type: ignore[attr-defined]

    @app.service
    class RuntimeService(faust.Service):  # opens storage, HTTP client and pool with the app
        async def on_start(self) -> None:
            await rt.start()
            rt.metrics.up.set(1)

        async def on_stop(self) -> None:
            rt.metrics.up.set(0)
            await rt.close()

    raise_alert = send_alert  # a stale source: the alert agent delivers it

    sources = sources_from(settings)
    if settings.feed_poll and sources:

        @app.task
        async def poll_feeds() -> None:
            await rt.ready.wait()
            assert rt.http is not None  # opened by rt.start() before ready
            await SourcePoller(
                sources,
                rt.http,
                rt.storage,
                submit,
                rt.metrics,
                settings.sources,
                alert=raise_alert,
                fetch=settings.fetch,
                politeness=rt.politeness,
            ).run()

    @app.task
    async def send_digests() -> None:  # closed throttle windows -> one digest alert each
        await rt.ready.wait()
        while True:
            try:
                await route.flush_digests(rt, lambda e: send_alert(e.value))
            except Exception:  # storage down: the windows stay due and are sent on a later tick
                log.warning("sending digests failed; will retry", exc_info=True)
            await asyncio.sleep(settings.route.digest_interval)

    if settings.route.rules_reload_interval > 0:

        @app.task
        async def watch_rules() -> None:  # a valid edit of rules_file takes effect without a restart
            await RulesWatcher(
                settings.rules_file,
                rt.set_rules,
                lambda outcome: rt.metrics.rules_reloads.labels(outcome=outcome).inc(),
            ).run(settings.route.rules_reload_interval)

    if k.stall_reseek_after > 0:
        watch = StallWatch(k.stall_reseek_after)

        @app.task
        async def watch_stalls() -> None:  # a partition whose reading stopped is read again
            await rt.ready.wait()
            while True:
                await asyncio.sleep(min(5.0, k.stall_reseek_after / 3))
                try:
                    seen = stall_watch.views(app)
                    for tp in watch.check(seen, time.monotonic(), stall_watch.quiet(app, rt.paused)):
                        await stall_watch.reseek(app, tp, seen[tp])
                        rt.metrics.partition_reseeks.labels(topic=tp.topic).inc()
                except Exception:
                    log.warning("stall watch could not read the consumer's state", exc_info=True)

    if settings.web_port > 0:  # the read API and the story board (api/routes.py)
        read_api.register(app, settings, rt)

    @app.page("/metrics")
    async def metrics_page(self, request):
        # aiohttp refuses a charset inside content_type=, so the header is set whole.
        return self.bytes(generate_latest(rt.metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    # With the outbox, POST /links accepts while the broker is down: the links wait in storage.
    app.wirewatch_health = ops_routes.install(  # type: ignore[attr-defined]
        app,
        rt,
        settings,
        submit,
        needs_broker=box is None,
    )

    return app
