"""The language an article is written in, from its own words.

In:  a text and optionally the language the page declared (``<html lang>``, often missing or wrong:
     templates say "en" on Arabic pages).
Out: ``detect_language`` -> an ISO 639-1 code, or None when the text says too little;
     ``article_language`` -> the code to analyse the article with: the detected language when the
     text is clear about it, else the declared one.

Data, not a model: a text mostly in Arabic script is Arabic; otherwise each lexicon's ``detection``
list (its most frequent function words) is counted and the language with the most hits wins, if
those hits are a fair share of the words. A new language is its lexicon file; nothing here changes.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

import yaml

from .casualties import LEXICON_DIR

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f]")
_SAMPLE = 4000  # characters read: the opening says which language it is as well as the whole
_MIN_HITS = 3
_MIN_SHARE = 0.12  # of the words: below it, a few English names in a German text decide nothing


@lru_cache(maxsize=1)
def _profiles() -> dict[str, frozenset[str]]:
    out = {}
    for path in sorted(LEXICON_DIR.glob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
        words = data.get("detection") or []
        if words:
            out[data.get("language") or path.stem] = frozenset(str(w).lower() for w in words)
    return out


def detect_language(text: str) -> str | None:
    sample = (text or "")[:_SAMPLE]
    found = _WORD.findall(sample)
    # Every letter is in one of the words, with at most one apostrophe each: no second pass.
    letters = sum(len(w) for w in found) - sum(w.count("'") + w.count("’") for w in found)
    if not letters:
        return None
    if _ARABIC.search(sample) and len(_ARABIC.findall(sample)) > letters / 2:
        return "ar"
    words = [w.lower() for w in found]
    if not words:
        return None
    counts = Counter(words)  # each distinct word looked up once, not once per occurrence
    scores = {}
    for lang, vocab in _profiles().items():
        scores[lang] = sum(n for w, n in counts.items() if w in vocab or w.split("'")[0] + "'" in vocab)
    lang, hits = max(scores.items(), key=lambda kv: kv[1], default=(None, 0))
    if lang is None or hits < _MIN_HITS or hits < _MIN_SHARE * len(words):
        return None
    return lang


def article_language(text: str, declared: str | None) -> str | None:
    detected = detect_language(text)
    if detected:
        return detected
    return declared.split("-")[0].split("_")[0].lower() if declared else None
