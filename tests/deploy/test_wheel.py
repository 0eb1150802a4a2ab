"""The production install, as the Dockerfile does it but without a container: build the wheel,
install it with the locked dependencies (hashes checked) into a clean venv outside the source
tree, and run `wirewatch fetch` and `wirewatch demo` from there. A data file missing from the
wheel (a lexicon, the gazetteer, a schema, a template) fails here instead of in production.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import orjson
import pytest

from wirewatch.demo.site import DemoSite

REPO = Path(__file__).resolve().parents[2]
LOCK = REPO / "deploy" / "requirements.lock"


def run(*cmd: str | Path, cwd: Path, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """bin/ of a venv holding only the locked dependencies and the built wheel."""
    root = tmp_path_factory.mktemp("wheel")
    assert not root.resolve().is_relative_to(REPO), "the install must live outside the checkout"
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "--wheel-dir", root / "dist", REPO, cwd=root)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (root / "dist").glob("wirewatch-*.whl")
    venv.create(root / "venv", with_pip=True)
    pip = [root / "venv" / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    # --no-deps: the lock is complete (every transitive pin, with hashes); pip must not re-resolve
    # extras such as justext's lxml[html_clean] past the pins.
    deps = run(*pip, "--no-deps", "--require-hashes", "-r", LOCK, cwd=root)
    assert deps.returncode == 0, deps.stdout + deps.stderr
    app = run(*pip, "--no-deps", wheel, cwd=root)
    assert app.returncode == 0, app.stdout + app.stderr
    return root / "venv" / "bin"


def clean_env(**settings: str) -> dict:
    """No WIREWATCH_* of the developer's (WIREWATCH_SCHEMAS_DIR included), nothing on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_") and k != "PYTHONPATH"}
    env.update(settings)
    return env


def test_the_wheel_is_what_runs(installed, tmp_path):
    probe = run(installed / "python", "-c", "import wirewatch, sys; print(wirewatch.__file__)", cwd=tmp_path, env=clean_env())
    assert probe.returncode == 0, probe.stderr
    assert not Path(probe.stdout.strip()).resolve().is_relative_to(REPO), probe.stdout


def test_installed_fetch_reads_a_casualty_page(installed, tmp_path):
    site = DemoSite()
    site.start()
    try:
        casualty = next(m for m in site.manifest() if m["kind"] == "casualty")
        out = run(installed / "wirewatch", "fetch", casualty["short_url"], cwd=tmp_path, timeout=120, env=clean_env(
            WIREWATCH_FETCH__ALLOW_PRIVATE_ADDRESSES="true", WIREWATCH_DATA_DIR=str(tmp_path / "var")))
    finally:
        site.stop()
    assert out.returncode == 0, out.stdout + out.stderr
    result = orjson.loads(out.stdout)
    assert result["outcome"] == "ok", result
    article = result["article"]
    assert article["figures"]["killed"]["count"] == casualty["expect"]["killed"]
    assert article["places"], "the gazetteer (stages/enrich/places.yaml) must ship in the wheel"
    assert len(result["alerts"]) == 1


def test_installed_demo_runs_and_reconciles(installed, tmp_path):
    out = run(installed / "wirewatch", "demo", "--exit", "--timeout", "150", cwd=tmp_path, timeout=400,
              env=clean_env(WIREWATCH_DATA_DIR=str(tmp_path / "var")))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "counts reconcile" in out.stdout
    assert re.search(r"stored: 7\b", out.stdout), out.stdout
