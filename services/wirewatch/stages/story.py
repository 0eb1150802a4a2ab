"""story stage: which story an alerting article belongs to, and what it changes there.

In:  an ``enriched`` payload (schemas/enriched.schema.json; ``places`` read when present) and the
     candidate stories (``Story``: recent ones, plus the one already holding this article).
Out: ``match`` -> the candidate this article reports on, or None (a new story: ``new_story``);
     ``attach`` -> the story with the article added, and the figures it raised (``Change``).

Pure: no clock, no I/O. Storage keeps the stories (sinks/storage.py ``assign_story``) and runs
``route.decide`` (which calls these) under a lock, so every worker sees one consistent set.

Articles about the same event form one story when, within ``window`` of the story's last article:
    near-duplicate text   MinHash estimate (64 independent hash functions) of the Jaccard
                          similarity of 3-word shingles of the headline and lead >= NEAR_DUPLICATE
                          (outlets republishing wire copy), or
    same headline terms   the headlines share >= 2 content words and most of the shorter one's,
                          and no conflicting places, or
    shared place          a shared city (not a state or country) and some headline or text overlap, or
    shared name           a proper noun of both headlines ("Immokalee", "Libby Lake") and half the
                          shorter headline or a shared city, or
    same toll             the same killed/injured figures and a shared city or headline word (a
                          small toll also needs both).
Headline terms are word stems (Snowball: en, fr, ar) with the outlet's name cut from the title
(``headline``) and without the words that name no event in particular: function words, the
casualty lexicon's vocabulary, the kind of event ("shooting"), days and directions. A place
counts where the article names it as a place: not only in the outlet's part of the title, not as
a street or a crossing ("21st & Cleveland"); a state ("Florida") tells events apart but never
joins them. Places conflict when both leads name where it happened and neither names the other's.
Two articles naming only different countries never join, whatever the text says.

Follow-ups: after the window, up to ``follow_up`` later, an article joins an expired story only on
strong evidence (``follow_up_score``): a name in both headlines that is not a gazetteer place,
and the same toll with a second name or a rare toll, or two full names (a victim's, the venue's)
whatever the toll. route.decide then raises no "new" alert, and an update only for a rising toll.

Candidate index: ``keys(article)`` and ``story_keys(state)`` are the strings storage files
stories under (table story_keys) so that only stories sharing a key with the article are loaded
and scored. Exact, not approximate: every story that ``score`` could give more than 0 shares a key
(each way of matching above needs one of: a pair of equal MinHash positions, a pair of shared
headline words, a shared place, a shared name, a shared headline word with a toll figure), so the
decisions are the same as scoring every open story. Keys starting "f:" (a name with a toll
figure, a pair of full names) also find expired stories, for follow-ups.
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Iterable
from urllib.parse import urlsplit

NEAR_DUPLICATE = 0.5
TITLE_OVERLAP = 0.6
PLACE_TITLE_OVERLAP = 0.34
PLACE_TEXT_OVERLAP = 0.2
NAME_TITLE_OVERLAP = 0.5  # headlines sharing a proper noun: half of the shorter one's words
DEFAULT_WINDOW = timedelta(hours=48)

_PERMUTATIONS = 64
# One independent random hash function per position: the position's 4 bytes of the SHAKE-128
# digest of the shingle (not Python's hash(): signatures are stored and compared across
# processes). Hash functions that are not independent (coefficients growing with the position, as
# before) let one common shingle win most positions and inflate every estimate. SHAKE gives all
# 64 in one C call per shingle, which is also three times faster than 64 multiplications each.
_SIGNATURE = struct.Struct(f"<{_PERMUTATIONS}I")
_LEAD_WORDS = 80
_LEAD_CHARS = 400  # places named this early (after the headline) say where it happened; later ones may be context
_KEEP_SIGNATURES = 8  # the first article's, then the most recent ones: wording drifts as a story ages
_KEEP_MEMBERS = 50  # members that raised no alert beyond this are counted, not listed

_WORD = re.compile(r"\w+", re.UNICODE)
# Words that say nothing about which event it is, beyond the casualty lexicon's own vocabulary
# (``_ignored``): function words, news furniture, and the kind of event itself ("shooting" is in
# every headline about a shooting, whichever shooting it is).
_STOP = frozenset("""
a an the of in on at to for from by with and or but as is are was were be been has have had it its
this that these those after before over under into near amid during says said say new latest live
update updates least more than about nearly some dozens dozen hundreds scores people person least
killed kill kills killing dead death deaths die dies died toll tolls rise rises rose risen climbs
climbed climb reach reaches reached injured injures injuring wounded wound wounds hurt missing
casualties casualty victims leaves leave left least now
shot shots shoot shoots shooting shootings gunfire gunshot gunshots gunman gunmen gun guns armed
stabbing stabbed stab deadly fatal fatally critical critically seriously hospital old aged year
accident accidental accidentally mishap apparent murder murders murdered homicide homicides slaying
slayings suicide himself herself themselves self incident
news video photos watch breaking report reports police updated
monday tuesday wednesday thursday friday saturday sunday weekend today tonight yesterday night
morning afternoon evening early late north south east west northeast northwest southeast southwest
ne nw se sw side county co parish township
le la les de des du un une et en au aux par pour sur dans morts mort blessés bilan
lundi mardi mercredi jeudi vendredi samedi dimanche nord sud est ouest
fusillade fusillades tir tirs balle balles coups feu arme armé meurtrier meurtrière mortel mortelle
في من على إلى مقتل قتل قتلى قتيل جرحى جريح إصابة مصرع إطلاق النار نار هجوم مسلح
""".split())
_STEMMERS = {"en": "english", "fr": "french", "ar": "arabic"}
# Lexicon entries whose words are the vocabulary of tolls and victims, not of one event.
_LEXICON_KEYS = ("categories", "split_fatal", "victims", "numbers", "vague", "units", "stopwords", "aux", "qualifiers")
# A title's trailing segments after one of these may name the outlet ("... - Action News 5 - Memphis").
_TITLE_SEPARATORS = re.compile(r"\s+[-|–—•:]{1,2}\s+|\s*\|\s*")
# A place named as a street or a crossing is not the place of the event: "near 21st & Cleveland".
_STREET_AFTER = re.compile(r"\s+(?:Street|St\b|Avenue|Ave\b|Road|Rd\b|Boulevard|Blvd|Lane|Ln\b|Drive|Dr\b|"
                           r"Parkway|Pkwy|Highway|Hwy|Court|Ct\b|Place|Pl\b|Way|Terrace|Circle|Square|Rue|Avenue)")
_STREET_BEFORE = re.compile(r"(?:\b\d+(?:st|nd|rd|th)|\b(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Drive|Dr|"
                            r"Lane|Way|Highway)\.?|\b(?:rue|avenue|boulevard))\s*(?:&|and|at|/)?\s*$", re.IGNORECASE)


def _lexicon_words(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield from _WORD.findall(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _lexicon_words(k)
            yield from _lexicon_words(v)
    elif isinstance(value, list):
        for v in value:
            yield from _lexicon_words(v)


@lru_cache(maxsize=8)
def _stemmer(language: str):
    import snowballstemmer  # Snowball's light stemmers for en/fr/ar: "shootings" -> "shoot", pure Python

    name = _STEMMERS.get(language)
    return snowballstemmer.stemmer(name) if name else None


@lru_cache(maxsize=65536)
def _stem(word: str, language: str) -> str:
    st = _stemmer(language)
    return st.stemWord(word) if st is not None else word


@lru_cache(maxsize=8)
def _ignored(language: str) -> frozenset[str]:
    """Stems that never make two headlines one event: _STOP and the casualty lexicon's vocabulary."""
    import yaml

    from .enrich.casualties import LEXICON_DIR

    words = set(_STOP)
    path = LEXICON_DIR / f"{language}.yaml"
    if path.is_file():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key in _LEXICON_KEYS:
            words.update(w.casefold() for w in _lexicon_words(data.get(key)))
    return frozenset(_stem(w, language) for w in words) | frozenset(words)


