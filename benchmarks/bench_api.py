"""Read API latency with 100,000 stored articles and 10,000 stories, on SQLite and PostgreSQL.

In: a synthetic store (deterministic; --api-articles, --api-stories): articles of ~100 words drawn
from a Zipf-like vocabulary (so a query word may match a few articles or tens of thousands), in
three languages, spread over 30 days; half of them grouped five a story with figures, places,
countries and the rule that alerted, in the same rows and JSON state the route agent writes. It is
loaded with the storage schema's own triggers live (story cards, full-text indexes).

Out, per backend (``sqlite_*``, ``postgresql_*``; milliseconds; p50 and p99 over
--api-requests requests per query shape, all shapes of an endpoint pooled):
    ``list_p50_ms`` / ``list_p99_ms``: GET /api/stories's work: filters (none, min_killed,
        country, language, rule, a word, since 6h, and the next page by cursor), 50 cards;
    ``search_p50_ms`` / ``search_p99_ms``: GET /api/articles: a common word, a rare one, two
        words, a word with a language, and the next page;
    ``story_p99_ms``: GET /api/stories/{id}: five articles with evidence and the toll history;
    ``http_list_p99_ms`` / ``http_search_p99_ms``: the same through the real aiohttp server
        (api/routes.py on the service's faust web server) and an HTTP client on loopback;
    baselines measured in the same run on the same data, each the same question asked without
    schema 7 (medians): ``scan_list_ms`` (the latest 50 stories with killed >= 290, read from every
    story's JSON state) beside ``indexed_list_ms`` (the same ids from story_cards), ``scan_search_ms``
    (a rare word by LIKE over every article's text) beside ``indexed_search_ms`` (the whole search
    request for it); ``list_vs_scan`` / ``search_vs_scan`` = scan / indexed (times faster).
    ``load_s``: seconds to load the store (triggers included).
The goal is list and search p99 < 50 ms (``goal_met``). PostgreSQL is a throwaway server from the
test harness (Debian's postgresql), or --api-postgres URL; where neither is there it is left out
with the reason.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from wirewatch.api import params
from wirewatch.api.queries import ReadStore
from wirewatch.sinks.storage import open_storage
from wirewatch.stages.enrich.casualties import languages, load_lexicon

LANGUAGES = ("en",) * 7 + ("fr",) * 2 + ("ar",)
COUNTRIES = ("SY", "UA", "SD", "NG", "GH", "PH", "IN", "BR", "MX", "CD", "YE", "PK", "AF", "ML", "HT")
RULE = "people-killed-or-wounded"
NOW = datetime.now(UTC).replace(microsecond=0)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("api")
    group.add_argument("--api-articles", type=int, default=100_000, help="stored articles")
    group.add_argument("--api-stories", type=int, default=10_000, help="stories (five articles each)")
    group.add_argument("--api-requests", type=int, default=100, help="requests per query shape")
    group.add_argument(
        "--api-postgres", default="", help="postgresql:// URL of an empty database (default: a throwaway server)"
    )


def run(args: argparse.Namespace) -> dict:
    return asyncio.run(
        _run(
            getattr(args, "api_articles", 100_000),
            getattr(args, "api_stories", 10_000),
            getattr(args, "api_requests", 100),
            getattr(args, "api_postgres", ""),
        )
    )


# -- the synthetic store ---------------------------------------------------------------------------


def _vocabulary(rng: random.Random, n: int = 5000) -> list[str]:
    letters = "abcdefghijklmnoprstuvwyz"
    words = {"".join(rng.choice(letters) for _ in range(rng.randint(4, 9))) for _ in range(n * 2)}
    return sorted(words)[:n]


class Corpus:
    def __init__(self, n_articles: int, n_stories: int, seed: int = 7) -> None:
        rng = random.Random(seed)
        self.vocab = _vocabulary(rng)
        weights = [1 / (i + 1) for i in range(len(self.vocab))]  # Zipf: word 0 is everywhere, the last rare
        self.articles: list[dict] = []
        self.stories: list[dict] = []
        self.members: list[tuple[str, str, datetime]] = []
        cities = [w.title() for w in self.vocab[3000:3200]]
        for i in range(n_articles):
            words = rng.choices(self.vocab, weights, k=100)
            at = NOW - timedelta(seconds=rng.randint(0, 30 * 86400))
            url = f"https://outlet{i % 40}.example/news/{i}"
            self.articles.append(
                {
                    "canonical_url": url,
                    "link_id": f"l{i}",
                    "source": "bench",
                    "url": url,
                    "final_url": url,
                    "status": 200,
                    "content_type": "text/html",
                    "fetched_at": at.isoformat(),
                    "title": " ".join(words[:7]).capitalize(),
                    "text": " ".join(words),
                    "published": at.isoformat(),
                    "language": rng.choice(LANGUAGES),
                    "sitename": f"Outlet {i % 40}",
                    "description": None,
                    "image": None,
                    "authors": [],
                    "figures": {},
                    "casualties": [],
                    "keywords": [],
                    "redirects": [],
                    "places": [],
                    "at": at,
                }
            )
        per = 5
        for s in range(min(n_stories, n_articles // per)):
            group = self.articles[s * per : (s + 1) * per]
            group.sort(key=lambda a: a["at"])
            city, country = rng.choice(cities), rng.choice(COUNTRIES)
            killed = sorted(rng.randint(1, 300) for _ in group)
            members = []
            for a, k in zip(group, killed):
                sentence = f"At least {k} people were killed in {city} on Monday, officials said."
                a["figures"] = {"killed": {"count": k, "min": k, "max": None}, "injured": None, "missing": None}
                a["casualties"] = [
                    {
                        "category": "killed",
                        "count": k,
                        "min": k,
                        "max": None,
                        "qualifier": "at_least",
                        "victim": "people",
                        "evidence": sentence,
                        "start": 0,
                        "end": len(sentence),
                        "attribution": "officials",
                    }
                ]
                a["places"] = [{"name": city, "country_code": country, "kind": "city", "start": 0, "end": len(city)}]
                a["text"] = sentence + " " + a["text"]
                members.append(
                    {
                        "canonical_url": a["canonical_url"],
                        "url": a["url"],
                        "link_id": a["link_id"],
                        "sitename": a["sitename"],
                        "title": a["title"],
                        "at": a["at"].strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "figures": {"killed": k},
                        "alerts": [],
                    }
                )
                self.members.append((a["canonical_url"], f"s-{s}", a["at"]))
            top = group[-1]
            state = {
                "title": group[0]["title"],
                "signatures": [],
                "titles": [],
                "places": [city.lower()],
                "countries": [country],
                "members": members,
                "size": per,
                "figures": {"killed": {"count": killed[-1], "url": top["canonical_url"], "sitename": top["sitename"]}},
                "rules": {RULE: {"alert_id": f"a{s}", "figures": {"killed": killed[-1]}}},
            }
            self.stories.append(
                {
                    "story_id": f"s-{s}",
                    "title": group[0]["title"],
                    "first_at": group[0]["at"],
                    "last_at": group[-1]["at"],
                    "state": state,
                }
            )
        self.common, self.rare = self.vocab[1], self.vocab[2500]


_ARTICLE_COLUMNS = (
    "canonical_url",
    "link_id",
    "source",
    "url",
    "final_url",
    "status",
    "content_type",
    "fetched_at",
    "title",
    "text",
    "published",
    "language",
    "sitename",
    "description",
    "image",
    "authors",
    "figures",
    "casualties",
    "keywords",
    "redirects",
    "places",
    "revision",
    "first_seen",
    "updated_at",
)
_JSON = {"authors", "figures", "casualties", "keywords", "redirects", "places"}


def _article_row(a: dict, ts) -> tuple:
    out = []
    for c in _ARTICLE_COLUMNS:
        if c in _JSON:
            out.append(orjson.dumps(a[c]).decode())
        elif c == "revision":
            out.append(1)
        elif c in ("first_seen", "updated_at"):
            out.append(ts(a["at"]))
        else:
            out.append(a[c])
    return tuple(out)


async def _load(url: str, corpus: Corpus) -> float:
    """Write the corpus with the storage schema (and its triggers) in place; seconds taken."""
    storage = open_storage(url)
    await storage.start()  # creates the schema, migrations included
    await storage.close()
    started = time.perf_counter()
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite://"))
        ts = lambda t: t.astimezone(UTC).isoformat(timespec="microseconds")  # noqa: E731 - as storage binds it
        with conn:
            conn.executemany(
                f"INSERT INTO articles ({', '.join(_ARTICLE_COLUMNS)}) VALUES "
                f"({', '.join('?' * len(_ARTICLE_COLUMNS))})",
                [_article_row(a, ts) for a in sorted(corpus.articles, key=lambda a: a["at"])],
            )
            conn.executemany(
                "INSERT INTO stories (story_id, title, first_at, last_at, state, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        s["story_id"],
                        s["title"],
                        ts(s["first_at"]),
                        ts(s["last_at"]),
                        orjson.dumps(s["state"]).decode(),
                        ts(s["last_at"]),
                    )
                    for s in corpus.stories
                ],
            )
            conn.executemany(
                "INSERT INTO story_members (canonical_url, story_id, joined_at) VALUES (?, ?, ?)",
                [(u, s, ts(t)) for u, s, t in corpus.members],
            )
            conn.executemany(
                "INSERT INTO alert_deliveries (alert_id, target, alert, status, attempts, created_at, updated_at) "
                "VALUES (?, 'webhook:bench', ?, 'delivered', 1, ?, ?)",
                [
                    (
                        f"a{i}",
                        orjson.dumps({"rule": RULE, "story_id": s["story_id"]}).decode(),
                        ts(s["first_at"]),
                        ts(s["first_at"]),
                    )
                    for i, s in enumerate(corpus.stories)
                ],
            )
        conn.execute("ANALYZE")
        conn.close()
    else:
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            ts = lambda t: t  # noqa: E731
            rows = [_article_row(a, ts) for a in sorted(corpus.articles, key=lambda a: a["at"])]
            await conn.executemany(
                f"INSERT INTO articles ({', '.join(_ARTICLE_COLUMNS)}) VALUES "
                f"({', '.join(f'${i + 1}' for i in range(len(_ARTICLE_COLUMNS)))})",
                rows,
            )
            await conn.executemany(
                "INSERT INTO stories (story_id, title, first_at, last_at, state, updated_at) "
                "VALUES ($1, $2, $3, $4, $5, $6)",
                [
                    (
                        s["story_id"],
                        s["title"],
                        s["first_at"],
                        s["last_at"],
                        orjson.dumps(s["state"]).decode(),
                        s["last_at"],
                    )
                    for s in corpus.stories
                ],
            )
            await conn.executemany(
                "INSERT INTO story_members (canonical_url, story_id, joined_at) VALUES ($1, $2, $3)", corpus.members
            )
            await conn.executemany(
                "INSERT INTO alert_deliveries (alert_id, target, alert, status, attempts, created_at, "
                "updated_at) VALUES ($1, 'webhook:bench', $2, 'delivered', 1, $3, $3)",
                [
                    (f"a{i}", orjson.dumps({"rule": RULE, "story_id": s["story_id"]}).decode(), s["first_at"])
                    for i, s in enumerate(corpus.stories)
                ],
            )
            await conn.execute("ANALYZE")
        finally:
            await conn.close()
    return time.perf_counter() - started


# -- measuring -------------------------------------------------------------------------------------


def _shapes(corpus: Corpus) -> tuple[list[dict], list[dict]]:
    stories = [
        {},
        {"min_killed": "200"},
        {"country": "GH"},
        {"language": "fr"},
        {"rule": RULE},
        {"q": corpus.common},
        {"q": corpus.rare},
        {"since": "6h"},
    ]
    search = [
        {"q": corpus.common},
        {"q": corpus.rare},
        {"q": f"{corpus.common} {corpus.vocab[5]}"},
        {"q": corpus.vocab[3], "language": "en"},
        {},
    ]
    return stories, search


def _quantiles(samples: list[float]) -> tuple[float, float]:
    s = sorted(samples)
    return s[len(s) // 2] * 1000, s[min(len(s) - 1, int(len(s) * 0.99))] * 1000


async def _timed(call, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        body = await call()
        orjson.dumps(body)  # the route's encoding is part of the answer
        out.append(time.perf_counter() - t)
    return out


async def _measure(url: str, corpus: Corpus, n: int) -> dict[str, Any]:
    story_shapes, search_shapes = _shapes(corpus)
    out: dict[str, Any] = {}
    await asyncio.to_thread(lambda: [load_lexicon(lang) for lang in languages()])  # as the routes do at start
    async with ReadStore(url) as rs:
        lists, searches, details = [], [], []
        for shape in story_shapes:
            first = await rs.stories(params.parse(shape, params.STORY_PARAMS, 2))
            lists += await _timed(lambda s=shape: rs.stories(params.parse(s, params.STORY_PARAMS, 2)), n)
            if first["next"]:  # the next page, by cursor
                nxt = {**shape, "cursor": first["next"]}
                lists += await _timed(lambda s=nxt: rs.stories(params.parse(s, params.STORY_PARAMS, 2)), n // 2)
        for shape in search_shapes:
            first = await rs.articles(params.parse(shape, params.ARTICLE_PARAMS, 2))
            searches += await _timed(lambda s=shape: rs.articles(params.parse(s, params.ARTICLE_PARAMS, 2)), n)
            if first["next"]:
                nxt = {**shape, "cursor": first["next"]}
                searches += await _timed(lambda s=nxt: rs.articles(params.parse(s, params.ARTICLE_PARAMS, 2)), n // 2)
        ids = [s["story_id"] for s in random.Random(3).sample(corpus.stories, min(n, len(corpus.stories)))]
        it = iter(ids * 2)
        details = await _timed(lambda: rs.story(next(it)), len(ids))
        out["list_p50_ms"], out["list_p99_ms"] = _quantiles(lists)
        out["search_p50_ms"], out["search_p99_ms"] = _quantiles(searches)
        out["story_p99_ms"] = _quantiles(details)[1]
        # Baselines: the same questions without schema 7, ids only on both sides. Stories with a
        # high toll (few match, so most stories are looked at) from the stories' JSON state vs the
        # story cards; a rare word by LIKE over every article's text vs the full-text index.
        killed = (
            "json_extract(state, '$.figures.killed.count')"
            if rs.backend == "sqlite"
            else "(state #>> '{figures,killed,count}')::int"
        )
        pairs = {
            "list": (
                f"SELECT story_id FROM stories WHERE {killed} >= $1 ORDER BY last_at DESC LIMIT 50",
                "SELECT story_id FROM story_cards WHERE killed >= $1 ORDER BY last_at DESC LIMIT 50",
                290,
            ),
            "search": (
                "SELECT canonical_url FROM articles WHERE lower(text) LIKE $1 ORDER BY first_seen DESC LIMIT 50",
                None,
                f"% {corpus.rare} %",
            ),
        }
        for name, (scan, indexed, arg) in pairs.items():
            out[f"scan_{name}_ms"] = (
                statistics.median(await _timed(lambda scan=scan, arg=arg: rs.fetch(scan, arg), 5)) * 1000
            )
            if indexed:
                out[f"indexed_{name}_ms"] = (
                    statistics.median(await _timed(lambda indexed=indexed, arg=arg: rs.fetch(indexed, arg), 20)) * 1000
                )
        out["indexed_search_ms"] = (
            statistics.median(
                await _timed(lambda: rs.articles(params.parse({"q": corpus.rare}, params.ARTICLE_PARAMS, 2)), 20)
            )
            * 1000
        )
        out["list_vs_scan"] = out["scan_list_ms"] / out["indexed_list_ms"]
        out["search_vs_scan"] = out["scan_search_ms"] / out["indexed_search_ms"]
    out.update(await _measure_http(url, corpus, n))
    return out


async def _measure_http(url: str, corpus: Corpus, n: int) -> dict[str, float]:
    """The same lists and searches through the real routes (the faust app's aiohttp server)."""
    import httpx

    from tests.harness.read_api import serve_read_api

    story_shapes, search_shapes = _shapes(corpus)
    async with serve_read_api(url) as base, httpx.AsyncClient(base_url=base) as client:

        async def get(path, query):
            r = await client.get(path, params=query)
            r.raise_for_status()
            return r.json()

        lists = [t for s in story_shapes for t in await _timed(lambda s=s: get("api/stories", s), n // 2)]
        searches = [t for s in search_shapes for t in await _timed(lambda s=s: get("api/articles", s), n // 2)]
    return {"http_list_p99_ms": _quantiles(lists)[1], "http_search_p99_ms": _quantiles(searches)[1]}


async def _run(n_articles: int, n_stories: int, n: int, pg_url: str) -> dict:
    t = time.perf_counter()
    corpus = Corpus(n_articles, n_stories)
    result: dict[str, Any] = {
        "articles": n_articles,
        "stories": len(corpus.stories),
        "requests_per_shape": n,
        "generate_s": round(time.perf_counter() - t, 1),
    }
    tmp = Path(tempfile.mkdtemp(prefix="wirewatch-bench-api-"))
    backends = {"sqlite": f"sqlite:///{tmp / 'api.db'}"}
    server = None
    if pg_url:
        backends["postgresql"] = pg_url
    else:
        try:
            from tests.harness.postgres import PostgresServer

            server = PostgresServer(Path(tempfile.mkdtemp(prefix="wirewatch-bench-pg-")))
            server.__enter__()
            backends["postgresql"] = server.create_database("bench_api")
        except Exception as e:  # noqa: BLE001 - no PostgreSQL here: say so, measure SQLite
            result["postgresql_skipped"] = str(e)[:200]
            server = None
    try:
        for name, url in backends.items():
            result[f"{name}_load_s"] = round(await _load(url, corpus), 1)
            for k, v in (await _measure(url, corpus, n)).items():
                result[f"{name}_{k}"] = round(v, 2)
    finally:
        if server is not None:
            server.__exit__(None, None, None)
    measured = [b for b in backends if f"{b}_list_p99_ms" in result]
    result["goal_met"] = all(result[f"{b}_list_p99_ms"] < 50 and result[f"{b}_search_p99_ms"] < 50 for b in measured)
    return result
