"""The grammar: which figures of a sentence are casualty figures of the article's own event.

In:  one sentence, its offsets, the language's ``Lexicon`` and the article's year. Out: ``Mention``s:
category, figure, qualifier, victim noun, who gave it (attribution), the sentence as evidence.
The shapes of sentence read (passive, active, toll, lists of victim groups, "N shot, M fatally")
and what is left out (negations, hypotheticals, tolls of older events) are in casualties.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .lexicon import MAX_TOLL_GAP, Lexicon, _norm
from .numbers import Quantity, _qualified, _quantity

CATEGORIES = ("killed", "injured", "missing")
HIT = "shot"  # internal category: "4 people were shot" (killed and injured together), never emitted
IMPLIED = "implied"  # the qualifier of a person counted without a figure

# How far the grammar looks; longer noun phrases are rare and widening these invites false matches.
_MAX_FILLERS = 3  # unknown words before the victim noun: "12 Palestinian civilians"
_MAX_STEPS = 16  # tokens walked from a figure to its casualty term
_MAX_PARENTHESIS = 120  # characters of ", including three children," skipped between figure and verb
_MAX_SOURCE_WORDS = 8  # an attribution longer than this is a clause, not a source

_TOKEN = re.compile(r"\s*([^\W_][\w'’-]*|\S)")


@dataclass(frozen=True, slots=True)
class Mention:
    category: str  # "killed" | "injured" | "missing"
    count: int  # the figure to report; for a range, its lower bound
    min: int
    max: int | None  # None: open-ended ("at least 12")
    qualifier: str | None  # "at_least" | "more_than" | "up_to" | "about" | "nearly" | None
    victim: str | None  # normalised victim noun ("people", "soldiers", "police"), None if not written
    evidence: str  # the sentence
    start: int  # offsets of the sentence in the text analysed: text[start:end] == evidence
    end: int
    attribution: str | None = None  # who gave the figure, as written: "the health ministry"
    key: str | None = None  # implied mentions: who ("name:roe", "noun:boy"), to count people once
    alive: bool = False  # implied injured mentions: the person is said to live (implied.Person.alive)

    def as_dict(self) -> dict[str, Any]:
        # By hand, not dataclasses.asdict (which deep-copies every field): the fields are scalars.
        return {f: getattr(self, f) for f in _MENTION_FIELDS}


_MENTION_FIELDS = tuple(f for f in Mention.__dataclass_fields__ if f not in ("key", "alive"))


def _sentence_mentions(sent: str, s0: int, s1: int, lex: Lexicon, year: int) -> list[Mention]:
    out: list[Mention] = []
    fatal = lex.fatal_word_re is not None and lex.fatal_word_re.search(sent) is not None
    if not fatal and not lex.trigger_re.search(sent):
        return out
    found_at: list[tuple[int, int, str, str | None, Quantity]] = []
    quantities = [q for q in (_quantity(sent, m, lex) for m in lex.figures(sent)) if q is not None]
    for i, q in enumerate(quantities):
        after = _attach_after(sent, q, lex)
        found = after or _attach_before(sent, q, lex)
        if found is None:
            continue
        category, victim, q = found
        # "three soldiers and five civilians were killed", "killing four soldiers, two officials and a
        # cook": one toll given as a list of victim groups is their sum.
        q = _sum_groups(sent, quantities, i, -1 if after else 1, q, lex)
        found_at.append((q.start, q.end, category, victim, q))
    if fatal:
        found_at = _split_fatal(sent, quantities, found_at, lex)
    if lex.bare_singular:
        found_at.extend(_implicit(sent, lex, [(s, e) for s, e, *_ in found_at]))
        found_at.sort(key=lambda x: x[0])
    if not found_at:
        return out
    attribution = _attribution(sent, lex)
    last_victim = None
    for qs, qe, category, victim, q in found_at:
        if _background(sent, qs, qe, lex, year):
            continue
        # "nine people were killed and 23 wounded": the second figure shares the first's noun.
        victim = victim or last_victim
        last_victim = victim
        out.append(Mention(category, q.count, q.min, q.max, q.qualifier, victim, sent, s0, s1, attribution))
    return out


def _split_fatal(sent: str, qs: list[Quantity], found_at: list[Any], lex: Lexicon) -> list[Any]:
    """ "Eight people were shot, three of them fatally": of N hit, M died and N - M were hurt. Only
    shapes the lexicon names (`split_fatal`); the figures read elsewhere in the sentence stay."""
    if lex.split_fatal_re is None:
        return found_at
    for m in lex.split_fatal_re.finditer(sent):
        hit = next((q for q in qs if q.start <= m.start("n") < q.end), None)  # q may start at "at least"
        died = next((q for q in qs if q.start <= m.start("k") < q.end), None)
        if hit is None or died is None or died.count > hit.count or hit.article:
            continue
        found_at = [f for f in found_at if f[0] not in (hit.start, died.start)]
        victim = lex.victim(v.group(1))[0] if (v := lex.victim_re.match(sent, hit.end)) else None
        found_at.append((died.start, died.end, "killed", victim, died))
        if hit.count > died.count:
            hurt = Quantity(
                hit.start,
                hit.end,
                hit.count - died.count,
                hit.min - died.min if hit.min >= died.min else 0,
                None if hit.max is None else hit.max - died.count,
                hit.qualifier,
                False,
            )
            found_at.append((hit.start, hit.end, "injured", victim, hurt))
    found_at.sort(key=lambda x: x[0])
    return found_at


def _sum_groups(sent: str, qs: list[Quantity], i: int, step: int, q: Quantity, lex: Lexicon) -> Quantity:
    """`q` (the figure at qs[i], as attached) plus the figures listed with it, walking left (`step`
    -1: the casualty term follows the list) or right (+1: the verb precedes it). Two figures are one
    list when only a short noun phrase and a conjunction separate them: "3 soldiers and 5 civilians".
    A figure followed by no noun ("a man, 27, and ...") ends the list: it is an age or a label. A list
    ends with a conjunction ("A, B and C"): "killing 16 civilians, a local group said" is no list."""
    total = pending = q
    j = i + step
    while 0 <= j < len(qs):
        left, right = (qs[j], qs[j - step]) if step < 0 else (qs[j - step], qs[j])
        gap = sent[left.end : right.start]
        m = lex.group_gap_re.fullmatch(gap)
        if m is None:
            break
        joined = not re.search(r"[,،]", gap) or bool(lex.list_end_re.search(gap))
        if step < 0 and pending is q and not joined:
            break  # walking left, the first gap met is the list's last: it must be a conjunction
        words = m.group(1).split()
        if lex.trigger_re.search(gap) or any(w.lower() in lex.stopwords or w.lower() in lex.aux_words for w in words):
            break  # "12 people were killed and 40 ...": a second clause, not a list
        g = qs[j]
        if g.article and not ((v := lex.victim_re.match(sent, g.end)) and lex.victim(v.group(1))[1] == 1):
            break  # "a" counts one only before a singular victim: "..., a local group said" is no group
        if step < 0 and (prev := _prev_words(sent[: g.start], 1)) and prev[0].lower() in lex.stopwords:
            break  # "killed, including a guard, and 17 wounded": the group belongs to another clause
        nxt = _TOKEN.match(sent, g.end)
        if (
            step > 0
            and not lex.victim_re.match(sent, g.end)
            and (nxt is None or not nxt.group(1)[0].isalpha() or nxt.group(1).lower() in lex.stopwords)
        ):
            break  # the last group of a list after the verb still needs its noun: "3 of them" is no group
        pending = Quantity(
            min(pending.start, g.start),
            max(pending.end, g.end),
            pending.count + g.count,
            pending.min + g.min,
            None if pending.max is None or g.max is None else pending.max + g.max,
            pending.qualifier or g.qualifier,
            False,
        )
        if step < 0:
            total = pending
        elif joined:
            return pending  # walking right, the conjunction closes the list
        j += step
    return total


def _prev_words(text: str, n: int) -> list[str]:
    return re.findall(r"[^\W_][\w'’.-]*|[#$£€]", text)[-n:]


def _hypothetical_or_negated(words: list[str], lex: Lexicon) -> bool:
    return any(w in lex.modals or lex.is_negation(w) for w in words)


def _attach_after(sent: str, q: Quantity, lex: Lexicon) -> tuple[str, str | None, Quantity] | None:
    """FIGURE [fillers] [victim] [, parenthesis,] [aux...] TERM: "12 people were killed", "12 dead"."""
    if _hypothetical_or_negated(_prev_words(sent[: q.start], 4), lex):
        return None  # "would leave hundreds dead", "none of the 40 were hurt"
    p = q.end
    victim: tuple[str, int] | None = None
    fillers = 0
    epistemic = seen_aux = used_paren = used_place = used_noun2 = False
    for _ in range(_MAX_STEPS):
        m = lex.after_re.match(sent, p)
        if m:
            term = _strip_prefix(m.group(1), lex)
            if (
                q.article
                and not (victim and victim[1] == 1)
                and not (victim is None and p == q.end and term in lex.article_terms)
            ):
                return None  # "a dead man", "a wounded soldier said": adjectives; "un mort" is a noun
            if epistemic and q.qualifier != "up_to":
                # "hundreds may have died": an estimate, so the figure is a ceiling.
                q = _qualified(q.start, q.end, q.min, q.max if q.max is not None else q.count, "up_to")
            return lex.after[term], victim[0] if victim else None, q
        m = lex.aux_re.match(sent, p)
        if m:
            seen_aux, p = True, m.end()
            continue
        t = _TOKEN.match(sent, p)
        if t is None:
            return None
        word, lw = t.group(1), t.group(1).lower()
        if word in lex.modals and not epistemic:
            rest = _norm(sent[t.start(1) : t.start(1) + 40])
            e = next((x for x in lex.epistemic if rest.startswith(x + " ")), None)
            if e is None:
                return None  # "could be killed"; but "may have died" estimates what happened
            epistemic = seen_aux = True
            words = re.match(rf"\S+(?:\s+\S+){{{len(e.split()) - 1}}}", sent[t.start(1) :])
            assert words is not None  # `rest` starts with the epistemic phrase's words
            p = t.start(1) + words.end()
            continue
        v = None if seen_aux else lex.victim_re.match(sent, p)
        if v and (victim is None or not used_noun2):
            # The later of two nouns wins: "a 25-year-old man" is a man.
            used_noun2 = victim is not None
            victim, p = lex.victim(v.group(1)), v.end()
            continue
        if lex.is_negation(word):
            return None  # "were not hurt"
        if seen_aux:
            return None  # only auxiliaries and adverbs between "were" and "killed"
        if word in (",", "(") and not used_paren:
            close = sent.find("," if word == "," else ")", t.end(), t.end() + _MAX_PARENTHESIS)
            if close < 0:
                return None
            p, used_paren = close + 1, True
            continue
        if victim is not None:
            mod = lex.modifier_re.match(sent, p)
            if mod and mod.end() > p:
                p = mod.end()  # "un homme de 25 ans": an age after the noun
                continue
            if lw in lex.place_preps and not used_place:
                # "two people in the car were killed": a short place phrase, then an auxiliary.
                skipped = _skip_place(sent, t.end(), lex)
                if skipped is None:
                    return None
                p, used_place = skipped, True
                continue
            return None
        if lw in lex.stopwords or not word[0].isalnum() or fillers >= _MAX_FILLERS:
            return None
        fillers += 1
        p = t.end()
    return None


def _skip_place(sent: str, p: int, lex: Lexicon) -> int | None:
    for _ in range(4):
        t = _TOKEN.match(sent, p)
        if t is None or not t.group(1)[0].isalnum():
            return None
        p = t.end()
        if lex.aux_re.match(sent, p) or lex.after_re.match(sent, p):
            return p
    return None


def _before_category(before: str, lex: Lexicon, article: bool) -> str | None:
    """The category of a casualty verb or toll head ending `before` ("killing ", "the toll rose to ")."""
    m = lex.before_re.search(before)
    if m:
        pre = _prev_words(before[: m.start()], 3)
        if _hypothetical_or_negated(pre, lex) or (pre and pre[-1].lower() in ("to", "de", "à")):
            return None  # "could have killed thousands", "did not kill", "vowed to kill"
        return lex.before[_norm(_strip_prefix(m.group(1), lex))]
    if article:
        return None
    m = lex.toll_re.search(before)
    if m:
        gap = _prev_words(m.group(2), MAX_TOLL_GAP)
        if gap and gap[-1].lower() in lex.change_from:
            gap = gap[:-1]  # "rose from 12 to 40"
        if gap and gap[-1].lower() not in lex.toll_links:
            return None
        if len(gap) > 3 and "," in m.group(2):
            return None  # "the deaths have rocked Platte, a community of around 1,200": another clause
        if _hypothetical_or_negated(gap, lex) or any(w.lower() in ("and", "but", "et", "mais") for w in gap):
            return None  # "the toll could rise to 1,000"
        if _hypothetical_or_negated(_prev_words(before[: m.start()], 3), lex):
            return None  # "officials fear the toll could..."
        return lex.toll[_norm(_strip_prefix(m.group(1), lex))]
    return None


def _strip_prefix(term: str, lex: Lexicon) -> str:
    """A casualty term without its glued clitic ("وقتل" -> "قتل"), when the bare form is a term."""
    t = _norm(term)
    if lex.prefix_re is not None and t not in lex.before and t not in lex.toll and t not in lex.after:
        m = lex.prefix_re.match(t)
        while m and m.end() and t not in lex.before and t not in lex.toll and t not in lex.after:
            t = t[m.end() :]
            m = lex.prefix_re.match(t)
    return t


def _attach_before(sent: str, q: Quantity, lex: Lexicon) -> tuple[str, str | None, Quantity] | None:
    """VERB FIGURE [victim] ("killing 3 soldiers") or TOLL ... FIGURE ("the death toll rose to 40")."""
    category = _before_category(sent[max(0, q.start - 200) : q.start], lex, q.article)
    if category is None:
        return None
    victim = _victim_after(sent, q.end, lex)
    if q.article and not (victim and victim[1] == 1):
        return None  # "killing a" + singular noun only
    return category, victim[0] if victim else None, q


def _implicit(sent: str, lex: Lexicon, taken: list[tuple[int, int]]) -> Iterator[tuple[int, int, str, str, Quantity]]:
    """VERB SINGULAR-NOUN in languages without an indefinite article: "قتل رجل" (a man was killed)
    is one killed, "مقتل شخصين" (the killing of two persons, a dual) two."""
    for v in lex.bare_victim_re.finditer(sent):
        if any(s <= v.start() < e + 40 for s, e in taken):
            continue  # the noun of a figure already read: "مقتل 3 أطفال"
        name, number = lex.victim(v.group(1))
        category = _before_category(sent[max(0, v.start() - 200) : v.start()], lex, True)
        if category is None:
            continue
        q = Quantity(v.start(), v.end(), number, number, number, None, False)
        yield (v.start(), v.end(), category, name, q)


def _victim_after(sent: str, p: int, lex: Lexicon) -> tuple[str, int] | None:
    """The victim noun just after a figure: "12 [of the] [Palestinian] civilians"."""
    for _ in range(_MAX_FILLERS + 2):
        v = lex.victim_re.match(sent, p)
        if v:
            return lex.victim(v.group(1))
        t = _TOKEN.match(sent, p)
        if t is None:
            return None
        lw = t.group(1).lower()
        if lw in lex.stopwords or not lw[0].isalnum():
            return None
        p = t.end()
    return None


def _background(sent: str, qs: int, qe: int, lex: Lexicon, year: int) -> bool:
    """Whether the figure at [qs, qe) belongs to an older event the article recalls: a cue earlier in
    its clause ("In 2019, 40 died"; "the deadliest since 2015, when 40 died"), or after it before
    the next comma ("40 died last year")."""
    brk = [m.end() for m in lex.clause_break_re.finditer(sent, 0, qs)]
    left = sent[brk[-1] if brk else 0 : qs]
    comma = re.search(r"(?<!\d)[,،;]|[,،;](?!\s*(?:19|20)\d\d(?!\d))", sent[qe:])  # "Dec. 26, 2004" is one phrase
    right = sent[qe : qe + comma.start() if comma else len(sent)]
    for part in (left, right):
        if lex.background_re.search(part):
            return True
        for y in lex.year_re.finditer(part):
            if int(y.group("year") or y.group("entry")) < year:
                return True
    return False


def _attribution(sent: str, lex: Lexicon) -> str | None:
    """Who the sentence says gave its figures: "according to X", "..., X said.", "X said ...";
    None when it names no one."""
    for rx in (lex.according_re, lex.said_end_re, lex.said_inv_re, lex.verb_first_re, lex.said_start_re):
        if rx is None:
            continue
        m = rx.search(sent)
        if m:
            src = " ".join(m.group("src").split()).strip(" '\"“”«»")
            low = src.lower()
            for w in lex.source_strip:
                if low.startswith(w):
                    src = src[len(w) :]
                    break
            if src and len(src.split()) <= _MAX_SOURCE_WORDS and not lex.trigger_re.search(src):
                return src
    return None
