"""One URL through resolve -> fetch -> extract + enrich -> route, in-process, with no Kafka.

Used by `wirewatch fetch URL`, the debugging tool: the same cores the agents call, so what it
prints is what the pipeline would do with the link.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from .agents import fetch as fetch_agent, route as route_agent
from .errors import Rejected, StageError
from .runtime import Runtime
from .settings import Settings
from .sources.links import make_link
from .stages import fetch as fetch_core


async def run_one(settings: Settings, url: str) -> dict:
    rt = Runtime(settings.model_copy(update={"extract_processes": 0})).load()
    rt.http = fetch_core.build_client(settings.fetch)
    rt.pool = ThreadPoolExecutor(1)
    link = make_link(url, "cli")
    result: dict = {"link": link}
    stage = "fetch"
    try:
        (enriched,) = await fetch_agent.make_core(rt)(link.copy())  # fetched, extracted and enriched
        stage = "route"
        article = enriched.payload()  # the enriched topic's bytes, as the pool made them
        alerts = await route_agent.make_core(rt)(article)
        result.update(outcome="ok", article=article, alerts=[a.payload() for a in alerts])
    except Rejected as e:
        result.update(outcome="filtered", stage=stage, reason=e.reason, detail=e.detail)
    except StageError as e:
        result.update(outcome="dead_lettered", stage=stage, reason=e.reason, detail=e.detail)
    finally:
        await rt.http.aclose()
        rt.pool.shutdown()
    return result
