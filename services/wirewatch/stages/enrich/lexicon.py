"""A language's casualty lexicon: the YAML words compiled into the regexes the grammar uses.

In:  ``lexicon/<language>.yaml`` (en.yaml documents every key). Out: a ``Lexicon`` (cached per
language by ``load_lexicon``): word sets, compiled patterns (every word list one trie-shaped
alternation, patterns.alternation) and ``number`` to read a written number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from ... import yamlfile
from .implied import ImpliedGrammar
from .patterns import alternation

LEXICON_DIR = Path(__file__).resolve().parent / "lexicon"
DEFAULT_LANGUAGE = "en"
MAX_TOLL_GAP = 20  # words between "death toll" and its figure: "the number of people killed when the
# factory collapsed on the outskirts of the city rose to"; the last word must still be a toll link
_MAX_GROUP_WORDS = 4  # words naming one victim group in a list: "two customs officials and"


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

    def __init__(self, data: dict[str, Any]) -> None:
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
        self.before: dict[str, str] = {_norm(p): c for c, d in data["categories"].items() for p in d.get("before", [])}
        self.toll: dict[str, str] = {
            _norm(p): c for c, d in data["categories"].items() for p in d.get("toll_heads", [])
        }
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
        self.phone_numbers = {str(n) for n in data.get("phone_numbers", [])}
        self.abbreviations = {w.lower() for w in data.get("abbreviations", [])}
        agg = data.get("aggregate", [])
        # Plural incident nouns ("in two South Side shootings", "a spate of stabbings") sum incidents too.
        plural = data.get("aggregate_nouns", [])
        agg_src = "|".join(x for x in (_alt(agg) if agg else "", rf"(?<![\w-]){_alt(plural)}" if plural else "") if x)
        self.aggregate_re = re.compile(agg_src, re.IGNORECASE) if agg_src else None
        retractions = data.get("retractions", [])
        self.retraction_re = re.compile(_alt(retractions), re.IGNORECASE) if retractions else None
        self.label_phrase_re = re.compile(rf"{_alt(data.get('label_phrases', []))}\s*$", re.IGNORECASE)
        counters = data.get("counters", [])
        self.labels |= {w.lower() for w in counters}  # "Image 10": the counter itself
        self.counter_re = re.compile(rf"{_alt(counters)}\s+\d+\s*(?:of|/)\s*$", re.IGNORECASE) if counters else None
        links = data.get("link_markers", [])
        self.link_re = re.compile(rf"{_alt(links)}(?=\s*(?:[:|—–-]|$))", re.IGNORECASE) if links else None

        self.victims: dict[str, tuple[str, int]] = {}  # form -> (name, number: 1 singular, 2 dual, 0 plural)
        self.victim_patterns: list[tuple[re.Pattern[str], str]] = []  # regex -> name (singular)
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
        between = (
            "|".join(
                rf"{_phrase(lo)}\s+{self._num}\s+{_phrase(hi)}\s+{self._num}"
                for lo, hi in num.get("range_between", {}).items()
            )
            or r"(?!x)x"
        )
        links = _alt(num.get("range_links", []))
        rng = rf"(?:{between}|{self._num}\s*{links}\s*{self._num})"
        body = rf"(?:{rng}|{_alt(self.vague)}|{self._num}|{A})"
        # A figure may carry a glued conjunction ("و150", "and 150") where the lexicon has clitics.
        glued_before = (
            r"(?:(?<![\w.,])"
            + "".join(
                rf"|(?<=\s{re.escape(c)})|(?<=^{re.escape(c)})" for c in data.get("clitic_prefixes", []) if len(c) == 1
            )
            + ")"
        )
        self.qty_re = re.compile(
            rf"{glued_before}(?:(?P<qual>{_alt(self.qualifiers)})(?:(?<=['’])|\s+))?(?P<body>{body})(?![\w])", f
        )
        self.num_re = re.compile(self._num, f)
        # Where a figure can start: a digit or the first word of a number, qualifier or vague word.
        # qty_re is tried only there (figures()), not at every word of every sentence.
        firsts = {
            str(w).split()[0]
            for group in (
                self.units,
                self.tens,
                self.scales,
                self.articles,
                self.multipliers,
                self.fixed,
                self.vague,
                self.qualifiers,
                num.get("range_between", {}),
            )
            for w in group
            if str(w).split()
        }
        cl = data.get("clitic_prefixes", [])
        self.figure_start_re = re.compile(
            rf"(?<![\w])(?P<pre>{_raw(cl)})?(?:\d|{alternation(firsts, bounded=False)})"
            if cl
            else rf"(?<![\w])(?:\d|{alternation(firsts, bounded=False)})",
            f,
        )
        sf = data.get("split_fatal", {})
        self.split_fatal_re = (
            re.compile(
                rf"(?P<n>{self._num})(?:\s+[^\W\d_][\w'’-]*){{0,3}}?\s+{_alt(sf['hit'])},\s+(?P<k>{self._num})"
                rf"(?:\s+{_alt(sf.get('partitive', []))})?\s+{_alt(sf['fatal'])}(?![\w])",
                re.IGNORECASE,
            )
            if sf.get("hit") and sf.get("fatal")
            else None
        )
        # Cheap pre-check: the big regex above runs only on sentences with a "fatally".
        self.fatal_word_re = re.compile(_alt(sf["fatal"]), re.IGNORECASE) if self.split_fatal_re else None
        self.between_re = re.compile(
            "|".join(
                rf"{_phrase(lo)}\s+(?P<lo{i}>{self._num})\s+{_phrase(hi)}\s+(?P<hi{i}>{self._num})"
                for i, (lo, hi) in enumerate(num.get("range_between", {}).items())
            )
            or r"(?!x)x",
            f,
        )
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
        self.before_re = re.compile(rf"({_alt(self.before, pre)})\s+(?:{_alt(data.get('lead_ins', []))}\s+)?$", f)
        self.toll_re = re.compile(
            rf"({_alt(self.toll, pre)})((?:\s*,?\s+[^\W_][\w'’-]*){{0,{MAX_TOLL_GAP}}})\s*,?\s*$", f
        )
        self.unit_re = re.compile(rf"\s*-?\s*(?:{_alt(data.get('units', []))}|:\d)", f)
        self.month_re = re.compile(rf"\s*{_alt(self.months)}", f)
        mods = data.get("victim_modifiers", [])
        self.modifier_re = re.compile(r"\s*(?:" + "|".join(mods) + ")" if mods else r"(?!x)x", f)
        streets = data.get("street_suffixes", [])
        self.street_re = re.compile(rf"\s+(?:[A-Z][\w'’.-]*\s+){{1,3}}{_alt(streets)}" if streets else r"(?!x)x")

        # Older events: a cue before the figure in its clause, or after it before the next comma.
        bg = data.get("background", {})
        self.background_re = re.compile(_alt(bg.get("phrases", []), pre), f)
        # Languages that write the day first ("du 13 novembre 2015") say so; English keeps "March 12,
        # 2024" only, so that a bare "on 12 March 2024" in an undated text stays the event's own date.
        day_first = r"(?:\d{1,2}\w{0,2}\s+(?=" + _alt(self.months) + r"))?" if bg.get("day_first_dates") else ""
        # A year after a preposition ("in 2019"), or heading a timeline's entry ("1993: a doctor is shot").
        self.year_re = re.compile(
            rf"{_alt(bg.get('year_prepositions', []), pre)}\s+(?:{day_first}(?:{_alt(self.months)}\.?\s+)?(?:\d{{1,2}},?\s+)?)"
            rf"(?P<year>(?:19|20)\d\d)(?!\d)|(?<![\w,.])(?P<entry>(?:19|20)\d\d):(?!\d)",
            f,
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
        self.according_re = re.compile(
            rf"{_alt(att.get('according_to', []), pre)}\s*(?P<src>{src})\s*(?=[,;.!?\"”»)]|$)", f
        )
        self.said_end_re = re.compile(rf",\s*(?P<src>{src})\s+{verbs}(?:\s+[^,.]{{0,30}})?\s*[.!?\"”»]*\s*$", f)
        self.said_inv_re = re.compile(rf",\s*{verbs}\s+(?P<src>{src})\s*[.!?\"”»]*\s*$", f)
        self.said_start_re = re.compile(rf"^(?P<src>{src})\s+{verbs}(?=\s)", f)
        self.verb_first_re = (
            re.compile(
                rf"(?:^|[,،]\s*){verbs}\s+(?P<src>[^\W\d_][^,،.:؛()«»\"]{{1,60}}?)\s*(?=[,،:.؛]|\s(?:أن|إن)\s|$)", f
            )
            if att.get("verb_first")
            else None
        )
        self.source_strip = tuple(w.lower() + " " for w in att.get("strip", []))

    def figures(self, sent: str) -> Iterator[re.Match[str]]:
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
        return (
            w in self.negations or w.startswith(self.negation_prefixes) or w.endswith(self.negation_suffixes)
            if (self.negation_prefixes or self.negation_suffixes)
            else w in self.negations
        )

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
                return round(float(d) * (scale or 1))
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


def load_lexicon(language: str = DEFAULT_LANGUAGE) -> Lexicon:
    """The lexicon for a language code ("en", "en-GB" -> en); English when there is none.

    One instance per lexicon file: "en-GB", "de" (no lexicon) and "en" share the English one, so a
    new language code costs no second reading and compiling (route calls this on the event loop).
    """
    code = (language or DEFAULT_LANGUAGE).split("-")[0].split("_")[0].lower()
    return _lexicon_file(code if code in languages() else DEFAULT_LANGUAGE)


@cache
def _lexicon_file(code: str) -> Lexicon:
    with (LEXICON_DIR / f"{code}.yaml").open(encoding="utf-8") as fh:
        return Lexicon(yamlfile.load(fh))


@cache
def languages() -> tuple[str, ...]:
    """The language codes that have a lexicon."""
    return tuple(sorted(p.stem for p in LEXICON_DIR.glob("*.yaml")))
