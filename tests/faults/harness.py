"""The fault suite's harness, shared by `tests/faults/` and `benchmarks/bench_faults.py`: one run of
the real pipeline (real Kafka, real PostgreSQL, the loopback fault site, an alert receiver counting
by idempotency key, workers as real processes) with a fault injected while it works, measured from
outside.

    run = Run("kill", kafka.bootstrap, pg, tmp_path, site, receiver)
    async with run:
        w = run.start_worker(0)
        links = await run.submit(urls)
        await run.until_settled(fraction=0.3); w.kill(); run.fault_over(); run.start_worker(0)
        result = await run.finish()        # waits for every outcome, then counts
    result.check()                          # every link one outcome, nothing lost or twice, ...

What `Result` counts is what `make bench-faults` prints per scenario.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiokafka import AIOKafkaProducer

from tests.harness.pipeline import Outcomes, settings_of, worker_config
from wirewatch.demo.receiver import AlertReceiver
from wirewatch.sources.submit import submit_links
from wirewatch.worker_process import WorkerProcess

from .site import FaultSite

# The fault site's links are all on one host (127.0.0.3). Default politeness towards it (2 at once,
# 1 request/s after a burst of 4) makes 50 links take about 50 s whatever the fault: what production
# does, so `make bench-faults` keeps it (polite=True); the tests lift it to stay a few minutes long.
# Waiting for a host's turn is NotYet, never a dead letter, so either way every good link is stored.
UNHURRIED = {"per_host_rate": 1000.0, "per_host_burst": 1000, "per_host_concurrency": 16}


@dataclass
class Result:
    scenario: str
    links_in: int
    outcomes: int
    stored: int
    filtered: int
    dead_lettered: int
    reprocessed: int  # pages fetched again: work redone after a crash, a rebalance or a retry
    articles: int
    alerts_delivered: int  # deliveries the receiver accepted, repeats under one key included
    alerts_distinct: int  # distinct idempotency keys
    drain_s: float | None  # first link submitted -> every link has its outcome
    alerts_s: float | None  # first link submitted -> every expected alert delivered
    resume_s: float | None  # the fault over -> the first outcome or alert after it
    recovery_s: float | None  # the fault over -> every outcome and every alert in
    stall_s: float  # the longest time without a new outcome while work was left
    expected_articles: int = 0
    expected_alerts: int = 0
    bad_in: int = 0
    bad_dead_lettered: int = 0
    bad_without_reason: int = 0
    bad_reasons: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    unexpected_outcomes: dict[str, int] = field(default_factory=dict)
    workers_alive: bool = True
    rejoin_s: float | None = None  # a restarted worker: started -> its partitions assigned
    # Each casualty story as storage and the receiver saw it (``Run.alert_account``): named in the
    # failure when the alerts do not reconcile, so the next one says which story and where it stopped.
    alert_account: list[str] = field(default_factory=list)

    def check(self) -> None:
        """What every fault scenario must hold."""
        assert not self.missing, f"{len(self.missing)} links without an outcome: {self.missing[:5]}"
        assert not self.unexpected_outcomes, f"good links not stored: {self.unexpected_outcomes}"
        assert self.articles == self.expected_articles, f"articles {self.articles} != {self.expected_articles}"
        assert self.alerts_distinct == self.expected_alerts, (
            f"alerts {self.alerts_distinct} != {self.expected_alerts}\n" + "\n".join(self.alert_account)
        )
        assert self.bad_dead_lettered == self.bad_in, (
            f"bad messages dead-lettered {self.bad_dead_lettered} of {self.bad_in}"
        )
        assert self.bad_without_reason == 0, f"{self.bad_without_reason} dead letters without a reason"
        assert "internal_error" not in self.bad_reasons, f"bad input counted as a bug: {self.bad_reasons}"
        assert self.workers_alive, "a worker died"

    def row(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("missing")
        out["missing"] = len(self.missing)
        out.pop("alert_account")
        return out


class Progress:
    """Samples, from outside, how many links have an outcome and how many alerts have arrived, to
    time the drain, the recovery after a fault and the stalls."""

    def __init__(self, db: Outcomes, link_ids: set[str], alerts: Any) -> None:
        self.db, self.link_ids, self.alerts = db, link_ids, alerts
        self.samples: list[tuple[float, int, int]] = []  # (when, links with an outcome, alerts)
        self._task: asyncio.Task | None = None

    async def sample(self) -> tuple[float, int, int]:
        done = sum(1 for r in await self.db.storage.outcomes() if r["link_id"] in self.link_ids)
        point = (time.monotonic(), done, len(self.alerts()))  # timed after the read: never early
        self.samples.append(point)
        return point

    def start(self) -> None:
        async def loop() -> None:
            while True:
                with contextlib.suppress(Exception):  # storage down in its own outage: no sample
                    await self.sample()
                await asyncio.sleep(0.25)

        self._task = asyncio.create_task(loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def first(self, after: float, done: Callable[[int, int], bool]) -> float | None:
        """Seconds from `after` to the first sample where `done(outcomes, alerts)`, or None."""
        return next((at - after for at, n, a in sorted(self.samples) if at >= after and done(n, a)), None)

    def resumed(self, after: float) -> float | None:
        """Seconds from `after` to the first progress beyond what was done at that moment."""
        before = max((n + a for at, n, a in self.samples if at <= after), default=0)
        return self.first(after, lambda n, a: n + a > before)

    def longest_stall(self, links: int, alerts: int) -> float:
        """The longest time between two steps of progress once work had begun, until all was done
        (an outage that also stops the sampling, such as storage's, counts whole)."""
        steps, last = [], (0, 0)
        for at, n, a in sorted(self.samples):
            if (n, a) != last:
                steps.append((at, n, a))
                last = (n, a)
        gaps = [b[0] - a_[0] for a_, b in itertools.pairwise(steps) if a_[1] < links or a_[2] < alerts]
        return max(gaps, default=0.0)


class Run:
    """One scenario's pipeline; workers are started and killed by the scenario."""

    def __init__(
        self,
        name: str,
        bootstrap: str,
        postgres: Any,
        tmp: Path,
        site: FaultSite,
        receiver: AlertReceiver,
        polite: bool = False,
        **extra: Any,
    ) -> None:
        self.name = name
        self.tmp = tmp
        self.site, self.receiver = site, receiver
        self.bootstrap = bootstrap
        self.storage_url = postgres.create_database(f"f_{name}_{uuid.uuid4().hex[:8]}")
        extra.setdefault("fetch_concurrency", 16)
        extra.setdefault("fetch", {"allow_private_addresses": True, **({} if polite else UNHURRIED)})
        self.cfg = worker_config(
            bootstrap, self.storage_url, tmp, f"{name}{uuid.uuid4().hex[:6]}", [receiver.url], **extra
        )
        self.settings = settings_of(self.cfg)
        self.workers: dict[int, WorkerProcess] = {}
        self.started = 0
        self.link_ids: set[str] = set()
        self.good_ids: set[str] = set()
        self.bad_in = 0
        self.expected_articles = 0
        self.expected_alerts = 0
        self.t_submit: float | None = None
        self.t_fault_over: float | None = None
        self.db = Outcomes(self.storage_url)
        self.progress = Progress(self.db, self.link_ids, lambda: set(self.receiver.keys()))

    async def __aenter__(self) -> Run:
        await self.db.__aenter__()
        self.progress.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.progress.stop()
        for w in self.workers.values():
            w.stop()
        await self.db.__aexit__(*exc)

    # -- workers -------------------------------------------------------------------------------

    def start_worker(self, index: int = 0, **extra: Any) -> WorkerProcess:
        """Worker `index` (a stable group.instance.id per index unless told otherwise)."""
        cfg = dict(self.cfg)
        kafka = dict(cfg["kafka"])
        kafka.setdefault("group_instance_id", f"{self.cfg['app_id']}-{index}")
        kafka.update(extra.pop("kafka", {}))
        cfg["kafka"] = kafka
        cfg.update(extra)
        self.started += 1
        w = WorkerProcess(cfg, self.tmp / f"{self.name}-worker{index}-{self.started}.log").start()
        self.workers[index] = w
        return w

    async def fault_over(self) -> None:
        """The fault has ended (a worker restarted, a dependency back): recovery is timed from here,
        against the outcomes counted at this moment."""
        self.t_fault_over = time.monotonic()
        await self.progress.sample()

    def rejoin_seconds(self, index: int, started_at: float) -> float | None:
        """Seconds from `started_at` (time.time()) to worker `index` logging its partitions assigned."""
        from datetime import datetime

        for line in self.workers[index].log_path.read_text(errors="replace").splitlines():
            if "_on_partitions_assigned" in line:
                at = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
                if at >= started_at:
                    return round(at - started_at, 2)
        return None

    # -- input ---------------------------------------------------------------------------------

    async def submit(self, news: int, reports: int = 0, offset: int = 0) -> list[dict]:
        """`news` ordinary articles and `reports` casualty reports, each link a page of its own."""
        urls = [self.site.news_url(offset + i) for i in range(news)]
        urls += [self.site.report_url(offset + i) for i in range(reports)]
        self.t_submit = self.t_submit or time.monotonic()
        links = await submit_links(self.bootstrap, self.settings, urls, source="test")
        self.expect_good(links, reports)
        return links

    def expect_good(self, links: list[dict], reports: int) -> None:
        self.t_submit = self.t_submit or time.monotonic()
        ids = {link["link_id"] for link in links}
        self.link_ids |= ids
        self.good_ids |= ids
        self.expected_articles += len(links)
        self.expected_alerts = max(self.expected_alerts, FaultSite.stories(reports))

    async def produce(self, messages: list[tuple[bytes | None, bytes]], topic: str = "links") -> None:
        """Raw messages on a topic, from a plain aiokafka producer (a foreign client)."""
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", linger_ms=20)
        await producer.start()
        try:
            futures = [await producer.send(self.settings.topic(topic), value, key=key) for key, value in messages]
            await asyncio.gather(*futures)
        finally:
            await producer.stop()

    def expect_bad(self, count: int) -> None:
        self.bad_in += count

    # -- waiting and counting ----------------------------------------------------------------------

    async def settled(self) -> int:
        return sum(1 for r in await self.db.storage.outcomes() if r["link_id"] in self.link_ids)

    async def until_settled(self, fraction: float = 1.0, timeout: float = 240.0) -> None:
        goal = int(len(self.link_ids) * fraction)
        deadline = time.monotonic() + timeout
        while await self.settled() < max(goal, 1 if fraction > 0 else 0):
            if time.monotonic() > deadline:
                tails = ""
                for w in self.workers.values():  # each one's log and what it is doing (ops/dump.py)
                    dump = await asyncio.to_thread(w.dump_state)
                    tails += f"--- {w.log_path.name} ---\n{w.log_tail(20)}\n{dump}\n"
                print(tails)  # whole, in the captured output (pytest cuts a long message short)
                raise AssertionError(
                    f"{self.name}: {await self.settled()} of {len(self.link_ids)} links settled "
                    f"after {timeout:.0f}s (goal {goal})\n{tails}"
                )
            await asyncio.sleep(0.2)

    async def until_alerts(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(set(self.receiver.keys())) >= self.expected_alerts:
                return
            await asyncio.sleep(0.3)

    async def finish(self, timeout: float = 300.0, bad_letters: int = 0) -> Result:
        """Wait for every link's outcome and every alert, then count."""
        await self.until_settled(1.0, timeout)
        await self.until_alerts()
        if bad_letters:
            await self._until_bad_rows(bad_letters, timeout)
        await self.progress.sample()
        rows = await self.db.storage.outcomes()
        mine = [r for r in rows if r["link_id"] in self.link_ids]
        by = {r["link_id"]: r for r in mine}
        unexpected: dict[str, int] = {}
        for link_id in self.good_ids:
            row = by.get(link_id)
            if row is not None and row["outcome"] != "stored":
                key = f"{row['outcome']}:{row['stage']}:{row['reason']}"
                unexpected[key] = unexpected.get(key, 0) + 1
        bad_rows = [r for r in rows if r["link_id"] not in self.good_ids and r["outcome"] == "dead_lettered"]
        counts = {o: sum(1 for r in mine if r["outcome"] == o) for o in ("stored", "filtered", "dead_lettered")}
        articles = len(await self.db.storage.articles())
        keys = self.receiver.keys()
        links, alerts, p = len(self.link_ids), self.expected_alerts, self.progress
        start, over = self.t_submit or time.monotonic(), self.t_fault_over

        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 2)

        return Result(
            scenario=self.name,
            links_in=len(self.link_ids) + self.bad_in,
            outcomes=len(mine) + len(bad_rows),
            stored=counts["stored"],
            filtered=counts["filtered"],
            dead_lettered=counts["dead_lettered"] + len(bad_rows),
            reprocessed=self.site.refetched(),
            articles=articles,
            alerts_delivered=len(keys),
            alerts_distinct=len(set(keys)),
            drain_s=rounded(p.first(start, lambda n, a: n >= links)),
            alerts_s=rounded(p.first(start, lambda n, a: a >= alerts)),
            resume_s=rounded(p.resumed(over)) if over else None,
            recovery_s=rounded(p.first(over, lambda n, a: n >= links and a >= alerts)) if over else None,
            stall_s=round(p.longest_stall(links, alerts), 2),
            expected_articles=self.expected_articles,
            expected_alerts=self.expected_alerts,
            bad_in=self.bad_in,
            bad_dead_lettered=len(bad_rows),
            bad_without_reason=sum(1 for r in bad_rows if not r["reason"]),
            bad_reasons=dict(Counter(f"{r['stage']}:{r['reason']}" for r in bad_rows)),
            missing=sorted(self.link_ids - set(by)),
            unexpected_outcomes=unexpected,
            workers_alive=all(w.alive() for w in self.workers.values()),
            alert_account=await self._alert_account_or_why(),
        )

    async def _alert_account_or_why(self) -> list[str]:
        """The account below, or why it could not be read: a diagnostic never fails a scenario itself."""
        try:
            return await self.alert_account()
        except Exception as exc:  # any failure to read it is reported, not raised
            return [f"no alert account: {exc!r}"]

    async def alert_account(self) -> list[str]:
        """One line per report page and per story: which story holds the page's article (none: route
        never placed it), each story's alert ids, whether the delivery ledger marks them delivered
        and whether the receiver has them; then any key the receiver has that no story raised."""
        storage = self.db.storage
        stories = await storage.stories()
        delivered = await storage.delivered_alerts()
        got = set(self.receiver.keys())
        story_of = {m["canonical_url"]: s["story_id"] for s in stories for m in s["state"].get("members") or []}
        lines = []
        for a in await storage.articles():
            if "/report/" in (a.get("url") or ""):
                where = story_of.get(a["canonical_url"]) or "none (route never placed it)"
                lines.append(f"page {urlsplit(a['url']).path} links {a.get('link_ids')}: story {where}")
        raised: set[str] = set()
        for s in stories:
            members = [urlsplit(m["canonical_url"]).path for m in s["state"].get("members") or []]
            for m in s["state"].get("members") or []:
                for alert in m.get("alerts") or []:
                    aid = alert["alert_id"]
                    raised.add(aid)
                    lines.append(
                        f"story {s['story_id']} {s['title']!r} members {members}: {alert['kind']} alert {aid} "
                        f"raised by {urlsplit(m['canonical_url']).path}, ledger {'delivered' if aid in delivered else 'not delivered'}, "
                        f"receiver {'has it' if aid in got else 'has not'}"
                    )
            if not any(m.get("alerts") for m in s["state"].get("members") or []):
                lines.append(f"story {s['story_id']} {s['title']!r} members {members}: no alert raised")
        lines += [f"receiver has {k}, raised by no story" for k in sorted(got - raised)]
        return lines

    async def _until_bad_rows(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = await self.db.storage.outcomes()
            if sum(1 for r in rows if r["link_id"] not in self.good_ids and r["outcome"] == "dead_lettered") >= count:
                return
            await asyncio.sleep(0.5)
