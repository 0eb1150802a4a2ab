"""What story matching reads from an article: ``view(enriched)`` -> ``ArticleView``.

In:  an ``enriched`` payload (schemas/enriched.schema.json; ``places`` read when present).
Out: the article's time, MinHash signature of its headline and lead, headline terms (stems, the
     outlet's name cut: ``headline``), places named as places (cities, states, countries, and those
     in the lead), proper names of the headline and lead, people and their ages, the day it
     happened and the dates it names, and its toll (``toll``).

What it reads from the text alone is computed once per article in the pool (``features``, with
extraction and enrichment: stages/article.py) and carried on the enriched message (``story``);
``view`` then only parses it, and reads the text itself when the message has none of this code's.

Pure: no clock, no I/O (``features_version`` reads this code's own files, once). Words, names and
people come from stages/story_words.py. stages/story.py scores views against stories (the rules
are in its docstring) and re-exports the public names here (``story.view``, ``story.signature``...).
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..timeutil import iso, parse as parse_iso
from .enrich import us_places
from .story_words import _WORD, _ages, _body_words, _content, _lang, _people_of, _proper_nouns, _stem, _tokens

NEAR_DUPLICATE = 0.5  # MinHash similarity from which two texts are copies of one (stories, index)

_PERMUTATIONS = 64
# One independent random hash function per position: the position's 4 bytes of the SHAKE-128
# digest of the shingle (not Python's hash(): signatures are stored and compared across
# processes). Hash functions that are not independent (coefficients growing with the position, as
# before) let one common shingle win most positions and inflate every estimate. SHAKE gives all
# 64 in one C call per shingle, which is also three times faster than 64 multiplications each.
_SIGNATURE = struct.Struct(f"<{_PERMUTATIONS}I")
CENTRAL_MENTIONS = 3  # a person whose last name a text writes this often is who its story is about
_LEAD_WORDS = 80
_LEAD_CHARS = 400  # places named this early (after the headline) say where it happened; later ones may be context

# A title's trailing segments after one of these may name the outlet ("... - Action News 5 - Memphis").
_TITLE_SEPARATORS = re.compile(r"\s+[-|–—•:]{1,2}\s+|\s*\|\s*")
# A place named as a street or a crossing is not the place of the event: "near 21st & Cleveland".
_STREET_AFTER = re.compile(
    r"\s+(?:Street|St\b|Avenue|Ave\b|Road|Rd\b|Boulevard|Blvd|Lane|Ln\b|Drive|Dr\b|"
    r"Parkway|Pkwy|Highway|Hwy|Court|Ct\b|Place|Pl\b|Way|Terrace|Circle|Square|Rue|Avenue|"
    r"Park|School|University|College|Hospital)\b"  # "Washington Park High School" is not Washington
)
_STREET_BEFORE = re.compile(
    r"(?:\b\d+(?:st|nd|rd|th)|\b(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Drive|Dr|"
    r"Lane|Way|Highway)\.?|\b(?:rue|avenue|boulevard))\s*(?:&|and|at|/)?\s*$",
    re.IGNORECASE,
)
_WORD_CHAR = re.compile(r"\w")  # what (?<!\w) and (?!\w) test: a word character


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
    host = outlet(url)
    domain = _squash(host.rsplit(".", 1)[0]) if "." in host else _squash(host)
    site = _squash(sitename or "")
    for i, seg in enumerate(parts[1:], start=1):
        sq = _squash(seg)
        words = [_squash(w) for w in _WORD.findall(seg)]
        if sq and (
            (site and (sq == site or site in sq))
            or (domain and (sq in domain or domain in sq))
            or (domain and any(len(w) >= 3 and not w.isdigit() and w in domain for w in words))
        ):
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
    return parse_iso(value) if isinstance(value, str) else None


def _iso(t: datetime) -> str:
    # seconds: first_at/last_at are stored and compared as TEXT, so their stored shape stays as it was
    return iso(t, "seconds")


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
    figures: dict[str, Any] = field(hash=False, compare=False)
    regions: frozenset[str] = frozenset()  # lower-case names of states, provinces, regions
    lead_places: frozenset[str] = frozenset()  # of `places`, those named in the headline or the lead
    lead_regions: frozenset[str] = frozenset()  # of `regions`, those named in the headline or the lead
    names: frozenset[str] = frozenset()  # names in the headline the text writes as proper nouns (stems)
    lead_names: frozenset[str] = frozenset()  # names of two words or more in the lead ("Marta Velasquez")
    people: frozenset[str] = frozenset()  # people named early in the text, "first last" stems (``_people``)
    body_people: frozenset[str] = frozenset()  # people named anywhere in the text (matched with the same toll)
    central_people: frozenset[str] = frozenset()  # of those, the ones the text names again and again
    event_day: str | None = None  # the day the lead says it happened ("on Saturday night"), ISO date
    dates: frozenset[str] = frozenset()  # calendar dates the text names ("June 6", "Jan. 5"), ISO
    ages: frozenset[str] = frozenset()  # ages of the people the headline and lead describe ("24-year-old")
    small_places: frozenset[str] = frozenset()  # of `lead_places`, towns of fewer than SMALL_TOWN people

    @cached_property  # asked for each candidate story (and each key): the URL is parsed once
    def host(self) -> str:
        """The outlet's site (host name, no "www."): an outlet reports on its own region."""
        return outlet(self.canonical_url)


