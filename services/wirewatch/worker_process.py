"""Run a wirewatch worker as a child process (`python -m wirewatch run`) with settings passed as
environment variables. Used by `wirewatch demo` and by the integration tests, so both exercise
exactly what an operator runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from .broker.base import _die_with_parent


def settings_env(values: dict[str, Any]) -> dict[str, str]:
    """Settings as WIREWATCH_* variables: nested models and lists as JSON."""
    env = {}
    for key, value in values.items():
        name = "WIREWATCH_" + key.upper()
        if isinstance(value, (dict, list)):
            env[name] = orjson.dumps(value).decode()
        else:
            env[name] = str(value)
    return env


class WorkerProcess:
    def __init__(self, settings: dict[str, Any], log_path: Path) -> None:
        self.settings = settings
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
        env.update(settings_env(self.settings))
        env["PYTHONUNBUFFERED"] = "1"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:  # the worker writes through its own copy of the descriptor
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "wirewatch", "run"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # SIGTERM the worker when its parent dies, even by SIGKILL (a killed `wirewatch demo`, a
                # test runner's timeout): it stops cleanly instead of running on as an orphan.
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group: a crash, with no chance to commit or flush."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (a clean shutdown), then SIGKILL if it hangs."""
        if self.proc is None:
            return None
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def dump_state(self, timeout: float = 5.0) -> str:
        """Ask the running worker what it is doing (SIGUSR1: ops/dump.py) and return the dump it
        logs; "" when it is not running or does not answer within `timeout` seconds. For the
        failure message of a test that waited in vain."""
        if not self.alive():
            return ""
        assert self.proc is not None
        start = self.log_path.stat().st_size if self.log_path.exists() else 0
        os.kill(self.proc.pid, signal.SIGUSR1)  # the worker alone: its pool processes would die of it
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(0.2)
            with open(self.log_path, "rb") as f:
                f.seek(start)
                text = f.read().decode(errors="replace")
            at = text.find("state dump (kill -USR1)")
            end = text.find("state dump ends", at)
            if at >= 0 and end >= 0:
                return text[at:end]
        return ""

    def wait_for_log(self, needle: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in (self.log_path.read_text(errors="replace") if self.log_path.exists() else ""):
                return
            if self.proc is None or self.proc.poll() is not None:
                code = self.proc.returncode if self.proc else None
                raise RuntimeError(f"worker exited ({code}):\n{self.log_tail()}")
            time.sleep(0.2)
        raise TimeoutError(f"worker did not log {needle!r} in {timeout}s:\n{self.log_tail()}")
