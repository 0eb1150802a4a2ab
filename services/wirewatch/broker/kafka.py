"""Single-node Apache Kafka 4.x (KRaft, broker+controller) on loopback, run from Maven jars.

Jars come from ``deploy/kafka/pom.xml`` via ``mvn dependency:copy-dependencies``
(see :func:`ensure_kafka_jars`); the broker is ``java -cp '<jars>/*' kafka.Kafka
server.properties`` after ``kafka.tools.StorageTool format``. Stdlib only.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from .base import BrokerError, ManagedBroker, free_port

__all__ = [
    "KafkaBroker",
    "default_jars_dir",
    "default_pom",
    "ensure_kafka_jars",
    "find_java",
]

REPO_ROOT = Path(__file__).resolve().parents[3]
MIN_JAVA = 17
_STAMP = ".pom.sha256"


def default_pom() -> Path:
    return REPO_ROOT / "deploy" / "kafka" / "pom.xml"


def default_jars_dir() -> Path:
    env = os.environ.get("WIREWATCH_KAFKA_JARS")
    return Path(env) if env else REPO_ROOT / ".cache" / "kafka-jars"


def find_java() -> str:
    """``$JAVA_HOME/bin/java`` if set, else ``java`` on PATH. Checks the major version."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home and (Path(home) / "bin" / "java").exists() else shutil.which("java")
    if not java:
        raise BrokerError(
            f"java not found (need Java >= {MIN_JAVA} for Kafka 4.x); install a JDK/JRE "
            "(e.g. `apt-get install openjdk-17-jre-headless`) or set JAVA_HOME"
        )
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.SubprocessError) as exc:
        raise BrokerError(f"cannot run {java} -version: {exc}") from exc
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if m:
        major = int(m.group(1)) if m.group(1) != "1" else int(m.group(2) or 0)
        if major < MIN_JAVA:
            raise BrokerError(f"{java} is Java {major}; Kafka 4.x needs Java >= {MIN_JAVA} (set JAVA_HOME)")
    return java


def _pom_digest(pom: Path) -> str:
    return hashlib.sha256(pom.read_bytes()).hexdigest()


def _jars_present(jars_dir: Path) -> bool:
    return any(jars_dir.glob("kafka_2.13-*.jar")) and any(jars_dir.glob("kafka-clients-*.jar"))


