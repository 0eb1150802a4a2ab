"""Route's CPU per article in the worker's main process, with the story features carried from the
pool against reading them from the text on the spot, in the same run.

Every dated article of ``--route-file`` (JSONL or .jsonl.gz of ``text`` = title, blank line, body;
``published``; ``url``; default ../shared/data/casualty-gva-dev/articles.jsonl.gz; skipped where it
is absent) is enriched as the pool does it (stages/article.py ``enrich_article``: enrichment, then
the story features the enriched message carries as ``story``), then goes in publication order
through the route agent's core (agents/route.py ``make_core``: the default rules, then
``Storage.assign_story`` on SQLite with the candidate index), as bench_stories does it:
     ``carried_ms``: CPU of the process (event loop and SQLite's thread) per article routed, the
     messages carrying their features;
     ``read_ms``: the same messages without them (as from a worker before them: route reads the
     text, as it always did before), the baseline;
     ``carried_vs_read`` = carried_ms / read_ms (below 1: route costs the loop less);
     rounds alternate the two, ``--route-rounds`` of each; the medians are reported;
     ``decisions_identical``: both gave every article the same story and the same alerts;
     ``enrich_ms`` / ``features_ms``: the pool's CPU per article for enrichment and for the
     features it now adds, and ``features_vs_enrich``.

Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_FILE = REPO / ".." / "shared" / "data" / "casualty-gva-dev" / "articles.jsonl.gz"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("route")
    g.add_argument("--route-file", type=Path, default=DEFAULT_FILE, help="JSONL(.gz) of articles (text, published)")
    g.add_argument("--route-limit", type=int, default=None, help="keep the first N dated articles")
    g.add_argument("--route-rounds", type=int, default=3, help="rounds of each (alternating); medians reported")


def run(args: argparse.Namespace) -> dict:
    path = Path(getattr(args, "route_file", DEFAULT_FILE))
    if not path.is_file():
        print(f"  skipped: no articles at {path}")
        return {"skipped": f"no articles at {path}"}
    return measure(path, getattr(args, "route_limit", None), getattr(args, "route_rounds", 3))


def measure(path: Path, limit: int | None = None, rounds: int = 3) -> dict:
    from benchmarks.bench_stories import _route_all, load_events
    from wirewatch.stages.enrich import enrich
    from wirewatch.stages.story_view import features

    articles, _ = load_events(path, None, limit)
    enriched, enrich_s, features_s = [], 0.0, 0.0
    for a in articles:
        t = time.process_time()
        e = enrich({k: v for k, v in a.items() if not k.startswith("_")})
        t1 = time.process_time()
        e["story"] = features(e)  # what stages/article.enrich_article adds, timed apart
        features_s += time.process_time() - t1
        enrich_s += t1 - t
        enriched.append(e)
    bare = [{k: v for k, v in e.items() if k != "story"} for e in enriched]

    def route(payloads: list[dict]) -> tuple[float, list]:
        t = time.process_time()
        routed, _ = asyncio.run(_route_all(payloads))
        return (time.process_time() - t) / len(payloads) * 1000, routed

    carried_ms, read_ms, decisions = [], [], []
    for _ in range(rounds):
        for payloads, into in ((bare, read_ms), (enriched, carried_ms)):
            ms, routed = route(payloads)
            into.append(ms)
            decisions.append(routed)
    n = len(articles)
    out = {
        "articles": n,
        "routed": len(decisions[0]),
        "carried_ms": round(statistics.median(carried_ms), 3),
        "read_ms": round(statistics.median(read_ms), 3),
        "carried_vs_read": round(statistics.median(carried_ms) / statistics.median(read_ms), 3),
        "decisions_identical": all(d == decisions[0] for d in decisions),
        "enrich_ms": round(enrich_s / n * 1000, 3),
        "features_ms": round(features_s / n * 1000, 3),
        "features_vs_enrich": round(features_s / enrich_s, 3),
        "rounds_carried_ms": [round(x, 3) for x in carried_ms],
        "rounds_read_ms": [round(x, 3) for x in read_ms],
    }
    print(
        f"  route, CPU per article in the main process: {out['carried_ms']} ms with the features carried, "
        f"{out['read_ms']} ms reading them from the text ({out['carried_vs_read']}x); decisions identical: "
        f"{out['decisions_identical']}; the pool pays {out['features_ms']} ms for them beside "
        f"{out['enrich_ms']} ms of enrichment"
    )
    return out


def main() -> None:
    import orjson

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    print(orjson.dumps(run(parser.parse_args())).decode())


if __name__ == "__main__":
    main()
