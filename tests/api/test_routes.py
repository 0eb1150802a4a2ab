"""The routes over HTTP on the real web server: authorisation, 400 with the reason, 404, the board
page and its assets, and the event stream delivering a changed story."""

from __future__ import annotations

import asyncio
import threading

import httpx

from tests.api.seed import article, store
from tests.api.test_queries import CEBU, KUMASI
from tests.harness.read_api import serve_read_api
from wirewatch import runtime
from wirewatch.api.queries import ReadStore
from wirewatch.settings import load_settings
from wirewatch.stages.enrich.casualties import languages

# A guard against a hang, not a speed goal: the first request opens the read store, which with the
# casualty lexicons (loaded since at the service's start, routes.ReadApi.start) took 9 s on
# PostgreSQL at load 12, past 10 s under three copies of the tests.
TIMEOUT = 120


async def _seed(storage) -> None:
    for url, title, text, at, site in (*KUMASI[:1], CEBU):
        await store(storage, article(url, title, text, at, sitename=site))


async def test_reads_answer_with_json_and_refuse_bad_parameters(storage, storage_url):
    await _seed(storage)
    async with serve_read_api(storage_url) as base, httpx.AsyncClient(base_url=base, timeout=TIMEOUT) as http:
        page = (await http.get("api/stories", params={"country": "gh"})).json()
        assert [c["countries"] for c in page["items"]] == [["GH"]]
        story = await http.get(f"api/stories/{page['items'][0]['id']}")
        assert story.status_code == 200 and story.json()["history"]
        assert (await http.get("api/stories/s-none")).status_code == 404
        bad = await http.get("api/articles", params={"q": "tanker", "limit": "1000"})
        assert bad.status_code == 400 and bad.json() == {"error": "bad_parameter", "detail": bad.json()["detail"]}
        assert "limit" in bad.json()["detail"]
        assert (await http.get("api/alerts", params={"status": "lost"})).status_code == 400
        board = await http.get("")
        assert board.status_code == 200 and "text/html" in board.headers["content-type"]
        assert (await http.get("board/board.js")).headers["content-type"].startswith("text/javascript")
        assert (await http.get("board/secrets.txt")).status_code == 404


async def test_a_read_token_is_required_once_set(storage, storage_url):
    await _seed(storage)
    async with (
        serve_read_api(storage_url, read_token="s3cret") as base,
        httpx.AsyncClient(base_url=base, timeout=TIMEOUT) as http,
    ):
        refused = await http.get("api/stories")
        assert refused.status_code == 401 and "token" in refused.json()["detail"]
        assert (await http.get("api/stories", headers={"Authorization": "Bearer wrong"})).status_code == 401
        assert (await http.get("api/stories", headers={"Authorization": "Bearer s3cret"})).status_code == 200
        assert (await http.get("api/articles", params={"token": "s3cret", "q": "ferry"})).json()["items"]
        assert (await http.get("")).status_code == 200  # the page holds no data


async def test_the_event_stream_sends_a_changed_story(storage, storage_url, monkeypatch):
    await _seed(storage)
    # The hub's first look sets its mark (a story changed before it is never sent): the story is
    # changed once that look is done, seen through the real method, not after a fixed wait.
    looked = asyncio.Event()
    changed_since = ReadStore.changed_since

    async def look(self, mark, *args, **kwargs):
        try:
            return await changed_since(self, mark, *args, **kwargs)
        finally:
            looked.set()

    monkeypatch.setattr(ReadStore, "changed_since", look)
    async with (
        serve_read_api(storage_url) as base,
        httpx.AsyncClient(base_url=base, timeout=TIMEOUT) as http,
        http.stream("GET", "api/events") as events,
    ):
        assert events.headers["content-type"] == "text/event-stream"
        lines = events.aiter_lines()
        assert (await anext(lines)).startswith("retry:")
        await asyncio.wait_for(looked.wait(), 60)  # a guard against a hang, not a speed goal
        await store(storage, article(*KUMASI[1][:4], sitename=KUMASI[1][4]))

        async def story_event() -> str:
            async for line in lines:
                if line.startswith("data: ") and "Kumasi" in line:
                    return line
            return ""

        data = await asyncio.wait_for(story_event(), 15)
        assert '"count":19' in data


def _record_lexicon_loads(monkeypatch) -> list[str]:
    loads: list[str] = []
    load = runtime.load_lexicon
    monkeypatch.setattr(runtime, "load_lexicon", lambda language: loads.append(language) or load(language))
    return loads


async def test_the_lexicons_are_loaded_at_the_start_not_by_the_first_request(storage, storage_url, monkeypatch):
    await _seed(storage)
    loads = _record_lexicon_loads(monkeypatch)
    async with serve_read_api(storage_url) as base, httpx.AsyncClient(base_url=base, timeout=TIMEOUT) as http:
        assert sorted(loads) == sorted(languages())  # at the start (the harness starts it like the service)
        loads.clear()
        page = (await http.get("api/stories")).json()
        assert (await http.get(f"api/stories/{page['items'][0]['id']}")).status_code == 200
        assert loads == []  # the first requests (a story's evidence too) load nothing


async def test_the_runtime_begins_loading_the_lexicons_when_the_worker_starts(tmp_path, monkeypatch):
    """Route's keyword evidence and the read API read them in this process: not the first alert or
    request, compiling one for seconds on its own thread."""
    loaded = threading.Event()
    load = runtime.load_lexicon
    monkeypatch.setattr(runtime, "load_lexicon", lambda language: loaded.set() or load(language))
    rt = runtime.Runtime(
        load_settings(storage_url=f"sqlite:///{tmp_path}/wirewatch.db", data_dir=str(tmp_path), extract_processes=0)
    )
    await rt.start()
    try:
        # Nothing asked for a lexicon: only the start can have begun the load.
        assert await asyncio.to_thread(loaded.wait, 60)  # a guard against a hang, not a speed goal
        assert rt.lexicons() is rt.lexicons()  # one load, shared
        assert len(await rt.lexicons()) == len(languages())
    finally:
        await rt.close()