def ensure_kafka_jars(jars_dir: Path | None = None, pom: Path | None = None) -> Path:
    """Make sure ``jars_dir`` holds the Kafka broker classpath described by ``pom``.

    Skips work when the jars are present and were fetched from an identical pom
    (a stamp file keeps the pom's sha256; bumping the Kafka version refetches).
    Fetches into a temp dir and renames, so an interrupted fetch never leaves a
    half-populated classpath behind. Returns ``jars_dir``.
    """
    jars_dir = Path(jars_dir or default_jars_dir()).resolve()
    pom = Path(pom or default_pom()).resolve()
    if not pom.is_file():
        raise BrokerError(f"Kafka pom not found: {pom}")
    digest = _pom_digest(pom)
    stamp = jars_dir / _STAMP
    if _jars_present(jars_dir) and (not stamp.exists() or stamp.read_text().strip() == digest):
        return jars_dir
    mvn = shutil.which("mvn")
    if not mvn:
        raise BrokerError(
            "mvn (Apache Maven) not found: it is needed once to fetch the Kafka broker jars "
            f"into {jars_dir} (e.g. `apt-get install maven`); alternatively set "
            "WIREWATCH_KAFKA_JARS to a directory that already holds them"
        )
    find_java()  # Maven needs it too; fail with the clearer message
    print("fetching Apache Kafka jars from Maven Central...", file=sys.stderr, flush=True)
    jars_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = jars_dir.with_name(jars_dir.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    cmd = [mvn, "-B", "-q", "-f", str(pom), "dependency:copy-dependencies", f"-DoutputDirectory={tmp}"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not _jars_present(tmp):
        shutil.rmtree(tmp, ignore_errors=True)
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
        raise BrokerError(f"`{' '.join(cmd)}` failed (rc={proc.returncode}):\n{tail}")
    (tmp / _STAMP).write_text(digest + "\n")
    shutil.rmtree(jars_dir, ignore_errors=True)
    os.replace(tmp, jars_dir)
    n = len(list(jars_dir.glob("*.jar")))
    print(f"fetched {n} jars into {jars_dir}", file=sys.stderr, flush=True)
    return jars_dir


def _random_cluster_id() -> str:
    # Same format as `kafka-storage random-uuid`: url-safe base64 of 16 random bytes, no padding.
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cid.startswith("-"):
            return cid


_LOG4J2 = """\
status = warn
name = wirewatch-kafka
shutdownHook = disable
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {log}
appender.file.append = true
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.clients.name = org.apache.kafka.clients
logger.clients.level = WARN
"""


class KafkaBroker(ManagedBroker):
    """Apache Kafka 4.x, single node, KRaft combined mode, PLAINTEXT on 127.0.0.1.

    ``data_dir`` holds server.properties, log4j2.properties, the metadata/log dirs
    (``data_dir/kraft``) and the logs ``kafka.log`` (log4j), ``kafka.stdout.log``
    (JVM stdout/stderr) and ``kafka-format.log``. Reusing a formatted
    ``data_dir`` keeps topics and committed offsets across restarts.
    """

    name = "kafka"
    node_id = 1
    heap = "-Xmx512m"

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        jars_dir: Path | None = None,
        extra_config: dict[str, str] | None = None,
        *,
        pom: Path | None = None,
    ) -> None:
        super().__init__(data_dir, port)
        self.controller_port = free_port(self.host)
        while self.controller_port == self.port:
            self.controller_port = free_port(self.host)
        self.jars_dir = Path(jars_dir) if jars_dir else default_jars_dir()
        self.pom = Path(pom) if pom else default_pom()
        self.extra_config = dict(extra_config or {})
        self.config_file = self.data_dir / "server.properties"
        self.log4j_file = self.data_dir / "log4j2.properties"
        self.server_log = self.data_dir / "kafka.log"
        self.format_log = self.data_dir / "kafka-format.log"
        self.kraft_dir = self.data_dir / "kraft"
        self._java: str | None = None

    def config(self) -> dict[str, str]:
        h = self.host
        cfg = {
            "process.roles": "broker,controller",
            "node.id": str(self.node_id),
            "controller.quorum.voters": f"{self.node_id}@{h}:{self.controller_port}",
            "listeners": f"PLAINTEXT://{h}:{self.port},CONTROLLER://{h}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{h}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.kraft_dir),
            "num.partitions": "1",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "auto.create.topics.enable": "true",
            "delete.topic.enable": "true",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "4",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # broker default is 6000; a client asking for less gets a *fatal*
            # InvalidSessionTimeoutError on JoinGroup (faust then hangs, it does not raise).
            # Allow the short session timeouts tests like to use.
            "group.min.session.timeout.ms": "1000",
            "num.network.threads": "2",
            "num.io.threads": "4",
            "num.recovery.threads.per.data.dir": "1",
            "log.retention.hours": "168",
        }
        cfg.update(self.extra_config)
        return cfg

    def _java_cmd(self, main: str, *args: str, heap: str = "-Xmx512m") -> list[str]:
        assert self._java is not None
        return [
            self._java,
            "-Xms64m",
            heap,
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.log4j_file}",
            "-cp",
            str(self.jars_dir / "*"),
            main,
            *args,
        ]

    def _prepare(self) -> None:
        self.jars_dir = ensure_kafka_jars(self.jars_dir, self.pom)
        self._java = find_java()
        self.log4j_file.write_text(_LOG4J2.format(log=self.server_log))
        self.config_file.write_text(
            "# generated by wirewatch.broker.kafka.KafkaBroker -- edits are overwritten\n"
            + "".join(f"{k}={v}\n" for k, v in self.config().items())
        )
        if (self.kraft_dir / "meta.properties").exists():
            return  # already formatted: keep cluster id, topics and offsets
        cmd = self._java_cmd(
            "kafka.tools.StorageTool",
            "format",
            "--config",
            str(self.config_file),
            "--cluster-id",
            _random_cluster_id(),
            "--ignore-formatted",
            heap="-Xmx256m",
        )
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=self.data_dir)
        self.format_log.write_text(f"$ {' '.join(cmd)}\n{proc.stdout}{proc.stderr}")
        if proc.returncode != 0:
            raise BrokerError(
                f"kafka storage format failed (rc={proc.returncode}):\n"
                + "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
            )

    def _command(self) -> list[str]:
        return self._java_cmd("kafka.Kafka", str(self.config_file), heap=self.heap)

    def _log_files(self) -> list[Path]:
        return [self.format_log, self.log_file, self.server_log]
