"""A throwaway PostgreSQL server for integration tests: initdb, start, create a database, stop.

Real PostgreSQL, not a mock: upsert conflicts, JSONB and error classes are exactly what
production sees. Tuned for speed (no fsync, no WAL page images); never use it for real data.

    with PostgresServer(Path(tempfile.mkdtemp(prefix="wirewatch-pg-"))) as pg:
        storage = open_storage(pg.url)

PostgreSQL refuses to run as root, so when the test process is root the server binaries run
as the ``postgres`` system user (created by the Debian ``postgresql`` package) through
``runuser``; the data directory is chowned to that user, and every directory above it must be
traversable by it: pass ``tempfile.mkdtemp()`` itself as data_dir (it gets chowned); a
directory *inside* a 0700 root directory, such as pytest's ``tmp_path``, will not do.
"""

from __future__ import annotations

import glob
import os
import pwd
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from .loopback import free_port

INSTALL_HINT = "PostgreSQL not found: apt-get install postgresql"
SERVER_USER = "postgres"  # the OS user the server runs as when we are root
DB_USER = "postgres"  # the superuser initdb creates; auth is trust on 127.0.0.1 only
DB_NAME = "wirewatch"

# Durability off: a test cluster is rebuilt from scratch every run.
_FAST_FLAGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "100",
    "shared_buffers": "32MB",
    "max_wal_size": "256MB",
    "log_min_messages": "warning",
}


