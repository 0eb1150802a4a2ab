"""Extract, parsing: a page's HTML (a str) in, its lxml tree out, as ``trafilatura.load_html`` makes it.

The same steps as trafilatura's loader (its repair of faulty HTML, the parse as text then as bytes,
its rejection of a one-element tree from a page that does not look like HTML), with one change:
the parser finds each element's Python class in C. lxml.html's own parser asks a Python method
(``HtmlElementClassLookup.lookup``) every time code touches an element that no Python object
stands for yet, and trafilatura's passes and the stage's own reads walk the page many times: about
3,600 such calls a ScrapingHub page, 1 in 8 of the stage's time. A namespace class lookup gives every
node the class lxml.html's lookup gives it (``FormElement`` for ``<form>``, ``InputElement`` for
``<input>``, ``HtmlElement`` for any other element, ``HtmlComment`` ...) from a table, without
calling back into Python. Copies of the tree (trafilatura copies it for each pass) keep the parser,
so they look up alike.

And the page's class and id names, read once (``Names``): the stage's furniture-box test
(``extract_clean.drop_boxed``) and the page-kind check's template words (``extract_kind``) both
read them, and lxml gathers them in C where a walk of every element in Python costs several times more.

And a page streamed by a React server, its later parts put where its script would put them
(``streamed_in_place``, ``place_streamed_segments``), before anything reads it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
from typing import cast

from lxml import etree
from lxml.html import (
    HtmlComment,
    HtmlElement,
    HtmlElementClassLookup,
    HtmlEntity,
    HtmlProcessingInstruction,
    fromstring,
)
from trafilatura import utils as trafilatura_utils


def _parser() -> etree._BaseParser:
    parser = trafilatura_utils.HTML_PARSER.copy()  # trafilatura's options (no comments, no ids, ...)
    lookup = etree.ElementNamespaceClassLookup(
        etree.ElementDefaultClassLookup(
            element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity
        )
    )
    classes = lookup.get_namespace(None)  # HTML elements have no namespace
    for tag, cls in HtmlElementClassLookup._default_element_classes.items():
        classes[tag] = cls
    parser.set_element_class_lookup(lookup)
    return parser


_PARSER = _parser()


def load_html(html: str) -> HtmlElement | None:
    """The tree of ``html``, or None where trafilatura's ``load_html`` gives none.

    Raises what lxml raises where trafilatura's loader lets it through (never on a str)."""
    beginning = html[:50].lower()
    check_flag = trafilatura_utils.is_dubious_html(beginning)
    html = _repaired(html, beginning)
    tree = None
    fallback_parse = False
    try:
        tree = fromstring(html, parser=_PARSER)
    except ValueError:  # "Unicode strings with encoding declaration are not supported."
        tree = _from_bytes(html)
        fallback_parse = True
    except Exception:  # noqa: BLE001, S110 - as trafilatura's loader: then the bytes get their try
        pass
    if (tree is None or len(tree) < 1) and not fallback_parse:
        tree = _from_bytes(html)
    if tree is not None and check_flag and len(tree) < 2:
        return None  # not HTML at all: a single element from something else
    return tree


# trafilatura's repair (``trafilatura.utils.repair_faulty_html``) first removes the characters XML
# does not allow (``INVALID_XML_CHARS``: C0 controls but tab, line feed and carriage return; U+FFFE
# and U+FFFF), a regular expression tried at every character of the page, which a page seldom holds
# (1 of the 1,002 development pages). Its UTF-8 bytes less those controls, and a search for the two
# others, tell such a page in about 0.4x the time; only then does the expression run.
_C0_NOT_IN_XML = bytes(c for c in range(0x20) if c not in b"\t\n\r")


