"""Casualty mentions in news text: how many people were killed, injured or went missing.

In:  plain text (the enrich stage passes ``title + "\\n\\n" + text``) and optionally a language
     code naming ``lexicon/<language>.yaml`` (English when there is no lexicon for it).
Out: ``find_casualties`` -> one ``Mention`` per figure tied to a casualty term, in text order, with
     the sentence it came from and that sentence's ``[start, end)`` offsets in the text given;
     ``summarize`` -> per category, the one figure an analyst would report.

How a figure is read (``count`` is what we report, ``min``/``max`` what the words allow):

    "12"                      count 12, min 12, max 12
    "at least 12"             count 12, min 12, max None        qualifier at_least
    "more than 12", "over 12" count 12, min 12, max None        qualifier more_than (min is not 13:
                                                                 the figure reads as written)
    "up to 5", "as many as 5" count 1,  min 1,  max 5           qualifier up_to (a report that people
                                                                 died admits at least one, not zero)
    "about 40", "some 40"     count 40, min 36, max 44          qualifier about (+-10%, at least 1)
    "nearly 40", "almost 40"  count 40, min 36, max 40          qualifier nearly
    "between 10 and 15"       count 10, min 10, max 15          ranges report their lower bound
    "dozens" / "scores" / "hundreds" / "thousands" / "several": ranges from the lexicon
                              (dozens 24..99: two dozen up to where one would say "hundreds")
    "a man was shot dead"     count 1 (a/an count only before a singular victim noun)

The grammar (which shapes of sentence carry a figure) is here; the words are in the lexicon, so a
new language is a new YAML file. Everything is regular expressions over one sentence at a time:
no model, no network, a few milliseconds per article.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import yaml

CATEGORIES = ("killed", "injured", "missing")
LEXICON_DIR = Path(__file__).resolve().parent / "lexicon"
DEFAULT_LANGUAGE = "en"

# How far the grammar looks; longer noun phrases are rare and widening these invites false matches.
_MAX_FILLERS = 3  # unknown words before the victim noun: "12 Palestinian civilians"
_MAX_STEPS = 16  # tokens walked from a figure to its casualty term
_MAX_TOLL_GAP = 8  # words between "death toll" and its figure: "the death toll from Monday's quake has risen to"
_MAX_PARENTHESIS = 120  # characters of ", including three children," skipped between figure and verb


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

    def as_dict(self) -> dict:
        return asdict(self)


def find_casualties(text: str, language: str | None = None) -> list[Mention]:
    """Every casualty figure in `text`, in order; at most one mention per figure."""
    lex = load_lexicon(language or DEFAULT_LANGUAGE)
    mentions: list[Mention] = []
    for start, end in split_sentences(text, lex):
        mentions.extend(_sentence_mentions(text[start:end], start, end, lex))
    return mentions


def summarize(mentions: Iterable[Mention]) -> dict:
    """{category: {"count", "min", "max"} | None}: the largest figure reported for each category.

    The largest, not the sum: an article repeats its toll ("at least 9 killed" in the headline, "nine
    people were killed" in the lede) and updates it ("rose to 12"), and the largest is the latest.
    Ties go to the wider statement (higher min, then open-ended max).
    """
    best: dict[str, Mention] = {}
    for m in mentions:
        cur = best.get(m.category)
        if cur is None or _rank(m) > _rank(cur):
            best[m.category] = m
    return {
        c: ({"count": best[c].count, "min": best[c].min, "max": best[c].max} if c in best else None)
        for c in CATEGORIES
    }


def _rank(m: Mention) -> tuple:
    return (m.count, m.min, math.inf if m.max is None else m.max)


# --------------------------------------------------------------------------------------------
# Lexicon: YAML words compiled into the regular expressions the grammar below uses.


def _phrase(p: str) -> str:
    """A lexicon phrase as a regex: any whitespace between words, word boundaries at word ends."""
    body = r"\s+".join(re.escape(w) for w in p.split())
    if re.match(r"\w", p):
        body = r"(?<![\w])" + body
    if re.search(r"\w$", p):
        body += r"(?![\w])"
    return body


def _alt(phrases: Iterable[str]) -> str:
    # Longest first: Python alternation takes the first branch that matches, not the longest.
    ps = sorted({p.strip() for p in phrases if str(p).strip()}, key=len, reverse=True)
    if not ps:
        return r"(?!x)x"  # matches nothing
    return "(?:" + "|".join(_phrase(p) for p in ps) + ")"


def _norm(s: str) -> str:
    return " ".join(s.lower().split())


class Lexicon:
    """One language's words and the regexes built from them (see lexicon/en.yaml for each key)."""

    def __init__(self, data: dict) -> None:
        self.language = data.get("language", "")
        num = data["numbers"]
        self.units = {k.lower(): int(v) for k, v in num["units"].items()}
        self.tens = {k.lower(): int(v) for k, v in num["tens"].items()}
        self.scales = {k.lower(): int(v) for k, v in num["scales"].items()}
        self.multipliers = {k.lower(): int(v) for k, v in num.get("multipliers", {}).items()}
        self.fixed = {_norm(k): int(v) for k, v in num.get("fixed", {}).items()}
        self.articles = {a.lower() for a in num.get("articles", [])}
        self.connectors = {c.lower() for c in num.get("connectors", [])}
        self.change_from = {w.lower() for w in num.get("change_from", [])}
        self.vague = {_norm(k): (int(v[0]), int(v[1])) for k, v in data.get("vague", {}).items()}
        self.qualifiers = {_norm(p): code for code, ps in data.get("qualifiers", {}).items() for p in ps}

        self.after = {_norm(p): c for c, d in data["categories"].items() for p in d.get("after", [])}
        self.before = {_norm(p): c for c, d in data["categories"].items() for p in d.get("before", [])}
        self.toll = {_norm(p): c for c, d in data["categories"].items() for p in d.get("toll_heads", [])}
        self.toll_links = {w.lower() for w in data.get("toll_links", [])}
        self.negations = {w.lower() for w in data.get("negations", [])}
        self.modals = set(data.get("modals", []))  # case-sensitive on purpose: "May", "Will"
        self.stopwords = {w.lower() for w in data.get("stopwords", [])}
        self.place_preps = {w.lower() for w in data.get("place_prepositions", [])}
        self.labels = {w.lower() for w in data.get("labels", [])}
        self.months = {w.lower() for w in data.get("months", [])}
        self.abbreviations = {w.lower() for w in data.get("abbreviations", [])}

        self.victims: dict[str, tuple[str, bool]] = {}  # form -> (name, is_singular)
        self.victim_patterns: list[tuple[re.Pattern, str]] = []  # regex -> name (singular)
        for v in data.get("victims", []):
            for pat in v.get("patterns", []):
                self.victim_patterns.append((re.compile(pat + r"\Z", re.IGNORECASE), v["name"]))
            for form in v.get("plural", []):
                self.victims[_norm(form)] = (v["name"], False)
            for form in v.get("singular", []):
                self.victims[_norm(form)] = (v["name"], True)

        f = re.IGNORECASE
        U, T = _alt(self.units), _alt(self.tens)
        H = _alt(k for k, v in self.scales.items() if v < 1000)
        B = _alt(k for k, v in self.scales.items() if v >= 1000)
        A, C = _alt(self.articles), _alt(self.connectors)
        small = rf"(?:{T}(?:[\s-]+{U})?|{U})"
        group = rf"(?:(?:{small}|{A})\s+{H}(?:\s+(?:{C}\s+)?{small})?|{small})"
        words = rf"(?:(?:{group}|{A})\s+{B}(?:,?\s+(?:{C}\s+)?{group})?|{group})"
        digits = rf"(?:\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.\d+)?(?!\d)(?:\s+{B})?"
        mult = rf"(?:(?:{A}|{small}|\d+)\s+)?{_alt(self.multipliers)}"
        self._num = rf"(?:{_alt(self.fixed)}|{mult}|{digits}|{words})"
        between = "|".join(
            rf"{_phrase(s)}\s+{self._num}\s+{_phrase(l)}\s+{self._num}"
            for s, l in num.get("range_between", {}).items()
        ) or r"(?!x)x"
        links = _alt(num.get("range_links", []))
        rng = rf"(?:{between}|{self._num}\s*{links}\s*{self._num})"
        body = rf"(?:{rng}|{_alt(self.vague)}|{self._num}|{A})"
        self.qty_re = re.compile(
            rf"(?<![\w.,])(?:(?P<qual>{_alt(self.qualifiers)})\s+)?(?P<body>{body})(?![\w])", f
        )
        self.num_re = re.compile(self._num, f)
        self.between_re = re.compile(
            "|".join(rf"{_phrase(s)}\s+(?P<lo{i}>{self._num})\s+{_phrase(l)}\s+(?P<hi{i}>{self._num})"
                     for i, (s, l) in enumerate(num.get("range_between", {}).items())) or r"(?!x)x", f)
        self.range_re = re.compile(rf"(?P<lo>{self._num})\s*{links}\s*(?P<hi>{self._num})", f)
        self.mult_re = re.compile(rf"(?:(?P<n>.+?)\s+)?(?P<m>{_alt(self.multipliers)})", f)
        self.digits_re = re.compile(rf"(?P<d>[\d,]+(?:\.\d+)?)(?:\s+(?P<s>{B}))?", f)

        # Cheap pre-check: a sentence with no casualty word cannot hold a mention, and most don't.
        self.trigger_re = re.compile(_alt({*self.after, *self.before, *self.toll}), f)
        self.after_re = re.compile(rf"\s*({_alt(self.after)})", f)
        self.aux_re = re.compile(rf"\s*({_alt(data.get('aux', []))})", f)
        pats = "".join("|(?:" + p.pattern[:-2] + r")(?![\w-])" for p, _ in self.victim_patterns)
        self.victim_re = re.compile(rf"\s*({_alt(self.victims)}{pats})", f)
        self.before_re = re.compile(
            rf"({_alt(self.before)})\s+(?:{_alt(data.get('lead_ins', []))}\s+)?$", f
        )
        self.toll_re = re.compile(
            rf"({_alt(self.toll)})((?:\s*,?\s+[^\W_][\w'’-]*){{0,{_MAX_TOLL_GAP}}})\s*,?\s*$", f
        )
        self.unit_re = re.compile(rf"\s*-?\s*(?:{_alt(data.get('units', []))}|:\d)", f)
        self.month_re = re.compile(rf"\s*{_alt(self.months)}", f)

    def victim(self, form: str) -> tuple[str, bool]:
        """(name, is_singular) of a victim noun matched by victim_re."""
        key = _norm(form)
        if key in self.victims:
            return self.victims[key]
        return next((name, True) for p, name in self.victim_patterns if p.match(key))

    # -- numbers ---------------------------------------------------------------------------

    def number(self, text: str) -> int | None:
        """The value of one written number ("1,200", "twenty-three", "two dozen"), None if not one."""
        t = _norm(text)
        if t in self.fixed:
            return self.fixed[t]
        m = self.mult_re.fullmatch(t)
        if m:
            n = m.group("n")
            k = 1 if n is None or n in self.articles else self.number(n)
            return None if k is None else k * self.multipliers[_norm(m.group("m"))]
        m = self.digits_re.fullmatch(t)
        if m:
            d = m.group("d").replace(",", "")
            scale = self.scales[_norm(m.group("s"))] if m.group("s") else None
            if "." in d and scale is None:
                return None  # "2.5" is a measurement, not a head count
            return int(round(float(d) * (scale or 1)))
        total = current = 0
        seen = False
        for tok in re.split(r"[\s,-]+", t):
            if tok in self.connectors or not tok:
                continue
            if tok in self.articles:
                current = max(current, 1)
            elif tok in self.units or tok in self.tens:
                current += self.units.get(tok, 0) + self.tens.get(tok, 0)
            elif tok in self.scales and self.scales[tok] < 1000:
                current = max(current, 1) * self.scales[tok]
            elif tok in self.scales:
                total += max(current, 1) * self.scales[tok]
                current = 0
            else:
                return None
            seen = True
        return total + current if seen else None


@lru_cache(maxsize=None)
def load_lexicon(language: str = DEFAULT_LANGUAGE) -> Lexicon:
    """The lexicon for a language code ("en", "en-GB" -> en); English when there is none."""
    code = (language or DEFAULT_LANGUAGE).split("-")[0].split("_")[0].lower()
    path = LEXICON_DIR / f"{code}.yaml"
    if not path.is_file():
        path = LEXICON_DIR / f"{DEFAULT_LANGUAGE}.yaml"
    with path.open(encoding="utf-8") as fh:
        return Lexicon(yaml.safe_load(fh))


# --------------------------------------------------------------------------------------------
# Sentences

_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])|\n+")