def outlet(url: str | None) -> str:
    return (urlsplit(url or "").hostname or "").removeprefix("www.")


def _named_as_place(doc: str, form: str, skip: tuple[int, int]) -> bool:
    """Whether `form` is named somewhere in `doc` as a place: outside `skip` (the outlet's part of
    the title) and not as a street or a crossing ("Cleveland Avenue", "21st & Cleveland")."""
    if not form:
        return False
    # Each whole-word occurrence of `form` in turn, as re.finditer(r"(?<!\w)form(?!\w)") gives
    # them, without compiling a pattern per place name.
    start = doc.find(form)
    while start >= 0:
        end = start + len(form)
        if (start and _WORD_CHAR.match(doc, start - 1)) or _WORD_CHAR.match(doc, end):
            start = doc.find(form, start + 1)
            continue
        if not skip[0] <= start < skip[1] and not (
            _STREET_AFTER.match(doc, end) or _STREET_BEFORE.search(doc, max(0, start - 24), start)
        ):
            return True
        start = doc.find(form, end)
    return False


def view(enriched: dict[str, Any]) -> ArticleView:
    """What story matching reads from `enriched`. What it reads from the text (``features``) comes
    from the message's ``story`` field when the same code computed it (in the pool, stages/article.py),
    so route does not read the text again; from the text itself otherwise (an older producer)."""
    at = _when(enriched)
    carried = enriched.get("story")
    read = (
        _from_features(carried)
        if isinstance(carried, dict) and carried.get("v") == features_version()
        else _read(enriched, at)
    )
    return ArticleView(
        canonical_url=enriched["canonical_url"],
        url=enriched.get("url") or enriched["canonical_url"],
        link_id=enriched.get("link_id") or "",
        sitename=enriched.get("sitename"),
        title=enriched.get("title"),
        at=at,
        figures=dict(enriched.get("figures") or {}),
        **read,
    )


def _when(enriched: dict[str, Any]) -> datetime:
    """When it was published (else fetched)."""
    fetched = parse_time(enriched.get("fetched_at")) or datetime(1970, 1, 1, tzinfo=UTC)
    published = parse_time(enriched.get("published"))
    # A date-only or future "published" is less precise than the fetch time it cannot follow.
    return (
        published
        if published is not None and published <= fetched and len(str(enriched.get("published"))) > 10
        else fetched
    )


# -- what the view reads from the text, carried from the pool to route ------------------------------

# The view's fields read from the article's text: sets of strings, then the MinHash and the day.
_SETS = (
    "title_words",
    "places",
    "countries",
    "regions",
    "lead_regions",
    "lead_places",
    "names",
    "lead_names",
    "people",
    "body_people",
    "central_people",
    "dates",
    "ages",
    "small_places",
)
# The code and data those fields are read with (add a file here when the view reads one more): this
# module, the words module, the US gazetteer (towns' sizes) and, below, the lexicons' vocabulary.
_FEATURE_SOURCES = ("story_view.py", "story_words.py", "enrich/us_places.py", "enrich/us_places.tsv")


