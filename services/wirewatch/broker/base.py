"""Shared plumbing for the loopback Kafka-protocol brokers (stdlib only).

A broker here is a child process started in its own session (process group) so
that ``stop()`` can take down the whole tree (java + anything it forks), plus a
readiness probe that speaks just enough of the Kafka wire protocol to know the
broker is really serving requests (ApiVersions v0, then Metadata v4 must list at
least one broker).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, ClassVar, Protocol, Self, runtime_checkable

from .. import timeutil

__all__ = [
    "Broker",
    "BrokerError",
    "ManagedBroker",
    "free_port",
    "kafka_protocol_ready",
]


class BrokerError(RuntimeError):
    """A broker could not be prepared, started or probed. The message carries the log tail."""


@runtime_checkable
class Broker(Protocol):
    bootstrap: str  # "127.0.0.1:PORT"

    def start(self, timeout: float = 90.0) -> None: ...

    def stop(self) -> None: ...

    def __enter__(self) -> Broker: ...

    def __exit__(self, *exc: object) -> None: ...


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that was free on ``host`` a moment ago (bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- #
# Minimal Kafka wire protocol probe
# --------------------------------------------------------------------------- #

_CLIENT_ID = b"wirewatch-probe"


def _request(sock: socket.socket, api_key: int, api_version: int, corr: int, body: bytes) -> bytes:
    # Request header v1: api_key int16, api_version int16, correlation_id int32, client_id string
    header = struct.pack(">hhih", api_key, api_version, corr, len(_CLIENT_ID)) + _CLIENT_ID
    payload = header + body
    sock.sendall(struct.pack(">i", len(payload)) + payload)
    size = struct.unpack(">i", _recv_exact(sock, 4))[0]
    resp = _recv_exact(sock, size)
    if struct.unpack(">i", resp[:4])[0] != corr:
        raise OSError("correlation id mismatch")
    return resp[4:]


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise OSError("connection closed by broker")
        buf += chunk
    return bytes(buf)


def kafka_protocol_ready(host: str, port: int, timeout: float = 2.0) -> bool:
    """True when the broker answers ApiVersions and its Metadata lists >= 1 broker."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            # ApiVersions (key 18) v0: empty body -> error_code int16 first.
            resp = _request(sock, 18, 0, 1, b"")
            if struct.unpack(">h", resp[:2])[0] != 0:
                return False
            # Metadata (key 3) v4: topics = [] (no topics), allow_auto_topic_creation = false.
            # Kafka 4.x removed Metadata v0-v3; v4 is the oldest non-flexible version left.
            resp = _request(sock, 3, 4, 2, struct.pack(">ib", 0, 0))
            # throttle_time_ms int32, then brokers array length int32
            n_brokers = struct.unpack(">i", resp[4:8])[0]
            return n_brokers >= 1
    except (OSError, struct.error, ValueError):
        return False


# --------------------------------------------------------------------------- #
# Process management
# --------------------------------------------------------------------------- #

# Strong refs on purpose: a broker object that got garbage-collected without stop()
# (e.g. a test that timed out) must still be reaped at interpreter exit.
_LIVE: set[ManagedBroker] = set()