def split_sentences(text: str, lex: Lexicon | None = None) -> list[tuple[int, int]]:
    """[start, end) spans of the sentences of `text`, whitespace trimmed. Newlines always split
    (titles and paragraphs); a full stop does not split after an abbreviation or an initial."""
    lex = lex or load_lexicon()
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        if m.group().startswith("."):
            w = re.search(r"([\w.]+)$", text[start : m.start()])
            word = w.group(1).lower() if w else ""
            if word in lex.abbreviations or (len(word) == 1 and word.isalpha()):
                continue
        end = m.start() if m.group().startswith("\n") else m.end()
        spans.append((start, end))
        start = m.end()
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        seg = text[s:e]
        ls = len(seg) - len(seg.lstrip())
        rs = len(seg.rstrip())
        if rs > ls:
            out.append((s + ls, s + rs))
    return out


# --------------------------------------------------------------------------------------------
# Grammar

_TOKEN = re.compile(r"\s*([^\W_][\w'’-]*|\S)")
_LAST_WORD = re.compile(r"([^\s,;:()]+)\s*$")


@dataclass(slots=True)
class _Quantity:
    start: int
    end: int
    count: int
    min: int
    max: int | None
    qualifier: str | None
    article: bool  # a bare "a"/"an": counts as one only before a singular victim