def _lang(language: str | None) -> str:
    return (language or "en").split("-")[0].split("_")[0].lower()


def _tokens(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text or "")]


def _content(title: str | None, language: str | None = None) -> frozenset[str]:
    """The stems of a headline's words that can tell one event from another."""
    lang = _lang(language)
    ignored = _ignored(lang)
    out = set()
    for w in _tokens(title or ""):
        if w in ignored or len(w) < 2 or any(c.isdigit() for c in w):
            continue
        stem = _stem(w, lang)
        if stem not in ignored:
            out.add(stem)
    return frozenset(out)


def _squash(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def headline(title: str | None, url: str | None = None, sitename: str | None = None) -> str:
    """`title` without the outlet's name (and what follows it) at its end: "Five hurt in shooting -
    Action News 5 - Memphis" -> "Five hurt in shooting" when the site is wmcactionnews5.com (or its
    sitename says so). A segment names the outlet when it is the sitename, or one of its words of 3+
    letters is in the site's domain name."""
    title = (title or "").strip()
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    host = (urlsplit(url or "").hostname or "").removeprefix("www.")
    domain = _squash(host.rsplit(".", 1)[0]) if "." in host else _squash(host)
    site = _squash(sitename or "")
    for i, seg in enumerate(parts[1:], start=1):
        sq = _squash(seg)
        words = [_squash(w) for w in _WORD.findall(seg)]
        if sq and ((site and (sq == site or site in sq)) or (domain and (sq in domain or domain in sq))
                   or (domain and any(len(w) >= 3 and not w.isdigit() and w in domain for w in words))):
            cut = title.find(seg, len(parts[0]))
            head = title[:cut] if cut > 0 else " ".join(parts[:i])
            return _TITLE_SEPARATORS.sub(" ", head).strip(" -|–—•:") or title
    return title


def shingles(text: str) -> set[str]:
    """The 3-word shingles of `text` (fewer words: the words themselves)."""
    words = _tokens(text)
    return {" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))} if words else {""}


def signature(text: str) -> list[int]:
    """MinHash of ``shingles(text)``: position i keeps the least of hash function i over them, so
    the share of equal positions of two signatures estimates the Jaccard similarity of the sets."""
    rows = [_SIGNATURE.unpack(hashlib.shake_128(s.encode()).digest(_SIGNATURE.size)) for s in shingles(text)]
    return list(map(min, zip(*rows)))


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
    places: frozenset[str]  # lower-case names of cities (and places finer than a state) named as places
    countries: frozenset[str]  # ISO 3166 alpha-2, upper case
    figures: dict = field(hash=False, compare=False)
    regions: frozenset[str] = frozenset()  # lower-case names of states, provinces, regions
    lead_places: frozenset[str] = frozenset()  # of `places`, those named in the headline or the lead
    names: frozenset[str] = frozenset()  # names in the headline the text writes as proper nouns (stems)
    lead_names: frozenset[str] = frozenset()  # names of two words or more in the lead ("Marta Velasquez")


def _named_as_place(doc: str, form: str, skip: tuple[int, int]) -> bool:
    """Whether `form` is named somewhere in `doc` as a place: outside `skip` (the outlet's part of
    the title) and not as a street or a crossing ("Cleveland Avenue", "21st & Cleveland")."""
    if not form:
        return False
    for m in re.finditer(r"(?<!\w)" + re.escape(form) + r"(?!\w)", doc):
        if skip[0] <= m.start() < skip[1]:
            continue
        if _STREET_AFTER.match(doc, m.end()) or _STREET_BEFORE.search(doc, max(0, m.start() - 24), m.start()):
            continue
        return True
    return False


def _body_words(body: str) -> tuple[frozenset[str], frozenset[str]]:
    """(words the body writes in lower case, capitalised words it writes inside a sentence)."""
    lower, inside = set(), set()
    # A dateline names the place however it is written: "HARTFORD —", "Hartford, Conn. —".
    dateline = _DATELINE.match(body)
    if dateline:
        inside.update(w.capitalize() if w.isupper() else w for w in _WORD.findall(dateline.group(1)))
    for m in _WORD.finditer(body):
        w = m.group()
        if w.islower():
            lower.add(w)
        elif w[:1].isupper() and not _SENTENCE_START.search(body, max(0, m.start() - 4), m.start()):
            inside.add(w)
    return frozenset(lower), frozenset(inside)


_DATELINE = re.compile(r"\s*((?:[A-Z][\w'.]*\s?){1,4}?)\s*(?:,|\s[—–-]|\()")
_SENTENCE_START = re.compile(r"(?:^|[.!?:\"“”\n])\s*$")


def _proper_nouns(head: str, words: tuple[frozenset[str], frozenset[str]], language: str | None) -> frozenset[str]:
    """The names in `head` that the body (``_body_words``) writes as proper nouns: capitalised
    inside a sentence and never in lower case ("Immokalee", "Libby Lake"), as stems, one entry per
    name (consecutive such words are one name). Such a name shared by two headlines names the
    event (a neighbourhood, a venue, a person), however rare the word."""
    lang = _lang(language)
    ignored = _ignored(lang)
    lower, inside = words
    names, run = set(), []
    for m in _WORD.finditer(head):
        w = m.group()
        proper = (w in inside and w.lower() not in lower and len(w) >= 3 and w.casefold() not in ignored
                  and not any(c.isdigit() for c in w))
        if proper:
            gap = head[run[-1][1]:m.start()] if run else ""
            if run and gap.strip():  # "Memphis, Tennessee" is two names
                names.add(" ".join(x for x, _ in run))
                run = []
            run.append((_stem(w.casefold(), lang), m.end()))
            continue
        if run:
            names.add(" ".join(x for x, _ in run))
            run = []
    if run:
        names.add(" ".join(x for x, _ in run))
    return frozenset(n for n in names if n not in ignored)


def view(enriched: dict) -> ArticleView:
    title = enriched.get("title") or ""
    url = enriched.get("canonical_url") or enriched.get("url")
    head = headline(title, url, enriched.get("sitename"))
    lead = " ".join((enriched.get("text") or "").split()[:_LEAD_WORDS])
    fetched = parse_time(enriched.get("fetched_at")) or datetime(1970, 1, 1, tzinfo=UTC)
    published = parse_time(enriched.get("published"))
    # A date-only or future "published" is less precise than the fetch time it cannot follow.
    at = published if published is not None and published <= fetched and len(str(enriched.get("published"))) > 10 else fetched
    # Places: offsets are into enrich's analysed text (title, blank line, text).
    doc = f"{title.strip()}\n\n{enriched.get('text') or ''}" if title.strip() else (enriched.get("text") or "")
    tail = (len(head), len(title.strip())) if title.strip() else (0, 0)
    places, regions, countries, lead_places = set(), set(), set(), set()
    for p in enriched.get("places") or []:  # added by enrichment when it knows places; optional
        if not isinstance(p, dict):
            continue
        code = p.get("country_code")
        if isinstance(code, str) and len(code) == 2:
            countries.add(code.upper())
        name = p.get("name")
        if not isinstance(name, str) or not name.strip() or p.get("kind") == "country":
            continue
        start, end = p.get("start"), p.get("end")
        form = doc[start:end] if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(doc) else name
        if not _named_as_place(doc, form, tail):
            continue
        # A state or province names no event by itself: it only tells two events apart.
        key = name.strip().casefold()
        (regions if p.get("kind") == "region" else places).add(key)
        if p.get("kind") != "region" and _named_as_place(doc[: tail[1] + 2 + _LEAD_CHARS], form, tail):
            lead_places.add(key)  # named in the headline or the first lines: where it happened
    body_words = _body_words(enriched.get("text") or "")
    return ArticleView(
        canonical_url=enriched["canonical_url"], url=enriched.get("url") or enriched["canonical_url"],
        link_id=enriched.get("link_id") or "", sitename=enriched.get("sitename"), title=enriched.get("title"),
        at=at, signature=tuple(signature(f"{head} {lead}")), title_words=_content(head, enriched.get("language")),
        places=frozenset(places), countries=frozenset(countries), figures=dict(enriched.get("figures") or {}),
        regions=frozenset(regions), lead_places=frozenset(lead_places),
        names=_proper_nouns(head, body_words, enriched.get("language")),
        lead_names=frozenset(n for n in _proper_nouns(lead, body_words, enriched.get("language")) if " " in n),
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


_TOLL = ("killed", "injured")
DISTINCT_TOLL = 3  # killed + injured agreed on, from which a toll alone is rare enough to tell events apart


def toll(figures: dict) -> tuple[int | None, ...]:
    """(killed, injured) as reported; None where the article gives no figure."""
    return tuple(_count(figures, c) for c in _TOLL)


def _same_toll(a: tuple, tolls: Iterable) -> int:
    """How many people the best-agreeing toll of `tolls` shares with `a` (0: none agrees).

    Two tolls agree when every category both give is equal and they give at least one."""
    best = 0
    for b in tolls:
        both = [(x, y) for x, y in zip(a, b) if x is not None and y is not None]
        if both and all(x == y for x, y in both):
            best = max(best, 1 + sum(x for x, _ in both))
    return best


def expired(article: ArticleView, story: Story, window: timedelta = DEFAULT_WINDOW) -> bool:
    """Whether `article` comes after `story`'s window closed: it can join only as a follow-up."""
    return article.at > story.last_at + window


def follow_up_score(article: ArticleView, story: Story) -> float:
    """> 0 when `article` is a follow-up of `story` however old (a trial, a funeral, an arrest):
    the same toll and a shared name of the event (a proper noun of both headlines, or the place
    named in both leads: then the toll must be one that is rare to share), or the same two names
    (a victim's first and last name). Stricter than matching in the window: a wrong join here
    silences a new event."""
    st = story.state
    lead = set(st.get("lead_places", []))
    places = set(st.get("places", []))
    if (article.lead_places and lead and not article.lead_places & places and not lead & article.places) \
            or (article.regions and st.get("regions") and not article.regions & set(st["regions"])) \
            or (article.countries and st.get("countries") and not article.countries & set(st["countries"])):
        return 0.0
    # Names that are not the place itself: "Englewood" or "Memphis" has news every week; one
    # place name and the same toll is a follow-up only when the toll is rare ("4 wounded" is not).
    place_words = _place_words(article) | set(st.get("place_words", []))
    mine = article.names | article.lead_names
    shared = max((mine & set(n) for n in st.get("name_sets", [])), key=len, default=set())
    shared = {n for n in shared if n not in place_words}
    # One of them in both headlines: a name in passing (a police chief, a neighbourhood) is no event.
    if not shared & article.names & set(st.get("names", [])):
        return 0.0
    long_names = sum(" " in n for n in shared)
    agreed = _same_toll(toll(article.figures), st.get("tolls", []))
    if agreed and (long_names or len(shared) >= 2 or agreed - 1 >= 2 * DISTINCT_TOLL):
        return 0.02 + 0.001 * min(len(shared), 9)  # below any match in the window
    if long_names >= 2:  # a victim's full name and the venue's, say: the toll may have changed
        return 0.01 + 0.001 * min(len(shared), 9)
    return 0.0


def _place_words(article: ArticleView) -> set[str]:
    """The gazetteer's places of `article` as names (stems, as ``names`` holds them)."""
    return {" ".join(_stem(w, "en") for w in _tokens(p)) for p in article.places | article.regions}


def score(article: ArticleView, story: Story, window: timedelta = DEFAULT_WINDOW,
          follow_up: timedelta | None = None) -> float:
    """> 0 when `article` reports on `story` (higher = closer); 0 when it does not. After the
    window, only a follow-up within `follow_up` of the story's last article (None: none) scores."""
    if article.at < story.first_at - window:
        return 0.0
    if expired(article, story, window):
        if follow_up is None or article.at > story.last_at + follow_up:
            return 0.0
        return follow_up_score(article, story)
    st = story.state
    text = max((similarity(list(article.signature), s) for s in st.get("signatures", [])), default=0.0)
    shared_words, title = max(
        (_overlap(article.title_words, frozenset(t)) for t in st.get("titles", [])), default=(0, 0.0)
    )
    places, countries = set(st.get("places", [])), set(st.get("countries", []))
    regions = set(st.get("regions", []))
    shared_place = bool(article.places & places)
    conflict = bool(article.countries and countries and not article.countries & countries)
    if conflict and text < NEAR_DUPLICATE + 0.2:
        return 0.0
    # Places conflict when each side names where it happened and neither names the other's place.
    lead = set(st.get("lead_places", []))
    place_conflict = bool((article.lead_places and lead and not article.lead_places & places
                           and not lead & article.places)
                          or (article.regions and regions and not article.regions & regions))
    shared_names = article.names & set(st.get("names", []))
    if text >= NEAR_DUPLICATE:
        return 2.0 + text
    if shared_words >= 2 and title >= TITLE_OVERLAP and not place_conflict:
        return 1.0 + title + text
    if shared_place and (title >= PLACE_TITLE_OVERLAP or text >= PLACE_TEXT_OVERLAP):
        return 0.5 + title + text
    if shared_names and not place_conflict and (title >= NAME_TITLE_OVERLAP or shared_place):
        return 0.4 + title + text
    # The same toll is evidence too: with a shared place or headline word, and alone once it is
    # large enough to be rare ("1 killed" is every day's news; "2 killed, 7 wounded" is not).
    agreed = _same_toll(toll(article.figures), st.get("tolls", []))
    if agreed and not place_conflict and (shared_place or shared_words):
        if agreed - 1 >= DISTINCT_TOLL or (shared_place and shared_words):
            return 0.25 + title + text
    # A full name in both leads (a victim, a venue, a street's neighbourhood) that is no gazetteer
    # place, with the same toll, a shared city or a headline word.
    lead_names = {n for n in (article.names | article.lead_names) & set(st.get("lead_names", [])) if " " in n}
    if lead_names and not place_conflict:
        lead_names -= _place_words(article) | set(st.get("place_words", []))
        if lead_names and (agreed or shared_place or shared_words or len(lead_names) >= 2):
            return 0.2 + title + text
    return 0.0


def match(article: ArticleView, candidates: Iterable[Story], window: timedelta = DEFAULT_WINDOW,
          follow_up: timedelta | None = None) -> Story | None:
    """The candidate story `article` belongs to: the one already holding it, else the best scoring
    (an open story before an expired one that `article` follows up)."""
    candidates = list(candidates)
    for s in candidates:
        if s.member(article.canonical_url) is not None:
            return s
    scored = [(score(article, s, window, follow_up), s) for s in candidates]
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
        st["regions"] = sorted(set(st.get("regions", [])) | article.regions)
        st["lead_places"] = sorted(set(st.get("lead_places", [])) | article.lead_places)
        st["names"] = sorted(set(st.get("names", [])) | article.names)
        st["lead_names"] = sorted(set(st.get("lead_names", [])) | {n for n in article.names | article.lead_names if " " in n})
        st["place_words"] = sorted(set(st.get("place_words", [])) | _place_words(article))
        if article.names or article.lead_names:
            st["name_sets"] = (st.get("name_sets", []) + [sorted(article.names | article.lead_names)])[-_KEEP_SIGNATURES:]
        t = list(toll(article.figures))
        if any(x is not None for x in t) and t not in st.setdefault("tolls", []):
            st["tolls"] = (st["tolls"] + [t])[-_KEEP_SIGNATURES:]
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
    return _pairs("t", words)


def _toll_parts(t: Iterable) -> list[str]:
    # Two tolls agree only if some category both give is equal: they share one of these.
    return [f"{c[0]}{n}" for c, n in zip(_TOLL, t) if n is not None]


def _toll_keys(prefix: str, names: Iterable[str], tolls: Iterable) -> set[str]:
    parts = {p for t in tolls for p in _toll_parts(t)}
    return {f"{prefix}:{n}|{p}" for n in names for p in parts}


def _pairs(prefix: str, words: Iterable[str]) -> set[str]:
    w = sorted(set(words))
    return {f"{prefix}:{w[a]} {w[b]}" for a in range(len(w)) for b in range(a + 1, len(w))}


def keys(article: ArticleView) -> set[str]:
    """What `article` is looked up (and, once attached, filed) under. Keys starting "f:" also
    find expired stories (follow-ups); the others only stories still in the window."""
    t = [toll(article.figures)]
    return (_signature_keys(article.signature) | _title_keys(article.title_words)
            | {f"p:{p}" for p in article.places} | {f"n:{n}" for n in article.names | article.lead_names}
            | _toll_keys("w", article.title_words, t)
            | _toll_keys("f", article.names | article.lead_names, t)
            | _pairs("f", [n for n in article.names | article.lead_names if " " in n]))


def story_keys(state: dict) -> set[str]:
    """What a stored story is filed under (from its state: for a database made before the index)."""
    out: set[str] = set()
    for sig in state.get("signatures") or []:
        out |= _signature_keys(sig)
    for words in state.get("titles") or []:
        out |= _title_keys(words)
        out |= _toll_keys("w", words, state.get("tolls") or [])
    names: set[str] = set(state.get("names") or [])
    for ns in state.get("name_sets") or []:
        out |= _pairs("f", [n for n in ns if " " in n])
        names.update(ns)
    return (out | {f"p:{p}" for p in state.get("places") or []}
            | {f"n:{n}" for n in set(state.get("names") or []) | set(state.get("lead_names") or [])}
            | _toll_keys("f", names, state.get("tolls") or []))


def sources(story: Story, limit: int = 20) -> list[dict]:
    """The members that reported a figure, as {url, sitename, figures}: who said what."""
    out = [{"url": m["canonical_url"], "sitename": m.get("sitename"), "figures": m.get("figures") or {}}
           for m in story.members if m.get("figures")]
    return out[:limit]
