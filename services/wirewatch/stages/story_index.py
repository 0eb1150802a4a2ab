"""Candidate index of stories: the keys an article is looked up under and a story is filed under.

``keys(article)`` are the strings an article is looked up under and ``story_keys(state)`` those
storage files a story under (table story_keys), so that only stories sharing a key with the article
are loaded and scored. Exact but for near-duplicate text: every story that stages/story.py ``score``
could give more than 0 shares a key (the reasons are in stages/story.py's docstring); a
near-duplicate shares a MinHash band with a probability of 99% or more (``_BAND_PAIRS``). Keys
starting "f:" also find expired stories (follow-ups).

Pure. stages/story.py re-exports ``keys`` and ``story_keys``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .story_follow import DISTINCT_TOLL, RARE_TOLL, _place_word, spelling_keys
from .story_view import _PERMUTATIONS, _TOLL, NEAR_DUPLICATE, ArticleView, toll

# MinHash bands (locality-sensitive hashing): 16 pairs of positions, a key each. Two texts of
# similarity s share a band with probability 1 - (1 - s^2)^16: 99.0% at NEAR_DUPLICATE (0.5),
# 99.9% at 0.6, all but certain for wire copies (0.7 and more); and near-duplicate texts nearly
# always share a place, a name or headline words as well (on GVA every join a band found, another
# key found too). Pairs, not single positions: unrelated news shares the odd common shingle ("the
# death toll"), and a single equal position would make most stories candidates. (The 35 pairs
# that made it exact, every way 32 of 64 positions can agree, were half of a story's keys: 35 a
# signature kept, up to eight. These 16 are pairs of those 35: stories filed before still match.)
_BANDS = 16
_BAND_PAIRS = [(2 * i, 2 * i + 1) for i in range(_BANDS)]
assert 2 * _BANDS <= _PERMUTATIONS and (1 - NEAR_DUPLICATE**2) ** _BANDS < 0.011  # missed: about 1 in 100


_BAND_PREFIXES = [(f"m{i}.{j}:", i, j) for i, j in _BAND_PAIRS]  # "m0.1:" once, not once a key


def _signature_keys(sig: Iterable[int]) -> set[str]:
    hexes = [f"{x:x}" for x in sig]  # each position written once, not once per pair it is in
    if len(hexes) != _PERMUTATIONS:
        return set()
    return {f"{prefix}{hexes[i]}.{hexes[j]}" for prefix, i, j in _BAND_PREFIXES}


def _title_keys(words: Iterable[str]) -> set[str]:
    # The headline path needs >= 2 shared words, so a shared pair of words is necessary.
    return _pairs("t", words)


def _toll_parts(t: Iterable[Any], least: int = 0) -> list[str]:
    # Two tolls agree only if some category both give is equal: they share one of these (of
    # `least` people or more, where fewer cannot be what the rule asks for).
    return [f"{c[0]}{n}" for c, n in zip(_TOLL, t) if n is not None and n >= least]


def _toll_keys(prefix: str, names: Iterable[str], tolls: Iterable[Any], least: int = 0) -> set[str]:
    parts = {p for t in tolls for p in _toll_parts(t, least)}
    return {f"{prefix}:{n}|{p}" for n in names for p in parts}


# A headline word and the same toll join without a shared place (a place has keys of its own) only
# when the toll agreed on counts DISTINCT_TOLL people or more (stages/story.py ``score``): then a
# category both give holds at least half of them, so only those parts file a "w:" key (on GVA 2.9
# keys a story fewer, the same decisions).
_WORD_TOLL_LEAST = -(-DISTINCT_TOLL // len(_TOLL))


def _rare_toll_keys(places: Iterable[str], tolls: Iterable[Any]) -> set[str]:
    # A follow-up on a rare toll alone (stages/story_follow.py: RARE_TOLL people agreed on, in the
    # story's city) agrees on a category of at least half that many: two categories sum to it.
    parts = {p for t in tolls for p in _toll_parts(t, -(-RARE_TOLL // len(_TOLL)))}
    return {f"f:r:{p}|{x}" for p in places for x in parts}


def _pairs(prefix: str, words: Iterable[str]) -> set[str]:
    w = sorted(set(words))
    return {f"{prefix}:{w[a]} {w[b]}" for a in range(len(w)) for b in range(a + 1, len(w))}


def keys(article: ArticleView) -> set[str]:
    """What `article` is looked up (and, once attached, filed) under. Keys starting "f:" also
    find expired stories (follow-ups); the others only stories still in the window."""
    t = [toll(article.figures)]
    return (
        _signature_keys(article.signature)
        | _title_keys(article.title_words)
        | {f"p:{p}" for p in article.places}
        | {f"n:{_place_word(p)}" for p in article.lead_places}  # named in a headline where the gazetteer missed it
        | {f"n:{n}" for n in article.names | article.lead_names}
        | {f"n:{w}" for w in article.title_words}  # a headline word the story writes as a name
        | _toll_keys("w", article.title_words, t, _WORD_TOLL_LEAST)
        | _toll_keys("f", article.names | article.lead_names | article.title_words, t)
        | _pairs("f", [n for n in article.names | article.lead_names if " " in n])
        | {f"f:p:{p}" for p in article.people | article.body_people}
        | {f"f:q:{k}" for p in article.people | article.body_people for k in spelling_keys(p)}
        | {f"f:d:{p}|{d}" for p in article.places for d in article.dates | {article.event_day} if d}
        | _rare_toll_keys(article.lead_places, t)
        | _toll_keys("f:s", article.small_places, t)
        | {f"f:h:{article.host}|{d}" for d in article.dates | {article.event_day} if d}
        | {f"a:{a}|{d}" for a in article.ages for d in [article.event_day] if d}
        | {f"f:a:{w}|{a}" for w in article.lead_places | article.names | article.title_words for a in article.ages}
    )


def story_keys(state: dict[str, Any]) -> set[str]:
    """What a stored story is filed under (from its state: for a database made before the index)."""
    out: set[str] = set()
    for sig in state.get("signatures") or []:
        out |= _signature_keys(sig)
    for words in state.get("titles") or []:
        out |= _title_keys(words)
        out |= _toll_keys("w", words, state.get("tolls") or [], _WORD_TOLL_LEAST)
    names: set[str] = set(state.get("names") or [])
    for ns in state.get("name_sets") or []:
        out |= _pairs("f", [n for n in ns if " " in n])
        names.update(ns)
    return (
        out
        | {f"p:{p}" for p in state.get("places") or []}
        | {f"n:{_place_word(p)}" for p in state.get("lead_places") or []}
        | {f"n:{n}" for n in set(state.get("names") or []) | set(state.get("lead_names") or [])}
        | _toll_keys("f", names, state.get("tolls") or [])
        | {f"f:p:{p}" for p in state.get("people") or []}
        | {f"f:q:{k}" for p in state.get("people") or [] for k in spelling_keys(p)}
        | {f"f:d:{p}|{d}" for p in state.get("places") or [] for d in state.get("event_days") or []}
        | _rare_toll_keys(state.get("lead_places") or [], state.get("tolls") or [])
        | _toll_keys("f:s", state.get("lead_places") or [], state.get("tolls") or [])
        | {f"f:h:{h}|{d}" for h in state.get("hosts") or [] for d in state.get("event_days") or []}
        | {f"a:{a}|{d}" for a in state.get("ages") or [] for d in state.get("event_days") or []}
        | {f"f:a:{w}|{a}" for w in {*state.get("lead_places", []), *names} for a in state.get("ages") or []}
    )
