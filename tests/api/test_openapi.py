"""docs/openapi.yaml says what the routes do: the same paths, the same query parameters, and
answers (from real stored stories) that validate against its schemas."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import faust
import jsonschema
import pytest
import yaml

from tests.api.seed import article, store
from tests.api.test_queries import CEBU, KUMASI
from wirewatch.api import params, routes
from wirewatch.api.queries import ReadStore
from wirewatch.settings import Settings

SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml").read_text())
ENDPOINT_PARAMS = {
    "/api/stories": params.STORY_PARAMS,
    "/api/articles": params.ARTICLE_PARAMS,
    "/api/alerts": params.ALERT_PARAMS,
    "/api/stories/{story_id}": (),
    "/api/events": (),
}
PAGING = {"limit", "cursor"}


def _query_params(operation: dict) -> set[str]:
    out = set()
    for p in operation["parameters"]:
        if "$ref" in p:
            p = SPEC["components"]["parameters"][p["$ref"].rsplit("/", 1)[-1]]
        if p["in"] == "query":
            out.add(p["name"])
    return out


def test_the_spec_lists_exactly_the_api_routes():
    app = faust.App("openapi-check", broker="memory://", web_enabled=True)
    routes.register(app, Settings(), SimpleNamespace())
    served = {path for path in app.web.views if path.startswith("/api/")}
    assert served == set(SPEC["paths"]) == set(ENDPOINT_PARAMS)
    assert all(set(ops) == {"get"} for ops in SPEC["paths"].values())


@pytest.mark.parametrize("path", sorted(ENDPOINT_PARAMS))
def test_the_spec_lists_exactly_the_parameters_each_route_takes(path):
    documented = _query_params(SPEC["paths"][path]["get"]) - {"token"}
    taken = set(ENDPOINT_PARAMS[path])
    if path in ("/api/stories", "/api/articles", "/api/alerts"):
        taken |= PAGING
    assert documented == taken


def _validate(value, schema_name: str) -> None:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": SPEC["components"]}
    jsonschema.Draft202012Validator(schema).validate(value)


async def test_answers_match_the_schemas(storage, storage_url):
    for url, title, text, at, site in (*KUMASI, CEBU):
        await store(storage, article(url, title, text, at, sitename=site))
    await storage.claim_alert("a1", "webhook:x", {"rule": "r", "story_id": "s", "kind": "new"})
    async with ReadStore(storage_url) as rs:
        stories = await rs.stories(params.parse({}, params.STORY_PARAMS, 2))
        for card in stories["items"]:
            _validate(card, "Card")
            _validate(await rs.story(card["id"]), "Story")
        for hit in (await rs.articles(params.parse({"q": "Kumasi"}, params.ARTICLE_PARAMS, 2)))["items"]:
            _validate(hit, "ArticleHit")
        for delivery in (await rs.alerts(params.parse({}, params.ALERT_PARAMS, 2)))["items"]:
            _validate(delivery, "Delivery")
