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

# The alert tests deliver to a real Alertmanager through its v2 API (started by tests/conftest.py).
if ! command -v prometheus-alertmanager >/dev/null && [[ ! -x /usr/bin/prometheus-alertmanager ]]; then
  echo "installing Prometheus Alertmanager (Debian package) ..."
  apt_install prometheus-alertmanager
  # The package enables a system service on :9093; the tests start their own on a free port.
  { command -v systemctl >/dev/null && as_root systemctl disable --now prometheus-alertmanager; } >/dev/null 2>&1 || true
fi

# tests/deploy checks the Prometheus config and unit-tests the alerting rules with promtool.
if ! command -v promtool >/dev/null; then
  echo "installing Prometheus (Debian package, for promtool) ..."
  apt_install prometheus
  # Like Alertmanager's, the package's own service is not wanted: only the promtool binary is.
  { command -v systemctl >/dev/null && as_root systemctl disable --now prometheus; } >/dev/null 2>&1 || true
fi

# tests/web drives the story board in a real browser: Debian's Chromium and its WebDriver.
if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
  echo "installing Chromium and chromium-driver (Debian packages) ..."
  apt_install chromium chromium-driver
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
