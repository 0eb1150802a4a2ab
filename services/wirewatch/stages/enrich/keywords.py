"""Keyword matching for enrichment and routing rules.

In:  a text and keywords (single words or phrases). Out: the keywords found in the text, each once,
in the order they were given. Matching is case-insensitive and whole-word: "attack" matches
"Attack" but not "attacks" or "counterattack"; a phrase matches across any whitespace
("air  strike" in the text matches "air strike"). List inflected forms as keywords of their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from .patterns import alternation


@lru_cache(maxsize=64)
def _matcher(keywords: tuple[str, ...]) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """One pattern for a whole keyword list (a trie: one pass over the text, however long the list)
    and the map from a match, normalised, to the keyword as given (the first of equal ones)."""
    canon: dict[str, str] = {}
    for kw in keywords:
        key = " ".join(kw.lower().split())
        if key:
            canon.setdefault(key, kw)
    if not canon:
        return None, canon
    # Lookarounds, not \b: \b fails next to a keyword that starts or ends with punctuation ("c++").
    body = alternation(canon, bounded=False)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE), canon


def match_keywords(text: str, keywords: Iterable[str]) -> list[str]:
    """The keywords that occur in `text`, in the given order, without duplicates (case-insensitively)."""
    pattern, canon = _matcher(tuple(keywords))
    if pattern is None:
        return []
    found: set[str] = set()
    for m in _overlapping(pattern, text):
        words = m.group().lower().split()
        # At one position the longest keyword wins; the shorter ones it starts with occur too.
        found.update(k for k in (" ".join(words[:n]) for n in range(1, len(words) + 1)) if k in canon)
        if len(found) == len(canon):  # all found: common words ("the") would be met again and again
            break
    return [kw for key, kw in canon.items() if key in found]


def _overlapping(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """Every match, including those that start inside another ("car bomb" in "suicide car bomb")."""
    pos = 0
    while True:
        m = pattern.search(text, pos)
        if m is None:
            return
        yield m
        pos = m.start() + 1