def _repaired(html: str, beginning: str) -> str:
    """``trafilatura.utils.repair_faulty_html(html, beginning)``."""
    encoded = html.encode("utf-8", "surrogatepass")
    if len(encoded.translate(None, _C0_NOT_IN_XML)) != len(encoded) or "\ufffe" in html or "\uffff" in html:
        return trafilatura_utils.repair_faulty_html(html, beginning)
    # the rest of it: a doctype libxml2 misreads, a self-closing <html/> in the first lines
    if "doctype" in beginning:
        firstline, _, rest = html.partition("\n")
        html = trafilatura_utils.DOCTYPE_TAG.sub("", firstline, count=1) + "\n" + rest
    for line in html[:4096].splitlines()[:4]:
        if "<html" in line and line.endswith("/>"):
            return trafilatura_utils.FAULTY_HTML.sub(r"\1>", html, count=1)
    return html


def _from_bytes(html: str) -> HtmlElement | None:
    try:
        return fromstring(html.encode("utf8", "surrogatepass"), parser=_PARSER)
    except Exception:  # noqa: BLE001 - as trafilatura's loader: no tree (the stage says `empty`)
        return None


# Each element's class and id values (``tree.iter()``'s elements), in document order, as "smart"
# strings: ``getparent()`` is the element.
_NAMES_WITHIN = etree.XPath("descendant-or-self::*/@class | descendant-or-self::*/@id")


@dataclass(frozen=True, slots=True)
class Names:
    """The class and id values of the elements of a page's tree (``page_names``), read once.

    ``lowered`` holds them all, lower-cased, one a line: a regular expression that matches no
    line break finds a name in it in one call instead of one a value (a page has thousands).
    ``distinct`` holds each value once (as written), one a line: about half as long."""

    values: list[str]
    lowered: str
    distinct: str
    whole_document: bool  # the tree is its document's root: ``values`` are its whole document's too
    _starts: list[int]  # where each value starts in ``lowered``

    def owners(self, pattern: re.Pattern[str]) -> list[HtmlElement]:
        """The elements whose class or id, lower-cased, holds a match of ``pattern`` (which must
        match no line break), in document order, each once."""
        words = _plain_words(pattern)
        if words is None:
            starts: Iterable[int] = (match.start() for match in pattern.finditer(self.lowered))
        else:  # the values that hold one of the words are those the pattern finds a match in
            starts = sorted(_occurrences(self.lowered, words))
        found: dict[HtmlElement, None] = {}
        for start in starts:
            value = self.values[bisect_right(self._starts, start) - 1]
            found[value.getparent()] = None  # type: ignore[attr-defined]  # a smart string
        return list(found)


# A pattern that is plain words or'ed ("author|bio|newsletter": the stage's name tests) is found
# by a search for each word, which runs in C several times faster than the regular expression tries
# every alternative at every position of the names (0.20 -> 0.11 ms a ScrapingHub page for the
# box test's ten words).
_PLAIN_WORD = re.compile(r"[\w-]+")


