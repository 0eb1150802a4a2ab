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

Not read as figures: negations ("no one was hurt"), hypotheticals ("could kill thousands"), reports
taken back ("early reports said one died, but that proved to be incorrect"), ages,
dates, times, street numbers, units, and tolls of other, older events the article recalls ("in 2019,
40 died", "the deadliest since 2015, when 40 died", "since the war began, 40,000 have died").

The grammar (which shapes of sentence carry a figure) is code; the words are in the lexicon, so a
new language is a new YAML file. One module per step, this one the front door:

    lexicon.py    YAML words -> regexes (trie-shaped, patterns.py), number words -> values
    sentences.py  sentences, the headline, page furniture (related-story and playlist lines)
    numbers.py    which numbers are head counts (not ages, dates, times, labels) and what they say
    mentions.py   the grammar: figure + casualty term + victim, lists, "N shot, M fatally",
                  older events, attribution
    implied.py    people killed or hurt without a number (qualifier "implied")
    summary.py    the article's figure per category Everything is regular expressions over one sentence at a time:
no model, no network, well under a millisecond per sentence.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import replace

from .implied import SELF, Person
from .lexicon import DEFAULT_LANGUAGE, LEXICON_DIR, Lexicon, languages, load_lexicon
from .mentions import CATEGORIES, HIT, IMPLIED, Mention, _background, _sentence_mentions
from .sentences import headline_end, link_lines, split_sentences
from .summary import summarize

__all__ = [
    "CATEGORIES",
    "DEFAULT_LANGUAGE",
    "HIT",
    "IMPLIED",
    "LEXICON_DIR",
    "Lexicon",
    "Mention",
    "find_casualties",
    "headline_end",
    "languages",
    "load_lexicon",
    "scan",
    "split_sentences",
    "summarize",
]

# Eastern Arabic and Persian digits, the Arabic thousands separator and no-break spaces, mapped one
# character to one character so that offsets into the normalised text are offsets into the original.
_NORMALISE = str.maketrans(
    "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٬\u00a0\u202f\u2009",
    "01234567890123456789,   ",
)


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
    skip = link_lines(norm, lex)
    for start, end in split_sentences(norm, lex):
        if any(s <= start < e for s, e in skip):
            continue
        sent = norm[start:end]
        if not _may_report(sent, lex):
            continue  # no term of a figure or of a person hurt: nothing to read (most sentences)
        if lex.aggregate_re is not None and lex.aggregate_re.search(sent):
            continue  # "10 killed in separate shootings across the city": a sum of other incidents
        if lex.retraction_re is not None and lex.retraction_re.search(sent):
            continue  # "early reports said one died, but that proved to be incorrect"
        found = _sentence_mentions(sent, start, end, lex, year)
        for m in found:
            # Evidence is the original sentence (original digits), offsets are the same.
            mentions.append(_replace_evidence(m, text[start:end]))
        written = {m.category for m in found}
        if HIT in written:
            written |= {"killed", "injured"}  # "4 were shot": the people named are among them
        # people() calls the lambda before the loop moves on, so `sent` is this sentence's.
        for p in lex.implied.people(sent, start, end, lambda a, b: _background(sent, a, b, lex, year)):  # noqa: B023
            if p.category not in written:  # a figure in the sentence already counts them
                mentions.append(_implied_mention(p, text[start:end]))
    if any(m.key == SELF for m in mentions) and lex.implied.death_re.search(norm):
        # "shot himself" in an article that speaks of a death anywhere: not known to be an injury
        mentions = [m for m in mentions if m.key != SELF]
    return mentions


def _may_report(sent: str, lex: Lexicon) -> bool:
    """Whether `sent` holds a term that _sentence_mentions or implied.people start from: each of
    them returns nothing without one, so the costlier checks of a sentence are skipped on the rest."""
    return (
        (lex.fatal_word_re is not None and lex.fatal_word_re.search(sent) is not None)
        or lex.trigger_re.search(sent) is not None
        or (lex.implied.enabled and lex.implied.trigger_re.search(sent) is not None)
    )


def _implied_mention(p: Person, evidence: str) -> Mention:
    return Mention(p.category, 1, 1, 1, IMPLIED, p.victim, evidence, p.start, p.end, None, p.key, p.alive)


# A video's duration before its title ("1:49 Grandmother says ..."), not a live blog's clock time
# ("11:05 a.m. — ...", "9:30 AM: ...").


def _replace_evidence(m: Mention, evidence: str) -> Mention:
    if m.evidence == evidence:
        return m
    return replace(m, evidence=evidence)