@cache
def features_version() -> str:
    """Names the code that reads the features: a digest of its source, the US gazetteer, the
    lexicons (whose vocabulary it leaves out of headline terms) and the stemmer's version. A message whose features
    another version computed (a rolling upgrade, a change to the matching rules) is read again, so
    one process never compares features of two readings."""
    import snowballstemmer

    from .enrich.lexicon import LEXICON_DIR

    here = Path(__file__).resolve().parent
    digest = hashlib.sha256(str(getattr(snowballstemmer, "__version__", "")).encode())
    for path in [here / name for name in _FEATURE_SOURCES] + sorted(LEXICON_DIR.glob("*.yaml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def features(enriched: dict[str, Any]) -> dict[str, Any]:
    """What ``view`` reads from `enriched`'s text, as the enriched message's ``story`` field carries
    it (schemas/enriched.schema.json): sorted lists, empty ones left out, the MinHash as ints.
    Computed once per article where the CPU is (the pool, stages/article.py), not on route's loop."""
    read = _read(enriched, _when(enriched))
    out: dict[str, Any] = {"v": features_version(), "signature": list(read["signature"])}
    out.update((name, sorted(read[name])) for name in _SETS if read[name])
    if read["event_day"]:
        out["event_day"] = read["event_day"]
    return out


def _from_features(carried: dict[str, Any]) -> dict[str, Any]:
    return {
        "signature": tuple(carried["signature"]),
        "event_day": carried.get("event_day"),
        **{name: frozenset(carried.get(name) or ()) for name in _SETS},
    }


def _read(enriched: dict[str, Any], at: datetime) -> dict[str, Any]:
    """The view's fields that come from reading the text (``_SETS``, signature, event_day)."""
    title = enriched.get("title") or ""
    url = enriched.get("canonical_url") or enriched.get("url")
    head = headline(title, url, enriched.get("sitename"))
    lead = " ".join((enriched.get("text") or "").split(None, _LEAD_WORDS)[:_LEAD_WORDS])  # not every word split
    # Places: offsets are into enrich's analysed text (title, blank line, text).
    doc = f"{title.strip()}\n\n{enriched.get('text') or ''}" if title.strip() else (enriched.get("text") or "")
    tail = (len(head), len(title.strip())) if title.strip() else (0, 0)
    places: set[str] = set()
    regions: set[str] = set()
    countries: set[str] = set()
    lead_places: set[str] = set()
    lead_regions: set[str] = set()
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
        form = (
            doc[start:end] if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(doc) else name
        )
        if not _named_as_place(doc, form, tail):
            continue
        # A state or province names no event by itself: it only tells two events apart.
        key = name.strip().casefold()
        (regions if p.get("kind") == "region" else places).add(key)
        if _named_as_place(doc[: tail[1] + 2 + _LEAD_CHARS], form, tail):  # named in the headline or
            (lead_regions if p.get("kind") == "region" else lead_places).add(key)  # the first lines: where it happened
    body_words = _body_words(enriched.get("text") or "")
    place_words = {_stem(w, "en") for p in places | regions for w in _tokens(p)}  # "Chicago Sun-Times" is no one

    people, body_people, central_people = (
        frozenset(p for p in named if not set(p.split()) & place_words)
        for named in _people_of(enriched.get("text") or "", body_words, enriched.get("language"), CENTRAL_MENTIONS)
    )

    return {
        "signature": tuple(signature(f"{head} {lead}")),
        "title_words": _content(head, enriched.get("language")),
        "places": frozenset(places),
        "countries": frozenset(countries),
        "regions": frozenset(regions),
        "lead_regions": frozenset(lead_regions),
        "lead_places": frozenset(lead_places),
        "names": _proper_nouns(head, body_words, enriched.get("language")),
        "lead_names": frozenset(n for n in _proper_nouns(lead, body_words, enriched.get("language")) if " " in n),
        "people": people,
        "body_people": body_people,
        "central_people": central_people,
        "event_day": event_day(f"{head} {lead}", at, enriched.get("language")),
        "dates": named_dates(enriched.get("text") or "", at, enriched.get("language")),
        "ages": _ages(f"{head}. {enriched.get('text') or ''}"),
        "small_places": small_towns(lead_places, regions),
    }


SMALL_TOWN = 30_000  # people: a town this small has a shooting a month or fewer, a big city several a day


def small_towns(places: Iterable[str], regions: Iterable[str] = ()) -> frozenset[str]:
    """The towns of `places` that the US gazetteer (stages/enrich/us_places.py, GeoNames'
    populations) knows to have fewer than ``SMALL_TOWN`` people: the largest town of that name in
    one of `regions` (the article's states) when it names any, else the largest of that name
    anywhere. A county, or a place the gazetteer does not know, is of unknown size: not small."""
    gazetteer = us_places.load()
    states = {code for code, name in gazetteer.state_name.items() if name.casefold() in set(regions)}
    out = set()
    for p in places:
        town = (gazetteer.town(p, states) if states else None) or gazetteer.town(p)
        if town is not None and town.kind == "city" and town.population < SMALL_TOWN:
            out.add(p)
    return frozenset(out)


# How each supported language names the day something happened and a calendar date: weekdays
# (Monday first), "yesterday", "today", and month names (January first; several spellings each).
_WEEKDAYS = {
    "en": ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "ar": ("الاثنين|الإثنين", "الثلاثاء", "الأربعاء|الاربعاء", "الخميس", "الجمعة", "السبت", "الأحد|الاحد"),
}
_YESTERDAY = {"en": "yesterday|last night", "fr": "hier", "ar": "أمس|امس|البارحة"}
_TODAY = {
    "en": "today|tonight|this morning|early this",
    "fr": "aujourd'hui|aujourd’hui|ce matin|ce soir",
    "ar": "اليوم",
}
_MONTH_NAMES = {
    "en": ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
    "fr": (
        "janvier",
        "février|fevrier",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août|aout",
        "septembre",
        "octobre",
        "novembre",
        "décembre|decembre",
    ),
    "ar": (
        "يناير|كانون الثاني",
        "فبراير|شباط",
        "مارس|آذار",
        "أبريل|إبريل|ابريل|نيسان",
        "مايو|أيار",
        "يونيو|حزيران",
        "يوليو|تموز",
        "أغسطس|اغسطس|آب",
        "سبتمبر|أيلول",
        "أكتوبر|اكتوبر|تشرين الأول",
        "نوفمبر|تشرين الثاني",
        "ديسمبر|كانون الأول",
    ),
}


def _alternatives(names: Iterable[str]) -> str:
    return "|".join(f"(?P<g{i}>{n})" for i, n in enumerate(names))


def _which(m: re.Match[str]) -> int:
    """The index of the named group ``g<i>`` that matched."""
    return next(int(k[1:]) for k, v in m.groupdict().items() if k.startswith("g") and v is not None)


_PREFIX = {"ar": "[وب]?"}  # Arabic writes "and", "in" joined to the next word: "وأمس", "و٦ حزيران"
_DAY_WORDS = {
    lang: re.compile(
        rf"(?<!\w){_PREFIX.get(lang, '')}(?:{_alternatives(days)}|(?P<yesterday>{_YESTERDAY[lang]})|(?P<today>{_TODAY[lang]}))(?!\w)",
        re.IGNORECASE,
    )
    for lang, days in _WEEKDAYS.items()
}
# "June 6", "Jan. 5th" in English; "6 juin", "1er juin" in French; "6 يونيو" in Arabic (any digits).
_MONTH_DAY = {
    # (The lookahead, the months' first letters, changes no match: it lets the engine pass over
    # every other position of the lower-cased text at once.)
    "en": re.compile(
        rf"(?=[adfjmnos])(?<!\w)(?:{_alternatives(_MONTH_NAMES['en'])})[a-z]*\.?\s+(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\b(?!\s*[:%])"
    ),
    "fr": re.compile(rf"(?<!\w)(?P<day>[0-3]?\d)(?:er)?\s+(?:{_alternatives(_MONTH_NAMES['fr'])})(?!\w)"),
    "ar": re.compile(rf"(?<!\w){_PREFIX['ar']}(?P<day>[0-3]?\d)\s+(?:{_alternatives(_MONTH_NAMES['ar'])})(?!\w)"),
}


def _language(language: str | None) -> str:
    lang = _lang(language)
    return lang if lang in _WEEKDAYS else "en"  # the others are read as English


def event_day(lead: str, at: datetime, language: str | None = None) -> str | None:
    """The day `lead` says the event happened, resolved against the publication time `at`: the
    first weekday named (the latest such day on or before `at`), "yesterday" or "last night" (the
    day before), "today" or "tonight" (that day). English, French and Arabic (`language`; others
    are read as English); None when it names no day."""
    m = _DAY_WORDS[_language(language)].search(lead)
    if m is None:
        return None
    if m.group("yesterday") or m.group("today"):
        back = int(bool(m.group("yesterday")))
    else:
        back = (at.weekday() - _which(m)) % 7
    return (at - timedelta(days=back)).date().isoformat()


_MAX_DATES = 8  # more than this: a timeline of many events, no evidence


def named_dates(text: str, at: datetime, language: str | None = None) -> frozenset[str]:
    """Calendar dates `text` names ("June 6", "Jan. 5th", "6 juin"), each the latest such day on
    or before `at` (the year is rarely written): a follow-up months later names the day it happened."""
    out = set()
    for m in _MONTH_DAY[_language(language)].finditer(text.lower()):
        month, day = _which(m) + 1, int(m.group("day"))
        for year in (at.year, at.year - 1):
            try:
                d = datetime(year, month, day, tzinfo=UTC)
            except ValueError:
                break
            if d.date() <= at.date():
                out.add(d.date().isoformat())
                break
    return frozenset(out) if len(out) <= _MAX_DATES else frozenset()


_TOLL = ("killed", "injured")


def _count(figures: dict[str, Any], category: str) -> int | None:
    f = figures.get(category)
    return f.get("count") if isinstance(f, dict) else None


def toll(figures: dict[str, Any]) -> tuple[int | None, ...]:
    """(killed, injured) as reported; None where the article gives no figure."""
    return tuple(_count(figures, c) for c in _TOLL)
