"""Places named in an article: countries, major cities and regions, with ISO 3166-1 alpha-2 codes.

In:  a text (the enrich stage passes ``title + "\\n\\n" + text``).
Out: ``find_places`` -> one dict per place named, in order of first mention:
     ``{"name", "country_code", "kind": "country"|"city"|"region", "start", "end"}``; ``name`` is the
     gazetteer's English name whatever the text's language, ``start``/``end`` the offsets of the
     first mention.

The gazetteer is data (``places.yaml``): every name in every language is one alternation, matched
whole-word and case-sensitively (proper nouns: "Turkey" the country, not "turkey" the bird). Arabic
names may carry a glued clitic ("وبغداد", "في غزة" -> "بغزة"). A place mentioned only as part of a
longer name ("Gaza City") counts once, as the longer one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

GAZETTEER = Path(__file__).resolve().parent / "places.yaml"

# Glued Arabic clitics: and, so, with/in, for/to, and combinations; then the article may follow.
_AR_PREFIX = "(?:وب|ول|فب|فل|و|ف|ب|ل|ك)?"


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    country_code: str
    kind: str


class Gazetteer:
    def __init__(self, data: dict) -> None:
        self.by_form: dict[str, Place] = {}
        for c in data.get("countries", []):
            self._add(Place(c["name"], c["code"], "country"), c["names"])
        for p in data.get("places", []):
            self._add(Place(p["name"], p["code"], p["kind"]), p["names"])
        for form, place in list(self.by_form.items()):
            if form.startswith("ال"):
                # "to/for" + article is written "لل": "للجزائر" is "to Algeria".
                self.by_form.setdefault("لل" + form[2:], place)
        latin, arabic = [], []
        for form in sorted(self.by_form, key=len, reverse=True):
            (arabic if re.search(r"[\u0600-\u06ff]", form) else latin).append(form)
        alts = []
        if latin:
            alts.append(r"(?<![\w])(?P<l>" + "|".join(_literal(f) for f in latin) + r")(?![\w])")
        if arabic:
            alts.append(r"(?<![\w])" + _AR_PREFIX + r"(?P<a>" + "|".join(_literal(f) for f in arabic) + r")(?![\w])")
        self.regex = re.compile("|".join(alts)) if alts else re.compile(r"(?!x)x")

    def _add(self, place: Place, names: dict) -> None:
        for forms in names.values():
            for form in forms or []:
                self.by_form.setdefault(" ".join(str(form).split()), place)

    def find(self, text: str) -> list[dict]:
        seen: dict[str, dict] = {}
        for m in self.regex.finditer(text):
            group = m.lastgroup or "l"
            form = " ".join(m.group(group).split())
            place = self.by_form.get(form)
            if place is None or place.name in seen:
                continue
            seen[place.name] = {
                "name": place.name,
                "country_code": place.country_code,
                "kind": place.kind,
                "start": m.start(group),
                "end": m.end(group),
            }
        return list(seen.values())


def _literal(form: str) -> str:
    return r"\s+".join(re.escape(w) for w in form.split())


@lru_cache(maxsize=1)
def load_gazetteer(path: str | None = None) -> Gazetteer:
    with Path(path or GAZETTEER).open(encoding="utf-8") as fh:
        return Gazetteer(yaml.safe_load(fh))


def find_places(text: str) -> list[dict]:
    """Countries, cities and regions named in `text`, each once, in order of first mention."""
    return load_gazetteer().find(text)
