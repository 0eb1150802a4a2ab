"""Sentences, headlines and page furniture of an article's text.

In:  the analysed text (title + body). Out: ``split_sentences`` -> [start, end) spans;
``headline_end`` -> where an opening headline ends; ``link_lines`` -> spans of lines that link to
other stories ("Read more: ...", a related-stories block, a video playlist's "1:49 Title") whose
tolls belong to other events.
"""

from __future__ import annotations

import re

from .lexicon import Lexicon, load_lexicon

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


_TIMESTAMP_LINE = re.compile(r"\d{1,2}:\d\d\s+(?![AaPp]\.?[Mm]\b|[A-Z]{2,3}\b|[—–:-])\S")


def link_lines(text: str, lex: Lexicon) -> list[tuple[int, int]]:
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
            in_block = not line[lm.end() :].strip(" :|-—–")  # a heading alone: its links follow
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
    if len(line.split()) > 20 or re.search(r"[.!?:\"”]\s*$", line) or not text[m.end() :].strip():
        return None
    return m.end(1)