def _sentence_mentions(sent: str, s0: int, s1: int, lex: Lexicon) -> list[Mention]:
    out: list[Mention] = []
    if not lex.trigger_re.search(sent):
        return out
    last_victim = None
    for m in lex.qty_re.finditer(sent):
        q = _quantity(sent, m, lex)
        if q is None:
            continue
        found = _attach_after(sent, q, lex) or _attach_before(sent, q, lex)
        if found is None:
            continue
        category, victim = found
        # "nine people were killed and 23 wounded": the second figure shares the first's noun.
        victim = victim or last_victim
        last_victim = victim
        out.append(Mention(category, q.count, q.min, q.max, q.qualifier, victim, sent, s0, s1))
    return out


def _prev_words(text: str, n: int) -> list[str]:
    return re.findall(r"[^\W_][\w'’.-]*|[#$£€]", text)[-n:]


def _quantity(sent: str, m: re.Match, lex: Lexicon) -> _Quantity | None:
    """Read a matched figure, or None when it is an age, date, time, year, label or negation."""
    body, qual = m.group("body"), m.group("qual")
    before, after = sent[: m.start()], sent[m.end() :]
    prev = _LAST_WORD.search(before)
    prev_word = prev.group(1).lower() if prev and prev.end(1) == len(before.rstrip()) else ""
    if prev_word in lex.labels or prev_word in lex.negations or prev_word.rstrip(".") in lex.months:
        return None  # "aged 25", "Flight 370", "no one", "March 12"
    if lex.unit_re.match(after) or lex.month_re.match(after):
        return None  # "25-year-old", "12 days", "10:30", "12 March", "5 %"
    b = _norm(body)
    if b in lex.articles:
        return _Quantity(m.start(), m.end(), 1, 1, 1, None, True) if qual is None else None

    lo = hi = None
    rm = lex.between_re.fullmatch(b) or lex.range_re.fullmatch(b)
    if rm and not lex.num_re.fullmatch(b):
        g = {k: v for k, v in rm.groupdict().items() if v}
        los = [v for k, v in g.items() if k.startswith("lo")]
        his = [v for k, v in g.items() if k.startswith("hi")]
        lo, hi = lex.number(los[0]), lex.number(his[0])
        if lo is None or hi is None:
            return None
        if prev_word in lex.change_from:  # "rose from 12 to 40": the figure is the new one
            lo = hi
        lo, hi = min(lo, hi), max(lo, hi)
    elif b in lex.vague:
        lo, hi = lex.vague[b]
    else:
        lo = hi = lex.number(b)
        if lo is None:
            return None
        if re.fullmatch(r"\d{4}", b) and 1000 <= lo <= 2999 and not lex.victim_re.match(after):
            return None  # a year: "in 2019"; "1500 people" (no comma) is still a count

    code = lex.qualifiers.get(_norm(qual)) if qual else None
    count, qmin, qmax = lo, lo, hi
    if code in ("at_least", "more_than"):
        qmax = None
    elif code == "up_to":
        count, qmin = min(1, hi), min(1, hi)
    elif code == "about" and lo == hi:
        spread = math.ceil(lo / 10)
        qmin, qmax = max(lo - spread, min(1, lo)), lo + spread
    elif code == "nearly" and lo == hi:
        qmin = max(lo - math.ceil(lo / 10), min(1, lo))
    return _Quantity(m.start(), m.end(), count, qmin, qmax, code, False)


