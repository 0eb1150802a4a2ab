"""The docs name only settings, metrics and routes the code has, and the code has no route the
docs do not mention (README.md, docs/, deploy/). Settings and metrics tables are checked whole
elsewhere (docs/settings.md, the metrics table of docs/operations.md); this catches the prose."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from tests.harness.promql import exported, queryable
from wirewatch.settings import _NOT_SETTINGS, Settings, load_settings

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), *sorted((REPO / "deploy").rglob("*.md"))]
DEPLOY = [
    REPO / "deploy" / "Dockerfile",
    *sorted((REPO / "deploy").rglob("*.yaml")),
    *sorted((REPO / "deploy").rglob("*.yml")),
]


def texts(paths) -> dict[str, str]:
    return {str(p.relative_to(REPO)): p.read_text() for p in paths if p.is_file()}


def setting_exists(name: str) -> bool:
    """WIREWATCH_FETCH__MAX_BYTES -> fetch.max_bytes; a trailing __ names a group (WIREWATCH_SOURCES__)."""
    parts = name.removeprefix("WIREWATCH_").split("__")
    model: type[BaseModel] = Settings
    for i, part in enumerate(parts):
        if part == "" and i == len(parts) - 1:
            return True
        field = model.model_fields.get(part.lower())
        if field is None:
            return False
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        elif i != len(parts) - 1:
            return False
    return True


def test_every_setting_the_docs_and_deploy_files_name_exists():
    compose_vars = set(re.findall(r"\$\{(WIREWATCH_\w+?)(?::[-?]|\})", (REPO / "deploy" / "compose.yaml").read_text()))
    wrong = []
    for where, text in texts(DOCS + DEPLOY).items():
        for name in set(re.findall(r"\bWIREWATCH_[A-Z0-9_]*[A-Z0-9_]", text)):
            if name in _NOT_SETTINGS or name in compose_vars or setting_exists(name):
                continue
            wrong.append(f"{where}: {name}")
    assert not wrong, "no such setting: " + ", ".join(sorted(wrong))


def test_setting_exists_reads_nesting():
    assert setting_exists("WIREWATCH_FETCH__MAX_BYTES") and setting_exists("WIREWATCH_INTAKE__TOKEN")
    assert setting_exists("WIREWATCH_SOURCES__") and not setting_exists("WIREWATCH_FETCH__MAX_BYTE")
    assert not setting_exists("WIREWATCH_WEB_PORT__X")


def test_every_metric_the_docs_name_exists():
    metrics = exported()
    known = queryable(metrics) | {n.removesuffix("_total") for n in metrics}
    wrong = []
    for where, text in texts(DOCS + DEPLOY).items():
        for name in set(re.findall(r"\bwirewatch_[a-z0-9_]*[a-z0-9]", text)):
            if name not in known:
                wrong.append(f"{where}: {name}")
    assert not wrong, "no such metric in metrics.py: " + ", ".join(sorted(wrong))


@pytest.fixture(scope="module")
def routes() -> set[str]:
    from wirewatch.app import create_app

    app = create_app(load_settings(web_port=6066))
    return set(app.web.views)


def test_every_route_is_documented(routes):
    docs = "\n".join(texts(DOCS).values())
    missing = [r for r in routes if r.split("{")[0] not in docs]
    assert not missing, f"routes no doc mentions: {missing}"


def test_the_routes_table_of_operations_names_real_routes(routes):
    text = (REPO / "docs" / "operations.md").read_text()
    table = re.findall(r"^\| `(?:GET|POST) (/[^` ]*)` \|", text, re.M)
    assert table, "docs/operations.md has no route table"
    assert set(table) <= routes, f"documented routes the app does not serve: {set(table) - routes}"
    assert {"/health/live", "/health/ready", "/links", "/metrics"} <= set(table)
