"""A worker as an operator meets it, on a real broker (its own tansu, so it can be killed) and
SQLite: boot waits for the broker, "running" comes with readiness, intake is guarded, the broker
going away turns readiness to 503 within seconds and POST /links to a fast 503, and SIGTERM stops
the worker within 30 s with no child process left behind, whatever is down.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import pytest

from tests.harness.pipeline import free_port, worker_config
from wirewatch.boot import child_pids
from wirewatch.broker import TansuBroker
from wirewatch.worker_process import WorkerProcess, settings_env

pytestmark = pytest.mark.integration

TOKEN = "test-intake-token"


def wait_for(predicate, timeout: float, what: str, worker: WorkerProcess | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if worker is not None and not worker.alive():
            raise AssertionError(f"worker exited while waiting for {what}:\n{worker.log_tail()}")
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{worker.log_tail() if worker else ''}")


def get(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=3)
    except httpx.HTTPError:
        return None


@pytest.fixture
def broker(tmp_path):
    b = TansuBroker(tmp_path / "tansu")
    yield b
    b.stop()


def test_worker_waits_for_broker_serves_health_guards_intake_and_stops_when_it_dies(broker, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cfg = worker_config(
        broker.bootstrap,
        f"sqlite:///{tmp_path / 'ww.db'}",
        tmp_path,
        "ops",
        [],
        web_port=port,
        intake={"token": TOKEN, "rate": 1.0, "burst": 5},
        startup_timeout=120,
        log_format="json",
    )
    worker = WorkerProcess(cfg, tmp_path / "worker.log").start()
    try:
        # Boot: the broker is not there yet; the worker waits and says so instead of exiting.
        wait_for(lambda: "waiting for Kafka" in worker.log_tail(200), 30, "the boot wait to be logged", worker)
        broker.start()
        wait_for(lambda: "wirewatch is running" in worker.log_tail(200), 90, "the running banner", worker)
        ready = get(f"{base}/health/ready")
        assert ready is not None and ready.status_code == 200, ready and ready.text
        assert ready.json()["down"] == [] and set(ready.json()["checks"]) == {
            "broker",
            "consumer_group",
            "storage",
            "extract_pool",
            "rules",
            "stages",
        }
        assert get(f"{base}/health/live").status_code == 200
        metrics = get(f"{base}/metrics").text
        assert "wirewatch_ready 1.0" in metrics and "process_resident_memory_bytes" in metrics
        assert "wirewatch_build_info{" in metrics

        # Intake: token, validation, rate limit.
        links = f"{base}/links"
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.post(links, json={"urls": ["https://news.example/a"]}).status_code == 401
        bad = httpx.post(links, json={"urls": [None, "javascript:alert(1)", "https://ok.example/"]}, headers=auth)
        assert bad.status_code == 400 and [b["index"] for b in bad.json()["bad_urls"]] == ["0", "1"]
        assert httpx.post(links, content=b'["https://a.example/"]', headers=auth).status_code == 400
        ok = httpx.post(links, json={"urls": ["https://bücher.example/x"]}, headers=auth)
        assert ok.status_code == 202, ok.text
        assert ok.json()["accepted"][0]["url"] == "https://xn--bcher-kva.example/x"
        # Burst 5, 1 a second: posts until the first 429. A fixed 8 posts passed no 429 at load 17,
        # where 8 posts took over 3 s and the bucket refilled as fast as they came.
        codes: list[int] = []
        with httpx.Client(headers=auth) as client:
            while 429 not in codes and len(codes) < 40:
                codes.append(client.post(links, json={"url": "https://a.example/"}).status_code)
        assert 429 in codes, codes
        # The links were consumed: the worker reports its lag per assigned partition.
        wait_for(
            lambda: 'wirewatch_consumer_lag{partition="' in (get(f"{base}/metrics") or httpx.Response(500)).text,
            20,
            "consumer lag series",
            worker,
        )

        # kill -USR1: the worker logs what it is doing (ops/dump.py), for a stall, and goes on.
        dump = worker.dump_state(15)
        assert "stage windows:" in dump and "fetch: working" in dump and "ops.links[0]" in dump, dump[:3000]
        assert "event loop:" in dump and worker.alive()
        assert "aiokafka ops.links[0]: position " in dump, dump[:3000]  # faust_consumer.partition_state

        # The broker dies: readiness says so within seconds, intake answers fast.
        stopped_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        broker.stop()
        t0 = time.monotonic()
        body = wait_for(
            lambda: (r := get(f"{base}/health/ready")) is not None and r.status_code == 503 and r.json(),
            15,
            "readiness to turn 503",
            worker,
        )
        assert "broker" in body["down"], body
        assert time.monotonic() - t0 < 15
        time.sleep(2)  # let the rate limiter refill
        t1 = time.monotonic()
        down = httpx.post(links, json={"url": "https://a.example/"}, headers=auth, timeout=30)
        assert down.status_code == 503 and time.monotonic() - t1 < 3, (down.status_code, time.monotonic() - t1)
        assert "wirewatch_ready 0.0" in get(f"{base}/metrics").text

        # Logs: one JSON object a line; the outage is a handful of lines, not one per reconnect.
        time.sleep(5)
        records = [orjson.loads(line) for line in worker.log_path.read_text().splitlines() if line.strip()]
        outage = [
            r
            for r in records
            if r["level"] in ("WARNING", "ERROR")
            and r["time"] >= stopped_at
            and not r["message"].startswith("POST /links")
        ]
        assert len(outage) < 40, [r["message"] for r in outage]
        assert any(r["message"].startswith("broker is down") for r in outage)

        # SIGTERM with the broker down: stopped within 30 s, no child process left.
        children = child_pids(worker.proc.pid)
        assert children, "the extraction pool should run as a child process"
        t2 = time.monotonic()
        os.kill(worker.proc.pid, signal.SIGTERM)  # the worker only, as docker stop does to PID 1
        worker.proc.wait(35)
        took = time.monotonic() - t2
        assert took < 30, f"stopping took {took:.0f} s"
        # Children are told of the death by the kernel (PR_SET_PDEATHSIG) or by their pipe closing.
        left = gone(children, 5)
        assert not left, (
            f"children outlived the worker: {[Path(f'/proc/{p}/cmdline').read_bytes()[:200] for p in left]}"
        )
    finally:
        worker.stop(5)


def test_boot_gives_up_after_startup_timeout_with_one_line(tmp_path):
    port = free_port()  # nothing listens there
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
    env.update(
        settings_env(
            {"broker": f"kafka://127.0.0.1:{port}", "data_dir": str(tmp_path), "startup_timeout": 3, "web_port": 0}
        )
    )
    # No bound in seconds on the whole run: at load 17 starting Python and importing the worker
    # alone took 32 s (the test below). Its last line says it gave up after startup_timeout.
    done = subprocess.run(
        [sys.executable, "-m", "wirewatch", "run"], env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 1, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("wirewatch: gave up after 3 s (startup_timeout) waiting for Kafka at 127.0.0.1:"), (
        done.stderr
    )
    assert "Traceback" not in done.stderr
    assert "wirewatch is running" not in done.stderr


@contextmanager
def demo_mid_run(tmp_path):
    """`wirewatch demo` started and its worker processing; yields (the demo, its child processes)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
    env.update(settings_env({"data_dir": str(tmp_path)}))
    log = open(tmp_path / "demo.log", "wb")
    demo = subprocess.Popen(
        [sys.executable, "-m", "wirewatch", "demo", "--timeout", "120"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_for(
            lambda: "progress:" in (tmp_path / "demo.log").read_text() or demo.poll() is not None,
            200,
            "the demo's worker to start",
        )
        children = child_pids(demo.pid)  # the worker process and the embedded broker
        assert len(children) >= 2, (children, (tmp_path / "demo.log").read_text())
        yield demo, children
    finally:
        if demo.poll() is None:
            demo.kill()
        log.close()


def gone(pids: list[int], within: float) -> list[int]:
    """The pids still running after waiting up to `within` seconds for them to exit."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in pids):
        time.sleep(0.2)
    return [p for p in pids if Path(f"/proc/{p}").exists()]


def test_demo_stopped_with_sigterm_mid_run_leaves_nothing_running(tmp_path):
    """As an impatient operator or a service manager would, while its worker processes the site."""
    with demo_mid_run(tmp_path) as (demo, children):
        t0 = time.monotonic()
        demo.send_signal(signal.SIGTERM)
        demo.wait(60)
        assert time.monotonic() - t0 < 30
        assert not gone(children, 10), "the demo left its children running"


def test_a_killed_demo_takes_its_worker_down(tmp_path):
    """SIGKILL leaves no `finally`: the worker learns of its parent's death from the kernel."""
    with demo_mid_run(tmp_path) as (demo, children):
        demo.kill()
        demo.wait(10)
        # The worker's clean stop, bounded by its 25 s watchdog.
        assert not gone(children, 35), "the killed demo left its children running"


def test_a_storage_url_that_cannot_work_fails_at_once_with_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
    env.update(
        settings_env(
            {
                "broker": f"kafka://127.0.0.1:{free_port()}",
                "data_dir": str(tmp_path),
                "web_port": 0,
                "storage_url": "mysql://ww:hunter2@db.example/ww",
                # "At once" is "without waiting for the broker": with nothing on its port, a boot
                # that waited would outlast the run's timeout and fail there. A bound in seconds
                # failed at load 17, where starting Python and importing the worker took 32 s.
                "startup_timeout": 3600,
            }
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "wirewatch", "run"], env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("wirewatch: configuration error: storage at mysql://***@db.example/***"), done.stderr
    assert "hunter2" not in done.stderr and "Traceback" not in done.stderr
