"""End to end on real Apache Kafka, default politeness: drain throughput, link -> alert latency,
latency beside a host that never answers, and the worker's memory.

A loopback site answers on many hosts (127.0.0.2, 127.0.0.3, ... 127.0.1.1, ...: Linux answers the
whole of 127/8 on lo; one port): the pages of a ScrapingHub-style corpus (default ``../shared/data/extraction-scrapinghub-dev``; skipped where it is
absent) served many times over, each copy behind a two-hop short link whose three requests land on
three different hosts (``/s/N`` 301 -> ``/r/N`` 302 -> ``/a/DOC/N``). One or two real workers
(``wirewatch run``) with DEFAULT fetch settings (only private addresses allowed, so loopback can be
fetched) read from Kafka and deliver to an alert receiver; a rule alerting on ordinary English words
and a short story window make most copies an alert of their own.

    (a) drain: every link of the corpus x copies submitted at once; links/s and articles/s until
        all have an outcome, beside two ceilings measured in the same run: the CPU ceiling
        (extract + enrich of the same pages in a pool of one process per core, nothing else running;
        measured before the drain and again right after it, and the higher of the two is the
        yardstick, so a machine slower at one of the two times never makes it easier)
        and the politeness ceiling (hosts x per_host_rate / 3 requests a link), and which of the two
        bounds the run; and the CPU each link cost on the worker's event loop and in its pool (from
        /proc), where the design wants it, with the share of a core each was busy, beside the broker's
        (by thread), the site's (its own thread), the rest of the bench's and everything else's
        (the machine's busy time nobody named): what each costs a link, and the ratio to the CPU
        ceiling that CPU would allow were the worker's main process free. The default 600
        hosts put the politeness ceiling (200 links/s at the default 1 request/s) well above the CPU
        ceiling of a small machine, so the drain measures the worker, not the politeness it keeps
    (b) link -> alert (and link -> outcome) latency p50/p95/p99/max at half the drained rate
    (c) the same for ordinary links while a share of links go to a host that accepts connections
        and never answers
    (d) peak RSS of the worker's process tree (the worker and its pool), sampled from /proc
    (e) the same while ``--e2e-queued`` links (10,000) wait on the topic: the in-flight window
        bounds what the worker holds, so memory stays flat

``--e2e-broker embedded`` runs what `make run` runs instead of Apache Kafka: one worker with
``broker=embedded``, which starts its own tansu and tunes its consumer for it (cli.embedded_tuning),
the outbox on; the links are produced straight onto its links topic, as `wirewatch submit` would.

Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import TypeVar

from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from wirewatch import contract
from wirewatch.broker import BrokerError, KafkaBroker, ensure_kafka_jars
from wirewatch.broker.kafka import find_java
from wirewatch.cli import bootstrap_of
from wirewatch.demo.receiver import AlertReceiver
from wirewatch.errors import ConfigError, Unavailable
from wirewatch.settings import FetchSettings, load_settings
from wirewatch.sinks.storage import open_storage
from wirewatch.sources.links import make_link
from wirewatch.topics import TOPICS, ensure_topics, topic_names
from wirewatch.worker_process import WorkerProcess

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO / ".." / "shared" / "data" / "extraction-scrapinghub-dev"
_CANONICAL = re.compile(rb"<link[^>]+rel=[\"']?canonical[^>]*>|<meta[^>]+property=[\"']?og:url[^>]*>", re.I)
T = TypeVar("T")
RULES = """rules:
  - name: any-english-news
    severity: info
    keywords: [the, and, of]
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("e2e")
    g.add_argument("--e2e-corpus", type=Path, default=DEFAULT_CORPUS, help="html/*.html.gz + ground-truth.json")
    g.add_argument(
        "--e2e-copies", type=int, default=20, help="copies of each page in the drain (91 pages x 20 = 1,820)"
    )
    g.add_argument(
        "--e2e-hosts",
        type=int,
        default=600,
        help="loopback hosts the site answers on (127.0.x.y); 600 x 1 request/s / 3 requests a link = 200 links/s",
    )
    g.add_argument("--e2e-workers", type=int, default=1, help="worker processes")
    g.add_argument("--e2e-seconds", type=float, default=20.0, help="length of each latency phase")
    g.add_argument("--e2e-dead-share", type=float, default=0.1, help="share of links to the host that never answers")
    g.add_argument(
        "--e2e-queued",
        type=int,
        default=10_000,
        help="(e) links put on the topic at once at the end, to see memory stay flat (0: skip)",
    )
    g.add_argument(
        "--e2e-storage",
        choices=["sqlite", "postgres"],
        default="sqlite",
        help="the embedded default (SQLite in the worker's process) or a PostgreSQL server on loopback",
    )
    g.add_argument(
        "--e2e-broker",
        choices=["kafka", "embedded"],
        default="kafka",
        help="Apache Kafka 4 started by the bench, or the embedded broker the worker starts itself (`make run`'s tansu)",
    )
    g.add_argument(
        "--e2e-profile",
        type=Path,
        default=None,
        help="write py-spy's samples (raw, one line per stack and thread) of the first worker's main process "
        "during the drain to this file, and of each of its pool processes to FILE.pool-PID; py-spy from PATH "
        "or beside this Python",
    )
    g.add_argument(
        "--e2e-set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a worker setting (settings.py's name, e.g. event_loop=asyncio; a JSON value for a nested one), "
        "repeatable: for A/B runs of one code",
    )


def worker_overrides(pairs: list[str]) -> dict:
    """--e2e-set NAME=VALUE pairs as worker settings: a JSON value where it parses, else the string."""
    out: dict = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"--e2e-set wants NAME=VALUE, not {pair!r}")
        try:
            out[name] = json.loads(value)
        except ValueError:
            out[name] = value
    return out


