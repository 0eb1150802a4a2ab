"""Keyword matching for enrichment and routing rules.

In:  a text and keywords (single words or phrases). Out: the keywords found in the text, each once,
in the order they were given. Matching is case-insensitive and whole-word: "attack" matches
"Attack" but not "attacks" or "counterattack"; a phrase matches across any whitespace
("air  strike" in the text matches "air strike"). List inflected forms as keywords of their own.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable


@lru_cache(maxsize=4096)
def _pattern(keyword: str) -> re.Pattern | None:
    words = keyword.split()
    if not words:
        return None
    body = r"\s+".join(re.escape(w) for w in words)
    # Lookarounds, not \b: \b fails next to a keyword that starts or ends with punctuation ("c++").
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def match_keywords(text: str, keywords: Iterable[str]) -> list[str]:
    """The keywords that occur in `text`, in the given order, without duplicates (case-insensitively)."""
    found: list[str] = []
    seen: set[str] = set()
    for kw in keywords:
        key = " ".join(kw.lower().split())
        if key in seen:
            continue
        pat = _pattern(kw)
        if pat is not None and pat.search(text):
            found.append(kw)
            seen.add(key)
    return found
