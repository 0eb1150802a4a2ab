"""Issue 11's fault scenarios at full length: what each fault costs and whether anything was lost.

The same scenarios as `tests/faults/` (tests/faults/scenarios.py), with the issue's durations: the
broker and PostgreSQL stopped 30 s, the receiver answering 503 for 60 s, 10,000 malformed messages
among 50 good links. Real Apache Kafka and PostgreSQL started here, workers as real processes.
Plus a worker killed -9 and restarted next to a survivor, with the production session timeout
(45 s), under static group membership and without it: the baseline of the same run.

Per scenario: links in, outcomes, stored / filtered / dead-lettered, pages fetched again
(reprocessed), articles, alerts delivered / distinct, drain time (first link -> every outcome),
alerts time (first link -> every alert), resume (fault over -> the first outcome or alert after it),
recovery (fault over -> every outcome and alert in), the longest stall (no outcome and no alert),
and for the restarts the time until the restarted worker had its partitions again. `held` says whether the scenario's
checks passed (every link one outcome, nothing lost or twice, bad messages dead-lettered with a
reason, workers alive); a failed check is printed, not raised. Last line: JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import orjson

from tests.faults.scenarios import SCENARIOS, Env, restart
from wirewatch.broker import KafkaBroker, ensure_kafka_jars

ALL = [*SCENARIOS, "restart_static", "restart_dynamic"]

COLUMNS = [
    ("links_in", "in"),
    ("outcomes", "outcomes"),
    ("stored", "stored"),
    ("filtered", "filt"),
    ("dead_lettered", "dl"),
    ("reprocessed", "again"),
    ("articles", "articles"),
    ("alerts_delivered", "alerts"),
    ("alerts_distinct", "distinct"),
    ("drain_s", "drain s"),
    ("alerts_s", "alerts s"),
    ("resume_s", "resume s"),
    ("recovery_s", "recover s"),
    ("stall_s", "stall s"),
    ("rejoin_s", "rejoin s"),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("faults")
    g.add_argument("--faults-scenarios", default=",".join(ALL), help=f"comma-separated, of {ALL}")
    g.add_argument("--faults-outage", type=float, default=30.0, help="seconds the broker / PostgreSQL stay down")
    g.add_argument("--faults-receiver-outage", type=float, default=60.0, help="seconds the receiver answers 503")
    g.add_argument("--faults-malformed", type=int, default=10_000, help="malformed messages among the good links")
    g.add_argument("--faults-session-timeout", type=float, default=45.0, help="session timeout of the restart rows")
    g.add_argument(
        "--faults-politeness",
        choices=("default", "off"),
        default="default",
        help="towards the fault site's one host: the defaults (1 request/s) or off, as the tests run",
    )


def run(args: argparse.Namespace) -> dict:
    return asyncio.run(
        _run(
            [s for s in getattr(args, "faults_scenarios", ",".join(ALL)).split(",") if s],
            getattr(args, "faults_outage", 30.0),
            getattr(args, "faults_receiver_outage", 60.0),
            getattr(args, "faults_malformed", 10_000),
            getattr(args, "faults_session_timeout", 45.0),
            getattr(args, "faults_politeness", "default") == "default",
        )
    )


async def _run(
    names: list[str], outage: float, receiver_outage: float, malformed: int, session: float, polite: bool
) -> dict:
    from tests.harness.postgres import PostgresServer

    unknown = sorted(set(names) - set(ALL))
    if unknown:
        raise SystemExit(f"unknown scenarios {unknown}; choose from {ALL}")
    tmp = Path(tempfile.mkdtemp(prefix="wirewatch-bench-faults-"))
    broker = KafkaBroker(tmp / "kafka", jars_dir=ensure_kafka_jars())
    pg = PostgresServer(Path(tempfile.mkdtemp(prefix="wirewatch-bench-faults-pg-")))
    await asyncio.to_thread(broker.start)
    await asyncio.to_thread(pg.start)
    rows: dict[str, dict] = {}
    try:
        for name in names:
            env = Env(
                kafka=broker,
                postgres=pg,
                tmp=tmp / name,
                outage=outage,
                receiver_outage=receiver_outage,
                malformed=malformed,
                polite=polite,
            )
            env.tmp.mkdir(parents=True, exist_ok=True)
            began = time.monotonic()
            if name.startswith("restart_"):
                result = await restart(env, static=name == "restart_static", session_timeout=session)
            else:
                result = await SCENARIOS[name](env)
            row = result.row()
            try:
                result.check()
                row["held"], row["failed"] = True, ""
            except AssertionError as e:
                row["held"], row["failed"] = False, str(e).splitlines()[0][:200]
            row["seconds"] = round(time.monotonic() - began, 1)
            rows[name] = row
            print(_line(name, row), flush=True)
    finally:
        await asyncio.to_thread(pg.stop)
        await asyncio.to_thread(broker.stop)
    print(_header())
    for name, row in rows.items():
        print(_line(name, row))
    out: dict = {
        "benchmark": "faults",
        "outage_s": outage,
        "receiver_outage_s": receiver_outage,
        "malformed": malformed,
        "session_timeout_s": session,
        "politeness": "default" if polite else "off",
        "all_held": all(r["held"] for r in rows.values()),
        "scenarios": {
            n: {k: r.get(k) for k, _ in COLUMNS} | {"held": r["held"], "failed": r["failed"]} for n, r in rows.items()
        },
    }
    static, dynamic = rows.get("restart_static"), rows.get("restart_dynamic")
    if static and dynamic and static.get("rejoin_s") and dynamic.get("rejoin_s"):
        out["rejoin_dynamic_over_static"] = round(dynamic["rejoin_s"] / static["rejoin_s"], 1)
        out["stall_dynamic_over_static"] = round(dynamic["stall_s"] / max(static["stall_s"], 0.25), 1)
    return out


def _header() -> str:
    return f"{'scenario':<24}" + "".join(f"{title:>10}" for _, title in COLUMNS) + "  held"


def _line(name: str, row: dict) -> str:
    cells = "".join(f"{'-' if row.get(k) is None else row.get(k):>10}" for k, _ in COLUMNS)
    return f"{name:<24}{cells}  {'yes' if row['held'] else 'NO: ' + row['failed']}"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    print(orjson.dumps(run(parser.parse_args())).decode())
