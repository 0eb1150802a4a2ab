"""A real Prometheus Alertmanager (Debian package prometheus-alertmanager) for the tests.

Started on a free loopback port with a throwaway config and storage path, clustering off (its
gossip port would otherwise be 9094 on every interface). Its only receiver drops notifications:
the tests read what it holds through its v2 API.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from .loopback import free_port

BINARIES = ("prometheus-alertmanager", "alertmanager")
CONFIG = """\
route:
  receiver: nowhere
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: nowhere
"""


class Alertmanager:
    def __init__(self, url: str, proc: subprocess.Popen, log: Path) -> None:
        self.url = url
        self.proc = proc
        self.log = log

    def alerts(self, **labels: str) -> list[dict]:
        """The alerts it holds whose labels match `labels` (its v2 API, with a filter)."""
        params = [("filter", f'{k}="{v}"') for k, v in labels.items()]
        resp = httpx.get(f"{self.url}/api/v2/alerts", params=params, timeout=10)
        resp.raise_for_status()
        return resp.json()


def find_binary() -> str:
    for name in BINARIES:
        path = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
        if path:
            return path
    raise FileNotFoundError("prometheus-alertmanager not installed (deploy/scripts/install-test-deps.sh installs it)")


def _start(binary: str, workdir: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """Alertmanager on a free port, ready; a port taken before it bound it is retried with another."""
    for attempt in range(3):
        port = free_port()
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [
                    binary,
                    f"--config.file={workdir / 'alertmanager.yml'}",
                    f"--storage.path={workdir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--cluster.listen-address=",
                    "--log.level=warn",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(proc, url, log)
            return proc, url
        except RuntimeError:
            _stop(proc)
            if attempt == 2 or "address already in use" not in log.read_text(errors="replace"):
                raise
    raise AssertionError("unreachable")


def _wait_ready(proc: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"alertmanager exited ({proc.returncode}): {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/-/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"alertmanager not ready after 30s: {log.read_text()[-2000:]}")
        time.sleep(0.2)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def session_alertmanager(workdir: Path) -> Iterator[Alertmanager]:
    binary = find_binary()
    (workdir / "alertmanager.yml").write_text(CONFIG)
    (workdir / "data").mkdir(exist_ok=True)
    log = workdir / "alertmanager.log"
    proc, url = _start(binary, workdir, log)
    try:
        yield Alertmanager(url, proc, log)
    finally:
        _stop(proc)
