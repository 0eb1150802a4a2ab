"""enrich stage: an article in, the same article with casualty figures and keyword matches out.

In:  an ``article`` payload (schemas/article.schema.json).
Out: a new dict, the article plus
     ``casualties``  every casualty mention (casualties.Mention as a dict),
     ``figures``     per category the figure to report (casualties.summarize),
     ``keywords``    which of ``keywords`` occur (keywords.match_keywords),
     valid against schemas/enriched.schema.json.

Both are read from the title and the text together, analysed as one document
``title + "\\n\\n" + text`` (just ``text`` when there is no title): headlines often carry the
toll. A mention's ``start``/``end`` are offsets into that document, so a mention in the text
starts ``len(title) + 2`` later than it would in ``text`` alone; ``evidence`` is the sentence itself,
so no consumer needs to recompute offsets to show it.
"""

from __future__ import annotations

from typing import Iterable

from .casualties import Mention, find_casualties, summarize
from .keywords import match_keywords

__all__ = ["DEFAULT_KEYWORDS", "Mention", "analysed_text", "enrich", "find_casualties", "match_keywords", "summarize"]

# Event words an analyst filters on. Whole-word matching, so inflected forms are listed separately.
DEFAULT_KEYWORDS: tuple[str, ...] = (
    "explosion", "explosions", "blast", "bombing", "bomb", "suicide bomber", "car bomb",
    "airstrike", "airstrikes", "air strike", "air strikes", "drone strike", "missile", "rocket",
    "shelling", "shooting", "gunfire", "gunmen", "stabbing", "attack", "attacks", "ambush",
    "clashes", "massacre", "riot", "earthquake", "quake", "tsunami", "flood", "floods", "flooding",
    "landslide", "cyclone", "hurricane", "typhoon", "tornado", "storm", "wildfire", "fire",
    "eruption", "crash", "plane crash", "collision", "derailment", "stampede", "collapse",
    "building collapse", "heatwave", "epidemic", "outbreak",
)


def analysed_text(article: dict) -> str:
    """The document casualties and keywords are read from; mention offsets refer to it."""
    title = (article.get("title") or "").strip()
    text = article.get("text") or ""
    return f"{title}\n\n{text}" if title else text


def enrich(article: dict, keywords: Iterable[str] = DEFAULT_KEYWORDS) -> dict:
    doc = analysed_text(article)
    mentions = find_casualties(doc, article.get("language"))
    return {
        **article,
        "casualties": [m.as_dict() for m in mentions],
        "figures": summarize(mentions),
        "keywords": match_keywords(doc, keywords),
    }