def run(args: argparse.Namespace) -> dict:
    corpus = Path(getattr(args, "e2e_corpus", DEFAULT_CORPUS))
    if not (corpus / "html").is_dir():
        print(f"  skipped: no corpus at {corpus}")
        return {"skipped": f"no corpus at {corpus}"}
    return asyncio.run(
        _run(
            corpus,
            getattr(args, "e2e_copies", 20),
            getattr(args, "e2e_hosts", 600),
            getattr(args, "e2e_workers", 1),
            getattr(args, "e2e_seconds", 20.0),
            getattr(args, "e2e_dead_share", 0.1),
            getattr(args, "e2e_storage", "sqlite"),
            getattr(args, "e2e_queued", 10_000),
            getattr(args, "e2e_broker", "kafka"),
            getattr(args, "e2e_profile", None),
            worker_overrides(getattr(args, "e2e_set", [])),
        )
    )


def load_pages(corpus: Path) -> list[bytes]:
    return [gzip.decompress(p.read_bytes()) for p in sorted((corpus / "html").glob("*.html.gz"))]


# -- the CPU ceiling: extract + enrich of each page, one process per core, nothing else running ----


def _cpu_one(html: bytes) -> float:
    """CPU seconds extract + enrich of one page took in this process; a page the stage refuses (not
    an article, too short) or fails costs its extraction alone, in the worker as here."""
    from wirewatch.errors import Rejected, StageError
    from wirewatch.stages.enrich import enrich
    from wirewatch.stages.extract import extract
    from wirewatch.stages.fetch import decode_html

    started = time.process_time()
    try:
        ex = extract(decode_html(html, "text/html"), "http://127.0.0.2/a/1")
    except (Rejected, StageError):
        return time.process_time() - started
    enrich({"title": ex.title, "text": ex.text, "language": ex.language, "published": ex.published})
    return time.process_time() - started


def cpu_ceiling(pages: list[bytes], rounds: int = 2) -> tuple[float, float]:
    """Articles a second when only extraction and enrichment run, in one process per core; and the
    CPU seconds a page took there, which other users of a shared machine change far less."""
    with ProcessPoolExecutor(os.cpu_count() or 1, mp_context=get_context("spawn")) as pool:
        list(pool.map(_cpu_one, pages[: os.cpu_count() or 1]))  # warm up every process
        started = time.perf_counter()
        cpu = sum(pool.map(_cpu_one, pages * rounds, chunksize=4))
        return len(pages) * rounds / (time.perf_counter() - started), cpu / (len(pages) * rounds)


# -- the site: many hosts, two-hop short links, and one host that never answers --------------------


def loopback(i: int) -> str:
    """The i-th loopback address from 127.0.0.2 on (i = 0), skipping .0 and .255 and 127.0.0.1."""
    block, last = divmod(i + 1, 254)
    return f"127.0.{block}.{last + 1}"


class Site:
    def __init__(self, pages: list[bytes], hosts: int) -> None:
        if not 1 <= hosts <= 254 * 256 - 2:
            raise ValueError(f"hosts must be 1 to {254 * 256 - 2} (127.0.x.y), got {hosts}")
        self.pages, self.hosts, self.port, self.dead_port = pages, hosts, 0, 0
        # Without the page's own canonical URL each copy is an article of its own (its final URL),
        # as copies on different sites would be; otherwise every copy would be one stored article.
        self.copies = [_CANONICAL.sub(b"", p) for p in pages]
        # The three hops of a link land on three hosts a third of the site apart, and consecutive
        # links on consecutive hosts: every host gets the same share of requests and links taken
        # together (a window of them) never share a host until the window nears a third of the site.
        self._stride = max(1, hosts // 3)
        self._runner: web.AppRunner | None = None
        self._dead: asyncio.AbstractServer | None = None
        self._hung: list[asyncio.StreamWriter] = []

    def host(self, n: int, hop: int) -> str:
        return loopback((n + hop * self._stride) % self.hosts)

    def short_link(self, n: int) -> str:
        return f"http://{self.host(n, 0)}:{self.port}/s/{n}"

    def dead_link(self, n: int) -> str:
        return f"http://{loopback(self.hosts)}:{self.dead_port}/s/{n}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/robots.txt", self._no_robots)
        app.router.add_get("/s/{n}", self._short)
        app.router.add_get("/r/{n}", self._hop)
        app.router.add_get("/a/{doc}/{n}", self._page)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        for attempt in range(5):  # the port the first host got may be taken on another address
            first = web.TCPSite(self._runner, loopback(0), 0)
            await first.start()
            self.port = first._server.sockets[0].getsockname()[1]  # aiohttp keeps the socket there
            try:
                for h in range(1, self.hosts):
                    await web.TCPSite(self._runner, loopback(h), self.port).start()
                break
            except OSError:
                if attempt == 4:
                    raise
                for site in list(self._runner.sites):
                    await site.stop()

        async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self._hung.append(writer)  # accept, read the request, say nothing, keep it open
            while await reader.read(65536):
                pass

        self._dead = await asyncio.start_server(never_answer, loopback(self.hosts), 0)
        self.dead_port = self._dead.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for w in self._hung:
            w.close()
        if self._dead is not None:
            self._dead.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _no_robots(self, request: web.Request) -> web.Response:
        return web.Response(status=404)

    async def _short(self, request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        raise web.HTTPMovedPermanently(f"http://{self.host(n, 1)}:{self.port}/r/{n}")

    async def _hop(self, request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        raise web.HTTPFound(f"http://{self.host(n, 2)}:{self.port}/a/{n % len(self.pages)}/{n}")

    async def _page(self, request: web.Request) -> web.Response:
        return web.Response(body=self.copies[int(request.match_info["doc"])], content_type="text/html")


class SiteThread:
    """The site on an event loop of its own in a thread of this process, so that the CPU it costs
    (serving the pages and the short links: accepting, parsing, answering) is that thread's, read
    from /proc, apart from the receiver's, the producer's and the observer's on the bench's loop."""

    def __init__(self, site: Site) -> None:
        self.site, self.tid = site, 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="bench-site", daemon=True)

    def _serve(self) -> None:
        self.tid = threading.get_native_id()
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    async def _on_thread(self, coro: Coroutine[object, object, None]) -> None:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))

    async def start(self) -> None:
        self._thread.start()
        await self._on_thread(self.site.start())

    async def stop(self) -> None:
        if self._thread.is_alive():
            await self._on_thread(self.site.stop())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
        self._loop.close()

    def cpu(self) -> float:
        """CPU seconds (user + system) the site's thread has used so far."""
        user, system = thread_cpu(os.getpid()).get(self.tid, (0.0, 0.0))
        return user + system


