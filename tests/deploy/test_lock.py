"""`make lock` and `make lock-upgrade`, run for real (the Makefile's own recipes, uv resolving) on a
throwaway project whose index is a local directory of two releases of one package: `make lock`
follows a change to pyproject.toml and keeps every other pin; `make lock-upgrade` moves the pins.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent  # the venv running the tests holds uv (the `test` extra)


def wheel(folder: Path, name: str, version: str) -> Path:
    """A minimal pure-Python wheel: enough for uv to read its name and version."""
    dist = f"{name.replace('-', '_')}-{version}"
    files = {
        f"{name.replace('-', '_')}/__init__.py": "",
        f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    path = folder / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for member, text in files.items():
            z.writestr(member, text)
        z.writestr(f"{dist}.dist-info/RECORD", "".join(f"{m},,\n" for m in [*files, f"{dist}.dist-info/RECORD"]))
    return path


def local_index(root: Path, releases: dict[str, list[str]]) -> str:
    """A PEP 503 index in a folder (file:// URL), so uv resolves without the network."""
    for name, versions in releases.items():
        folder = root / name
        folder.mkdir(parents=True)
        links = []
        for version in versions:
            w = wheel(folder, name, version)
            links.append(f'<a href="{w.name}#sha256={hashlib.sha256(w.read_bytes()).hexdigest()}">{w.name}</a>')
        (folder / "index.html").write_text("<html><body>" + "".join(links) + "</body></html>")
    (root / "index.html").write_text("".join(f'<a href="{n}/">{n}</a>' for n in releases))
    return root.as_uri()


def make(target: str, project: Path, index: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PIP_"))}
    env |= {"UV_DEFAULT_INDEX": index, "UV_NO_CACHE": "1", "UV_OFFLINE": "1"}  # the local index alone
    # -o install: the recipe alone (install would pip-install the throwaway project); VENV: our uv.
    out = subprocess.run(
        ["make", "-C", str(project), "-f", str(REPO / "Makefile"), "-o", "install", target, f"VENV={VENV}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def pins(project: Path) -> dict[str, str]:
    return dict(re.findall(r"^([a-z0-9-]+)==(\S+)", (project / "deploy" / "requirements.lock").read_text(), re.M))


def project_needing(project: Path, *deps: str) -> None:
    listed = ", ".join(f'"{d}"' for d in deps)
    (project / "pyproject.toml").write_text(f'[project]\nname = "demo"\nversion = "0"\ndependencies = [{listed}]\n')


def test_make_lock_keeps_the_pins_and_lock_upgrade_moves_them(tmp_path):
    index = local_index(tmp_path / "index", {"pkg-a": ["1.0", "2.0"], "pkg-b": ["1.0"]})
    project = tmp_path / "project"
    (project / "deploy").mkdir(parents=True)
    project_needing(project, "pkg-a<2")
    make("lock", project, index)
    assert pins(project) == {"pkg-a": "1.0"}

    project_needing(project, "pkg-a", "pkg-b")  # 2.0 now fits, and a dependency is added
    make("lock", project, index)
    assert pins(project) == {"pkg-a": "1.0", "pkg-b": "1.0"}  # the new one locked, the old pin kept
    assert "--hash=sha256:" in (project / "deploy" / "requirements.lock").read_text()

    make("lock-upgrade", project, index)
    assert pins(project) == {"pkg-a": "2.0", "pkg-b": "1.0"}
