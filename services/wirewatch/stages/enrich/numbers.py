"""Figures in a sentence: which numbers are head counts, and what they say.

In:  a sentence and a match of the lexicon's figure regex (``Lexicon.figures``).
Out: a ``Quantity`` (count, min, max, qualifier), or None when the number is not a head count: an
     age ("aged 25", "Jane Roe, 31, of ..."), a date, a time or timestamp ("0:50"), a year, a label
     ("Flight 370", "Image 1 of 16"), a model name ("AK-47"), a street number, a unit ("12 days").
How qualifiers and ranges read is documented in casualties.py.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .lexicon import _norm

if TYPE_CHECKING:  # pragma: no cover
    from .lexicon import Lexicon

# Numbers that are parts of something else: times and timestamps, dates, model names, codes.
_NEAR = 60  # characters before a figure that can make it a label, an age, a time or a date
_NOT_A_COUNT_BEFORE = re.compile(r"(?:\d[:/.]|[A-Za-z]-|#)\s*$|['’]$")  # also "’90": a year
_YEAR_AFTER_DATE = re.compile(r"(?-i:[A-Z][a-z]+\.?)\s+\d{1,2},\s*$")  # "January 9, " before "2017"
_NOT_A_COUNT_AFTER = re.compile(r"(?:[:/]\d|-\d|\.\d)")
# A number between commas right after a capitalised word (a name, a place) and before a comma or a
# closing parenthesis is an age or a label in apposition: "Jane Roe, 31, of Springfield".
_APPOSITION_BEFORE = re.compile(r"[^\W\d_][\w'’.-]*\s*[,(]\s*$")
_APPOSITION_AFTER = re.compile(r"\s*[,)]")
_LAST_WORD = re.compile(r"([^\s,;:()]+)\s*$")


@dataclass(slots=True)
class Quantity:
    start: int
    end: int
    count: int
    min: int
    max: int | None
    qualifier: str | None
    article: bool  # a bare "a"/"an": counts as one only before a singular victim


def _quantity(sent: str, m: re.Match[str], lex: Lexicon) -> Quantity | None:
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
        return Quantity(m.start(), m.end(), 1, 1, 1, None, True) if qual is None else None

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
        if lo is None or hi is None:
            return None
        if (
            re.fullmatch(r"\d{4}", b)
            and 1000 <= lo <= 2999
            and not lex.victim_re.match(after)
            and not lex.after_re.match(after)
        ):
            return None  # a year: "in 2019"; "1500 people", "2946 قتيلا" (no comma) are still counts
        if b in lex.phone_numbers and not lex.victim_re.match(after):
            return None  # "called 911 reporting she had shot ...": the emergency number, not 911 shot

    code = lex.qualifiers.get(_norm(qual)) if qual else None
    return _qualified(m.start(), m.end(), lo, hi, code)


def _qualified(start: int, end: int, lo: int, hi: int, code: str | None) -> Quantity:
    count, qmin = lo, lo
    qmax: int | None = hi
    if code in ("at_least", "more_than"):
        qmax = None
    elif code == "up_to":
        count, qmin = min(1, hi), min(1, hi)
    elif code == "about" and lo == hi:
        spread = math.ceil(lo / 10)
        qmin, qmax = max(lo - spread, min(1, lo)), lo + spread
    elif code == "nearly" and lo == hi:
        qmin = max(lo - math.ceil(lo / 10), min(1, lo))
    return Quantity(start, end, count, qmin, qmax, code, False)