# -- the worker's memory ---------------------------------------------------------------------------


def stat_fields(stat: str) -> list[str]:
    """The fields of a ``/proc/.../stat`` line after the command's name (which may hold spaces and
    parentheses): [1] the parent's pid, [2] the process group, [11] / [12] user / system ticks."""
    return stat.rsplit(")", 1)[1].split()


def ticks_cpu(fields: list[str]) -> float:
    """CPU seconds (user + system) of a stat line's fields."""
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_stats() -> dict[int, list[str]]:
    """Every live process's stat fields, by pid (one read of /proc)."""
    out: dict[int, list[str]] = {}
    for d in os.listdir("/proc"):
        try:
            if d.isdigit():
                out[int(d)] = stat_fields(Path(f"/proc/{d}/stat").read_text())
        except (OSError, IndexError):
            continue
    return out


def group_pids(pgid: int) -> list[int]:
    """Every process of a process group (the worker runs in its own session: it and its pool)."""
    pids = []
    for d in os.listdir("/proc"):
        try:
            if d.isdigit() and os.getpgid(int(d)) == pgid:
                pids.append(int(d))
        except OSError:
            continue
    return pids


def tree_rss(pgid: int) -> int:
    """Resident bytes of every process in the process group."""
    total = 0
    for pid in group_pids(pgid):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except (OSError, ValueError):
            continue
    return total


def tree_cpu(pgid: int) -> tuple[float, float]:
    """CPU seconds (user + system) so far of the group's leader (the worker's event loop) and of
    the rest of the group (its pool processes)."""
    main = rest = 0.0
    for pid in group_pids(pgid):
        try:
            used = ticks_cpu(stat_fields(Path(f"/proc/{pid}/stat").read_text()))
        except (OSError, ValueError, IndexError):
            continue
        if pid == pgid:
            main += used
        else:
            rest += used
    return main, rest


def group_cpu(pgid: int | None) -> float:
    """CPU seconds (user + system) so far of every live process of a process group (None: none)."""
    if pgid is None:
        return 0.0
    main, rest = tree_cpu(pgid)
    return main + rest


def broker_group(broker: KafkaBroker | None, workers: list[WorkerProcess]) -> int | None:
    """The process group of the broker: the Apache Kafka the bench started (its own session), or
    the embedded broker a worker started (a child of its main process in a session of its own)."""
    if broker is not None:
        return broker.pid
    stats = proc_stats()
    for w in workers:
        for fields in stats.values():
            if int(fields[1]) == w.proc.pid and int(fields[2]) != w.proc.pid:  # ppid, pgrp
                return int(fields[2])
    return None


