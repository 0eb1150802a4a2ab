"""Sentences, headlines and page furniture of an article's text.

In:  the analysed text (title + body). Out: ``split_sentences`` -> [start, end) spans (``sentences``
one at a time); ``headline_end`` -> where an opening headline ends; ``link_lines`` -> spans of lines
that link to other stories ("Read more: ...", a related-stories block, a video playlist's "1:49
Title") whose tolls belong to other events.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .lexicon import Lexicon, load_lexicon

_BOUNDARY = re.compile(r"[.!?؟]+[\"'”’)\]»]*(?=\s+[\"'“‘(\[«]?(\S))|\n+")


def split_sentences(text: str, lex: Lexicon | None = None) -> list[tuple[int, int]]:
    """[start, end) spans of the sentences of `text`, whitespace trimmed. Newlines always split
    (titles and paragraphs); a full stop splits before anything but a lower-case letter (scripts
    without case, such as Arabic, split on every full stop), and not after an abbreviation or an initial."""
    return list(sentences(text, lex))


def sentences(text: str, lex: Lexicon | None = None) -> Iterator[tuple[int, int]]:
    """``split_sentences`` one at a time, for a reader that may stop early (route's evidence)."""
    lex = lex or load_lexicon()
    start = 0
    for m in _BOUNDARY.finditer(text):
        if not m.group().startswith("\n"):
            nxt = m.group(1)
            if nxt.islower():
                continue
            if m.group().startswith("."):
                word = _word_before(text, start, m.start()).lower()
                if word in lex.abbreviations or (len(word) == 1 and word.isalpha()):
                    continue
        end = m.start() if m.group().startswith("\n") else m.end()
        yield from _trimmed(text, start, end)
        start = m.end()
    yield from _trimmed(text, start, len(text))


def _trimmed(text: str, s: int, e: int) -> Iterator[tuple[int, int]]:
    seg = text[s:e]
    ls = len(seg) - len(seg.lstrip())
    rs = len(seg.rstrip())
    if rs > ls:
        yield s + ls, s + rs


def _word_before(text: str, start: int, end: int) -> str:
    r"""The run of word characters and dots that ends at `end` (not before `start`): what
    ``re.search(r"[\w.]+$", text[start:end])`` finds, read backwards instead of tried at every
    position of the sentence."""
    k = end
    while k > start and (text[k - 1].isalnum() or text[k - 1] in "_."):
        k -= 1
    return text[k:end]


# Lines without a full stop, one after another, below the headline: from this many on they are a
# list of links to other stories ("more news", "most read") whose heading extraction dropped.
_LINK_RUN = 3
_LIST_ITEM = re.compile(r"[•·*▪►-]\s")
_TIMESTAMP_LINE = re.compile(r"\d{1,2}:\d\d\s+(?![AaPp]\.?[Mm]\b|[A-Z]{2,3}\b|[—–:-])\S")


def link_lines(text: str, lex: Lexicon) -> list[tuple[int, int]]:
    """[start, end) of the lines of a web page that link to other stories, which extraction lets
    through: "Read more: Fire at ski resort kills 76", the headline-like lines (no full stop)
    under a heading such as "RELATED COVERAGE", and three or more such lines in a row below the
    headline (a "most read" list whose heading was dropped), unless they are the article's own list
    (bullets, items ending in ";" or ",", or points under "What we know:"). Their tolls belong to
    other events."""
    if lex.link_re is None:
        return []
    out: list[tuple[int, int]] = []
    in_block = False
    run: list[tuple[int, int]] = []  # consecutive headline-like lines after the first line
    first = None
    own_list = False
    for m in re.finditer(r"[^\n]+", text):
        line = m.group().strip()
        if not line:
            continue
        headline_like = len(line.split()) <= 16 and not re.search(r"[.!?\"”]\s*$", line)
        # A run of them is a list of links unless it is a list of the article's own ("What we know:",
        # "• Jane Roe, 28, who was shot in the back;") or repeats the headline (a caption).
        linked = (
            first is not None
            and headline_like
            and line != first
            and not _LIST_ITEM.match(line)
            and not re.search(r"[;:,)]\s*$", line)
        )
        first = line if first is None else first
        if linked and not run and own_list:
            linked = False  # "What we know:" then its points: the article's own summary
        own_list = (linked or headline_like) and (own_list or line.endswith(":"))
        run = [*run, m.span()] if linked else []
        if len(run) == _LINK_RUN:
            out.extend(run[:-1])  # a list of headlines in the body: links to other stories
        if len(run) >= _LINK_RUN:
            out.append(m.span())
            continue
        if _TIMESTAMP_LINE.match(line):
            out.append(m.span())  # "1:49 Grandmother speaks ...": a video playlist's entry
            continue
        lm = lex.link_re.match(line)
        if lm:
            out.append(m.span())
            in_block = not line[lm.end() :].strip(" :|-—–")  # a heading alone: its links follow
            continue
        if in_block and headline_like:
            out.append(m.span())
            continue
        in_block = False
    return sorted(set(out))


def headline_end(text: str) -> int | None:
    """End offset of the headline when `text` opens with one: a first line of at most 20 words that
    is not a sentence (no closing full stop), followed by more text. None otherwise."""
    m = re.match(r"\s*([^\n]+)\n", text)
    if m is None:
        return None
    line = m.group(1).strip()
    if len(line.split()) > 20 or re.search(r"[.!?:\"”]\s*$", line) or not text[m.end() :].strip():
        return None
    return m.end(1)
