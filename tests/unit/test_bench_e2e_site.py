"""bench-e2e's loopback site: hundreds of hosts across 127.0.x.y, each link's three hops on three;
and its CPU ceiling's one page."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter

import httpx

from benchmarks.bench_e2e import (
    Site,
    SiteThread,
    _cpu_one,
    attribute,
    group_cpu,
    loopback,
    requests_per_link,
    split_io,
    thread_io,
    threads_by_name,
    tree_cpu_of,
)

PAGE = b"<html><head><title>Harbour ferry resumes</title></head><body><p>The ferry sailed at dawn.</p></body></html>"


def test_loopback_addresses_are_distinct_and_usable() -> None:
    addresses = [loopback(i) for i in range(2000)]
    assert addresses[0] == "127.0.0.2"
    assert len(set(addresses)) == len(addresses)
    assert "127.0.0.1" not in addresses
    assert all(a.startswith("127.0.") and a.rsplit(".", 1)[1] not in ("0", "255") for a in addresses)


def test_every_host_gets_an_even_share_of_requests() -> None:
    site = Site([PAGE] * 7, 350)
    per_host = Counter(site.host(n, hop) for n in range(3500) for hop in range(3))
    assert len(per_host) == 350 and set(per_host.values()) == {30}
    assert all(len({site.host(n, hop) for hop in range(3)}) == 3 for n in range(350))


async def test_a_short_link_resolves_over_three_hosts_beyond_127_0_0_x() -> None:
    site = Site([PAGE] * 7, 350)
    await site.start()
    try:
        n = 340  # its hops land in 127.0.0.x and 127.0.1.x
        async with httpx.AsyncClient(follow_redirects=True, trust_env=False) as client:
            r = await client.get(site.short_link(n))
        assert r.status_code == 200 and r.content == PAGE
        hosts = [h.url.host for h in r.history] + [r.url.host]
        assert hosts == [site.host(n, hop) for hop in range(3)] and any(h.startswith("127.0.1.") for h in hosts)
    finally:
        await site.stop()


def test_the_ceiling_counts_a_page_the_stage_refuses_as_its_extraction_alone() -> None:
    # The ceiling's run stopped at the first page the stage declined (Rejected is no StageError).
    assert _cpu_one(PAGE) > 0  # too short to be an article


def test_what_the_worker_wrote_a_link_names_the_thread_that_wrote_to_files() -> None:
    mib = 1024 * 1024
    before = {1: {"files": 0, "dropped": 0, "calls": 100}, 2: {"files": 4096, "dropped": 0, "calls": 10}}
    after = {
        1: {"files": 0, "dropped": 0, "calls": 400},
        2: {"files": 4096 + 20 * mib, "dropped": 5 * mib, "calls": 110},
        3: {"files": 0, "dropped": 0, "calls": 50},
    }
    written = split_io(before, after, 10)
    assert written == {
        "files_kb": 2048.0,
        "dropped_kb": 512.0,
        "write_calls": 45.0,  # (300 + 100 + 50) / 10: sockets and files alike
        "file_writer_thread": {"files_kb": 2048.0, "dropped_kb": 512.0, "write_calls": 10.0},
    }
    assert split_io({}, {}, 10) == {}


def test_thread_io_reads_this_process() -> None:
    mine = thread_io(os.getpid())
    assert mine and all(set(io) == {"files", "dropped", "calls"} for io in mine.values())


def test_every_core_of_the_drain_is_attributed_and_bounds_the_ratio_beside_the_main_process() -> None:
    # 1,000 links (980 stored) in 20 s on 2 cores, all 40 core-seconds busy, against a ceiling of
    # 100 articles/s: the main process 8 s, the pool 22, the broker 4, the bench 3 (the site 2).
    cpu = {"loop": 8.0, "pool": 22.0, "broker": 4.0, "bench": 3.0, "site": 2.0, "machine": 40.0}
    got = attribute(cpu, 1000, 980, 20.0, 2, 100.0)
    assert got["cpu_ms_per_link"] == {
        "loop": 8.0,
        "pool": 22.0,
        "broker": 4.0,
        "bench": 3.0,
        "site": 2.0,
        "bench_rest": 1.0,
        "other": 3.0,  # 40 - 8 - 22 - 4 - 3: the machine's time nobody named
        "machine": 40.0,
    }
    assert got["cores_busy"]["other"] == 0.15 and got["cores_busy"]["machine"] == 2.0
    # Without the main process: 32 ms a link -> 2 / 0.032 = 62.5 links/s, 61.25 articles/s.
    assert got["ratio_bound_if_main_free"] == 0.61
    assert got["ratio_bound_at_measured_cpu"] == 0.49  # 40 ms a link: 49 articles/s
    # PostgreSQL is named where it runs; a negative rest (tick rounding) never raises the bound.
    pg = attribute({**cpu, "storage": 5.0, "machine": 41.0}, 1000, 980, 20.0, 2, 100.0)
    assert pg["cpu_ms_per_link"]["storage"] == 5.0 and pg["cpu_ms_per_link"]["other"] == -1.0
    assert pg["ratio_bound_if_main_free"] == 0.58  # 22 + 4 + 3 + 5 (the -1 counts 0): 34 ms a link


def test_a_site_on_its_own_thread_serves_and_counts_that_threads_cpu() -> None:
    async def spin() -> None:  # 0.1 s of CPU on the site's loop
        started = time.thread_time()
        while time.thread_time() - started < 0.1:
            pass

    async def run() -> tuple[int, float, float]:
        site = SiteThread(Site([PAGE] * 7, 10))
        await site.start()
        try:
            async with httpx.AsyncClient(follow_redirects=True, trust_env=False) as client:
                r = await client.get(site.site.short_link(3))
            before = site.cpu()
            await site._on_thread(spin())
            return r.status_code, before, site.cpu()
        finally:
            await site.stop()

    status, before, after = asyncio.run(run())
    assert status == 200 and after - before >= 0.08  # the clock ticks at 10 ms


def test_a_jvms_threads_are_summed_by_name_without_their_numbers() -> None:
    mine = threads_by_name(os.getpgid(0))
    assert mine and all(v >= 0 for v in mine.values())
    assert threads_by_name(None) == {} and group_cpu(None) == 0.0


def test_the_brokers_requests_a_link_by_type() -> None:
    before = {"Produce": 10, "FetchConsumer": 20, "Heartbeat": 5, ".records_in": 100, ".partitions_fetched": 480}
    after = {
        "Produce": 160,
        "FetchConsumer": 120,
        "Heartbeat": 5,
        "Metadata": 4,
        ".records_in": 400,
        ".partitions_fetched": 2880,
        ".bytes_out": 1_000_000,
    }
    assert requests_per_link(before, after, 100) == {
        "Produce": 1.5,
        "FetchConsumer": 1.0,
        "Metadata": 0.04,  # Heartbeat did not move over the drain: left out
        "records_a_produce": 2.0,
        "partitions_a_fetch": 24.0,
        "bytes_out_a_fetch": 10000,
    }
    assert requests_per_link({}, after, 100) == {}


def test_a_process_trees_cpu_counts_children_in_sessions_of_their_own() -> None:
    # A PostgreSQL backend calls setsid(): its server's CPU is its postmaster's tree, not a group.
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\ntime.sleep(30)",
        ],
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while tree_cpu_of(child.pid) < 0.25:  # its busy 0.3 s, then asleep
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert tree_cpu_of(os.getpid()) >= tree_cpu_of(child.pid) + time.process_time() * 0.9  # this one's too
    finally:
        child.kill()
        child.wait()
    assert tree_cpu_of(None) == 0.0
