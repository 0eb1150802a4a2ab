"""Word lists as regular expressions: one compiled alternation per list, shaped as a trie.

In:  phrases (lexicon words, keywords, place names). Out: regex source text.

Python's ``re`` tries the branches of ``a|b|c|...`` one after the other at every position, so a
list of 300 phrases costs 300 attempts per character of text. The same list written as a trie
(``ki(?:ll(?:ed|ing|s)?|dnapped)``) costs one attempt per character that could still start a
phrase: every list is matched in one pass, whatever its length (the effect of Aho-Corasick,
kept inside ``re`` so the patterns still combine with the lookarounds around them).

Semantics are those of the plain alternation sorted longest first: at one position the longest
phrase that matches wins; any run of whitespace matches the space between two words; a phrase that
begins (ends) with a word character must not be preceded (followed) by one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

NOTHING = r"(?!x)x"  # matches nothing: the pattern of an empty list


def alternation(phrases: Iterable[str], pre: str = "", bounded: bool = True) -> str:
    """One pattern for all `phrases`. `bounded`: word boundaries at the phrases' word ends;
    `pre`: an optional clitic prefix glued before the phrase (Arabic "و" + "قتل")."""
    ps = {" ".join(str(p).split()) for p in phrases if str(p).strip()}
    if not ps:
        return NOTHING
    if not bounded:
        return "(?:" + _emit(_trie(ps, False)) + ")"
    word_start = [p for p in ps if re.match(r"\w", p)]
    other = [p for p in ps if not re.match(r"\w", p)]
    parts = []
    if word_start:
        parts.append(r"(?<![\w])" + (f"(?:{pre})?" if pre else "") + _emit(_trie(word_start, True)))
    if other:
        parts.append(_emit(_trie(other, True)))
    return "(?:" + "|".join(parts) + ")"


def _trie(phrases: Iterable[str], bounded: bool) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for p in phrases:
        node = root
        for i, w in enumerate(p.split()):
            if i:
                node = node.setdefault(" ", {})
            for ch in w:
                node = node.setdefault(ch, {})
        # The end of a phrase: "" -> whether a word character may not follow it.
        node[""] = node.get("", False) or (bounded and bool(re.search(r"\w$", p)))
    return root


def _emit(node: dict[str, Any]) -> str:
    alts = []
    for k in sorted(k for k in node if k != ""):
        unit = r"\s+" if k == " " else re.escape(k)
        alts.append(unit + _emit(node[k]))
    if "" in node:  # after the longer phrases: the longest match wins
        alts.append(r"(?![\w])" if node[""] else "")
    if len(alts) == 1:
        return alts[0]
    return "(?:" + "|".join(alts) + ")"
