"""The read API and the story board served on their own: the routes of api/routes.py registered on
a faust app's web server (as app.py does) over an existing database, with no broker and no
pipeline, for tests and benchmarks that only read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import faust

from tests.conftest import free_port
from wirewatch.api import routes
from wirewatch.runtime import Runtime
from wirewatch.settings import load_settings


@asynccontextmanager
async def serve_read_api(storage_url: str, **settings: Any) -> AsyncIterator[str]:
    """Serve the board and /api/ over `storage_url` on a free loopback port; yields the base URL
    (ending in /). `settings` are more Settings fields (read_token, ...)."""
    port = free_port()
    app = faust.App(f"read-api-{port}", broker="memory://", web_enabled=True, web_port=port, web_host="127.0.0.1")
    config = load_settings(storage_url=storage_url, web_port=port, **settings)
    rt = Runtime(config)  # not started: the database exists already, nothing to open or wait for
    rt.ready.set()
    rt.lexicons()  # what Runtime.start begins
    api = routes.register(app, config, rt)
    await app.web.start_server()
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        await api.close()
        await app.web.stop_server()
