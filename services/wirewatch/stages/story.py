"""story stage: which story an alerting article belongs to, and what it changes there.

In:  an ``enriched`` payload (schemas/enriched.schema.json; ``places`` read when present) and the
     candidate stories (``Story``: recent ones, plus the one already holding this article).
Out: ``match`` -> the candidate this article reports on, or None (a new story: ``new_story``);
     ``attach`` -> the story with the article added, and the figures it raised (``Change``).

Pure: no clock, no I/O. Storage keeps the stories (sinks/storage.py ``assign_story``) and runs
``route.decide`` (which calls these) under a lock, so every worker sees one consistent set.

Articles about the same event form one story when, within ``window`` of the story's last article:
    near-duplicate text   MinHash estimate of the Jaccard similarity of 3-word shingles of the
                          title and lead >= NEAR_DUPLICATE (outlets republishing wire copy), or
    same headline terms   the titles share >= 2 content words and most of the shorter title's
                          (casualty and toll words don't count: "toll rises to 19" is not a topic),
                          and no conflicting places, or
    shared place          a shared city/region (not just a country) and some headline or text overlap.
Two articles naming only different countries never join, whatever the text says.

Candidate index: ``keys(article)`` and ``story_keys(state)`` are the strings storage files
stories under (table story_keys) so that only stories sharing a key with the article are loaded
and scored. Exact, not approximate: every story that ``score`` could give more than 0 shares a key
(each way of matching above needs one of: a pair of equal MinHash positions, a pair of shared
headline words, a shared place), so the decisions are the same as scoring every open story.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Iterable

NEAR_DUPLICATE = 0.5
TITLE_OVERLAP = 0.6
PLACE_TITLE_OVERLAP = 0.34
PLACE_TEXT_OVERLAP = 0.2
DEFAULT_WINDOW = timedelta(hours=48)

_PERMUTATIONS = 64
_PRIME = (1 << 61) - 1
# Fixed seeds, not Python's hash(): signatures are stored and compared across processes.
_COEFFS = [((i * 0x9E3779B97F4A7C15 + 1) % _PRIME | 1, (i * 0xC2B2AE3D27D4EB4F + 7) % _PRIME) for i in range(_PERMUTATIONS)]
_LEAD_WORDS = 80
_KEEP_SIGNATURES = 8  # the first article's, then the most recent ones: wording drifts as a story ages
_KEEP_MEMBERS = 50  # members that raised no alert beyond this are counted, not listed

_WORD = re.compile(r"\w+", re.UNICODE)
# Words that say nothing about which event it is: function words and the vocabulary of tolls.
_STOP = frozenset("""
a an the of in on at to for from by with and or but as is are was were be been has have had it its
this that these those after before over under into near amid during says said say new latest live
update updates least more than about nearly some dozens dozen hundreds scores people person least
killed kill kills killing dead death deaths die dies died toll tolls rise rises rose risen climbs
climbed climb reach reaches reached injured injures injuring wounded wound wounds hurt missing
casualties casualty victims leaves leave left least now
le la les de des du un une et en au aux par pour sur dans morts mort blessés bilan
""".split())


def _tokens(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text or "")]


def _content(title: str | None) -> frozenset[str]:
    return frozenset(w for w in _tokens(title or "") if w not in _STOP and not w.isdigit())


def signature(text: str) -> list[int]:
    """MinHash of the 3-word shingles of `text` (fewer words: the words themselves)."""
    words = _tokens(text)
    shingles = {" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))} if words else {""}
    hashes = [zlib.crc32(s.encode()) for s in shingles]
    return [min((a * h + b) % _PRIME for h in hashes) for a, b in _COEFFS]


def similarity(a: list[int], b: list[int]) -> float:
    if not a or not b or len(a) != len(b):
        return 0.0
    return sum(x == y for x, y in zip(a, b)) / len(a)


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 date or date-time as an aware UTC datetime (naive = UTC); None if unreadable."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        t = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(UTC)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ArticleView:
    """What story matching reads from an enriched article."""

    canonical_url: str
    url: str
    link_id: str
    sitename: str | None
    title: str | None
    at: datetime  # when it was published (else fetched): the story window is on the news' clock
    signature: tuple[int, ...]
    title_words: frozenset[str]
    places: frozenset[str]  # lower-case names of places finer than a country
    countries: frozenset[str]  # ISO 3166 alpha-2, upper case
    figures: dict = field(hash=False, compare=False)


def view(enriched: dict) -> ArticleView:
    title = enriched.get("title") or ""
    lead = " ".join((enriched.get("text") or "").split()[:_LEAD_WORDS])
    fetched = parse_time(enriched.get("fetched_at")) or datetime(1970, 1, 1, tzinfo=UTC)
    published = parse_time(enriched.get("published"))
    # A date-only or future "published" is less precise than the fetch time it cannot follow.
    at = published if published is not None and published <= fetched and len(str(enriched.get("published"))) > 10 else fetched
    places, countries = set(), set()
    for p in enriched.get("places") or []:  # added by enrichment when it knows places; optional
        if not isinstance(p, dict):
            continue
        code = p.get("country_code")
        if isinstance(code, str) and len(code) == 2:
            countries.add(code.upper())
        name = p.get("name")
        if isinstance(name, str) and name.strip() and p.get("kind") != "country":
            places.add(name.strip().casefold())
    return ArticleView(
        canonical_url=enriched["canonical_url"], url=enriched.get("url") or enriched["canonical_url"],
        link_id=enriched.get("link_id") or "", sitename=enriched.get("sitename"), title=enriched.get("title"),
        at=at, signature=tuple(signature(f"{title} {lead}")), title_words=_content(title),
        places=frozenset(places), countries=frozenset(countries), figures=dict(enriched.get("figures") or {}),
    )


@dataclass
class Story:
    """One event. ``state`` is plain JSON (stored as is); the helpers below read and write it."""

    story_id: str
    first_at: datetime
    last_at: datetime
    state: dict

    @property
    def members(self) -> list[dict]:
        return self.state.setdefault("members", [])

    def member(self, canonical_url: str) -> dict | None:
        return next((m for m in self.members if m["canonical_url"] == canonical_url), None)

    @property
    def figures(self) -> dict:
        """{category: {"count", "url", "sitename"}}: the highest figure any member reported."""
        return self.state.setdefault("figures", {})

    def to_row(self) -> dict:
        return {"story_id": self.story_id, "first_at": self.first_at, "last_at": self.last_at,
                "title": self.state.get("title"), "state": self.state}

    @classmethod
    def from_row(cls, row: dict) -> "Story":
        return cls(row["story_id"], parse_time(row["first_at"]), parse_time(row["last_at"]), row["state"])  # type: ignore[arg-type]


@dataclass(frozen=True)
class Change:
    category: str
    previous: int | None
    current: int


def story_id(first: ArticleView) -> str:
    # From the first article, so a crash before the story was saved re-creates the same id.
    return "s-" + hashlib.sha256(first.canonical_url.encode()).hexdigest()[:20]


def _overlap(a: frozenset[str], b: frozenset[str]) -> tuple[int, float]:
    shared = len(a & b)
    return shared, (shared / min(len(a), len(b)) if a and b else 0.0)


def score(article: ArticleView, story: Story, window: timedelta = DEFAULT_WINDOW) -> float:
    """> 0 when `article` reports on `story` (higher = closer); 0 when it does not."""
    if article.at > story.last_at + window or article.at < story.first_at - window:
        return 0.0
    st = story.state
    text = max((similarity(list(article.signature), s) for s in st.get("signatures", [])), default=0.0)
    shared_words, title = max(
        (_overlap(article.title_words, frozenset(t)) for t in st.get("titles", [])), default=(0, 0.0)
    )
    places, countries = set(st.get("places", [])), set(st.get("countries", []))
    shared_place = bool(article.places & places)
    conflict = bool(article.countries and countries and not article.countries & countries)
    if conflict and text < NEAR_DUPLICATE + 0.2:
        return 0.0
    place_conflict = bool(article.places and places and not shared_place)
    if text >= NEAR_DUPLICATE:
        return 2.0 + text
    if shared_words >= 2 and title >= TITLE_OVERLAP and not place_conflict:
        return 1.0 + title + text
    if shared_place and (title >= PLACE_TITLE_OVERLAP or text >= PLACE_TEXT_OVERLAP):
        return 0.5 + title + text
    return 0.0


def match(article: ArticleView, candidates: Iterable[Story], window: timedelta = DEFAULT_WINDOW) -> Story | None:
    """The candidate story `article` belongs to: the one already holding it, else the best scoring."""
    candidates = list(candidates)
    for s in candidates:
        if s.member(article.canonical_url) is not None:
            return s
    scored = [(score(article, s, window), s) for s in candidates]
    scored = [(sc, s) for sc, s in scored if sc > 0]
    if not scored:
        return None
    # Ties go to the older story, so every worker and every replay picks the same one.
    return max(scored, key=lambda x: (x[0], -x[1].first_at.timestamp(), x[1].story_id))[1]


def new_story(article: ArticleView) -> Story:
    return Story(story_id(article), article.at, article.at, {
        "title": article.title, "signatures": [], "titles": [], "places": [], "countries": [],
        "figures": {}, "members": [], "size": 0, "rules": {},
    })


def _count(figures: dict, category: str) -> int | None:
    f = figures.get(category)
    return f.get("count") if isinstance(f, dict) else None


def attach(story: Story, article: ArticleView) -> list[Change]:
    """Add `article` to `story` (in place; idempotent) and return the figures it raised."""
    st = story.state
    changes: list[Change] = []
    for cat, f in sorted(article.figures.items()):
        n = _count(article.figures, cat)
        if n is None:
            continue
        prev = _count(st["figures"], cat)
        if prev is None or n > prev:
            changes.append(Change(cat, prev, n))
            st["figures"][cat] = {"count": n, "url": article.canonical_url, "sitename": article.sitename}
    existing = story.member(article.canonical_url)
    entry = {"canonical_url": article.canonical_url, "url": article.url, "link_id": article.link_id,
             "sitename": article.sitename, "title": article.title, "at": _iso(article.at),
             "figures": {c: _count(article.figures, c) for c in article.figures if _count(article.figures, c) is not None}}
    if existing is not None:
        existing.update({k: v for k, v in entry.items() if k != "at"})  # a revised article
    else:
        st["size"] = st.get("size", 0) + 1
        st["members"].append({**entry, "alerts": []})
        sig = list(article.signature)
        st["signatures"] = (st["signatures"][:1] + st["signatures"][1:][-(_KEEP_SIGNATURES - 2):] + [sig])[:_KEEP_SIGNATURES]
        st["titles"] = (st["titles"] + [sorted(article.title_words)])[-_KEEP_SIGNATURES:]
        st["places"] = sorted(set(st["places"]) | article.places)
        st["countries"] = sorted(set(st["countries"]) | article.countries)
        quiet = [m for m in st["members"] if not m.get("alerts")]
        if len(quiet) > _KEEP_MEMBERS:  # keep the story row bounded on a story everyone covers
            drop = quiet[0]["canonical_url"]
            st["members"] = [m for m in st["members"] if m["canonical_url"] != drop or m.get("alerts")]
    story.first_at = min(story.first_at, article.at)
    story.last_at = max(story.last_at, article.at)
    return changes


# -- candidate index -----------------------------------------------------------------------------

# Groups of MinHash positions: 29 pairs and 2 triples, 31 groups over the 64 positions. Text
# similarity >= NEAR_DUPLICATE means >= 32 equal positions; 32 positions in 31 groups put two in
# one group (pigeonhole), so near-duplicates always share a key made of a pair within a group.
# Pairs, not single positions: unrelated news shares the odd common shingle ("the death toll"),
# and a single equal position would make most stories candidates.
_GROUPS = [(i, i + 1) for i in range(0, 58, 2)] + [(58, 59, 60), (61, 62, 63)]
_BAND_PAIRS = [(g[a], g[b]) for g in _GROUPS for a in range(len(g)) for b in range(a + 1, len(g))]
assert len(_GROUPS) < NEAR_DUPLICATE * _PERMUTATIONS and sorted(p for g in _GROUPS for p in g) == list(range(_PERMUTATIONS))


def _signature_keys(sig: Iterable[int]) -> set[str]:
    sig = list(sig)
    if len(sig) != _PERMUTATIONS:
        return set()
    return {f"m{i}.{j}:{sig[i]:x}.{sig[j]:x}" for i, j in _BAND_PAIRS}


def _title_keys(words: Iterable[str]) -> set[str]:
    # The headline path needs >= 2 shared words, so a shared pair of words is necessary.
    w = sorted(set(words))
    return {f"t:{w[a]} {w[b]}" for a in range(len(w)) for b in range(a + 1, len(w))}


def keys(article: ArticleView) -> set[str]:
    """What `article` is looked up (and, once attached, filed) under."""
    return (_signature_keys(article.signature) | _title_keys(article.title_words)
            | {f"p:{p}" for p in article.places})


def story_keys(state: dict) -> set[str]:
    """What a stored story is filed under (from its state: for a database made before the index)."""
    out: set[str] = set()
    for sig in state.get("signatures") or []:
        out |= _signature_keys(sig)
    for words in state.get("titles") or []:
        out |= _title_keys(words)
    return out | {f"p:{p}" for p in state.get("places") or []}


def sources(story: Story, limit: int = 20) -> list[dict]:
    """The members that reported a figure, as {url, sitename, figures}: who said what."""
    out = [{"url": m["canonical_url"], "sitename": m.get("sitename"), "figures": m.get("figures") or {}}
           for m in story.members if m.get("figures")]
    return out[:limit]
