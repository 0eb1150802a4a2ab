"""Story grouping: how well stories match real events (``--stories-file``), and how fast matching is.

Two modes.

Quality, given ``--stories-file F`` (JSONL or .jsonl.gz, one article a line: ``text`` = title, blank
line, body; ``published`` YYYY-MM-DD; ``url``; ``incident_id`` naming the real event; e.g.
../shared/data/casualty-gva-dev/articles.jsonl.gz). Every dated article goes, in ``published``
order, through the enrich stage and the route agent's core (agents/route.py ``make_core``: the
default rules, then ``Storage.assign_story`` on SQLite with the candidate index), as the pipeline
does. Articles with no date are left out (``undated``). Scored over the articles that raise an
alert (match a rule), with the stories they joined against the incidents:
     ``b3_precision`` / ``b3_recall`` / ``b3_f1``: B-cubed (per article: the share of its story that
     is its incident, and of its incident that is its story; averaged);
     ``ceiling_b3_recall`` / ``ceiling_b3_f1``: the same for the window-limited ceiling, each
     incident cut where two of its consecutive articles are more than the story window apart (what
     window matching alone can reach); ``b3_f1_of_ceiling`` = b3_f1 / ceiling_b3_f1;
     ``pair_precision`` / ``pair_recall`` / ``pair_f1``: over pairs of articles (same story vs same
     incident);
     ``repeat_new_alert_rate``: the share of alerting articles that raise a second "new" alert for an
     incident already alerted; ``repeat_new_in_window``: how many of those came within the window of
     the incident's previous article (a missed join rather than a follow-up);
     ``merged_incidents``: stories holding articles of more than one incident
     (``merged_incidents_other_date``: of those, incidents on different dates);
     ``articles_per_s``: route decisions (evaluate + assign_story) per second, enrichment excluded;
     ``enrich_per_s`` beside it;
     ``keys_per_story``: rows of the candidate index (story_keys) a story at the end;
     ``wal_frames_per_routed``: WAL frames (pages written; no checkpoint during the run) and
     ``sqlite_thread_ms_per_routed``: CPU of SQLite's thread (the story transaction with route's
     decision inside it), each a routed article, sequential: what the index costs a worker.
     ``even_*`` / ``odd_*``: precision, F1 of the ceiling and repeat rate over the incidents of
     even (odd) id in the same run: a gain should hold in both halves.
``--stories-parity even|odd`` keeps only the incidents whose id is even (odd), in a run of their own. ``--stories-limit N`` keeps the first N dated articles (a quick look).

Speed, always (synthetic: the ten-outlet corpus of tests/harness/ten_outlets.py).
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
import gzip
import json
import os
import random
import re
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIZES = (10, 100, 1000)
_WORDS = (
    "river market port bridge school mine tower road valley border hospital depot train ferry quarry "
    "storm blast fire flood landslide crash collapse clash strike raid convoy village district"
).split()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("stories")
    g.add_argument("--stories-repeat", type=int, default=3, help="timing passes")
    g.add_argument("--stories-file", default=None, help="JSONL(.gz) of articles with incident_id: score story grouping")
    g.add_argument("--stories-parity", choices=("even", "odd"), default=None, help="keep incidents of this id parity")
    g.add_argument("--stories-limit", type=int, default=None, help="keep the first N dated articles")
    g.add_argument("--stories-skip-speed", action="store_true", help="quality only: skip the synthetic speed check")


def _articles() -> list[dict]:
    from tests.harness.ten_outlets import RISING, TEN, article_text
    from wirewatch.stages.enrich import enrich

    base = json.loads((ROOT / "schemas" / "examples" / "article.json").read_text())
    out = []
    for r in TEN + [RISING]:
        url = f"https://{r.slug}.example/{r.slug}"
        out.append(
            dict(
                base,
                title=r.title,
                text=article_text(r),
                sitename=r.sitename,
                published=r.published,
                canonical_url=url,
                url=url,
                final_url=url,
                fetched_at=r.published.replace("+00:00", "Z"),
            )
        )
    return out, enrich


def _candidates(n: int, at: str) -> list:
    from wirewatch.stages import story

    rng = random.Random(n)
    out = []
    for i in range(n):
        words = rng.sample(_WORDS, 8)
        title = f"{words[0].title()} {words[1]} in {words[2].title()}ville, {rng.randint(2, 90)} killed"
        text = " ".join(rng.choice(_WORDS) for _ in range(80))
        v = story.view(
            {
                "canonical_url": f"https://x{i}.example/",
                "title": title,
                "text": text,
                "published": at,
                "fetched_at": at,
                "figures": {"killed": {"count": 3}},
            }
        )
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
        d = route.decide(
            e, [rule], sorted(seen.values(), key=lambda s: (s.first_at, s.story_id)), "2026-11-23T00:00:00Z", art=art
        )
        if all(s is not d.story for s in stories):
            stories.append(d.story)
        for k in story.story_keys(d.story.state):  # filed as storage files it: under what its state holds
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
                await storage.assign_story(
                    s.members[0]["canonical_url"],
                    s.first_at,
                    lambda rows, row=row: (row, None),
                    sorted(story.story_keys(s.state)),
                )
            t = time.perf_counter()
            for e in enriched:
                art = story.view(e)

                def decide(rows: list[dict], e=e, art=art) -> tuple[dict, object]:
                    d = route.decide(
                        e, [rule], [story.Story.from_row(r) for r in rows], "2026-11-23T00:00:00Z", art=art
                    )
                    return d.story.to_row(), d

                await storage.assign_story(
                    e["canonical_url"],
                    art.at - story.DEFAULT_WINDOW,
                    decide,
                    sorted(story.keys(art)) if indexed else None,
                )
            took = time.perf_counter() - t
            sizes = [s["state"]["size"] for s in await storage.stories()]
            assert sorted(sizes)[-1] == len(enriched) and sizes.count(1) == n, "the ten outlets must form one story"
        finally:
            await storage.close()
    return len(enriched) / took


# -- quality on real events ------------------------------------------------------------------------

_ARCHIVED = re.compile(r"^https?://web\.archive\.org/web/[^/]+/(?P<url>.+)$")


def _odd(incident_id: str) -> bool:
    """The incident's half: its id's digits as a number, odd or even."""
    return bool(int(re.sub(r"\D", "", incident_id) or 0) % 2)


def load_events(path: Path | str, parity: str | None = None, limit: int | None = None) -> tuple[list[dict], int]:
    """(article payloads in publication order, undated count) from a JSONL(.gz) with incident_id."""
    opener = gzip.open if str(path).endswith(".gz") else open
    rows, undated = [], 0
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            r = json.loads(line)
            if parity is not None and _odd(str(r["incident_id"])) != (parity == "odd"):
                continue
            if not r.get("published"):
                undated += 1
                continue
            rows.append(r)
    rows.sort(key=lambda r: (r["published"], r.get("id") or r["url"]))
    out = []
    for i, r in enumerate(rows[:limit]):
        title, _, body = (r.get("text") or "").strip().partition("\n")
        m = _ARCHIVED.match(r.get("url") or "")
        url = m["url"] if m else (r.get("url") or f"https://example.invalid/{i}")
        # Only a date is known: the pipeline then places the article at its fetch time.
        at = f"{r['published'][:10]}T12:00:00Z"
        out.append(
            {
                "link_id": f"l{i}",
                "source": "bench",
                "url": url,
                "final_url": url,
                "canonical_url": url,
                "redirects": [],
                "status": 200,
                "content_type": "text/html",
                "fetched_at": at,
                "title": title.strip(),
                "text": body.strip(),
                "authors": [],
                "published": r["published"][:10],
                "language": None,
                "sitename": None,
                "description": None,
                "image": None,
                "_incident": str(r["incident_id"]),
                "_incident_date": r.get("incident_date"),
            }
        )
    return out, undated


def _b3(assigned: list[str], gold: list[str]) -> tuple[float, float, float]:
    by_a: dict[str, set[int]] = {}
    by_g: dict[str, set[int]] = {}
    for i, (a, g) in enumerate(zip(assigned, gold)):
        by_a.setdefault(a, set()).add(i)
        by_g.setdefault(g, set()).add(i)
    n = len(assigned) or 1
    p = sum(len(by_a[a] & by_g[g]) / len(by_a[a]) for a, g in zip(assigned, gold)) / n
    r = sum(len(by_a[a] & by_g[g]) / len(by_g[g]) for a, g in zip(assigned, gold)) / n
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _pairs(assigned: list[str], gold: list[str]) -> tuple[float, float, float]:
    def pairs(labels: list[str]) -> set[tuple[int, int]]:
        groups: dict[str, list[int]] = {}
        for i, x in enumerate(labels):
            groups.setdefault(x, []).append(i)
        return {(a, b) for g in groups.values() for j, a in enumerate(g) for b in g[j + 1 :]}

    pa, pg = pairs(assigned), pairs(gold)
    p = len(pa & pg) / len(pa) if pa else 1.0
    r = len(pa & pg) / len(pg) if pg else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def window_cut(gold: list[str], at: list[datetime], window: timedelta) -> list[str]:
    """Each incident cut where two of its consecutive articles are more than `window` apart."""
    last: dict[str, datetime] = {}
    part: dict[str, int] = {}
    out = []
    for g, t in zip(gold, at):
        if g in last and t - last[g] > window:
            part[g] = part.get(g, 0) + 1
        last[g] = t
        out.append(f"{g}#{part.get(g, 0)}")
    return out


async def _route_all(
    enriched: list[dict], cost: dict[str, float] | None = None
) -> tuple[list[tuple[int, str, list[str]]], float]:
    """Each alerting article's (index, story id, alert kinds), through the route agent's core, and
    the articles a second; `cost` (given) gets what the stories cost SQLite (``_sqlite_cost``)."""
    from wirewatch.agents import route as route_agent
    from wirewatch.runtime import Runtime
    from wirewatch.settings import load_settings
    from wirewatch.sinks.storage import open_storage

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/stories.db?synchronous=normal"
        rt = Runtime(load_settings(storage_url=url)).load()
        rt.storage = open_storage(url)
        await rt.storage.start()
        assign, seen = rt.storage.assign_story, {}

        async def recording(canonical_url, *a, **kw):  # which story each article joined
            d = await assign(canonical_url, *a, **kw)
            seen[canonical_url] = d.story.story_id
            return d

        rt.storage.assign_story = recording  # type: ignore[method-assign]
        core = route_agent.make_core(rt)
        out = []
        conn, thread = rt.storage._conn, rt.storage._in_thread  # type: ignore[attr-defined]
        # No checkpoint during the run: the WAL then holds every frame the run wrote.
        await thread(conn.execute, "PRAGMA wal_autocheckpoint=0")
        cpu = await thread(time.thread_time)
        try:
            t = time.perf_counter()
            for i, e in enumerate(enriched):
                seen.pop(e["canonical_url"], None)
                emits = await core(e)
                if e["canonical_url"] in seen:
                    out.append((i, seen[e["canonical_url"]], [x.value["kind"] for x in emits]))
            took = time.perf_counter() - t
            cpu = await thread(time.thread_time) - cpu
            if cost is not None:
                cost.update(await _sqlite_cost(rt.storage, f"{tmp}/stories.db-wal", len(out), cpu))
        finally:
            await rt.storage.close()
    return out, len(enriched) / took


async def _sqlite_cost(storage: Any, wal: str, routed: int, cpu: float) -> dict[str, float]:
    """What the stories cost SQLite: rows of the candidate index a story, WAL frames (pages
    written) and CPU of SQLite's thread (the story transaction, route's decision inside it) a
    routed article."""
    (page,) = await storage._in_thread(lambda: storage._conn.execute("PRAGMA page_size").fetchone())
    (row,) = await storage.transact(
        lambda tx: tx.fetch("SELECT (SELECT count(*) FROM story_keys) AS k, (SELECT count(*) FROM stories) AS s"),
        read_only=True,
    )
    size = await storage._in_thread(os.path.getsize, wal)
    n = max(routed, 1)
    return {
        "keys_per_story": round(row["k"] / max(row["s"], 1), 1),
        "wal_frames_per_routed": round(size / (page + 24) / n, 1),
        "sqlite_thread_ms_per_routed": round(cpu * 1000 / n, 3),
    }


def quality(
    path: Path | str, parity: str | None = None, limit: int | None = None, window: timedelta | None = None
) -> dict:
    from wirewatch.stages import story
    from wirewatch.stages.enrich import enrich

    window = window or story.DEFAULT_WINDOW
    articles, undated = load_events(path, parity, limit)
    t = time.perf_counter()
    enriched = [enrich({k: v for k, v in a.items() if not k.startswith("_")}) for a in articles]
    enrich_per_s = len(articles) / (time.perf_counter() - t)
    cost: dict[str, float] = {}
    routed, per_s = asyncio.run(_route_all(enriched, cost))
    idx = [i for i, _, _ in routed]
    stories = [s for _, s, _ in routed]
    gold = [articles[i]["_incident"] for i in idx]
    at = [story.view(enriched[i]).at for i in idx]
    p, r, f = _b3(stories, gold)
    ceiling = window_cut(gold, at, window)
    _, cr, cf = _b3(ceiling, gold)
    pp, pr, pf = _pairs(stories, gold)
    repeats, in_window = _repeats([k for _, _, k in routed], gold, at, window)
    members: dict[str, set[str]] = {}
    for s, g in zip(stories, gold):
        members.setdefault(s, set()).add(g)
    dates = {a["_incident"]: a["_incident_date"] for a in articles}
    merged = [gs for gs in members.values() if len(gs) > 1]
    return {
        "articles": len(articles),
        "undated": undated,
        "alerting": len(routed),
        "incidents": len(set(gold)),
        "stories": len(members),
        "b3_precision": round(p, 4),
        "b3_recall": round(r, 4),
        "b3_f1": round(f, 4),
        "ceiling_b3_recall": round(cr, 4),
        "ceiling_b3_f1": round(cf, 4),
        "b3_f1_of_ceiling": round(f / cf, 4) if cf else None,
        "pair_precision": round(pp, 4),
        "pair_recall": round(pr, 4),
        "pair_f1": round(pf, 4),
        "repeat_new_alert_rate": round(repeats / len(routed), 4) if routed else 0.0,
        "repeat_new_alerts": repeats,
        "repeat_new_in_window": in_window,
        "merged_incidents": len(merged),
        "merged_incidents_other_date": sum(len({dates[g] for g in gs}) > 1 for gs in merged),
        **_halves(stories, gold, at, [k for _, _, k in routed], window),
        "articles_per_s": round(per_s, 1),
        "enrich_per_s": round(enrich_per_s, 1),
        **cost,
    }


def _repeats(kinds: list[list[str]], gold: list[str], at: list[datetime], window: timedelta) -> tuple[int, int]:
    """(articles raising a "new" alert for an incident already alerted, how many of those came
    within `window` of the incident's previous article)."""
    alerted: dict[str, datetime] = {}
    last: dict[str, datetime] = {}
    repeats = in_window = 0
    for k, g, t in zip(kinds, gold, at):
        if "new" in k:
            if g in alerted:
                repeats += 1
                in_window += t - last[g] <= window
            alerted[g] = t
        last[g] = t
    return repeats, in_window


def _halves(
    stories: list[str], gold: list[str], at: list[datetime], kinds: list[list[str]], window: timedelta
) -> dict[str, float]:
    """The headline figures over the incidents of even and of odd id, from the same run (a gain
    should hold in both). Precision is against the whole story, whichever half its other members are."""
    story_of: dict[str, list[str]] = {}
    for s, g in zip(stories, gold):
        story_of.setdefault(s, []).append(g)
    out: dict[str, float] = {}
    for half in ("even", "odd"):
        sel = [i for i, g in enumerate(gold) if _odd(g) == (half == "odd")]
        if not sel:
            continue
        g_, s_, t_ = [gold[i] for i in sel], [stories[i] for i in sel], [at[i] for i in sel]
        p = sum(story_of[s].count(g) / len(story_of[s]) for s, g in zip(s_, g_)) / len(sel)
        _, r, _ = _b3(s_, g_)
        f = 2 * p * r / (p + r) if p + r else 0.0
        _, _, cf = _b3(window_cut(g_, t_, window), g_)
        repeats, _ = _repeats([kinds[i] for i in sel], g_, t_, window)
        out |= {
            f"{half}_b3_precision": round(p, 4),
            f"{half}_b3_f1_of_ceiling": round(f / cf, 4) if cf else 0.0,
            f"{half}_repeat_new_alert_rate": round(repeats / len(sel), 4),
        }
    return out


def run(args: argparse.Namespace) -> dict:
    result: dict = {}
    path = getattr(args, "stories_file", None)
    if path:
        result.update(quality(path, getattr(args, "stories_parity", None), getattr(args, "stories_limit", None)))
    if not getattr(args, "stories_skip_speed", False):
        result.update(speed(args))
    return result


def speed(args: argparse.Namespace) -> dict:
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
    result["assign_indexed_vs_scan_1000"] = round(
        result["assign_per_s_1000_indexed"] / result["assign_per_s_1000_scan"], 2
    )
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_stories", description=__doc__)
    add_arguments(parser)
    print(json.dumps(run(parser.parse_args(argv))))


if __name__ == "__main__":
    main()