def _hypothetical_or_negated(words: list[str], lex: Lexicon) -> bool:
    return any(w in lex.modals or w.lower() in lex.negations or w.lower().endswith("n't") for w in words)


def _attach_after(sent: str, q: _Quantity, lex: Lexicon) -> tuple[str, str | None] | None:
    """FIGURE [fillers] [victim] [, parenthesis,] [aux...] TERM: "12 people were killed", "12 dead"."""
    if _hypothetical_or_negated(_prev_words(sent[: q.start], 4), lex):
        return None  # "would leave hundreds dead", "none of the 40 were hurt"
    p = q.end
    victim: tuple[str, bool] | None = None
    fillers = 0
    seen_aux = used_paren = used_place = used_noun2 = False
    for _ in range(_MAX_STEPS):
        m = lex.after_re.match(sent, p)
        if m:
            if q.article and not (victim and victim[1]):
                return None  # "a dead man", "a wounded soldier said": adjectives, not reports
            return lex.after[_norm(m.group(1))], victim[0] if victim else None
        m = lex.aux_re.match(sent, p)
        if m:
            seen_aux, p = True, m.end()
            continue
        t = _TOKEN.match(sent, p)
        if t is None:
            return None
        word, lw = t.group(1), t.group(1).lower()
        if word in lex.modals or lw in lex.negations or lw.endswith("n't"):
            return None  # "could be killed", "were not hurt"
        if seen_aux:
            return None  # only auxiliaries and adverbs between "were" and "killed"
        if word in (",", "(") and not used_paren:
            close = sent.find("," if word == "," else ")", t.end(), t.end() + _MAX_PARENTHESIS)
            if close < 0:
                return None
            p, used_paren = close + 1, True
            continue
        v = lex.victim_re.match(sent, p)
        if v and (victim is None or not used_noun2):
            # The later of two nouns wins: "a 25-year-old man" is a man.
            used_noun2 = victim is not None
            victim, p = lex.victim(v.group(1)), v.end()
            continue
        if victim is not None:
            if lw in lex.place_preps and not used_place:
                # "two people in the car were killed": a short place phrase, then an auxiliary.
                p = _skip_place(sent, t.end(), lex)
                if p is None:
                    return None
                used_place = True
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
        if lex.aux_re.match(sent, p):
            return p
    return None