def postgres_pid(pg) -> int | None:
    """The PostgreSQL server's postmaster (its children, each in a session of its own, are found
    from it by ``tree_cpu_of``)."""
    if pg is None:
        return None
    try:
        return int((pg.data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def tree_cpu_of(root: int | None) -> float:
    """CPU seconds (user + system) so far of a live process and every live descendant of it,
    whatever their sessions (a PostgreSQL backend is its own session leader); None: 0."""
    if root is None:
        return 0.0
    stats = proc_stats()
    parent = {pid: int(fields[1]) for pid, fields in stats.items()}
    used = {pid: ticks_cpu(fields) for pid, fields in stats.items()}
    tree, frontier = {root}, [root]
    while frontier:
        frontier = [pid for pid, ppid in parent.items() if ppid in frontier and pid not in tree]
        tree.update(frontier)
    return sum(used.get(pid, 0.0) for pid in tree)


def threads_by_name(pgid: int | None) -> dict[str, float]:
    """CPU seconds so far of every thread of a process group by the thread's name, its numbers and
    a trailing ``#N`` or ``-N`` left out (a JVM names its threads: ``data-plane-kafk``,
    ``kafka-request-h``, ``GC Thread#0``, ``C2 CompilerThre``; the kernel keeps 15 characters)."""
    out: dict[str, float] = {}
    if pgid is None:
        return out

    def named(stat: str) -> tuple[str, float]:
        return stat.rsplit(")", 1)[0].split("(", 1)[1], ticks_cpu(stat_fields(stat))

    for pid in group_pids(pgid):
        for name, used in per_thread(pid, "stat", named).values():
            key = re.sub(r"[-#]?\d+$", "", name).strip() or name
            out[key] = out.get(key, 0.0) + used
    return out


def broker_requests(broker: KafkaBroker | None) -> dict[str, int]:
    """Apache Kafka's own counts so far (JMX, read by ``BrokerRequests.java`` attached to the
    broker's JVM): requests handled by type, and ``.records_in``, ``.bytes_in``, ``.bytes_out``,
    ``.partitions_produced``, ``.partitions_fetched``. {} where it cannot be read (the embedded
    broker, a Java without its compiler or attach module): a count, not the run's point."""
    if broker is None or broker.pid is None:
        return {}
    try:
        java = find_java()
        done = subprocess.run(
            [java, str(Path(__file__).with_name("BrokerRequests.java")), str(broker.pid)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        return {k: int(v) for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}
    except (OSError, subprocess.SubprocessError, ValueError, IndexError, BrokerError) as e:
        print(f"  could not read the broker's request counts: {e!r}", flush=True)
        return {}


def requests_per_link(before: dict[str, int], after: dict[str, int], links: int) -> dict:
    """The broker's requests a link over the drain by type (those it got at least once), and the
    records each produce request carried and the partitions each consumer fetch named."""
    if not before or not after:
        return {}
    delta = {k: v - before.get(k, 0) for k, v in after.items()}
    n = max(links, 1)
    out: dict = {
        k: round(v / n, 3) for k, v in sorted(delta.items(), key=lambda kv: -kv[1]) if v > 0 and not k.startswith(".")
    }
    if delta.get("Produce"):
        out["records_a_produce"] = round(delta.get(".records_in", 0) / delta["Produce"], 2)
    fetches = delta.get("FetchConsumer") or delta.get("Fetch")
    if fetches:
        out["partitions_a_fetch"] = round(delta.get(".partitions_fetched", 0) / fetches, 1)
        out["bytes_out_a_fetch"] = round(delta.get(".bytes_out", 0) / fetches)
    return out


def attribute(cpu: dict[str, float], links: int, stored: int, drain_s: float, cores: int, ceiling: float) -> dict:
    """Every core's CPU over the drain by part, from CPU seconds measured over it: ``loop`` the
    worker's main process(es), ``pool`` its pool, ``broker`` the broker's processes, ``storage`` a
    PostgreSQL server where one runs, ``bench`` this process (``site`` the thread serving the pages
    and short links, ``bench_rest`` the rest: the receiver, the producer, the observer's storage
    reads), ``machine`` every core's busy time; ``other`` is the machine's time nobody named
    (other users, the kernel's interrupts, py-spy). Returns the cores each part kept busy, its ms of
    CPU a link, and the drain's ratio to the CPU ceiling that the measured CPU of everything but the
    worker's main process would allow if that process cost nothing: on ``cores`` cores, stored
    articles a second at most cores / (the rest's CPU a link), over the ceiling."""
    parts = {k: cpu[k] for k in ("loop", "pool", "broker", "storage") if k in cpu}
    parts["bench"] = cpu["bench"]
    parts["site"] = cpu["site"]
    parts["bench_rest"] = cpu["bench"] - cpu["site"]
    named = sum(v for k, v in parts.items() if k not in ("site", "bench_rest"))
    parts["other"] = cpu["machine"] - named
    parts["machine"] = cpu["machine"]
    n = max(links, 1)
    beside_main = sum(v for k, v in parts.items() if k not in ("loop", "site", "bench_rest", "other", "machine"))
    beside_main += max(parts["other"], 0.0)
    share = stored / n

    def bound(used: float) -> float:
        return round(cores / max(used / n, 1e-9) * share / max(ceiling, 1e-9), 2)

    return {
        "cores_busy": {k: round(v / max(drain_s, 1e-9), 2) for k, v in parts.items()},
        "cpu_ms_per_link": {k: round(v / n * 1000, 1) for k, v in parts.items()},
        "ratio_bound_if_main_free": bound(beside_main),
        "ratio_bound_at_measured_cpu": bound(beside_main + parts["loop"]),
    }


def per_thread(pid: int, name: str, read: Callable[[str], T]) -> dict[int, T]:
    """``read`` of the text of ``/proc/PID/task/TID/<name>`` for each thread of one process, by
    thread id; a thread gone meanwhile, or a file it cannot read, is left out."""
    out: dict[int, T] = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            out[int(tid)] = read(Path(f"/proc/{pid}/task/{tid}/{name}").read_text())
        except (OSError, ValueError, IndexError, KeyError):
            continue
    return out


def thread_cpu(pid: int) -> dict[int, tuple[float, float]]:
    """CPU seconds (user, system) so far of each thread of one process, by thread id: the event
    loop's thread is the one whose id is the process's; the others are the storage thread, faust's
    consumer thread, the pool's manager and feeder threads."""
    tick = os.sysconf("SC_CLK_TCK")

    def cpu(stat: str) -> tuple[float, float]:
        fields = stat_fields(stat)
        return int(fields[11]) / tick, int(fields[12]) / tick

    return per_thread(pid, "stat", cpu)


def thread_io(pid: int) -> dict[int, dict[str, int]]:
    """Bytes and calls each thread of one process has written so far (``/proc/PID/task/TID/io``):
    ``files`` the bytes it wrote to files (each copied into the page cache, whether it reaches the
    disk or not), ``dropped`` those of them in files deleted or cut before they reached the disk
    (temporary files), ``calls`` its write system calls, files and sockets alike."""

    def written(text: str) -> dict[str, int]:
        io = dict(line.split(": ", 1) for line in text.splitlines())
        return {
            "files": int(io["write_bytes"]),
            "dropped": int(io["cancelled_write_bytes"]),
            "calls": int(io["syscw"]),
        }

    return per_thread(pid, "io", written)


def split_io(before: dict, after: dict, links: int) -> dict:
    """What the process wrote a link over the drain: KB to files (and of those, KB to files deleted
    before they reached the disk) and write calls, in all and by the thread that wrote the most to
    files (on SQLite its storage thread: WAL frames, checkpoints, temporary files), the rest of the
    process's write calls being mostly sockets."""
    delta = {tid: {k: v - before.get(tid, {}).get(k, 0) for k, v in io.items()} for tid, io in after.items()}
    if not delta:
        return {}
    n = max(links, 1)

    def per_link(io: dict) -> dict:
        return {
            "files_kb": round(io["files"] / n / 1024, 1),
            "dropped_kb": round(io["dropped"] / n / 1024, 1),
            "write_calls": round(io["calls"] / n, 1),
        }

    total = {k: sum(io[k] for io in delta.values()) for k in ("files", "dropped", "calls")}
    return {**per_link(total), "file_writer_thread": per_link(max(delta.values(), key=lambda io: io["files"]))}


def split_cpu(pid: int, before: dict, after: dict, links: int, profile: Path | None) -> dict:
    """ms of CPU a link, user and system, of the event loop's thread and of the process's other
    threads (each named from py-spy's samples where the bench took them)."""
    names: dict[int, str] = {}
    if profile is not None and profile.exists():
        for line in profile.read_text(errors="replace").splitlines():
            m = re.match(r"thread \((\d+)\): ([^;]+);", line)
            if m:
                names.setdefault(int(m.group(1)), m.group(2))

    def ms(v: float) -> float:
        return round(v / max(links, 1) * 1000, 2)

    split: dict = {"event_loop": {"user": 0.0, "sys": 0.0}, "other_threads": {"user": 0.0, "sys": 0.0}}
    named: dict[str, float] = {}
    for tid, (user, system) in after.items():
        u0, s0 = before.get(tid, (0.0, 0.0))
        part = split["event_loop" if tid == pid else "other_threads"]
        part["user"] += user - u0
        part["sys"] += system - s0
        if tid != pid and names.get(tid):
            named[names[tid]] = named.get(names[tid], 0.0) + (user - u0) + (system - s0)
    result = {k: {kind: ms(v) for kind, v in part.items()} for k, part in split.items()}
    if named:
        result["other_threads_by_name"] = {k: ms(v) for k, v in sorted(named.items(), key=lambda kv: -kv[1])}
    return result


def machine_busy() -> float:
    """CPU seconds every core of the machine has spent busy (not idle, not waiting on I/O) so far."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def start_profile(pid: int, out: Path, gil: bool = True) -> subprocess.Popen:
    """py-spy sampling the worker's main process until stopped: every thread, only while it holds
    the GIL (on a busy machine a thread waiting for a core counts as active, and most of that wait
    follows a syscall that woke another process; holding the GIL, it runs Python). Non-blocking, so
    the process is not paused at each sample and its CPU figures stay its own. The CPU spent in
    syscalls is the ``sys`` of the per-thread split. `gil` False for a pool process: one working
    thread, each of whose samples while it runs counts, the GIL held or not."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    cmd = [spy, "record", "--pid", str(pid), "--format", "raw", "--threads", "--nonblocking", "-o", str(out)]
    if gil:
        cmd.insert(-2, "--gil")
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop_profile(spy: subprocess.Popen) -> None:
    spy.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
    try:
        _, err = spy.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        spy.kill()
        _, err = spy.communicate()
    print(f"  py-spy: {err.decode(errors='replace').strip().splitlines()[-1:]}", flush=True)


async def topic_ends(bootstrap: str, settings) -> dict[str, int]:
    """Records written so far to each of wirewatch's topics (the sum of its partitions' end offsets),
    by topic name without the prefix; {} where the broker would not say (a count, not the run's point)."""
    parts = {
        TopicPartition(settings.topic(name), p): name
        for name in TOPICS.values()
        for p in range(settings.topic_partitions)
    }
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        await consumer.start()
        ends = await consumer.end_offsets(list(parts))
    except Exception as e:  # noqa: BLE001
        print(f"  could not read the topics' end offsets: {e!r}", flush=True)
        return {}
    finally:
        await consumer.stop()
    out = dict.fromkeys(TOPICS.values(), 0)
    for tp, end in ends.items():
        out[parts[tp]] += end
    return out


async def _sample_rss(workers: list[WorkerProcess], peak: list[int]) -> None:
    while True:
        peak[0] = max(peak[0], sum(tree_rss(w.proc.pid) for w in workers if w.alive()))
        await asyncio.sleep(0.25)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 3)


def summary(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50": pct(values, 0.5),
        "p95": pct(values, 0.95),
        "p99": pct(values, 0.99),
        "max": round(max(values), 3) if values else float("nan"),
    }


class TimedReceiver(AlertReceiver):
    """The alert receiver, stamping each alert when it arrives rather than when the bench looks."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: list[float] = []  # perf_counter of received[i]

    async def _handle(self, request: web.Request) -> web.Response:
        response = await super()._handle(request)
        self.arrived += [time.perf_counter()] * (len(self.received) - len(self.arrived))
        return response


async def embedded_bootstrap(settings, worker: WorkerProcess, timeout: float = 120.0) -> str:
    """The address of the broker a `broker=embedded` worker started (the file `wirewatch submit`
    reads), once its topics exist."""
    deadline = time.perf_counter() + timeout
    while True:
        try:
            bootstrap = bootstrap_of(settings)
            break
        except ConfigError:
            if not worker.alive() or time.perf_counter() > deadline:
                raise RuntimeError("the embedded broker never came up:\n" + worker.log_tail()) from None
            await asyncio.sleep(0.2)
    # The worker creates them before it consumes; the bench's producer must never auto-create one.
    await ensure_topics(bootstrap, topic_names(settings), settings.topic_partitions)
    return bootstrap


class Clock:
    """When each link went in, came out (an outcome row) and alerted (at the receiver)."""

    def __init__(self, storage, receiver: TimedReceiver) -> None:
        self.storage, self.receiver = storage, receiver
        self.submitted: dict[str, float] = {}
        self.outcome: dict[str, float] = {}
        self.alerted: dict[str, float] = {}
        self.outcomes: dict[str, str] = {}
        self._seen_alerts = 0
        self.watching: asyncio.Task | None = None

    async def watch(self) -> None:
        while True:
            now = time.perf_counter()
            for m, at in zip(self.receiver.received[self._seen_alerts :], self.receiver.arrived[self._seen_alerts :]):
                lid = m.get("link_id")
                if lid and lid not in self.alerted:
                    self.alerted[lid] = at
            self._seen_alerts = len(self.receiver.arrived)
            # Only the links still waiting, the oldest first (at most 2,000: the drain's 1,820 fit):
            # reading every outcome row ten times a second cost this process ~13 ms a call at 1,820
            # rows on a loaded machine, CPU taken from the worker it measures.
            pending = [i for i in self.submitted if i not in self.outcome][:2000]
            try:
                rows = await self.storage.outcomes_of(pending) if pending else []
            except Unavailable:  # SQLite busy with the workers' writes: look again next time
                rows = []
            for row in rows:
                if row["link_id"] not in self.outcome:
                    self.outcome[row["link_id"]] = now
                    self.outcomes[row["link_id"]] = row["outcome"]
            await asyncio.sleep(0.1)  # an outcome is seen within 0.1 s; alerts are stamped on arrival

    def latencies(self, link_ids: list[str]) -> tuple[list[float], list[float]]:
        out = [self.outcome[i] - self.submitted[i] for i in link_ids if i in self.outcome]
        alert = [self.alerted[i] - self.submitted[i] for i in link_ids if i in self.alerted]
        return out, alert

    async def until_done(self, link_ids: list[str], timeout: float) -> bool:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.watching is not None and self.watching.done():  # the observer failed: say why
                self.watching.result()
                raise RuntimeError("the observer stopped")
            if all(i in self.outcome for i in link_ids):
                return True
            await asyncio.sleep(0.05)
        return False


async def _run(
    corpus: Path,
    copies: int,
    hosts: int,
    n_workers: int,
    seconds: float,
    dead_share: float,
    storage_kind: str,
    queued: int = 10_000,
    broker_kind: str = "kafka",
    profile: Path | None = None,
    overrides: dict | None = None,
) -> dict:
    if broker_kind == "embedded" and n_workers != 1:
        raise ValueError("the embedded broker lives in its worker's process: one worker only")
    load_start = os.getloadavg()
    pages = load_pages(corpus)
    print(
        f"  {len(pages)} pages; measuring the CPU ceiling (extract + enrich, {os.cpu_count()} processes) ...",
        flush=True,
    )
    ceiling_before, page_cpu_before = cpu_ceiling(pages)
    print(
        f"  CPU ceiling before the drain: {ceiling_before:.1f} articles/s ({page_cpu_before * 1000:.1f} ms of CPU a page)",
        flush=True,
    )
    tmp = Path(tempfile.mkdtemp(prefix="wirewatch-e2e-"))
    (tmp / "rules.yaml").write_text(RULES)
    site = Site(pages, hosts)
    site_thread = SiteThread(site)
    await site_thread.start()
    receiver = TimedReceiver()
    await receiver.start()
    broker = None
    if broker_kind == "kafka":
        broker = KafkaBroker(tmp / "kafka", jars_dir=ensure_kafka_jars())
        broker.start()
    pg = None
    if storage_kind == "postgres":  # the test suite's throwaway cluster (Debian's PostgreSQL)
        from tests.harness.postgres import PostgresServer

        pg = PostgresServer(Path(tempfile.mkdtemp(prefix="wirewatch-e2e-pg-")))  # its own: owned by its user
        pg.start()
        storage_url = pg.url
    else:
        storage_url = f"sqlite:///{tmp / 'e2e.db'}"
    cfg = {
        # `make run`'s broker: the worker starts tansu and tunes its consumer for it (cli.embedded_tuning).
        "broker": f"kafka://{broker.bootstrap}" if broker else "embedded",
        "app_id": "e2e",
        "topic_prefix": "e2e.",
        "storage_url": storage_url,
        "data_dir": str(tmp),
        "web_port": 0,
        "webhook_urls": [receiver.url],
        "feed_poll": False,
        "feeds": [],
        "rules_file": str(tmp / "rules.yaml"),
        # A short story window and no follow-ups: each copy of a page is news of its own (copies share
        # every name and toll, a follow-up's strong match), so most links raise an alert.
        "route": {"story_window": 0.5, "story_follow_up": 0},
        # DEFAULT politeness and timeouts: only the address guard is opened, for loopback.
        "fetch": {"allow_private_addresses": True},
        **(overrides or {}),
    }
    settings = load_settings(
        **{k: v for k, v in cfg.items() if k not in ("fetch", "route")},
        fetch=FetchSettings(allow_private_addresses=True),
    )
    polite = FetchSettings()
    if broker is not None:
        await ensure_topics(broker.bootstrap, topic_names(settings), settings.topic_partitions)
    workers = [WorkerProcess(cfg, tmp / f"worker-{i}.log").start() for i in range(n_workers)]
    bootstrap = broker.bootstrap if broker else await embedded_bootstrap(settings, workers[0])
    storage = open_storage(storage_url)
    await storage.start()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=1)
    await producer.start()
    clock = Clock(storage, receiver)
    peak = [0]
    clock.watching = asyncio.create_task(clock.watch())
    tasks = [clock.watching, asyncio.create_task(_sample_rss(workers, peak))]
    next_n = [10_000_000]

    async def submit(urls: list[str]) -> list[str]:
        ids = []
        for url in urls:
            link = make_link(url, "bench")
            clock.submitted[link["link_id"]] = time.perf_counter()
            await producer.send(settings.topic("links"), contract.encode("link", link), key=url.encode())
            ids.append(link["link_id"])
        await producer.flush()
        return ids

    async def paced(rate: float, duration: float, dead: float) -> tuple[list[str], list[str]]:
        ordinary, hung = [], []
        started, k = time.perf_counter(), 0
        while time.perf_counter() - started < duration:
            next_n[0] += 1
            n = next_n[0]
            if int((k + 1) * dead) > int(k * dead):  # an even spread: every 1/dead-th link
                hung += await submit([site.dead_link(n)])
            else:
                ordinary += await submit([site.short_link(n)])
            k += 1
            await asyncio.sleep(max(0.0, started + k / rate - time.perf_counter()))
        return ordinary, hung

    try:
        # Warm-up: the group joins, the pool starts; a page no phase uses.
        warm = await submit([site.short_link(9_999_999)])
        if not await clock.until_done(warm, 180):
            raise RuntimeError("warm-up link never finished:\n" + workers[0].log_tail())

        # (a) drain
        drain_urls = [site.short_link(n) for n in range(len(pages) * copies)]
        cpu_before = [tree_cpu(w.proc.pid) for w in workers]
        threads_before = thread_cpu(workers[0].proc.pid)
        io_before = thread_io(workers[0].proc.pid)
        records_before = await topic_ends(bootstrap, settings)
        requests_before = broker_requests(broker)  # attaches first: the agent starts before the drain
        broker_pgid, pg_pid = broker_group(broker, workers), postgres_pid(pg)
        broker_before, broker_threads_before = group_cpu(broker_pgid), threads_by_name(broker_pgid)
        pg_before, site_before = tree_cpu_of(pg_pid), site_thread.cpu()
        bench_before, machine_before = time.process_time(), machine_busy()
        spies = []
        if profile is not None:  # the main process, and each pool process (its other children idle)
            spies.append(start_profile(workers[0].proc.pid, profile))
            for pid in group_pids(workers[0].proc.pid):
                if pid != workers[0].proc.pid:
                    spies.append(start_profile(pid, profile.with_name(f"{profile.name}.pool-{pid}"), gil=False))
        t = time.perf_counter()
        drain = await submit(drain_urls)
        finished = await clock.until_done(drain, 900)
        drain_s = time.perf_counter() - t
        cpu_after = [tree_cpu(w.proc.pid) for w in workers]
        threads_after = thread_cpu(workers[0].proc.pid)
        io_after = thread_io(workers[0].proc.pid)
        records_after = await topic_ends(bootstrap, settings)
        bench_cpu, machine_cpu = time.process_time() - bench_before, machine_busy() - machine_before
        site_cpu, broker_cpu = site_thread.cpu() - site_before, group_cpu(broker_pgid) - broker_before
        pg_cpu, broker_threads_after = tree_cpu_of(pg_pid) - pg_before, threads_by_name(broker_pgid)
        broker_requests_a_link = requests_per_link(requests_before, broker_requests(broker), len(drain))
        for spy in spies:
            stop_profile(spy)
        # The ceiling again, right after the drain (the worker idle): the machine's speed varies over
        # minutes, and the higher of the two is the yardstick, so it never gets easier.
        idle_from, broker_idle_before = time.perf_counter(), group_cpu(broker_pgid)
        ceiling_after, page_cpu_after = cpu_ceiling(pages)
        # The broker's CPU while the worker is idle (its heartbeats, commits, readiness probes; the
        # broker's own timers): a cost a second, not a link, which a slow drain spreads on fewer links.
        broker_idle = (group_cpu(broker_pgid) - broker_idle_before) / (time.perf_counter() - idle_from)
        ceiling, page_cpu = max((ceiling_before, page_cpu_before), (ceiling_after, page_cpu_after))
        print(
            f"  CPU ceiling after the drain: {ceiling_after:.1f} articles/s ({page_cpu_after * 1000:.1f} ms of CPU a page)",
            flush=True,
        )
        threads = split_cpu(workers[0].proc.pid, threads_before, threads_after, len(drain) // n_workers, profile)
        written = split_io(io_before, io_after, len(drain) // n_workers)
        main_cpu = sum(a[0] - b[0] for a, b in zip(cpu_after, cpu_before))
        pool_cpu = sum(a[1] - b[1] for a, b in zip(cpu_after, cpu_before))
        stored = sum(1 for i in drain if clock.outcomes.get(i) == "stored")
        links_per_s = len([i for i in drain if i in clock.outcome]) / drain_s
        articles_per_s = stored / drain_s
        # A two-hop short link costs three requests, each on its own host, at per_host_rate a host.
        politeness_ceiling = hosts * polite.per_host_rate / 3
        bound_by = "cpu" if ceiling <= politeness_ceiling else "politeness"
        # What the CPU a link cost allows, whatever else ran: one event loop can do at most
        # 1 / its CPU per link; the worker's processes together at most cores / their CPU per link.
        # The first below the second: the event loop, not the pool, holds the drain back.
        cpu_bounds = {
            "loop_bound_links_per_s": round(len(drain) * n_workers / max(main_cpu, 1e-9), 1),
            "cores_bound_links_per_s": round(len(drain) * (os.cpu_count() or 1) / max(main_cpu + pool_cpu, 1e-9), 1),
        }
        # Cores busy over the drain: the worker's event loop(s) (one core at most each), its pool(s),
        # the broker, PostgreSQL where it runs, this bench (the site, the rest: the receiver, the
        # observer), everything else (other users too) and the whole machine; and what each part
        # cost a link, with the drain's ratio the CPU beside the worker's main process allows.
        parts = {"loop": main_cpu, "pool": pool_cpu, "broker": broker_cpu, "bench": bench_cpu, "site": site_cpu}
        if pg is not None:
            parts["storage"] = pg_cpu
        attributed = attribute(
            {**parts, "machine": machine_cpu}, len(drain), stored, drain_s, os.cpu_count() or 1, ceiling
        )
        busy = attributed["cores_busy"]
        broker_threads = {
            name: round((used - broker_threads_before.get(name, 0.0)) / max(len(drain), 1) * 1000, 2)
            for name, used in sorted(
                broker_threads_after.items(), key=lambda kv: -(kv[1] - broker_threads_before.get(kv[0], 0.0))
            )
            if used - broker_threads_before.get(name, 0.0) > 0
        }
        print(
            f"  (a) drain of {len(drain)} links: {drain_s:.1f}s, {links_per_s:.1f} links/s, "
            f"{articles_per_s:.1f} articles/s ({stored} stored){'' if finished else ' (timed out)'}; "
            f"CPU ceiling {ceiling:.1f}/s (the higher of {ceiling_before:.1f} before and {ceiling_after:.1f} after), politeness ceiling {politeness_ceiling:.1f} links/s "
            f"({hosts} hosts): the {bound_by} ceiling is the lower; CPU per link: "
            f"{main_cpu / len(drain) * 1000:.1f} ms on the event loop, {pool_cpu / len(drain) * 1000:.1f} ms in the "
            f"pool; cores busy: "
            + ", ".join(f"{k} {v:.2f}" for k, v in busy.items())
            + f" of {os.cpu_count()}; that CPU allows at most {cpu_bounds['loop_bound_links_per_s']} links/s "
            f"on the event loop(s), {cpu_bounds['cores_bound_links_per_s']} on all cores; the first worker's "
            f"main process by thread, ms a link: {threads}; written a link: {written}",
            flush=True,
        )
        print(
            f"  CPU a link by part, ms: {attributed['cpu_ms_per_link']}; with the worker's main process free "
            f"that CPU would allow {attributed['ratio_bound_if_main_free']} of the CPU ceiling "
            f"({attributed['ratio_bound_at_measured_cpu']} with it); the broker's by thread: {broker_threads}; "
            f"its requests a link: {broker_requests_a_link}; idle, it kept {broker_idle:.3f} cores busy",
            flush=True,
        )
        await asyncio.sleep(3)  # let the hosts' buckets refill a little (the ceiling's run took a while too)

        # (b) latency at half the drained rate
        rate = max(1.0, links_per_s / 2)
        ordinary, _ = await paced(rate, seconds, 0.0)
        await clock.until_done(ordinary, 180)
        out_b, alert_b = clock.latencies(ordinary)
        print(
            f"  (b) at {rate:.1f} links/s: link -> alert {summary(alert_b)}; link -> outcome {summary(out_b)}",
            flush=True,
        )

        # (c) the same, while a share of links go to a host that never answers
        ordinary_c, hung = await paced(rate, seconds, dead_share)
        await clock.until_done(ordinary_c, 300)
        out_c, alert_c = clock.latencies(ordinary_c)
        print(
            f"  (c) {len(hung)} links to a silent host among {len(ordinary_c)}: ordinary link -> alert "
            f"{summary(alert_c)}; -> outcome {summary(out_c)}",
            flush=True,
        )

        result = {
            "workers": n_workers,
            "storage": storage_kind,
            "broker": broker_kind,
            "hosts": hosts,
            "cores": os.cpu_count(),
            "drain_links": len(drain),
            "drain_s": round(drain_s, 1),
            "drain_complete": finished,
            "drain_links_per_s": round(links_per_s, 1),
            "drain_articles_per_s": round(articles_per_s, 1),
            "cpu_ceiling_articles_per_s": round(ceiling, 1),  # the higher of before and after
            "ratio_to_cpu_ceiling": round(articles_per_s / ceiling, 2),
            "cpu_ceiling_before_after_articles_per_s": [round(ceiling_before, 1), round(ceiling_after, 1)],
            "ratio_to_cpu_ceiling_before_after": [
                round(articles_per_s / ceiling_before, 2),
                round(articles_per_s / ceiling_after, 2),
            ],
            "politeness_ceiling_links_per_s": round(politeness_ceiling, 1),
            "ceiling_bound_by": bound_by,
            "cores_busy_in_drain": busy,
            # ms of CPU a link by part over the drain (the same parts), and the ratio to the CPU ceiling
            # the measured CPU of everything but the worker's main process would allow were it free
            # (and that of everything measured, the main process included).
            "cpu_ms_per_link": attributed["cpu_ms_per_link"],
            "ratio_bound_if_main_free": attributed["ratio_bound_if_main_free"],
            "ratio_bound_at_measured_cpu": attributed["ratio_bound_at_measured_cpu"],
            # The broker's CPU a link by thread name (a JVM's: network, request handlers, GC, JIT ...).
            "broker_threads_cpu_ms_per_link": broker_threads,
            # Cores the broker kept busy with the worker idle (over the ceiling's run after the drain).
            "broker_idle_cores": round(broker_idle, 3),
            # Apache Kafka's requests a link by type, over the drain (its own JMX counts).
            "broker_requests_per_link": broker_requests_a_link,
            "loop_cpu_ms_per_link": round(main_cpu / len(drain) * 1000, 1),
            "pool_cpu_ms_per_link": round(pool_cpu / len(drain) * 1000, 1),
            "main_process_threads_cpu_ms_per_link": threads,
            # What the first worker's main process wrote a link (SQLite's WAL, checkpoints and temporary
            # files; sockets' write calls): the storage thread's kernel share follows its bytes.
            "main_process_written_per_link": written,
            # Records produced a link on each topic over the drain (the links themselves by the bench):
            # each is consumed once by every agent that reads its topic (enriched: store and route).
            "records_per_link": {
                name: round((records_after[name] - records_before.get(name, 0)) / max(len(drain), 1), 3)
                for name in records_after
                if records_before
            },
            "ceiling_cpu_ms_per_page": round(page_cpu * 1000, 1),  # of the ceiling taken
            "ceiling_cpu_ms_per_page_before_after": [round(page_cpu_before * 1000, 1), round(page_cpu_after * 1000, 1)],
            # The pool's CPU a link over the ceiling's a page: what the pool call costs beyond extract +
            # enrich (story features, validation, encoding, pickling) and what sharing the cores costs.
            "pool_cpu_to_ceiling_cpu_before_after": [
                round(pool_cpu / len(drain) / max(page_cpu_before, 1e-9), 2),
                round(pool_cpu / len(drain) / max(page_cpu_after, 1e-9), 2),
            ],
            **cpu_bounds,
            "latency_rate_links_per_s": round(rate, 1),
            "alert_latency_s": summary(alert_b),
            "outcome_latency_s": summary(out_b),
            "dead_host_links": len(hung),
            "beside_dead_host_alert_latency_s": summary(alert_c),
            "beside_dead_host_outcome_latency_s": summary(out_c),
            "peak_rss_mb": round(peak[0] / 2**20, 1),
        }
        print(f"  (d) peak RSS of the worker tree: {result['peak_rss_mb']} MB", flush=True)

        # (e) memory with a deep queue: `queued` links on the topic at once; the worker takes only
        # what its window holds, so its RSS should stay where the drain left it.
        if queued:
            peak[0] = 0
            await submit([site.short_link(20_000_000 + n) for n in range(queued)])
            await asyncio.sleep(seconds)
            result["queued_links"] = queued
            result["queued_peak_rss_mb"] = round(peak[0] / 2**20, 1)
            print(
                f"  (e) {queued} links queued: peak RSS {result['queued_peak_rss_mb']} MB over the submission "
                f"and {seconds:g} s after",
                flush=True,
            )
        result["load_avg_start_end"] = [round(load_start[0], 2), round(os.getloadavg()[0], 2)]
        if overrides:
            result["worker_settings"] = overrides
        return result
    finally:
        for task in tasks:
            task.cancel()
        await producer.stop()
        await storage.close()
        for w in workers:
            w.stop()
        if broker is not None:
            broker.stop()
        if pg is not None:
            pg.stop()
        await receiver.stop()
        await site_thread.stop()
        kept = [tmp] + ([pg.data_dir] if pg is not None else [])
        if sys.exc_info()[0] is None:  # 30-80 MB a run: the broker's log, the database, the workers' logs
            for folder in kept:
                shutil.rmtree(folder, ignore_errors=True)
        else:
            print(
                f"  kept {', '.join(map(str, kept))} (workers' logs, broker, database) for the error", file=sys.stderr
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    print(json.dumps(run(parser.parse_args())))