@cache
def _plain_words(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """The words ``pattern`` is, or'ed, when it is nothing else (no flag but re.UNICODE); else None."""
    words = tuple(pattern.pattern.split("|"))
    if pattern.flags & ~re.UNICODE or not all(_PLAIN_WORD.fullmatch(w) for w in words):
        return None
    return words


def _occurrences(text: str, words: tuple[str, ...]) -> Iterator[int]:
    """Where each of ``words`` starts in ``text`` (each word's occurrences, overlapping ones too)."""
    for word in words:
        at = text.find(word)
        while at != -1:
            yield at
            at = text.find(word, at + 1)


def page_names(tree: HtmlElement) -> Names:
    """The class and id values of the elements of ``tree``."""
    values = cast(list[str], _NAMES_WITHIN(tree))
    lowered = "\n".join(values).lower()
    lengths: Iterable[int] = map(len, values)
    if len(lowered) != sum(map(len, values)) + len(values) - 1 and values:  # lower() lengthened one ("İ")
        lengths = [len(v.lower()) for v in values]
    starts = [0, *accumulate(n + 1 for n in lengths)][:-1] if values else []
    return Names(values, lowered, "\n".join(dict.fromkeys(values)), tree.getparent() is None, starts)


# React's streamed server rendering (Next.js and other frameworks) sends a page's slower parts
# after its shell: each part arrives near the end of <body> in a hidden <div id="S:N">, and a
# script ($RC) moves it into its place, a Suspense boundary's <template id="B:N">, removing the
# boundary's fallback (the markup up to its closing comment <!--/$-->). Where that fallback is a
# notice ("Loading paragraph..."), a reader of the page as sent finds the notice where the story's
# paragraphs belong and the paragraphs hidden at the page's end, and trafilatura's container rules
# stop at the story's first part. ``streamed_in_place`` does what the script does for those
# boundaries (on the HTML: the parser drops comments). A boundary without such a notice is left
# as sent: its segment may be the whole page's layout, whose class names (a "tableOfContents"
# grid around the post) would hide the story it now holds.
_FALLBACK = re.compile(r'<template id="B:(\d+)"></template>((?:(?!<!--\$|<!--/\$-->).){1,2000}?)<!--/\$-->', re.DOTALL)
_TAGS = re.compile(r"<[^>]*>")
# A real page has a few dozen boundaries and segments, nested two or three deep. A page with more
# is no page to render: it is read as sent (each boundary costs a bounded search, each round of
# placing a walk of the placeholders).
MAX_STREAMED_BOUNDARIES = 200
MAX_STREAMED_ROUNDS = 8


def streamed_in_place(html: str) -> tuple[str, set[str]]:
    """``html`` without the notices its streamed Suspense boundaries show while they load, and the
    ids of the segments that go in their place (``place_streamed_segments``)."""
    if '<template id="B:' not in html or html.count('<template id="B:') > MAX_STREAMED_BOUNDARIES:
        return html, set()
    placed: set[str] = set()

    def drop(match: re.Match[str]) -> str:
        if not _TAGS.sub("", match.group(2)).strip():
            return match.group(0)
        placed.add(f"S:{match.group(1)}")
        return f'<template id="B:{match.group(1)}"></template>'

    return _FALLBACK.sub(drop, html), placed


def place_streamed_segments(tree: HtmlElement, boundaries: set[str]) -> None:
    """Move streamed segments in ``tree`` into their places: the boundaries of ``boundaries`` (their
    segments' ids, ``streamed_in_place``), then the placeholders (<template id="P:N">) that those
    segments, or the page as sent, show: a placeholder inside a segment still hidden stays."""
    if not boundaries:
        return
    hidden = {
        e.get("id"): e for e in tree.iter("div") if (e.get("id") or "").startswith("S:") and e.get("hidden") is not None
    }
    placeholders = list(tree.iter("template"))
    if len(hidden) > 2 * MAX_STREAMED_BOUNDARIES or len(placeholders) > 2 * MAX_STREAMED_BOUNDARIES:
        return
    for _ in range(MAX_STREAMED_ROUNDS):  # a round fills what the page, as filled so far, shows
        left = []
        for placeholder in placeholders:
            kind, _, number = (placeholder.get("id") or "").partition(":")
            name = f"S:{number}"
            segment = hidden.get(name) if kind == "P" or (kind == "B" and name in boundaries) else None
            parent = placeholder.getparent()
            if segment is None or parent is None:
                continue
            if any(hidden.get(a.get("id")) is a for a in placeholder.iterancestors()):
                left.append(placeholder)  # inside a segment not placed yet: perhaps the next round
                continue
            if segment.tail and segment.tail.strip():  # text after the segment stays where it was
                keep_tail(segment)
            segment.tail = placeholder.tail
            del segment.attrib["hidden"]
            del hidden[name]
            parent.replace(placeholder, segment)
        if len(left) == len(placeholders):
            return
        placeholders = left


def keep_tail(element: HtmlElement) -> None:
    """Move the text after ``element`` (its tail) onto what comes before it in its parent, so that
    the text stays where it is when the element goes or moves."""
    tail, element.tail = element.tail, None
    if not tail:
        return
    before = element.getprevious()
    if before is not None:
        before.tail = (before.tail or "") + tail
    elif (parent := element.getparent()) is not None:
        parent.text = (parent.text or "") + tail
