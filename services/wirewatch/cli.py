"""The `wirewatch` command: run the service, submit links, debug one URL, run the demo.

wirewatch run            run a worker (starts an embedded broker when broker=embedded)
wirewatch submit URL...  put links on the links topic
wirewatch fetch URL      resolve -> fetch -> extract -> enrich -> route one URL; print JSON; no Kafka
wirewatch demo           the whole pipeline offline against the bundled sample news site
wirewatch settings       print the effective settings (secrets masked)
wirewatch rules test F   which stored articles the rules file F would have alerted on, and why
wirewatch deadletter list|show|replay   dead letters by stage and reason; put them back (docs/operations.md)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

import orjson

from . import logs
from .errors import ConfigError, WirewatchError
from .settings import Settings, load_settings

log = logging.getLogger("wirewatch")


def _embedded_address_file(settings: Settings) -> Path:
    return settings.data_dir / "broker" / "bootstrap"


def start_embedded_broker(settings: Settings):
    """Start the broker `make run` uses; returns it (started). Its address is written for `submit`."""
    from .broker import BrokerError, KafkaBroker, TansuBroker, ensure_kafka_jars
    from .broker.tansu import find_tansu

    base = (settings.data_dir / "broker").resolve()
    broker: KafkaBroker | TansuBroker
    base.mkdir(parents=True, exist_ok=True)
    if settings.embedded_broker == "kafka":
        root = Path(__file__).resolve().parents[2]
        jars = ensure_kafka_jars(root / ".cache" / "kafka-jars", root / "deploy" / "kafka" / "pom.xml")
        broker = KafkaBroker(base / "kafka", jars_dir=jars)
    else:
        try:
            broker = TansuBroker(base / "tansu", binary=find_tansu())
        except BrokerError as e:  # a production install (no `embedded` extra) asked for the embedded broker
            raise ConfigError(f"{e}; or set WIREWATCH_BROKER to a Kafka cluster") from e
    print(f"starting embedded {settings.embedded_broker} broker ...", file=sys.stderr)
    broker.start()
    _embedded_address_file(settings).write_text(broker.bootstrap)
    return broker


def embedded_tuning(settings: Settings) -> Settings:
    """The consumer settings the embedded broker needs (``client_settings`` of its class: tansu
    wants short sessions and a short fetch wait), never raising what is configured. Real clusters
    keep the configured timings."""
    from .broker import KafkaBroker, TansuBroker

    if settings.broker != "embedded":
        return settings
    needs = (TansuBroker if settings.embedded_broker == "tansu" else KafkaBroker).client_settings
    kafka = settings.kafka.model_copy(
        update={name: min(getattr(settings.kafka, name), limit) for name, limit in needs.items()}
    )
    return settings.model_copy(update={"kafka": kafka})


def bootstrap_of(settings: Settings) -> str:
    """host:port of the broker to talk to, for commands that do not run a worker."""
    if settings.broker != "embedded":
        return settings.broker.removeprefix("kafka://").replace(";", ",")
    path = _embedded_address_file(settings)
    if not path.exists():
        raise ConfigError(
            f"no embedded broker is running (no {path}); start one with `make run`, or set WIREWATCH_BROKER"
        )
    return path.read_text().strip()


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    import faust

    from .app import create_app
    from .boot import SHUTDOWN_GRACE, ShutdownWatchdog, run_in_thread, use_event_loop, wait_for_dependencies
    from .ops import dump
    from .runtime import Runtime
    from .topics import ensure_topics_sync, topic_names

    log.info("event loop: %s", use_event_loop(settings.event_loop))
    settings = embedded_tuning(settings)
    runtime = Runtime(settings).load()  # bad rules fail here, before anything starts
    broker = start_embedded_broker(settings) if settings.broker == "embedded" else None
    try:
        bootstrap = broker.bootstrap if broker else bootstrap_of(settings)
        run_in_thread(wait_for_dependencies(settings, bootstrap))  # BootTimeout: one line, exit 1
        ensure_topics_sync(bootstrap, topic_names(settings), settings.topic_partitions)
        app = create_app(settings, runtime, bootstrap=broker.bootstrap if broker else None)
        where = settings.resolved_storage_url.split("@")[-1]
        banner = (
            "wirewatch is running\n"
            f"  broker:  {broker.bootstrap + ' (embedded ' + settings.embedded_broker + ')' if broker else settings.broker}\n"
            f"  metrics: http://{settings.web_host}:{settings.web_port}/metrics\n"
            f'  submit:  curl -XPOST http://{settings.web_host}:{settings.web_port}/links -d \'{{"url": "https://arab.news/jtxzg"}}\'\n'
            f"  stored:  {where}\n"
            f"  feeds:   {len(settings.feeds) if settings.feed_poll else 0} polled\n"
            "  Ctrl-C stops everything."
        )
        # Said by the readiness monitor when every check first passes, not before; a log line
        # (one JSON object) where logs are JSON.
        app.wirewatch_health.on_first_ready(  # type: ignore[attr-defined]  # set by create_app
            (lambda: log.info(" ".join(banner.split()[:-3])))
            if settings.log_format == "json"
            else (lambda: print(banner, file=sys.stderr, flush=True))
        )
        watchdog = ShutdownWatchdog(SHUTDOWN_GRACE)

        class Worker(faust.Worker):  # a stop that hangs (a dependency down) is cut short
            def __init__(self, *args, **kwargs) -> None:
                super().__init__(*args, **kwargs)
                self.spinner = None  # a terminal spinner's escape codes have no place in a log

            def _setup_logging(self) -> None:  # keep logs.setup()'s handler: one format for every line
                pass

            def _on_sigterm(self) -> None:
                watchdog.start()
                super()._on_sigterm()

            def _on_sigint(self) -> None:
                watchdog.start()
                super()._on_sigint()

            async def _cry(self) -> None:  # kill -USR1: what every task waits on, and the windows
                for message in dump.state(app):
                    log.warning("%s", message, extra={logs.UNSUMMARISED: True})

        worker = Worker(app, loglevel=settings.log_level.lower(), quiet=True, redirect_stdouts=False)
        try:
            worker.execute_from_commandline()
        except SystemExit as e:
            return int(e.code or 0)
        return 0
    finally:
        if broker is not None:
            broker.stop()
            _embedded_address_file(settings).unlink(missing_ok=True)


def cmd_submit(settings: Settings, args: argparse.Namespace) -> int:
    from .ops.intake import normalise_url
    from .sources.submit import submit_links

    good, bad = [], []
    for url in args.urls:  # the same rules as POST /links: nothing goes out if one URL is bad
        try:
            good.append(normalise_url(url, settings.intake.max_url_length))
        except ValueError as e:
            bad.append(f"{url[:200]!r}: {e}")
    if bad:
        print("wirewatch: nothing submitted; not valid links:\n  " + "\n  ".join(bad), file=sys.stderr)
        return 2
    from .sinks.outbox import outbox_enabled

    try:
        bootstrap: str | None = bootstrap_of(settings)
    except ConfigError:
        if not outbox_enabled(settings):
            raise
        bootstrap = None  # no worker running: the outbox keeps the links for its next start
    links = asyncio.run(submit_links(bootstrap, settings, good, source=args.source))
    for link in links:
        print(orjson.dumps({"link_id": link["link_id"], "url": link["url"]}).decode())
    return 0


def cmd_fetch(settings: Settings, args: argparse.Namespace) -> int:
    from .pipeline import run_one

    result = asyncio.run(run_one(settings, args.url))
    sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0 if result.get("outcome") == "ok" else 1


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    try:
        from .demo.run import run_demo
    except ModuleNotFoundError as e:
        if not (e.name or "").startswith("wirewatch.demo"):
            raise
        raise ConfigError(
            "the demo is not part of this install (the production image leaves it out): "
            "run `make demo` in a checkout, or pip install 'wirewatch[demo]'"
        ) from e

    try:
        return asyncio.run(run_demo(settings, timeout=args.timeout, serve=not args.exit))
    except KeyboardInterrupt:  # Ctrl-C ends the serving demo; run_demo has stopped everything
        return 0


def cmd_settings(settings: Settings, args: argparse.Namespace) -> int:
    from .settings import settings_markdown

    print(
        settings_markdown() if args.markdown else settings.model_dump_json(indent=2), end="" if args.markdown else "\n"
    )
    return 0


def cmd_rules_test(settings: Settings, args: argparse.Namespace) -> int:
    from .backtest import backtest

    report = asyncio.run(backtest(settings, Path(args.file)))
    for line in report.lines:
        print(orjson.dumps(line.as_dict()).decode() if args.json else line.text())
    totals = report.totals()
    if args.json:
        print(orjson.dumps({"totals": totals}).decode())
    else:
        print(
            f"\n{totals['articles']} stored articles, {totals['matched']} matched a rule, {totals['stories']} stories: "
            f"{totals['new']} alerts, {totals['update']} updates, {totals['held']} held for digests, "
            f"{totals['attached']} attached to a story without alerting"
        )
    return 0


def cmd_deadletter(settings: Settings, args: argparse.Namespace) -> int:
    from . import deadletter as dl

    flt = dl.Filter.parse(
        args.stage, args.reason, args.since, args.until, args.link_id, include_settled=args.include_settled
    )
    if args.deadletter_command == "list":  # counted as read: storage's rows a page at a time
        tally = asyncio.run(dl.tally(settings, bootstrap_of(settings), flt, args.limit))
        if args.json:
            for row in tally["rows"]:
                print(orjson.dumps(row).decode())
        else:
            for row in tally["rows"]:
                print(f"{row['count']:>8}  {row['stage']:<10} {row['reason']}")
            expired = tally["expired"]
            print(
                f"{tally['letters']:>8}  dead letters"
                + (f" ({expired} known only from storage: the topic's copy expired)" if expired else "")
                + (f"; the first {args.limit} only (--limit)" if tally["limited"] else "")
            )
        return 0
    if args.deadletter_command == "replay":  # read twice, sent a page at a time: never every letter at once
        report = asyncio.run(dl.replay(settings, bootstrap_of(settings), flt, args.limit, dry_run=args.dry_run))
        print(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
        return 0
    wanted = asyncio.run(dl.find(settings, bootstrap_of(settings), flt, args.which))  # show
    if wanted is None:
        print(f"wirewatch: no dead letter with link id or partition/offset {args.which!r}", file=sys.stderr)
        return 1
    print(orjson.dumps(wanted.as_dict(), option=orjson.OPT_INDENT_2, default=str).decode())
    return 0


def _deadletter_parser(sub) -> None:
    d = sub.add_parser("deadletter", help="list, show and replay dead letters").add_subparsers(
        dest="deadletter_command", required=True
    )
    for name, text in (
        ("list", "dead letters by stage and reason"),
        ("show", "one dead letter, as JSON"),
        ("replay", "put dead-lettered items back on the input of the stage that failed them"),
    ):
        c = d.add_parser(name, help=text)
        if name == "show":
            c.add_argument("which", help="a link id, or PARTITION/OFFSET on the dead-letter topic")
        c.add_argument("--stage", action="append", default=[], help="only this stage (repeatable)")
        c.add_argument("--reason", action="append", default=[], help="only this reason (repeatable)")
        c.add_argument("--since", help="letters from this time: ISO 8601 or a duration back from now (6h, 2d)")
        c.add_argument("--until", help="letters before this time (same forms)")
        c.add_argument("--link-id", action="append", default=[], help="only this link id (repeatable)")
        c.add_argument(
            "--include-settled", action="store_true", help="also links stored or filtered since they were dead-lettered"
        )
        if name == "list":
            c.add_argument("--json", action="store_true", help="one JSON object per (stage, reason)")
        if name in ("list", "replay"):
            c.add_argument("--limit", type=int, help=f"only the first N dead letters ({name} them all by default)")
        if name == "replay":
            c.add_argument("--dry-run", action="store_true", help="say what would be replayed; send nothing")
        c.set_defaults(fn=cmd_deadletter)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="wirewatch", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run a worker (and an embedded broker when broker=embedded)").set_defaults(fn=cmd_run)
    sub.add_parser("worker", help="same as run").set_defaults(fn=cmd_run)
    s = sub.add_parser("submit", help="put links on the links topic")
    s.add_argument("urls", nargs="+")
    s.add_argument("--source", default="cli", help="source recorded with the links (default: cli)")
    s.set_defaults(fn=cmd_submit)
    f = sub.add_parser("fetch", help="resolve, fetch, extract, enrich and route one URL; print JSON (no Kafka)")
    f.add_argument("url")
    f.set_defaults(fn=cmd_fetch)
    d = sub.add_parser("demo", help="the whole pipeline offline against the bundled sample news site")
    d.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for every link to reach an outcome")
    d.add_argument(
        "--exit", action="store_true", help="exit after the summary instead of serving the story board until Ctrl-C"
    )
    d.set_defaults(fn=cmd_demo)
    st = sub.add_parser("settings", help="print the effective settings (secrets masked)")
    st.add_argument("--markdown", action="store_true", help="print the settings reference (docs/settings.md)")
    st.set_defaults(fn=cmd_settings)
    r = sub.add_parser("rules", help="work with alert rules files").add_subparsers(dest="rules_command", required=True)
    rt = r.add_parser("test", help="backtest: which stored articles FILE's rules would have alerted on, and why")
    rt.add_argument("file", help="a rules file (same format as rules_file)")
    rt.add_argument("--json", action="store_true", help="one JSON object per line instead of text")
    rt.set_defaults(fn=cmd_rules_test)
    _deadletter_parser(sub)
    return p


def _stop_on_sigterm(signum: int, frame: object) -> None:
    # Like Ctrl-C: `finally` blocks run, so `wirewatch demo` stops its worker, broker and servers.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command not in ("run", "worker"):  # a worker's stop is faust's (with a watchdog)
        signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        settings = load_settings()
        logs.setup(settings.log_level, settings.log_format)
        code = args.fn(settings, args)
    except ConfigError as e:
        logs.flush()
        print(f"wirewatch: configuration error: {e}", file=sys.stderr)
        code = 2
    except WirewatchError as e:
        logs.flush()
        print(f"wirewatch: {e}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