def _attach_before(sent: str, q: _Quantity, lex: Lexicon) -> tuple[str, str | None] | None:
    """VERB FIGURE [victim] ("killing 3 soldiers") or TOLL ... FIGURE ("the death toll rose to 40")."""
    before = sent[max(0, q.start - 200) : q.start]
    category = None
    m = lex.before_re.search(before)
    if m:
        pre = _prev_words(before[: m.start()], 3)
        if _hypothetical_or_negated(pre, lex) or (pre and pre[-1].lower() == "to"):
            return None  # "could have killed thousands", "did not kill", "vowed to kill"
        category = lex.before[_norm(m.group(1))]
    elif not q.article:
        m = lex.toll_re.search(before)
        if m:
            gap = _prev_words(m.group(2), _MAX_TOLL_GAP)
            if gap and gap[-1].lower() in lex.change_from:
                gap = gap[:-1]  # "rose from 12 to 40"
            if gap and gap[-1].lower() not in lex.toll_links:
                return None
            if _hypothetical_or_negated(gap, lex) or any(w.lower() in ("and", "but") for w in gap):
                return None  # "the toll could rise to 1,000"
            category = lex.toll[_norm(m.group(1))]
    if category is None:
        return None
    victim = _victim_after(sent, q.end, lex)
    if q.article and not (victim and victim[1]):
        return None  # "killing a" + singular noun only
    return category, victim[0] if victim else None


def _victim_after(sent: str, p: int, lex: Lexicon) -> tuple[str, bool] | None:
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