@atexit.register
def _stop_all_live() -> None:  # pragma: no cover - safety net only
    for broker in list(_LIVE):
        try:
            broker.stop()
        except Exception as exc:  # noqa: BLE001 - at exit: nothing to retry, but say which broker may outlive us
            logging.getLogger(__name__).warning("embedded broker %r did not stop at exit: %s", broker, exc)


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """preexec_fn: ask Linux to SIGTERM the broker when the spawning thread dies.

    Covers the cases atexit cannot: the Python parent killed by SIGKILL/SIGTERM,
    `timeout`, a CI runner cancelling the job, os._exit() from pytest-timeout.
    Caveat: bound to the *thread* that called start(); start brokers from the main
    thread (or a thread that outlives them).
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except Exception as exc:  # noqa: BLE001 - a forked child: no logging locks, a raw write to stderr is all that is safe
        os.write(2, f"wirewatch: broker will not die with its parent ({exc})\n".encode())


class ManagedBroker:
    """Base class: subclasses implement ``_prepare()`` and ``_command()``."""

    name = "broker"
    host = "127.0.0.1"
    stop_timeout = 20.0  # seconds to wait after SIGTERM before SIGKILL
    # Upper bounds this broker needs on a client's consumer settings (KafkaSettings field names).
    client_settings: ClassVar[dict[str, float]] = {}

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port or free_port(self.host)
        self.bootstrap = f"{self.host}:{self.port}"
        self.log_file = self.data_dir / f"{self.name}.stdout.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_fh: IO[bytes] | None = None
        self._lock = threading.Lock()
        self.started_in: float | None = None  # seconds start() took, for diagnostics

    # -- to override -------------------------------------------------------
    def _prepare(self) -> None:
        """Write config / format storage. Runs before the process is spawned."""

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _env(self) -> dict[str, str]:
        return dict(os.environ)

    def _log_files(self) -> list[Path]:
        """Logs whose tail is worth showing on failure (most useful last)."""
        return [self.log_file]

    def _ready(self) -> bool:
        return kafka_protocol_ready(self.host, self.port)

    # -- public API --------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 90.0) -> None:
        with self._lock:
            if self.is_running():
                return
            t0 = time.monotonic()
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._prepare()
            cmd = self._command()
            self._log_fh = open(self.log_file, "ab")  # noqa: SIM115 - open while the broker runs; stop() closes it
            self._log_fh.write(f"\n==== {timeutil.iso()} starting: {' '.join(cmd)}\n".encode())
            self._log_fh.flush()
            try:
                self._proc = subprocess.Popen(
                    cmd,
                    cwd=self.data_dir,
                    env=self._env(),
                    stdin=subprocess.DEVNULL,
                    stdout=self._log_fh,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # own process group -> killpg in stop()
                    preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
                )
            except OSError as exc:
                self._close_log()
                raise BrokerError(f"{self.name}: cannot execute {cmd[0]!r}: {exc}") from exc
            _LIVE.add(self)
            deadline = t0 + timeout
            while True:
                rc = self._proc.poll()
                if rc is not None:
                    self._proc = None
                    self._close_log()
                    raise BrokerError(f"{self.name} exited with code {rc} during start-up\n{self.log_tail()}")
                if self._ready():
                    break
                if time.monotonic() > deadline:
                    self._stop_locked()
                    raise BrokerError(
                        f"{self.name} did not accept Kafka requests on {self.bootstrap} "
                        f"within {timeout:.0f}s\n{self.log_tail()}"
                    )
                time.sleep(0.2)
            self.started_in = time.monotonic() - t0

    def stop(self) -> None:
        with self._lock:
            self._stop_locked()

    def _stop_locked(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            _terminate_group(proc, self.stop_timeout)
        _LIVE.discard(self)
        self._close_log()

    def _close_log(self) -> None:
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None

    def log_tail(self, lines: int = 60) -> str:
        out = []
        for path in self._log_files():
            try:
                text = path.read_text(errors="replace").splitlines()
            except OSError:
                continue
            out.append(f"---- tail of {path} ----")
            out.extend(text[-lines:])
        return "\n".join(out) if out else "(no log output)"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.is_running() else "stopped"
        return f"<{type(self).__name__} {self.bootstrap} {state} dir={self.data_dir}>"


def _terminate_group(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM the process group, wait, then SIGKILL whatever is left."""
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        pgid = None
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
        if pgid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, sig)
        elif proc.poll() is None:
            proc.send_signal(sig)
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            continue
        # leader gone; make sure no stragglers remain in the group
        if pgid is not None and sig is signal.SIGTERM:
            _reap_group(pgid)
        return


def _reap_group(pgid: int) -> None:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
