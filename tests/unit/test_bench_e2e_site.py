"""bench-e2e's loopback site: hundreds of hosts across 127.0.x.y, each link's three hops on three;
and its CPU ceiling's one page."""

from __future__ import annotations

import os
from collections import Counter

import httpx

from benchmarks.bench_e2e import Site, _cpu_one, loopback, split_io, thread_io

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
