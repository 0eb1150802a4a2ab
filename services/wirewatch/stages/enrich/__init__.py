"""enrich stage: an article in, the same article with casualty figures, places and keywords out.

In:  an ``article`` payload (schemas/article.schema.json).
Out: a new dict, the article plus
     ``casualties``  every casualty mention of the article's own event (casualties.Mention as a dict:
                     category, count/min/max, qualifier, victim, attribution, evidence + offsets),
     ``figures``     per category the figure to report (casualties.summarize),
     ``places``      countries, cities, US counties and regions named, with ISO codes
                     (places.find_places; where the text names no town, the page's own "City, ST"),
     ``keywords``    which of ``keywords`` occur (keywords.match_keywords),
     and ``language`` set to the language the text is written in when the text is clear about it
     (language.article_language; the page's declared language otherwise), which also picks the
     lexicon (language.lexicon_language): an article in a language without a lexicon gets no
     casualty figures rather than figures read with another language's words; one whose language
     cannot be told (a headline alone) is read in English. Valid against schemas/enriched.schema.json.

Both are read from the title and the text together, analysed as one document
``title + "\\n\\n" + text`` (just ``text`` when there is no title): headlines often carry the
toll. A mention's ``start``/``end`` are offsets into that document, so a mention in the text
starts ``len(title) + 2`` later than it would in ``text`` alone; ``evidence`` is the sentence itself,
so no consumer needs to recompute offsets to show it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .casualties import HIT, Mention, find_casualties, headline_end, scan, summarize
from .keywords import match_keywords
from .language import UND, article_language, detect_language, language_label, lexicon_language
from .places import find_places

__all__ = [
    "DEFAULT_KEYWORDS",
    "Mention",
    "analysed_text",
    "article_language",
    "detect_language",
    "enrich",
    "find_casualties",
    "find_places",
    "language_label",
    "match_keywords",
    "summarize",
]

# Event words an analyst filters on. Whole-word matching, so inflected forms are listed separately.
DEFAULT_KEYWORDS: tuple[str, ...] = (
    "explosion",
    "explosions",
    "blast",
    "bombing",
    "bomb",
    "suicide bomber",
    "car bomb",
    "airstrike",
    "airstrikes",
    "air strike",
    "air strikes",
    "drone strike",
    "missile",
    "rocket",
    "shelling",
    "shooting",
    "gunfire",
    "gunmen",
    "stabbing",
    "attack",
    "attacks",
    "ambush",
    "clashes",
    "massacre",
    "riot",
    "earthquake",
    "quake",
    "tsunami",
    "flood",
    "floods",
    "flooding",
    "landslide",
    "cyclone",
    "hurricane",
    "typhoon",
    "tornado",
    "storm",
    "wildfire",
    "fire",
    "eruption",
    "crash",
    "plane crash",
    "collision",
    "derailment",
    "stampede",
    "collapse",
    "building collapse",
    "heatwave",
    "epidemic",
    "outbreak",
)


def analysed_text(article: dict[str, Any]) -> str:
    """The document casualties and keywords are read from; mention offsets refer to it."""
    title = (article.get("title") or "").strip()
    text = article.get("text") or ""
    return f"{title}\n\n{text}" if title else text


def enrich(article: dict[str, Any], keywords: Iterable[str] = DEFAULT_KEYWORDS) -> dict[str, Any]:
    doc = analysed_text(article)
    language = article_language(doc, article.get("language"))
    lexicon = lexicon_language(language)
    mentions = [] if lexicon == UND else scan(doc, lexicon, _year(article.get("published")))
    return {
        **article,
        "language": language,
        "casualties": [m.as_dict() for m in mentions if m.category != HIT],
        "figures": summarize(mentions, _headline_end(article)),
        "places": find_places(doc, " | ".join(filter(None, (article.get("sitename"), article.get("description"))))),
        "keywords": match_keywords(doc, keywords),
    }


def _headline_end(article: dict[str, Any]) -> int | None:
    """Where the headline ends in analysed_text: the title when given, else a headline-like first line."""
    title = (article.get("title") or "").strip()
    return len(title) if title else headline_end(article.get("text") or "")


def _year(published: str | None) -> int | None:
    """The year of an ISO-ish publication date ("2026-11-24", "2026-11-24T08:00Z"), None if absent."""
    m = re.match(r"\s*((?:19|20)\d\d)", published or "")
    return int(m.group(1)) if m else None