class PostgresNotFound(RuntimeError):
    """The PostgreSQL server binaries (initdb, pg_ctl, postgres) are not installed."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(f"{INSTALL_HINT} ({detail})" if detail else INSTALL_HINT)


class PostgresStartError(RuntimeError):
    """initdb or the server failed; the message carries the tail of the server log."""


def _is_bindir(path: Path) -> bool:
    return all((path / name).is_file() for name in ("initdb", "pg_ctl", "postgres"))


def find_pg_bindir() -> Path | None:
    """The directory holding initdb/pg_ctl/postgres, or None when the server is not installed.

    Order: ``$PG_BINDIR``, ``pg_config --bindir`` (on Debian that comes from libpq-dev and may
    name a server version that is not installed, so it is checked), the newest
    ``/usr/lib/postgresql/*/bin``, then ``initdb`` on PATH (resolving symlinks).
    """
    candidates: list[Path] = []
    if env := os.environ.get("PG_BINDIR"):
        candidates.append(Path(env))
    if pg_config := shutil.which("pg_config"):
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            if out:
                candidates.append(Path(out))
        except (OSError, subprocess.SubprocessError):
            pass

    def version_key(path: str) -> tuple[int, ...]:
        part = Path(path).parent.name
        return tuple(int(x) for x in part.split(".") if x.isdigit()) or (0,)

    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version_key, reverse=True)]
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).resolve().parent)
    for candidate in candidates:
        if _is_bindir(candidate):
            return candidate
    return None


class PostgresServer:
    """One PostgreSQL cluster in ``data_dir``, listening on 127.0.0.1:``port``: a free one if None,
    kept from the first start on, so a server stopped and started again (an outage test) is where
    its clients' URLs say."""

    def __init__(self, data_dir: Path, port: int | None = None, *, start_timeout: float = 60.0) -> None:
        self.data_dir = Path(data_dir).resolve()
        self._fixed_port = port
        self.port = port or 0
        self.start_timeout = start_timeout
        self.user = DB_USER
        self.dbname = DB_NAME
        self.bindir: Path | None = None
        self.startup_seconds: float | None = None
        self._running = False
        self._as_root = os.geteuid() == 0

    # -- public ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.url_for(self.dbname)

    def url_for(self, dbname: str) -> str:
        if not self._running:
            raise RuntimeError("PostgresServer is not running; call start() first")
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "server.log"

    def start(self) -> None:
        """initdb (unless the directory already holds a cluster), start, wait, create the database."""
        if self._running:
            return
        began = time.monotonic()
        self.bindir = find_pg_bindir()
        if self.bindir is None:
            raise PostgresNotFound(
                "no initdb/pg_ctl/postgres in PG_BINDIR, pg_config --bindir, /usr/lib/postgresql/*/bin or PATH"
            )
        self._prepare_dir()
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(
                [
                    "initdb",
                    "-D",
                    str(self.data_dir),
                    "--username",
                    self.user,
                    "--auth",
                    "trust",
                    "--encoding",
                    "UTF8",
                    "--no-locale",
                    "--no-sync",
                    "--no-instructions",
                ],
                what="initdb",
            )
        # A free port can be taken between choosing and binding it; retry with a fresh one.
        attempts = 1 if self._fixed_port else 3
        for attempt in range(attempts):
            self.port = self._fixed_port or free_port()
            try:
                self._pg_ctl_start()
                self._fixed_port = self.port
                break
            except PostgresStartError:
                if attempt == attempts - 1:
                    raise
        self._running = True
        try:
            self.create_database(self.dbname)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began

    def stop(self) -> None:
        """Fast shutdown (rolls back open transactions). Safe to call twice; keeps data_dir."""
        if not self._running:
            return
        self._running = False
        try:
            self._run(["pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "30"], what="pg_ctl stop")
        except PostgresStartError:
            # Last resort so a test run never leaves a server behind.
            self._run(
                ["pg_ctl", "stop", "-D", str(self.data_dir), "-m", "immediate", "-w"], what="pg_ctl stop", check=False
            )

    def create_database(self, name: str) -> str:
        """CREATE DATABASE ``name`` (no-op if it exists) and return its URL; a fresh one per test is cheap."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"database name must be [A-Za-z0-9_]: {name!r}")
        exists = self._psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
        if exists.strip() != "1":
            self._psql(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        self._psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"running on 127.0.0.1:{self.port}" if self._running else "stopped"
        return f"PostgresServer({str(self.data_dir)!r}, {state})"

    # -- internals ---------------------------------------------------------------------------

    def _prepare_dir(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self._as_root:
            self.data_dir.chmod(0o700)
            return
        try:
            server_user = pwd.getpwnam(SERVER_USER)
        except KeyError:
            raise PostgresNotFound(
                f"running as root needs the '{SERVER_USER}' system user, which the Debian postgresql package creates"
            ) from None
        if shutil.which("runuser") is None:
            raise PostgresNotFound("running as root needs runuser (util-linux)")
        for path in [self.data_dir, *self.data_dir.rglob("*")]:
            os.chown(path, server_user.pw_uid, server_user.pw_gid, follow_symlinks=False)
        self.data_dir.chmod(0o700)
        # Every ancestor must let the server user through, or initdb fails with a puzzling EACCES.
        for parent in self.data_dir.parents:
            st = parent.stat()
            if st.st_uid == server_user.pw_uid:
                continue
            if not st.st_mode & 0o001 and not (st.st_gid == server_user.pw_gid and st.st_mode & 0o010):
                raise PostgresStartError(
                    f"{parent} is not traversable by the '{SERVER_USER}' user (mode {oct(st.st_mode & 0o777)}); "
                    "pass tempfile.mkdtemp() itself as data_dir"
                )

    def _cmd(self, name: str, *args: str) -> list[str]:
        assert self.bindir is not None
        argv = [str(self.bindir / name), *args]
        return ["runuser", "-u", SERVER_USER, "--", *argv] if self._as_root else argv

    def _run(self, argv: list[str], *, what: str, check: bool = True, timeout: float | None = None) -> str:
        cmd = self._cmd(argv[0], *argv[1:])
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        env.pop("PGDATA", None)
        try:
            proc = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                cwd=self.data_dir,
                env=env,
                timeout=timeout or self.start_timeout,
            )
        except subprocess.TimeoutExpired as e:
            raise PostgresStartError(f"{what} timed out after {e.timeout}s{self._log_tail()}") from e
        if check and proc.returncode != 0:
            output = proc.stderr.strip() or proc.stdout.strip()
            raise PostgresStartError(f"{what} failed (exit {proc.returncode}): {output}{self._log_tail()}")
        return proc.stdout

    def _pg_ctl_start(self) -> None:
        settings = {
            **_FAST_FLAGS,
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.data_dir),
        }
        # pg_ctl hands -o to the server through /bin/sh, hence the quoting.
        options = " ".join(f"-c {shlex.quote(f'{k}={v}')}" for k, v in settings.items())
        self._run(
            [
                "pg_ctl",
                "start",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_path),
                "-w",
                "-t",
                str(int(self.start_timeout)),
                "-o",
                options,
            ],
            what="pg_ctl start",
        )

    def _psql(self, sql: str) -> str:
        assert self.bindir is not None
        argv = [
            str(self.bindir / "psql"),
            "-X",
            "-q",
            "-t",
            "-A",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            self.user,
            "-d",
            "postgres",
            "-c",
            sql,
        ]
        # psql is only a client: it can run as root, over TCP with trust auth.
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=60, env={**os.environ, "PGCONNECT_TIMEOUT": "10"}
        )
        if proc.returncode != 0:
            raise PostgresStartError(f"psql {sql!r} failed: {proc.stderr.strip()}{self._log_tail()}")
        return proc.stdout

    def _log_tail(self, lines: int = 20) -> str:
        try:
            tail = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return "\n--- server log (tail) ---\n" + "\n".join(tail) if tail else ""


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@contextmanager
def session_postgres() -> Iterator[PostgresServer]:
    """A server in a fresh temporary directory for a pytest session-scoped fixture.

    PostgreSQL missing: on CI (``CI=true``) the test fails, never skips, so a broken CI image
    cannot pass silently; elsewhere the test is skipped with the install hint. A server that is
    installed but fails to start is always a failure.
    """
    import pytest

    if find_pg_bindir() is None:
        if on_ci():
            pytest.fail(f"{INSTALL_HINT} (CI=true: integration tests must not be skipped)", pytrace=False)
        pytest.skip(f"{INSTALL_HINT} (skipped because CI is not set)")
    data_dir = Path(tempfile.mkdtemp(prefix="wirewatch-pg-"))
    server = PostgresServer(data_dir)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
