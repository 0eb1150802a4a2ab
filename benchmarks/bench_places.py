"""Places: how many articles enrichment gives a place finer than a state, and whether articles about
one real event agree on it.

In:  ``--places-file F``: JSONL or .jsonl.gz, one article a line: ``text`` (title, blank line, body),
     ``url``, ``incident_id`` (articles sharing it report one event); default
     ../shared/data/casualty-gva-dev/articles.jsonl.gz, skipped when absent.
Out: one JSON line. Each article goes through the enrich stage as the pipeline does (title, text, url;
no sitename or description: the data has none), then
     ``no_place``        share of articles with no city, town or county (a state or a country alone
                         does not say where an event happened);
     ``no_lead_place``   share with none in the headline or the first 400 characters of the text
                         (what story matching takes as where it happened);
     ``pair_agree``      over pairs of articles of one incident that both have a lead place, the share
                         that share one (``pair_conflict``: the share that share none: at least one
                         of the two is wrong, or the event spans two places);
     ``pairs``           how many such pairs; ``pairs_of_all``: their share of all same-incident pairs;
     ``enrich_per_s``    the whole enrich stage, articles per second, this process.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from itertools import combinations
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "data" / "casualty-gva-dev" / "articles.jsonl.gz"
_LEAD_CHARS = 400
_FINE = ("city", "county")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("places")
    g.add_argument("--places-file", default=str(DEFAULT), help="JSONL(.gz) of articles with incident_id")
    g.add_argument("--places-limit", type=int, default=None, help="keep the first N articles")


def load(path: Path | str, limit: int | None = None) -> list[dict[str, Any]]:
    opener = gzip.open if str(path).endswith(".gz") else open
    out = []
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                r = json.loads(line)
                title, _, body = (r.get("text") or "").strip().partition("\n")
                out.append(
                    {
                        "title": title.strip(),
                        "text": body.strip(),
                        "url": r.get("url"),
                        "_incident": str(r.get("incident_id")),
                    }
                )
    return out[:limit]


def lead_places(article: dict[str, Any], places: list[dict[str, Any]]) -> set[str]:
    cut = len(article["title"]) + 2 + _LEAD_CHARS
    return {p["name"].casefold() for p in places if p["kind"] in _FINE and p.get("start", cut) < cut}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from wirewatch.stages.enrich import enrich

    path = Path(getattr(args, "places_file", None) or DEFAULT)
    if not path.exists():
        return {"skipped": f"{path} not found"}
    articles = load(path, getattr(args, "places_limit", None))
    t = time.perf_counter()
    found = [enrich({k: v for k, v in a.items() if not k.startswith("_")})["places"] for a in articles]
    per_s = len(articles) / (time.perf_counter() - t)
    fine = [any(p["kind"] in _FINE for p in ps) for ps in found]
    lead = [lead_places(a, ps) for a, ps in zip(articles, found)]
    by_incident: dict[str, list[int]] = {}
    for i, a in enumerate(articles):
        by_incident.setdefault(a["_incident"], []).append(i)
    pairs = agree = every = 0
    for members in by_incident.values():
        for i, j in combinations(members, 2):
            every += 1
            if lead[i] and lead[j]:
                pairs += 1
                agree += bool(lead[i] & lead[j])
    n = len(articles) or 1
    return {
        "articles": len(articles),
        "no_place": round(1 - sum(fine) / n, 4),
        "no_lead_place": round(sum(not x for x in lead) / n, 4),
        "pair_agree": round(agree / pairs, 4) if pairs else None,
        "pair_conflict": round(1 - agree / pairs, 4) if pairs else None,
        "pairs": pairs,
        "pairs_of_all": round(pairs / every, 4) if every else None,
        "enrich_per_s": round(per_s, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_places", description=__doc__)
    add_arguments(parser)
    print(json.dumps(run(parser.parse_args(argv))))


if __name__ == "__main__":
    main()
