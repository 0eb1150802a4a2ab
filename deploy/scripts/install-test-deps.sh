#!/usr/bin/env bash
# Install what the integration tests start for real: PostgreSQL (Debian package) and Apache Kafka
# (jars from Maven Central, which needs Java 17+ and Maven). Idempotent; quick when all is present.
set -euo pipefail
cd "$(dirname "$0")/../.."

as_root() {
  if [[ $(id -u) == 0 ]]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
  else echo "need root to run: $*  (install it by hand, then re-run make test)" >&2; return 1; fi
}

apt_updated=0
apt_install() {
  if [[ $apt_updated == 0 ]]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

pg_ok() { ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null; }
if ! pg_ok || ! id postgres >/dev/null 2>&1; then
  echo "installing PostgreSQL (Debian package) ..."
  apt_install postgresql
fi

if ! command -v java >/dev/null; then
  echo "installing Java 17 ..."
  apt_install openjdk-17-jre-headless
fi
if ! command -v mvn >/dev/null; then
  echo "installing Maven ..."
  apt_install maven
fi

# The jars are fetched by the same code the test harness uses (skipped when already present).
python=${PYTHON:-.venv/bin/python}
"$python" -c 'from wirewatch.broker import ensure_kafka_jars; print("Kafka jars in", ensure_kafka_jars())'
echo "test dependencies ready: PostgreSQL $(ls /usr/lib/postgresql 2>/dev/null | tail -1), $(java -version 2>&1 | head -1)"
