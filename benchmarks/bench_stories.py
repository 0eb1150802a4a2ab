"""Story matching: how fast the route stage decides which story an alerting article joins.

In:  nothing (synthetic stories and the ten-outlet corpus of tests/harness/ten_outlets.py).
Out, with n candidate stories open in the window (n in 10, 100, 1000; each an unrelated event with
its own wording), one core, best of --stories-repeat passes:
     ``decide_per_s_<n>``: route.decide over every open story (the scan, as before the index);
     ``indexed_per_s_<n>``: the article's candidate keys (stages/story.py ``keys``), an in-memory
     index lookup standing for the story_keys table, and route.decide over the candidates only;
     ``indexed_vs_scan_<n>`` = indexed / scan;
     ``enrich_per_s``: the enrich stage on the same articles, same run, as the baseline;
     ``decide_vs_enrich_<n>`` / ``indexed_vs_enrich_<n>``: the same over enrich_per_s (above 1:
     story matching costs less than enrichment, which every article already pays);
     ``assign_per_s_1000_scan`` / ``assign_per_s_1000_indexed``: the whole ``Storage.assign_story``
     round trip (SQLite in a temporary directory, 1000 open stories; loading the candidates'
     state is most of the scan's cost), and their ratio ``assign_indexed_vs_scan_1000``.
Both paths must make the same decisions: the run fails if the ten outlets do not form one story.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = (10, 100, 1000)
_WORDS = ("river market port bridge school mine tower road valley border hospital depot train ferry quarry "
          "storm blast fire flood landslide crash collapse clash strike raid convoy village district").split()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument_group("stories").add_argument("--stories-repeat", type=int, default=3, help="timing passes")


def _articles() -> list[dict]:
    from tests.harness.ten_outlets import RISING, TEN, article_text
    from wirewatch.stages.enrich import enrich

    base = json.loads((ROOT / "schemas" / "examples" / "article.json").read_text())
    out = []
    for r in TEN + [RISING]:
        url = f"https://{r.slug}.example/{r.slug}"
        out.append(dict(base, title=r.title, text=article_text(r), sitename=r.sitename, published=r.published,
                        canonical_url=url, url=url, final_url=url, fetched_at=r.published.replace("+00:00", "Z")))
    return out, enrich


def _candidates(n: int, at: str) -> list:
    from wirewatch.stages import story

    rng = random.Random(n)
    out = []
    for i in range(n):
        words = rng.sample(_WORDS, 8)
        title = f"{words[0].title()} {words[1]} in {words[2].title()}ville, {rng.randint(2, 90)} killed"
        text = " ".join(rng.choice(_WORDS) for _ in range(80))
        v = story.view({"canonical_url": f"https://x{i}.example/", "title": title, "text": text, "published": at,
                        "fetched_at": at, "figures": {"killed": {"count": 3}}})
        s = story.new_story(v)
        story.attach(s, v)
        out.append(s)
    return out


def _scan(rule, enriched: list[dict], stories: list) -> None:
    from wirewatch.stages import route

    for e in enriched:
        d = route.decide(e, [rule], stories, "2026-11-23T00:00:00Z")
        if all(s is not d.story for s in stories):
            stories.append(d.story)


def _index_of(stories: list) -> dict[str, dict]:
    """key -> {story_id: story}, as the story_keys table holds it."""
    from wirewatch.stages import story

    index: dict[str, dict] = {}
    for s in stories:
        for k in story.story_keys(s.state):
            index.setdefault(k, {})[s.story_id] = s
    return index


def _indexed(rule, enriched: list[dict], stories: list, index: dict[str, dict]) -> None:
    from wirewatch.stages import route, story

    for e in enriched:
        art = story.view(e)
        keys = story.keys(art)
        seen: dict[str, object] = {}
        for k in keys:
            seen.update(index.get(k, {}))
        # (Storage also loads the story already holding the article; no article here is redelivered.)
        d = route.decide(e, [rule], sorted(seen.values(), key=lambda s: (s.first_at, s.story_id)), "2026-11-23T00:00:00Z",
                         art=art)
        if all(s is not d.story for s in stories):
            stories.append(d.story)
        for k in keys:
            index.setdefault(k, {})[d.story.story_id] = d.story


async def _assign(rule, enriched: list[dict], n: int, indexed: bool, at: str) -> float:
    from wirewatch.sinks.storage import open_storage
    from wirewatch.stages import route, story

    with tempfile.TemporaryDirectory() as tmp:
        storage = open_storage(f"sqlite:///{tmp}/bench.db?synchronous=normal")
        await storage.start()
        try:
            for s in _candidates(n, at):
                row = s.to_row()
                await storage.assign_story(s.members[0]["canonical_url"], s.first_at, lambda rows, row=row: (row, None),
                                           sorted(story.story_keys(s.state)))
            t = time.perf_counter()
            for e in enriched:
                art = story.view(e)

                def decide(rows: list[dict], e=e, art=art) -> tuple[dict, object]:
                    d = route.decide(e, [rule], [story.Story.from_row(r) for r in rows], "2026-11-23T00:00:00Z", art=art)
                    return d.story.to_row(), d

                await storage.assign_story(e["canonical_url"], art.at - story.DEFAULT_WINDOW, decide,
                                           sorted(story.keys(art)) if indexed else None)
            took = time.perf_counter() - t
            sizes = [s["state"]["size"] for s in await storage.stories()]
            assert sorted(sizes)[-1] == len(enriched) and sizes.count(1) == n, "the ten outlets must form one story"
        finally:
            await storage.close()
    return len(enriched) / took


def run(args: argparse.Namespace) -> dict:
    from wirewatch.stages import route

    articles, enrich = _articles()
    repeat = getattr(args, "stories_repeat", 3)
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        enriched = [enrich(a) for a in articles]
        best = min(best, time.perf_counter() - t)
    result: dict = {"enrich_per_s": round(len(articles) / best, 1)}
    (rule,) = route.load_rules(ROOT / "services" / "wirewatch" / "defaults" / "rules.yaml")
    for n in SIZES:
        for name in ("decide", "indexed"):
            best = float("inf")
            for _ in range(repeat):
                stories = _candidates(n, articles[0]["published"])
                index = _index_of(stories)  # built as stories were saved, outside the decision
                t = time.perf_counter()
                _scan(rule, enriched, stories) if name == "decide" else _indexed(rule, enriched, stories, index)
                best = min(best, time.perf_counter() - t)
            assert sum(1 for s in stories if s.state["size"] > 1) == 1, "the ten outlets must form one story"
            assert len(stories) == n + 1, "no article may start a story of its own"
            result[f"{name}_per_s_{n}"] = round(len(enriched) / best, 1)
            result[f"{name}_vs_enrich_{n}"] = round(result[f"{name}_per_s_{n}"] / result["enrich_per_s"], 2)
        result[f"indexed_vs_scan_{n}"] = round(result[f"indexed_per_s_{n}"] / result[f"decide_per_s_{n}"], 2)
    at = articles[0]["published"]
    for name, indexed in (("scan", False), ("indexed", True)):
        result[f"assign_per_s_1000_{name}"] = round(asyncio.run(_assign(rule, enriched, 1000, indexed, at)), 1)
    result["assign_indexed_vs_scan_1000"] = round(result["assign_per_s_1000_indexed"] / result["assign_per_s_1000_scan"], 2)
    return result
