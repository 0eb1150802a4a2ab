"""The commands a user types, run as the user runs them: real processes, real servers on loopback."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest

from tests.harness.pipeline import free_port
from wirewatch.demo.site import DemoSite
from wirewatch.worker_process import settings_env

# The sample site serves on loopback, which fetches refuse unless told otherwise (the test switch),
# and it is ours, so no need to wait politely between its pages.
LOOPBACK_FETCH = {"fetch": {"allow_private_addresses": True, "per_host_rate": 100.0, "per_host_burst": 100}}


def wirewatch(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "wirewatch", *args], capture_output=True, text=True, env=full_env, timeout=timeout
    )


@pytest.fixture
def site():
    s = DemoSite()
    s.start()
    yield s
    s.stop()


def item(site: DemoSite, kind: str) -> dict:
    return next(m for m in site.manifest() if m["kind"] == kind)


def test_fetch_prints_the_enriched_article_and_its_alert(site):
    casualty = item(site, "casualty")
    out = wirewatch("fetch", casualty["short_url"], env=settings_env(LOOPBACK_FETCH))
    assert out.returncode == 0, out.stderr
    result = orjson.loads(out.stdout)
    article = result["article"]
    assert result["outcome"] == "ok"
    assert article["canonical_url"] == casualty["canonical_url"]
    assert [h["status"] for h in article["redirects"]] == casualty["redirects"]
    assert article["figures"]["killed"]["count"] == casualty["expect"]["killed"]
    assert len(result["alerts"]) == 1


@pytest.mark.parametrize(
    "kind, outcome, reason",
    [
        ("dead", "dead_lettered", "http_status"),
        ("non_html", "dead_lettered", "unsupported_content_type"),
    ],
)
def test_fetch_explains_failures(site, kind, outcome, reason):
    out = wirewatch("fetch", item(site, kind)["short_url"], env=settings_env(LOOPBACK_FETCH))
    assert out.returncode == 1
    result = orjson.loads(out.stdout)
    assert (result["outcome"], result["reason"]) == (outcome, reason)
    assert result["detail"]


def test_a_typo_in_a_setting_fails_at_boot_naming_it():
    out = wirewatch("settings", env={"WIREWATCH_WEBHOOK_URL": "http://x"})
    assert out.returncode == 2
    assert "WIREWATCH_WEBHOOK_URL" in out.stderr


def test_bad_rules_fail_at_boot_naming_the_file(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - name: x\n    severity: loud\n    when_any: {killed: 1}\n")
    out = wirewatch("run", env=settings_env({"rules_file": str(rules), "broker": "kafka://127.0.0.1:1"}))
    assert out.returncode == 2
    assert "rules.yaml" in out.stderr and "severity" in out.stderr


def test_demo_runs_offline_and_reconciles(tmp_path):
    out = wirewatch("demo", "--exit", "--timeout", "120", env=settings_env({"data_dir": str(tmp_path)}), timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "counts reconcile" in out.stdout
    # One alert per story: the Kumasi toll update is an update of its story, or silent when the
    # higher toll was routed first.
    assert re.search(r"alerts: [23]\b", out.stdout) and "stored: 7" in out.stdout


def test_run_on_embedded_defaults_takes_links_and_stops_cleanly_on_ctrl_c(site, tmp_path):
    """`make run` in miniature: embedded broker, SQLite, POST /links, then Ctrl-C stops it all."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
    env.update(
        settings_env(
            {
                "data_dir": str(tmp_path),
                "web_port": port,
                "feeds": [{"name": "sample", "url": site.feed_url, "interval": 3600}],
                **LOOPBACK_FETCH,
            }
        )
    )
    log = open(tmp_path / "run.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "wirewatch", "run"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, (tmp_path / "run.log").read_text()
            time.sleep(0.3)
        resp = httpx.post(f"http://127.0.0.1:{port}/links", json={"urls": [item(site, "casualty")["short_url"]]})
        assert resp.status_code == 202, resp.text
        bad = httpx.post(f"http://127.0.0.1:{port}/links", content=b"{not json")
        assert bad.status_code == 400
        submit = wirewatch("submit", item(site, "news")["short_url"], env=settings_env({"data_dir": str(tmp_path)}))
        assert submit.returncode == 0, submit.stderr
        db = tmp_path / "wirewatch.db"
        expected = len(site.manifest()) + 2  # the feed's links, the posted one, the submitted one
        deadline = time.monotonic() + 120
        import sqlite3

        while time.monotonic() < deadline:
            if db.exists():
                with sqlite3.connect(db) as conn:
                    try:
                        (n,) = conn.execute("select count(*) from link_outcomes").fetchone()
                    except sqlite3.OperationalError:
                        n = 0
                if n >= expected:
                    break
            time.sleep(0.5)
        else:
            pytest.fail(f"not every link reached an outcome:\n{(tmp_path / 'run.log').read_text()[-3000:]}")
        broker_pid = _child_pids(proc.pid)
        assert broker_pid, "the embedded broker should run as a child of wirewatch"
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(60)
        log.close()
    output = (tmp_path / "run.log").read_text()
    assert code == 0, output[-3000:]
    assert "metrics: http://127.0.0.1" in output and "stored:" in output
    assert not [p for p in broker_pid if Path(f"/proc/{p}").exists()], "the embedded broker outlived wirewatch"
    assert not (tmp_path / "broker" / "bootstrap").exists()


def _child_pids(pid: int) -> list[int]:
    """The embedded broker among the children (others are the extraction pool's processes)."""
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split() if b"tansu" in Path(f"/proc/{p}/cmdline").read_bytes()]


def test_submit_without_a_running_worker_keeps_the_links_for_its_start(tmp_path):
    """On the embedded default the outbox is the promise: ids printed means the links will be
    processed, even when no worker (and so no broker) is running now."""
    import sqlite3

    env = {"WIREWATCH_DATA_DIR": str(tmp_path / "var")}
    done = wirewatch("submit", "https://example.org/a", "https://example.org/b", env=env)
    assert done.returncode == 0, done.stderr
    ids = {orjson.loads(line)["link_id"] for line in done.stdout.splitlines()}
    assert len(ids) == 2 and "sent when wirewatch starts" in done.stderr
    with sqlite3.connect(tmp_path / "var" / "wirewatch.db") as db:
        rows = db.execute("SELECT id, sent_at, settled_at FROM outbox WHERE schema = 'link'").fetchall()
    assert {r[0] for r in rows} == ids and all(r[1] is None and r[2] is None for r in rows)
