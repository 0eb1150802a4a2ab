"""Casualty mentions in news text: how many people were killed, injured or went missing.

In:  plain text (the enrich stage passes ``title + "\\n\\n" + text``), optionally a language code
     naming ``lexicon/<language>.yaml`` (English when there is no lexicon for it) and the year the
     article was published (to tell the event's toll from tolls of older events it recalls).
Out: ``find_casualties`` -> one ``Mention`` per figure tied to a casualty term, in text order, with
     the victim noun, who gave the figure (``attribution``), the sentence it came from and that
     sentence's ``[start, end)`` offsets in the text given;
     ``summarize`` -> per category, the one figure an analyst would report.

How a figure is read (``count`` is what we report, ``min``/``max`` what the words allow):

    "12"                      count 12, min 12, max 12
    "at least 12"             count 12, min 12, max None        qualifier at_least
    "more than 12", "over 12" count 12, min 12, max None        qualifier more_than (min is not 13:
                                                                 the figure reads as written)
    "up to 5", "as many as 5" count 1,  min 1,  max 5           qualifier up_to (a report that people
                                                                 died admits at least one, not zero)
    "5 may have died"         count 1,  min 1,  max 5           qualifier up_to (an estimate of a real
                                                                 event; "could kill 5" is no mention)
    "about 40", "some 40"     count 40, min 36, max 44          qualifier about (+-10%, at least 1)
    "nearly 40", "almost 40"  count 40, min 36, max 40          qualifier nearly
    "between 10 and 15"       count 10, min 10, max 15          ranges report their lower bound
    "dozens" / "scores" / "hundreds" / "thousands" / "several": ranges from the lexicon
                              (dozens 24..99: two dozen up to where one would say "hundreds")
    "a man was shot dead"     count 1 (a/an count only before a singular victim noun; in languages
                              without articles a bare singular after the verb: "قتل رجل")

Not read as figures: negations ("no one was hurt"), hypotheticals ("could kill thousands"), ages,
dates, times, street numbers, units, and tolls of other, older events the article recalls ("in 2019,
40 died", "the deadliest since 2015, when 40 died", "since the war began, 40,000 have died").

The grammar (which shapes of sentence carry a figure) is here; the words are in the lexicon, so a
new language is a new YAML file. Everything is regular expressions over one sentence at a time:
no model, no network, well under a millisecond per sentence.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import yaml

from .implied import PERPETRATOR, ImpliedGrammar, Person, implied_figures
from .patterns import alternation

CATEGORIES = ("killed", "injured", "missing")
HIT = "shot"  # internal category: "4 people were shot" (killed and injured together), never emitted
IMPLIED = "implied"  # the qualifier of a person counted without a figure
LEXICON_DIR = Path(__file__).resolve().parent / "lexicon"
DEFAULT_LANGUAGE = "en"

# How far the grammar looks; longer noun phrases are rare and widening these invites false matches.
_MAX_FILLERS = 3  # unknown words before the victim noun: "12 Palestinian civilians"
_MAX_STEPS = 16  # tokens walked from a figure to its casualty term
_MAX_TOLL_GAP = 20  # words between "death toll" and its figure: "the number of people killed when the
# factory collapsed on the outskirts of the city rose to"; the last word must still be a toll link
_MAX_GROUP_WORDS = 4  # words naming one victim group in a list: "two customs officials and"
_MAX_PARENTHESIS = 120  # characters of ", including three children," skipped between figure and verb
_MAX_SOURCE_WORDS = 8  # an attribution longer than this is a clause, not a source

# Eastern Arabic and Persian digits, the Arabic thousands separator and no-break spaces, mapped one
# character to one character so that offsets into the normalised text are offsets into the original.
_NORMALISE = str.maketrans(
    "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٬\u00a0\u202f\u2009",
    "01234567890123456789,   ",
)


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

    def as_dict(self) -> dict:
        # By hand, not dataclasses.asdict (which deep-copies every field): the fields are scalars.
        return {f: getattr(self, f) for f in _MENTION_FIELDS}


_MENTION_FIELDS = tuple(f for f in Mention.__dataclass_fields__ if f != "key")


def find_casualties(text: str, language: str | None = None, published_year: int | None = None) -> list[Mention]:
    """Every casualty figure of the article's own event in `text`, in order; at most one per figure.

    `published_year` dates the article: a figure in a sentence set in an earlier year ("in 2019")
    belongs to another event. Without it, the current year is assumed.
    """
    return [m for m in scan(text, language, published_year) if m.category != HIT]


def scan(text: str, language: str | None = None, published_year: int | None = None) -> list[Mention]:
    """find_casualties plus the internal HIT mentions ("4 people were shot") summarize needs."""
    lex = load_lexicon(language or DEFAULT_LANGUAGE)
    norm = text.translate(_NORMALISE)
    year = published_year or _dt.date.today().year
    mentions: list[Mention] = []
    skip = _link_lines(norm, lex)
    for start, end in split_sentences(norm, lex):
        if any(s <= start < e for s, e in skip):
            continue
        sent = norm[start:end]
        if lex.aggregate_re is not None and lex.aggregate_re.search(sent):
            continue  # "10 killed in separate shootings across the city": a sum of other incidents
        found = _sentence_mentions(sent, start, end, lex, year)
        for m in found:
            # Evidence is the original sentence (original digits), offsets are the same.
            mentions.append(_replace_evidence(m, text[start:end]))
        if not any(m.category in ("killed", "injured") for m in found):
            for p in lex.implied.people(sent, start, end, lambda a, b: _background(sent, a, b, lex, year)):
                mentions.append(_implied_mention(p, text[start:end]))
    return mentions


def _implied_mention(p: Person, evidence: str) -> Mention:
    return Mention(p.category, 1, 1, 1, IMPLIED, p.victim, evidence, p.start, p.end, None, p.key)


# A video's duration before its title ("1:49 Grandmother says ..."), not a live blog's clock time
# ("11:05 a.m. — ...", "9:30 AM: ...").
_TIMESTAMP_LINE = re.compile(r"\d{1,2}:\d\d\s+(?![AaPp]\.?[Mm]\b|[A-Z]{2,3}\b|[—–:-])\S")


def _link_lines(text: str, lex: Lexicon) -> list[tuple[int, int]]:
    """[start, end) of the lines of a web page that link to other stories, which extraction lets
    through: "Read more: Fire at ski resort kills 76", and the headline-like lines (no full stop)
    under a heading such as "RELATED COVERAGE". Their tolls belong to other events."""
    if lex.link_re is None:
        return []
    out: list[tuple[int, int]] = []
    in_block = False
    for m in re.finditer(r"[^\n]+", text):
        line = m.group().strip()
        if not line:
            continue
        if _TIMESTAMP_LINE.match(line):
            out.append(m.span())  # "1:49 Grandmother speaks ...": a video playlist's entry
            continue
        lm = lex.link_re.match(line)
        if lm:
            out.append(m.span())
            in_block = not line[lm.end():].strip(" :|-—–")  # a heading alone: its links follow
            continue
        if in_block and len(line.split()) <= 16 and not re.search(r"[.!?\"”]\s*$", line):
            out.append(m.span())
            continue
        in_block = False
    return out


def headline_end(text: str) -> int | None:
    """End offset of the headline when `text` opens with one: a first line of at most 20 words that
    is not a sentence (no closing full stop), followed by more text. None otherwise."""
    m = re.match(r"\s*([^\n]+)\n", text)
    if m is None:
        return None
    line = m.group(1).strip()
    if len(line.split()) > 20 or re.search(r"[.!?:\"”]\s*$", line) or not text[m.end():].strip():
        return None
    return m.end(1)


def _replace_evidence(m: Mention, evidence: str) -> Mention:
    if m.evidence == evidence:
        return m
    return replace(m, evidence=evidence)


def summarize(mentions: Iterable[Mention], headline_end: int | None = None) -> dict:
    """{category: {"count", "min", "max"} | None}: the figure of the article's event for each category.

    Figures written as numbers come first: the largest reported, not the sum: an article repeats its
    toll ("at least 9 killed" in the headline, "nine people were killed" in the lede) and updates it
    ("rose to 12"), and the largest is the latest. Tolls of older events never reach here
    (find_casualties drops them). Ties go to the wider statement (higher min, then open-ended max).

    `headline_end`: where the article's headline ends in the text the mentions were read from.
    A headline states the event's toll; a larger figure further down is, in real pages, nearly
    always another event (a recalled disaster, a cumulative war toll, a related story's headline),
    so a category the headline gives is capped at the headline's figure (its upper bound for a
    range or a vague word: "kill dozens" still lets the body's "52" through).

    A category with no written figure takes the people the article implies (qualifier "implied",
    implied.implied_figures). The killed figure counts everyone the event killed, a perpetrator who
    died in it included (victim "perpetrator" in the mentions, so a consumer can tell them apart):
    a murder-suicide "leaves two dead". "4 people were shot" with 1 killed gives 3 injured when the
    article states no injured figure of its own.
    """
    mentions = list(mentions)
    written = [m for m in mentions if m.qualifier != IMPLIED]
    cap: dict[str, int] = {}
    if headline_end is not None:
        for m in written:
            if m.end <= headline_end:
                # "at least 32" / "more than a dozen" leave room for the body's exact figure ("14").
                top = 2 * m.count if m.max is None else m.max
                cap[m.category] = max(cap.get(m.category, 0), top)
    best: dict[str, Mention] = {}
    for m in written:
        if m.category in cap and m.count > cap[m.category]:
            continue
        cur = best.get(m.category)
        if cur is None or _rank(m) > _rank(cur):
            best[m.category] = m
    out = {
        c: ({"count": best[c].count, "min": best[c].min, "max": best[c].max} if c in best else None)
        for c in CATEGORIES
    }
    implied = implied_figures(
        Person(m.category, m.key or "noun:person", m.victim, m.start, m.end, m.evidence)
        for m in mentions if m.qualifier == IMPLIED
    )
    for c in ("killed", "injured"):
        if out[c] is None and implied.get(c):
            n = implied[c]
            out[c] = {"count": n, "min": n, "max": None}
    hit = best.get(HIT)
    if hit is not None and (best.get("injured") is None):
        killed = out["killed"]["count"] if out["killed"] else 0
        if hit.count > killed:
            n = hit.count - killed
            out["injured"] = {"count": n, "min": n, "max": None if hit.max is None else hit.max - killed}
    return out


def _rank(m: Mention) -> tuple:
    return (m.count, m.min, math.inf if m.max is None else m.max)


# --------------------------------------------------------------------------------------------
# Lexicon: YAML words compiled into the regular expressions the grammar below uses.


def _phrase(p: str, pre: str = "") -> str:
    """A lexicon phrase as a regex: any whitespace between words, word boundaries at word ends.
    `pre` is an optional clitic prefix that may be glued to the phrase (Arabic "و" + "قتل")."""
    body = r"\s+".join(re.escape(w) for w in p.split())
    if re.match(r"\w", p):
        body = r"(?<![\w])" + (f"(?:{pre})?" if pre else "") + body
    if re.search(r"\w$", p):
        body += r"(?![\w])"
    return body


def _alt(phrases: Iterable[str], pre: str = "") -> str:
    """All phrases as one trie-shaped alternation (patterns.alternation): longest match wins."""
    return alternation(phrases, pre)


def _raw(phrases: Iterable[str]) -> str:
    """An alternation without word boundaries: for glued connectors and number words after them."""
    ps = sorted({str(p).strip() for p in phrases if str(p).strip()}, key=len, reverse=True)
    return "(?:" + "|".join(r"\s+".join(re.escape(w) for w in p.split()) for p in ps) + ")" if ps else r"(?!x)x"


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
        # Casualty nouns an article counts one of on their own ("un mort", "un blessé").
        self.article_terms = {_norm(t) for t in data.get("article_terms", [])}
        self.connectors = {c.lower() for c in num.get("connectors", [])}
        self.glued = [c.lower() for c in num.get("glued_connectors", [])]
        self.change_from = {w.lower() for w in num.get("change_from", [])}
        self.vague = {_norm(k): (int(v[0]), int(v[1])) for k, v in data.get("vague", {}).items()}
        self.qualifiers = {_norm(p): code for code, ps in data.get("qualifiers", {}).items() for p in ps}
        self.bare_singular = bool(data.get("bare_singular", False))
        pre = _raw(data.get("clitic_prefixes", [])) if data.get("clitic_prefixes") else ""
        self.prefix_re = re.compile(pre) if pre else None

        self.after = {_norm(p): c for c, d in data["categories"].items() for p in d.get("after", [])}
        self.before = {_norm(p): c for c, d in data["categories"].items() for p in d.get("before", [])}
        self.toll = {_norm(p): c for c, d in data["categories"].items() for p in d.get("toll_heads", [])}
        self.toll_links = {w.lower() for w in data.get("toll_links", [])}
        self.negations = {w.lower() for w in data.get("negations", [])}
        self.negation_prefixes = tuple(w.lower() for w in data.get("negation_prefixes", []))
        self.negation_suffixes = tuple(w.lower() for w in data.get("negation_suffixes", []))
        self.modals = set(data.get("modals", []))  # case-sensitive on purpose: "May", "Will"
        self.epistemic = {_norm(p) for p in data.get("epistemic", [])}
        self.stopwords = {w.lower() for w in data.get("stopwords", [])}
        self.place_preps = {w.lower() for w in data.get("place_prepositions", [])}
        self.labels = {w.lower() for w in data.get("labels", [])}
        self.months = {w.lower() for w in data.get("months", [])}
        self.abbreviations = {w.lower() for w in data.get("abbreviations", [])}
        agg = data.get("aggregate", [])
        # Plural incident nouns ("in two South Side shootings", "a spate of stabbings") sum incidents too.
        plural = data.get("aggregate_nouns", [])
        agg_src = "|".join(x for x in (_alt(agg) if agg else "", rf"(?<![\w-]){_alt(plural)}" if plural else "") if x)
        self.aggregate_re = re.compile(agg_src, re.IGNORECASE) if agg_src else None
        self.label_phrase_re = re.compile(rf"{_alt(data.get('label_phrases', []))}\s*$", re.IGNORECASE)
        counters = data.get("counters", [])
        self.labels |= {w.lower() for w in counters}  # "Image 10": the counter itself
        self.counter_re = (
            re.compile(rf"{_alt(counters)}\s+\d+\s*(?:of|/)\s*$", re.IGNORECASE) if counters else None
        )
        links = data.get("link_markers", [])
        self.link_re = re.compile(rf"{_alt(links)}(?=\s*(?:[:|—–-]|$))", re.IGNORECASE) if links else None

        self.victims: dict[str, tuple[str, int]] = {}  # form -> (name, number: 1 singular, 2 dual, 0 plural)
        self.victim_patterns: list[tuple[re.Pattern, str]] = []  # regex -> name (singular)
        for v in data.get("victims", []):
            for pat in v.get("patterns", []):
                self.victim_patterns.append((re.compile(pat + r"\Z", re.IGNORECASE), v["name"]))
            for form in v.get("plural", []):
                self.victims[_norm(form)] = (v["name"], 0)
            for form in v.get("dual", []):
                self.victims[_norm(form)] = (v["name"], 2)
            for form in v.get("singular", []):
                self.victims[_norm(form)] = (v["name"], 1)
        # Nationalities are victims named by themselves: "Singular/Plural" -> name "plural".
        for pair in data.get("nationalities", []):
            sing, _, plur = str(pair).partition("/")
            name = _norm(plur or sing)
            if plur:
                self.victims[_norm(plur)] = (name, 0)
            self.victims.setdefault(_norm(sing), (name, 1))
        self.implied = ImpliedGrammar(
            data.get("implied", {}), {k: name for k, (name, n) in self.victims.items() if n == 1}
        )

        f = re.IGNORECASE
        U, T = _alt(self.units), _alt(self.tens)
        H = _alt(k for k, v in self.scales.items() if v < 1000)
        B = _alt(k for k, v in self.scales.items() if v >= 1000)
        A, C = _alt(self.articles), _alt(self.connectors)
        # A number word may carry a glued list conjunction: "ثلاثة جنود وخمسة مدنيين".
        glued_conj = [c for c in data.get("list_conjunctions", []) if c in data.get("clitic_prefixes", [])]
        if glued_conj:
            start = "(?:(?<![\\w])" + "".join(rf"|(?<=\s{re.escape(c)})" for c in glued_conj) + ")"
            U, T = U.replace(r"(?<![\w])", start), T.replace(r"(?<![\w])", start)
        small = rf"{T}(?:[\s-]+(?:{C}\s+)?{U})?|{U}"
        if self.glued:  # unit before ten, the connector glued to the ten: "خمسة وعشرون"
            small = rf"{U}\s+{_raw(self.glued)}{_raw(self.tens)}(?![\w])|" + small
        small = f"(?:{small})"
        group = rf"(?:(?:{small}|{A})\s+{H}(?:\s+(?:{C}\s+)?{small})?|{small})"
        words = rf"(?:(?:{group}|{A})\s+{B}(?:,?\s+(?:{C}\s+)?{group})?|{group})"
        seps = "".join(re.escape(s) for s in num.get("thousands_separators", [","]))
        digits = rf"(?:\d{{1,3}}(?:[{seps}]\d{{3}})+(?!\d)|\d+)(?:\.\d+)?(?!\d)(?:\s+{B})?"
        mult = rf"(?:(?:{A}|{small}|\d+)\s+)?{_alt(self.multipliers)}"
        self._num = rf"(?:{_alt(self.fixed)}|{mult}|{digits}|{words})"
        between = "|".join(
            rf"{_phrase(s)}\s+{self._num}\s+{_phrase(l)}\s+{self._num}"
            for s, l in num.get("range_between", {}).items()
        ) or r"(?!x)x"
        links = _alt(num.get("range_links", []))
        rng = rf"(?:{between}|{self._num}\s*{links}\s*{self._num})"
        body = rf"(?:{rng}|{_alt(self.vague)}|{self._num}|{A})"
        # A figure may carry a glued conjunction ("و150", "and 150") where the lexicon has clitics.
        glued_before = r"(?:(?<![\w.,])" + "".join(
            rf"|(?<=\s{re.escape(c)})|(?<=^{re.escape(c)})" for c in data.get("clitic_prefixes", []) if len(c) == 1
        ) + ")"
        self.qty_re = re.compile(
            rf"{glued_before}(?:(?P<qual>{_alt(self.qualifiers)})(?:(?<=['’])|\s+))?(?P<body>{body})(?![\w])", f
        )
        self.num_re = re.compile(self._num, f)
        # Where a figure can start: a digit or the first word of a number, qualifier or vague word.
        # qty_re is tried only there (figures()), not at every word of every sentence.
        firsts = {str(w).split()[0] for group in (
            self.units, self.tens, self.scales, self.articles, self.multipliers, self.fixed, self.vague,
            self.qualifiers, num.get("range_between", {}),
        ) for w in group if str(w).split()}
        cl = data.get("clitic_prefixes", [])
        self.figure_start_re = re.compile(
            rf"(?<![\w])(?P<pre>{_raw(cl)})?(?:\d|{alternation(firsts, bounded=False)})" if cl
            else rf"(?<![\w])(?:\d|{alternation(firsts, bounded=False)})", f,
        )
        sf = data.get("split_fatal", {})
        self.split_fatal_re = re.compile(
            rf"(?P<n>{self._num})(?:\s+[^\W\d_][\w'’-]*){{0,3}}?\s+{_alt(sf['hit'])},\s+(?P<k>{self._num})"
            rf"(?:\s+{_alt(sf.get('partitive', []))})?\s+{_alt(sf['fatal'])}(?![\w])", re.IGNORECASE,
        ) if sf.get("hit") and sf.get("fatal") else None
        # Cheap pre-check: the big regex above runs only on sentences with a "fatally".
        self.fatal_word_re = re.compile(_alt(sf["fatal"]), re.IGNORECASE) if self.split_fatal_re else None
        self.between_re = re.compile(
            "|".join(rf"{_phrase(s)}\s+(?P<lo{i}>{self._num})\s+{_phrase(l)}\s+(?P<hi{i}>{self._num})"
                     for i, (s, l) in enumerate(num.get("range_between", {}).items())) or r"(?!x)x", f)
        self.range_re = re.compile(rf"(?P<lo>{self._num})\s*{links}\s*(?P<hi>{self._num})", f)
        self.mult_re = re.compile(rf"(?:(?P<n>.+?)\s+)?(?P<m>{_alt(self.multipliers)})", f)
        self.digits_re = re.compile(rf"(?P<d>[\d{seps}]+(?:\.\d+)?)(?:\s+(?P<s>{B}))?", f)
        self._seps = set(num.get("thousands_separators", [","]))
        word_keys = [*self.units, *self.tens, *self.scales, *self.connectors, *self.articles]
        self.numword_re = re.compile(rf"[\s,-]*({_raw(word_keys)})(?![\w])", f)

        # Cheap pre-check: a sentence with no casualty word cannot hold a mention, and most don't.
        self.trigger_re = re.compile(_alt({*self.after, *self.before, *self.toll}, pre), f)
        self.after_re = re.compile(rf"\s*({_alt(self.after, pre)})", f)
        self.aux_words = {w.lower() for a in data.get("aux", []) for w in str(a).split()}
        self.aux_re = re.compile(rf"\s*({_alt(data.get('aux', []), pre)})", f)
        pats = "".join("|(?:" + p.pattern[:-2] + r")(?![\w-])" for p, _ in self.victim_patterns)
        elisions = _raw(data.get("elisions", [])) if data.get("elisions") else ""
        self.victim_re = re.compile(
            rf"\s*(?:{elisions})?({_alt(self.victims)}{pats})" if elisions else rf"\s*({_alt(self.victims)}{pats})", f
        )
        self.bare_victim_re = re.compile(rf"(?<![\w])({_alt(k for k, v in self.victims.items() if v[1])})", f)
        self.before_re = re.compile(
            rf"({_alt(self.before, pre)})\s+(?:{_alt(data.get('lead_ins', []))}\s+)?$", f
        )
        self.toll_re = re.compile(
            rf"({_alt(self.toll, pre)})((?:\s*,?\s+[^\W_][\w'’-]*){{0,{_MAX_TOLL_GAP}}})\s*,?\s*$", f
        )
        self.unit_re = re.compile(rf"\s*-?\s*(?:{_alt(data.get('units', []))}|:\d)", f)
        self.month_re = re.compile(rf"\s*{_alt(self.months)}", f)
        mods = data.get("victim_modifiers", [])
        self.modifier_re = re.compile(r"\s*(?:" + "|".join(mods) + ")" if mods else r"(?!x)x", f)
        streets = data.get("street_suffixes", [])
        self.street_re = re.compile(
            rf"\s+(?:[A-Z][\w'’.-]*\s+){{1,3}}{_alt(streets)}" if streets else r"(?!x)x"
        )

        # Older events: a cue before the figure in its clause, or after it before the next comma.
        bg = data.get("background", {})
        self.background_re = re.compile(_alt(bg.get("phrases", []), pre), f)
        # Languages that write the day first ("du 13 novembre 2015") say so; English keeps "March 12,
        # 2024" only, so that a bare "on 12 March 2024" in an undated text stays the event's own date.
        day_first = r"(?:\d{1,2}\w{0,2}\s+(?=" + _alt(self.months) + r"))?" if bg.get("day_first_dates") else ""
        self.year_re = re.compile(
            rf"{_alt(bg.get('year_prepositions', []), pre)}\s+(?:{day_first}(?:{_alt(self.months)}\.?\s+)?(?:\d{{1,2}},?\s+)?)"
            rf"(?P<year>(?:19|20)\d\d)(?!\d)", f,
        )
        # Victim groups listed as one toll: "3 soldiers and 5 civilians", "3 soldats et 5 civils",
        # "3 جنود و5 مدنيين" (a conjunction that is a clitic may be glued to the next figure).
        clitics = set(data.get("clitic_prefixes", []))
        conj = "|".join(
            (rf"\s+{_phrase(c)}\s*" if c in clitics else rf"\s+{_phrase(c)}\s+")
            for c in data.get("list_conjunctions", ["and", "plus", "as well as"])
        )
        self.group_gap_re = re.compile(
            rf"((?:\s+[^\W\d_][\w'’-]*){{1,{_MAX_GROUP_WORDS}}}?)\s*(?:[,،]\s*(?:(?:{conj})|\s*)|[,،]?(?:{conj}))\Z", f
        )
        self.list_end_re = re.compile(rf"(?:{conj})\Z", f)
        self.clause_break_re = re.compile(rf"[;—–]|\s{_alt(bg.get('clause_breaks', []))}\s", f)

        att = data.get("attribution", {})
        verbs = _alt(att.get("verbs", []), pre)
        src = r"[^\W\d_][^,;:.!?()\"“”«»]{1,80}?"
        self.according_re = re.compile(rf"{_alt(att.get('according_to', []), pre)}\s*(?P<src>{src})\s*(?=[,;.!?\"”»)]|$)", f)
        self.said_end_re = re.compile(rf",\s*(?P<src>{src})\s+{verbs}(?:\s+[^,.]{{0,30}})?\s*[.!?\"”»]*\s*$", f)
        self.said_inv_re = re.compile(rf",\s*{verbs}\s+(?P<src>{src})\s*[.!?\"”»]*\s*$", f)
        self.said_start_re = re.compile(rf"^(?P<src>{src})\s+{verbs}(?=\s)", f)
        self.verb_first_re = (
            re.compile(rf"(?:^|[,،]\s*){verbs}\s+(?P<src>[^\W\d_][^,،.:؛()«»\"]{{1,60}}?)\s*(?=[,،:.؛]|\s(?:أن|إن)\s|$)", f)
            if att.get("verb_first") else None
        )
        self.source_strip = tuple(w.lower() + " " for w in att.get("strip", []))

    def figures(self, sent: str):
        """qty_re's matches in `sent`, as qty_re.finditer would give them, tried only where a figure
        can start (figure_start_re; after a glued clitic too)."""
        end = 0
        for a in self.figure_start_re.finditer(sent):
            starts = (a.start(), a.end("pre")) if "pre" in a.re.groupindex and a.group("pre") else (a.start(),)
            for pos in starts:
                if pos < end:
                    continue
                m = self.qty_re.match(sent, pos)
                if m is not None:
                    end = m.end()
                    yield m
                    break

    def victim(self, form: str) -> tuple[str, int]:
        """(name, grammatical number: 1 singular, 2 dual, 0 plural) of a victim noun."""
        key = _norm(form)
        if key in self.victims:
            return self.victims[key]
        return next((name, 1) for p, name in self.victim_patterns if p.match(key))

    def is_negation(self, word: str) -> bool:
        w = word.lower()
        return w in self.negations or w.startswith(self.negation_prefixes) or w.endswith(self.negation_suffixes) \
            if (self.negation_prefixes or self.negation_suffixes) else w in self.negations

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
            d = m.group("d")
            for sep in self._seps:
                d = d.replace(sep, "")
            scale = self.scales[_norm(m.group("s"))] if m.group("s") else None
            if "." in d and scale is None:
                return None  # "2.5" is a measurement, not a head count
            try:
                return int(round(float(d) * (scale or 1)))
            except ValueError:
                return None
        total = current = 0
        seen = False
        pos = 0
        while pos < len(t):
            w = self.numword_re.match(t, pos)
            if w is None:
                while pos < len(t) and t[pos] in " ,-":
                    pos += 1
                glue = next((g for g in self.glued if t.startswith(g, pos)), None)
                if glue is None:
                    return None if t[pos:].strip(" ,-") else (total + current if seen else None)
                pos += len(glue)
                continue
            tok, pos = w.group(1), w.end()
            if tok in self.connectors:
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


def languages() -> list[str]:
    """The language codes that have a lexicon."""
    return sorted(p.stem for p in LEXICON_DIR.glob("*.yaml"))


# --------------------------------------------------------------------------------------------
# Sentences

_BOUNDARY = re.compile(r"[.!?؟]+[\"'”’)\]»]*(?=\s+[\"'“‘(\[«]?(\S))|\n+")


def split_sentences(text: str, lex: Lexicon | None = None) -> list[tuple[int, int]]:
    """[start, end) spans of the sentences of `text`, whitespace trimmed. Newlines always split
    (titles and paragraphs); a full stop splits before anything but a lower-case letter (scripts
    without case, such as Arabic, split on every full stop), and not after an abbreviation or an initial."""
    lex = lex or load_lexicon()
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        if not m.group().startswith("\n"):
            nxt = m.group(1)
            if nxt.islower():
                continue
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
# Numbers that are parts of something else: times and timestamps, dates, model names, codes.
_NEAR = 60  # characters before a figure that can make it a label, an age, a time or a date
_NOT_A_COUNT_BEFORE = re.compile(r"(?:\d[:/.]|[A-Za-z]-|#)\s*$|['’]$")  # also "’90": a year
_YEAR_AFTER_DATE = re.compile(r"(?-i:[A-Z][a-z]+\.?)\s+\d{1,2},\s*$")  # "January 9, " before "2017"
_NOT_A_COUNT_AFTER = re.compile(r"(?:[:/]\d|-\d|\.\d)")
# A number between commas right after a capitalised word (a name, a place) and before a comma or a
# closing parenthesis is an age or a label in apposition: "Jane Roe, 31, of Springfield".
_APPOSITION_BEFORE = re.compile(r"(?-i:[A-Z][\w'’.-]*)\s*[,(]\s*$")
_APPOSITION_AFTER = re.compile(r"\s*[,)]")
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


def _sentence_mentions(sent: str, s0: int, s1: int, lex: Lexicon, year: int) -> list[Mention]:
    out: list[Mention] = []
    fatal = lex.fatal_word_re is not None and lex.fatal_word_re.search(sent) is not None
    if not fatal and not lex.trigger_re.search(sent):
        return out
    found_at: list[tuple[int, int, str, str | None, _Quantity]] = []
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


def _split_fatal(sent: str, qs: list[_Quantity], found_at: list, lex: Lexicon) -> list:
    """"Eight people were shot, three of them fatally": of N hit, M died and N - M were hurt. Only
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
            hurt = _Quantity(hit.start, hit.end, hit.count - died.count, hit.min - died.min if hit.min >= died.min else 0,
                             None if hit.max is None else hit.max - died.count, hit.qualifier, False)
            found_at.append((hit.start, hit.end, "injured", victim, hurt))
    found_at.sort(key=lambda x: x[0])
    return found_at




def _sum_groups(sent: str, qs: list[_Quantity], i: int, step: int, q: _Quantity, lex: Lexicon) -> _Quantity:
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
        if step > 0 and not lex.victim_re.match(sent, g.end) and (nxt is None or not nxt.group(1)[0].isalpha() or nxt.group(1).lower() in lex.stopwords):
            break  # the last group of a list after the verb still needs its noun: "3 of them" is no group
        pending = _Quantity(
            min(pending.start, g.start), max(pending.end, g.end), pending.count + g.count, pending.min + g.min,
            None if pending.max is None or g.max is None else pending.max + g.max,
            pending.qualifier or g.qualifier, False,
        )
        if step < 0:
            total = pending
        elif joined:
            return pending  # walking right, the conjunction closes the list
        j += step
    return total


def _prev_words(text: str, n: int) -> list[str]:
    return re.findall(r"[^\W_][\w'’.-]*|[#$£€]", text)[-n:]


def _quantity(sent: str, m: re.Match, lex: Lexicon) -> _Quantity | None:
    """Read a matched figure, or None when it is an age, date, time, year, label or negation."""
    body, qual = m.group("body"), m.group("qual")
    before, after = sent[: m.start()], sent[m.end() :]
    prev = _LAST_WORD.search(before)
    prev_word = prev.group(1).lower() if prev and prev.end(1) == len(before.rstrip()) else ""
    if prev_word in lex.labels or lex.is_negation(prev_word) or prev_word.rstrip(".") in lex.months:
        return None  # "aged 25", "Flight 370", "no one", "March 12"
    if lex.unit_re.match(after) or lex.month_re.match(after) or lex.street_re.match(after):
        return None  # "25-year-old", "12 days", "10:30", "12 March", "5 %", "25 Elm Street"
    near = before[-_NEAR:]  # the checks below look at the few words before the figure only
    if _NOT_A_COUNT_BEFORE.search(near) or _NOT_A_COUNT_AFTER.match(after):
        return None  # "0:50", "03/20/17", "AK-47", "911", "(555) 123-4567"
    if _APPOSITION_BEFORE.search(near) and _APPOSITION_AFTER.match(after):
        return None  # "Jerry Coleman, 31, died": an age in apposition to a name, not 31 dead
    if lex.label_phrase_re.search(near) or _YEAR_AFTER_DATE.search(near):
        return None  # "under the age of 10"; "January 9, 2017"
    if lex.counter_re is not None and lex.counter_re.search(near):
        return None  # "Image 1 of 16", "Photo 3/12": a gallery counter
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
        if re.fullmatch(r"\d{4}", b) and 1000 <= lo <= 2999 and not lex.victim_re.match(after) \
                and not lex.after_re.match(after):
            return None  # a year: "in 2019"; "1500 people", "2946 قتيلا" (no comma) are still counts

    code = lex.qualifiers.get(_norm(qual)) if qual else None
    return _qualified(m.start(), m.end(), lo, hi, code)


def _qualified(start: int, end: int, lo: int, hi: int, code: str | None) -> _Quantity:
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
    return _Quantity(start, end, count, qmin, qmax, code, False)


def _hypothetical_or_negated(words: list[str], lex: Lexicon) -> bool:
    return any(w in lex.modals or lex.is_negation(w) for w in words)


def _attach_after(sent: str, q: _Quantity, lex: Lexicon) -> tuple[str, str | None, _Quantity] | None:
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
            if q.article and not (victim and victim[1] == 1) and not (
                victim is None and p == q.end and term in lex.article_terms
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
            p = t.start(1) + re.match(r"\S+(?:\s+\S+){%d}" % (len(e.split()) - 1), sent[t.start(1) :]).end()
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
        gap = _prev_words(m.group(2), _MAX_TOLL_GAP)
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


def _attach_before(sent: str, q: _Quantity, lex: Lexicon) -> tuple[str, str | None, _Quantity] | None:
    """VERB FIGURE [victim] ("killing 3 soldiers") or TOLL ... FIGURE ("the death toll rose to 40")."""
    category = _before_category(sent[max(0, q.start - 200) : q.start], lex, q.article)
    if category is None:
        return None
    victim = _victim_after(sent, q.end, lex)
    if q.article and not (victim and victim[1] == 1):
        return None  # "killing a" + singular noun only
    return category, victim[0] if victim else None, q


def _implicit(sent: str, lex: Lexicon, taken: list[tuple[int, int]]):
    """VERB SINGULAR-NOUN in languages without an indefinite article: "قتل رجل" (a man was killed)
    is one killed, "مقتل شخصين" (the killing of two persons, a dual) two."""
    for v in lex.bare_victim_re.finditer(sent):
        if any(s <= v.start() < e + 40 for s, e in taken):
            continue  # the noun of a figure already read: "مقتل 3 أطفال"
        name, number = lex.victim(v.group(1))
        category = _before_category(sent[max(0, v.start() - 200) : v.start()], lex, True)
        if category is None:
            continue
        q = _Quantity(v.start(), v.end(), number, number, number, None, False)
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


# --------------------------------------------------------------------------------------------
# Context: older events and attribution


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
            if int(y.group("year")) < year:
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
