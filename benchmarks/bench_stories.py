"""Story matching: how fast the route stage decides which story an alerting article joins.

In:  nothing (synthetic stories and the ten-outlet corpus of tests/harness/ten_outlets.py).
Out: ``decide_per_s_<n>``: route.decide calls per second (one core, best of --repeat passes) with n
     candidate stories open in the window (n in 10, 100, 1000; each candidate is an unrelated event
     with its own wording); ``enrich_per_s``: the enrich stage on the same articles, same run, as
     the baseline; ``decide_vs_enrich_<n>`` = decide_per_s_n / enrich_per_s (above 1: story
     matching costs less than enrichment, which every article already pays).
Storage round trips are not included (they depend on the database, not on this code).
"""

from __future__ import annotations

import argparse
import json
import random
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
        best = float("inf")
        for _ in range(repeat):
            stories = _candidates(n, articles[0]["published"])
            t = time.perf_counter()
            for e in enriched:
                d = route.decide(e, [rule], stories, "2026-11-23T00:00:00Z")
                if all(s is not d.story for s in stories):
                    stories.append(d.story)
            best = min(best, time.perf_counter() - t)
        assert sum(1 for s in stories if s.state["size"] > 1) == 1, "the ten outlets must form one story"
        result[f"decide_per_s_{n}"] = round(len(enriched) / best, 1)
        result[f"decide_vs_enrich_{n}"] = round(result[f"decide_per_s_{n}"] / result["enrich_per_s"], 2)
    return result
