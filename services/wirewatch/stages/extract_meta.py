"""Extract, metadata half: a parsed page and its URL in, a PageMeta (title, authors, language, site
name, canonical URL, description, image, page type) and the publication date out.

Built from trafilatura's own metadata readers (OpenGraph and <meta> tags, then JSON-LD, which
overrides them) and htmldate, but only the ones wirewatch stores: trafilatura's
``extract_metadata`` also guesses categories, tags and a licence, which cost a third of its time and
which nothing here reads. The date is read apart (``stated_date``, then ``fallback_date``): htmldate
costs more than the rest together, so the stage asks for it only once the page is accepted. Pure
and picklable, like the rest of the stage.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any, cast

from htmldate import find_date
from lxml.etree import XPath
from lxml.html import HtmlElement
from trafilatura.json_metadata import extract_json, extract_json_parse_error, normalize_authors, normalize_json
from trafilatura.metadata import (
    examine_meta,
    extract_sitename,
    extract_title,
)
from trafilatura.settings import Document

from .urls import absolute_http_url

# Dates the page states in its metadata (meta tags, JSON-LD, <time>) or its URL come first. Only
# when there are none does the extensive search run, which also reads bylines and other visible
# text ("Posted December 12, 2025"); on the WCXB development pages it finds the right date for 21
# of the 110 articles with none in the metadata. A date it finds in the article's own prose is the
# event's, not the publication's, and is dropped (see ``fallback_date``).
_DATE_PARAMS: dict[str, Any] = {"original_date": True, "extensive_search": False}
_EXTENSIVE_DATE_PARAMS: dict[str, Any] = {"original_date": True, "extensive_search": True}
DATELINE_MAX_WORDS = 8
# What a byline read as text carries around the name: a lead word ("By", "Author") and the date
# that follows it ("Jane Roe February 8"); an item that is only a date ("On December 9") goes whole.
_MONTH_NAMES = (
    r"(january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\b\.?"
)
_BYLINE_LEAD = re.compile(r"^(author|by|written by|posted by)\b\W*", re.IGNORECASE)
_BYLINE_DATE = re.compile(rf"(^|\s+)(on\s+)?{_MONTH_NAMES}(\s+\d{{1,2}}(,?\s+\d{{4}})?|,?\s+\d{{4}})$", re.IGNORECASE)
# The byline: how many words after the headline it is looked for in, and how a date is written there.
BYLINE_WORDS = 80
_INVISIBLE = {"script", "style", "noscript", "template"}
_MONTH_INDEX = {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}
_SHORT_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
# (pattern, its match -> (year, month, day)) for each way a byline writes a date
_WRITTEN_DATES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], tuple[str, int, int]]], ...] = (
    (  # December 20, 2025 / Dec. 20th 2025
        re.compile(rf"\b{_SHORT_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+((?:19|20)\d\d)\b", re.IGNORECASE),
        lambda m: (m.group(3), _MONTH_INDEX[m.group(1)[:3].lower()], int(m.group(2))),
    ),
    (  # 20 December 2025 / 20th of Dec, 2025
        re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_SHORT_MONTH},?\s+((?:19|20)\d\d)\b", re.IGNORECASE),
        lambda m: (m.group(3), _MONTH_INDEX[m.group(2)[:3].lower()], int(m.group(1))),
    ),
    (  # 2025-12-20
        re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b"),
        lambda m: (m.group(1), int(m.group(2)), int(m.group(3))),
    ),
)
_MONTHS = ("january february march april may june july august september october november december").split()
# A date written day first with its month as a word of any language ("3 de marzo de 2024", "3. März
# 2024", "le 3 mars 2024", "3 марта 2024"), at most one short word (de, of) either side of the month.
# htmldate hands a date element's whole text to dateparser, which reads no date in "Publicado el 3
# de marzo de 2024", and then falls back to the year alone (1 January). The month words are
# dateparser's, for every language it knows (``_month_words``).
_WORDY_DATE = re.compile(
    r"\b(\d{1,2})[^\W\d_]{0,2}\.?\s+(?:[^\W\d_]{1,3}\s+)?([^\W\d_]{3,})\.?,?\s+(?:[^\W\d_]{1,3}\s+)?((?:19|20)\d\d)\b"
)

# A line that notes a change to the page ("Editor's note: On May 6, 2025, I added ...", "Update:
# ...") dates the page, not the events it tells: a date in it is no event's date.
_UPDATE_NOTE = re.compile(r"^\W*(editor'?s\s+note|updated?|update\s+note|note)\b", re.IGNORECASE)

# The byline search of trafilatura (``trafilatura.metadata.extract_author``), in one walk of the
# page instead of five. trafilatura copies the page, deletes what cannot hold the byline (comments,
# sidebars, dates, figures...), then tries three XPaths in turn, each a walk of the whole tree
# testing some twenty attribute values on every element (and regular expressions that lxml
# evaluates by calling back into Python): on pages whose metadata names no author, a fifth of the
# stage's time. The same rules are written once below as (tags, tests); one walk keeps the few
# elements whose attributes hold any of the values the rules look for, the rules are checked on
# those alone, and what the copy would have lost is checked on a candidate's ancestors and
# descendants only. On both development corpora it finds trafilatura's author on every page but
# one (a name in a deleted element's tail), several times faster.
_Test = tuple[str, str, str]  # (how: "eq", "has" or "starts", attribute, value)


@dataclass(frozen=True, slots=True)
class _Rule:
    tags: frozenset[str]  # empty: any element
    tests: tuple[_Test, ...]  # empty: the tag alone decides

    def matches(self, element: HtmlElement) -> bool:
        if self.tags and element.tag not in self.tags:
            return False
        return not self.tests or any(_passes(element.get(a) or "", how, v) for how, a, v in self.tests)


def _passes(value: str, how: str, wanted: str) -> bool:
    return value == wanted if how == "eq" else wanted in value if how == "has" else value.startswith(wanted)


def _tests(how: str, attribute: str, *values: str) -> tuple[_Test, ...]:
    return tuple((how, attribute, v) for v in values)


_BYLINE_DISCARD = (
    _Rule(
        frozenset({"a", "div", "section", "span"}),
        _tests("eq", "id", "comments")
        + _tests("eq", "class", "comments", "title", "date")
        + _tests("starts", "id", "comments")
        + _tests("has", "id", "commentlist", "comment-list", "ProductReviews")
        + _tests("starts", "class", "Comments", "comments")
        + _tests("has", "class", "commentlist", "comments-list", "sidebar", "is-hidden", "quote")
        + _tests("has", "class", "embedly-instagram", "article-share", "article-support", "print", "category")
        + _tests("has", "class", "meta-date", "meta-reviewer")
        + _tests("has", "data-component", "Figure"),
    ),
    _Rule(frozenset({"time", "figure"}), ()),
)
# Tried in turn, most specific first; the first element whose text is a plausible name wins.
_BYLINE_LEVELS = (
    (
        _Rule(
            frozenset({"a", "address", "div", "link", "p", "span", "strong"}),
            _tests("eq", "rel", "author")
            + _tests("eq", "id", "author")
            + _tests("eq", "class", "author")
            + _tests("eq", "itemprop", "author name")
            + _tests("eq", "data-testid", "AuthorCard", "AuthorURL")
            + _tests("has", "class", "authorname", "author-name", "AuthorName", "authorName"),
        ),
        _Rule(frozenset({"author"}), ()),
    ),
    (
        _Rule(
            frozenset({"a", "div", "h3", "h4", "p", "span"}),
            _tests("eq", "class", "byline", "username", "byl", "BBL")
            + _tests("has", "itemprop", "author")
            + _tests("has", "id", "author", "zuozhe", "bianji", "xiaobian")
            + _tests("has", "class", "author", "channel-name", "zuozhe", "bianji", "xiaobian")
            + _tests("has", "class", "submitted-by", "posted-by", "journalist-name"),
        ),
    ),
    (
        _Rule(
            frozenset(),
            _tests("has", "data-component", "Byline")
            + _tests("has", "itemprop", "author")
            + _tests("has", "id", "author", "Author")
            + _tests("has", "class", "author", "Author", "screenname", "writer", "byline", "Byline"),
        ),
    ),
)
# Every value a byline rule looks for: an element whose attributes hold none of them meets no rule.
_BYLINE_VALUES = re.compile(
    "|".join(sorted({re.escape(v) for level in _BYLINE_LEVELS for r in level for _, _, v in r.tests}, key=len))
)
_BYLINE_ATTRIBUTES = frozenset(a for level in _BYLINE_LEVELS for r in level for _, a, _ in r.tests)
BYLINE_MAX_CHARS = 120


# trafilatura's JSON-LD reader (``trafilatura.metadata.extract_meta_json``) minifies each script's
# text with ``JSON_MINIFY.sub(r"\1", text)`` (``("(?:\\.|[^"\\])*")|\s``: keep a string, drop a
# space), which expands the ``\1`` template in Python for every match, every space between two
# tokens of the JSON. Joining what ``_JSON_TOKENS`` finds gives the same text (it keeps the same
# strings, each run of other characters up to a quote or a space, and a quote that opens no string,
# and skips the spaces): identical on every JSON-LD script of both development corpora, in 0.3x the time.
_JSON_LD_SCRIPTS = XPath('.//script[@type="application/ld+json" or @type="application/settings+json"]')
_JSON_TOKENS = re.compile(r'"(?:\\.|[^"\\])*"|[^"\s]+|"')

_LANG_TAG = re.compile(r"^\s*([A-Za-z]{2})(?:$|[-_])")
# what XPath's translate(@http-equiv, "CONTENT-LANGUAGE", "content-language") lower-cases
_ASCII_LOWER = str.maketrans("CONTENT-LANGUAGE", "content-language")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+")

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PageMeta:
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    language: str | None = None
    sitename: str | None = None
    canonical_url: str | None = None
    description: str | None = None
    image: str | None = None
    page_type: str | None = None  # og:type / JSON-LD @type as the page declares it, lower case


def read_metadata(tree: HtmlElement, url: str) -> PageMeta:
    """What ``tree`` (the page at ``url``) says about itself, its date aside (``stated_date``)."""
    doc = examine_meta(tree)
    if doc.author and " " not in doc.author:
        doc.author = None  # a one-word "author" is a handle or the site's name far more often than a person
    try:
        doc = _json_ld(tree, doc)
    except Exception as e:  # noqa: BLE001 - trafilatura's JSON-LD walk trips on odd but valid JSON; the meta tags stand
        log.info("JSON-LD of %s not read, meta tags used alone: %s: %s", url, type(e).__name__, e)
    title = _headline(tree, doc.title or _title_element(tree) or extract_title(tree))
    author = doc.author or byline_author(tree)
    sitename = doc.sitename or extract_sitename(tree)
    if sitename:
        sitename = sitename.lstrip("@")
    return PageMeta(
        title=clean(title),
        authors=split_authors(author),
        language=_language(tree),
        sitename=clean(sitename),
        canonical_url=_canonical(tree, url),
        description=clean(doc.description),
        image=absolute_http_url(url, doc.image),
        page_type=(clean(doc.pagetype) or "").lower() or None,
    )


def _json_ld(tree: HtmlElement, metadata: Document) -> Document:
    """``trafilatura.metadata.extract_meta_json``: ``metadata`` with what the page's JSON-LD says."""
    for element in cast(list[HtmlElement], _JSON_LD_SCRIPTS(tree)):
        if not element.text:
            continue
        text = normalize_json("".join(_JSON_TOKENS.findall(element.text)))
        try:
            metadata = extract_json(json.loads(text, strict=False), metadata)
        except json.JSONDecodeError:
            metadata = extract_json_parse_error(text, metadata)
    return metadata


def stated_date(tree: HtmlElement, url: str) -> str | None:
    """The publication date the page states in its metadata (meta tags, JSON-LD, <time>) or its URL."""
    return clean(find_date(tree, url=url, **_DATE_PARAMS))


def byline_author(tree: HtmlElement) -> str | None:
    """The author a byline element names, as ``trafilatura.metadata.extract_author`` finds it."""
    found = _byline_candidates(tree)
    for level in _BYLINE_LEVELS:
        for el in found:
            if not any(rule.matches(el) for rule in level) or _discarded(el, *el.iterancestors()):
                continue
            text = " ".join(" ".join(_text_kept(el)).split())
            if 2 < len(text) < BYLINE_MAX_CHARS:
                return normalize_authors(None, text)
    return None


def _byline_candidates(tree: HtmlElement) -> list[HtmlElement]:
    """The elements of ``tree`` that may meet a byline rule, in document order: <author> elements and
    those with an attribute a rule reads that holds a value one looks for. Written out as one loop:
    it visits every element of the page, where a call and a generator per element cost a third of it."""
    found = []
    attributes, holds_value = _BYLINE_ATTRIBUTES, _BYLINE_VALUES.search
    for element in tree.iter():
        if element.tag == "author":
            found.append(element)
            continue
        # the attributes an element has, not each one a rule names: most elements have one or two
        for name, value in element.items():
            if name in attributes and holds_value(value):
                found.append(element)
                break
    return found


def _discarded(*elements: HtmlElement) -> bool:
    return any(rule.matches(el) for el in elements for rule in _BYLINE_DISCARD)


def _text_kept(element: HtmlElement) -> Iterator[str]:
    """``element.itertext()`` as if each descendant that cannot hold a byline were deleted, its tail kept."""
    if element.text and isinstance(element.tag, str):
        yield element.text
    for child in element:
        if isinstance(child.tag, str) and not _discarded(child):
            yield from _text_kept(child)
        if child.tail:
            yield child.tail


def _title_element(tree: HtmlElement) -> str | None:
    # trafilatura's extract_title would take a lone <h1> first; here the <h1> is weighed against it
    for element in tree.iter("title"):
        return clean(element.text_content())
    return None


def _headline(tree: HtmlElement, title: str | None) -> str | None:
    """The page's first <h1> when it is the story's headline, else the metadata's title.

    A <title> or og:title is often the headline rewritten for search engines or followed by the
    site's name ("... | Site"); the visible <h1> is what the outlet printed. It is taken only when at
    least half its words are in the metadata title, so a logo or a section name in an <h1> is not.
    (On the WCXB development articles: 55% exact titles from the metadata alone, 82% this way.)
    """
    for h1 in tree.iter("h1"):
        text = clean(h1.text_content())
        words = set(_WORD.findall((text or "").casefold()))
        if not words:
            continue
        shared = words & set(_WORD.findall((title or "").casefold()))
        return text if len(shared) >= len(words) / 2 else title
    return title


def fallback_date(tree: HtmlElement, url: str, body: str, *, search_page: bool = True) -> str | None:
    """A date from the page's visible text, for a page whose metadata states none; not one of ``body``.

    First the date printed under the headline (the byline: "By Jane Roe, December 20, 2025"), then,
    unless ``search_page`` is false, htmldate's extensive search of the whole page. On the WCXB
    development articles whose metadata states no date, the byline gives 15 of the 31 that have one,
    2 of them that the extensive search gets wrong, and costs about 1% of it.
    """

    @cache
    def language() -> str | None:  # read only where a month word names two months in two languages
        return _language(tree)

    found = _byline_date(tree, language)
    if (not found or _in_prose(found, body, language)) and search_page:
        found = clean(find_date(tree, url=url, **_EXTENSIVE_DATE_PARAMS))
        # htmldate pads a year or a month it read alone ("2019" in "el 14 de enero de 2019", whose
        # month word it does not know) with 1s: a first of the month the page never writes is that
        # guess, not a date.
        if found and found[8:10] == "01" and not _names_day(found, " ".join(_visible(tree)), language, digits=True):
            return None
    if not found or _in_prose(found, body, language):
        return None
    return found


def _byline_date(tree: HtmlElement, language: Callable[[], str | None] | None = None) -> str | None:
    """The first whole date ("Dec 20, 2025", "20 December 2025", "2025-12-20", "20 de diciembre de
    2025") in the BYLINE_WORDS words of visible text that follow the first <h1>."""
    h1 = next(tree.iter("h1"), None)
    if h1 is None:
        return None
    if language is None:
        language = cache(lambda: _language(tree))
    text = byline_text(h1)
    found = [(m.start(), read(m)) for pattern, read in _WRITTEN_DATES for m in [pattern.search(text)] if m]
    first = min((start for start, _ in found), default=len(text))
    for m in _WORDY_DATE.finditer(text):  # only before the first date the English forms read
        if m.start() >= first:
            break
        wordy = _wordy_date(m, language)
        if wordy is not None:
            found.append((m.start(), wordy))
            break
    for _, (year, month, day) in sorted(found):
        if 1 <= month <= 12 and 1 <= day <= 31:
            return f"{year}-{month:02d}-{day:02d}"
    return None


def byline_text(h1: HtmlElement) -> str:
    """The BYLINE_WORDS words of visible text that follow the headline ``h1``: where a story's byline
    and dateline stand (read for the date here, for the page's kind in extract_kind)."""
    return " ".join(_text_after(h1, BYLINE_WORDS).split()[:BYLINE_WORDS])


def writes_a_date(text: str) -> bool:
    """Whether ``text`` holds a whole date in one of the written forms ``_byline_date`` reads."""
    return any(pattern.search(text) for pattern, _ in _WRITTEN_DATES)


def _wordy_date(m: re.Match[str], language: Callable[[], str | None]) -> tuple[str, int, int] | None:
    """A ``_WORDY_DATE`` match as (year, month, day), if its word is a month's name in every language
    that has it, or else in the page's language (so "listopada", October in Croatian and November
    in Polish, is read only on a page that says which)."""
    by_language, months = _month_words()
    word = m.group(2).casefold()
    month = months.get(word)
    if month == 0:  # a month word of more than one month: the page's language decides
        month = by_language.get(language() or "", {}).get(word)
    return (m.group(3), month, int(m.group(1))) if month else None


@lru_cache(maxsize=1)
def _month_words() -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """dateparser's month names (its locale data, every language; read once per process, a few
    hundred ms, and only for a page whose byline has a day, a word and a year English does not
    read): word -> month by language, and word -> its month in every language (0: not one month)."""
    from dateparser.languages.loader import default_loader  # type: ignore[import-untyped]

    by_language: dict[str, dict[str, int]] = {}
    months: dict[str, set[int]] = {}
    for locale in default_loader.get_locales():
        words = by_language.setdefault(locale.shortname.split("-")[0].lower(), {})
        for month, key in enumerate(_MONTHS, 1):
            for word in locale.info.get(key, []):
                word = word.casefold().rstrip(".")
                words.setdefault(word, month)
                months.setdefault(word, set()).add(month)
    return by_language, {word: next(iter(ms)) if len(ms) == 1 else 0 for word, ms in months.items()}


def _text_after(element: HtmlElement, max_words: int) -> str:
    """The visible text of ``element`` and of what follows it in the document, about ``max_words`` words."""
    parts: list[str] = []
    words = 0
    for text in _visible_from(element):
        parts.append(text)
        words += len(text.split())
        if words > max_words:
            break
    return " ".join(parts)


def _visible_from(element: HtmlElement) -> Iterator[str]:
    # document order: the element, its later siblings, its parent's tail and later siblings, and up
    node: HtmlElement | None = element
    yield from _visible(element)
    while node is not None:
        for sibling in node.itersiblings():
            yield from _visible(sibling)
        node = node.getparent()
        if node is not None and node.tail:
            yield node.tail


def _visible(scope: HtmlElement) -> Iterator[str]:
    for el in scope.iter():
        if el.text and isinstance(el.tag, str) and el.tag not in _INVISIBLE:
            yield el.text
        if el.tail:
            yield el.tail


def _in_prose(date: str, body: str, language: Callable[[], str | None] = lambda: None) -> bool:
    """Whether a sentence of ``body`` names the day ``date`` (YYYY-MM-DD): "... on 14 January 2019 ...",
    "... el 14 de enero de 2019 ..." (a month word of another language: ``_wordy_date``).

    A short line that is the date and little more ("Nov 21, 2018", "Last updated: November 13,
    2025") is the article's dateline, not prose, and does not count; nor does a note on a change to
    the page ("Editor's note: On May 6, 2025, I added ...").
    """
    return any(
        len(_WORD.findall(line)) > DATELINE_MAX_WORDS
        and not _UPDATE_NOTE.match(line)
        and _names_day(date, line, language)
        for line in body.split("\n")
    )


def _names_day(
    date: str, text: str, language: Callable[[], str | None] = lambda: None, *, digits: bool = False
) -> bool:
    """Whether `text` writes the day ``date`` (YYYY-MM-DD) out: as ISO, with its month as a word
    (English, or another language: ``_wordy_date``), or, with `digits`, in digits day first or (US)
    month first."""
    try:
        year, month, day = date[:4], int(date[5:7]), int(date[8:10])
    except ValueError:
        return False
    if year not in text:
        return False
    name = _MONTHS[month - 1][:3] if 1 <= month <= 12 else "@"
    day_month = rf"(\b{day}(st|nd|rd|th)?\W{{1,3}}{name}\w*|\b{name}\w*\W{{1,3}}{day}(st|nd|rd|th)?\b)"
    written = rf"{re.escape(date[:10])}|{day_month}\W{{1,3}}{year}\b"
    if digits:
        written += (
            rf"|\b0?{day}[./-]0?{month}[./-]{year}\b|\b0?{month}/0?{day}/{year}\b|\b{year}[./-]0?{month}[./-]0?{day}\b"
        )
    named = re.compile(written, re.IGNORECASE)
    if named.search(text):
        return True
    return any(_wordy_date(m, language) == (year, month, day) for m in _WORDY_DATE.finditer(text) if m.group(3) == year)


def split_authors(raw: str | None) -> list[str]:
    authors: list[str] = []
    seen: set[str] = set()
    for name in (raw or "").split(";"):
        name = _BYLINE_DATE.sub("", _BYLINE_LEAD.sub("", _SPACES.sub(" ", name).strip())).strip()
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            authors.append(name)
    return authors


def _language(tree: HtmlElement) -> str | None:
    root = tree.getroottree().getroot()
    candidates = [root.get("lang"), root.get("{http://www.w3.org/XML/1998/namespace}lang")]
    # the <meta http-equiv="Content-Language"> contents, then the og:locale ones, each in document
    # order: one walk of the page's <meta> elements instead of one XPath walk of the page for each
    declared, locales = [], []
    for meta in root.iter("meta"):
        content = meta.get("content")
        if content is None:
            continue
        if (meta.get("http-equiv") or "").translate(_ASCII_LOWER) == "content-language":
            declared.append(content)
        if meta.get("property") == "og:locale":
            locales.append(content)
    for value in candidates + declared + locales:
        m = _LANG_TAG.match(str(value or ""))
        if m:
            return m.group(1).lower()
    return None


# An og:url that is a URL: absolute (a scheme) or a path from the site's root. Open Graph asks for
# an absolute URL; a relative path is some templates' slip and still names the page, but a value
# with neither (a bare title, "My post title", which urljoin would file under the served URL's
# folder) names nothing.
_OG_URL = re.compile(r"^\s*([a-z][a-z0-9+.-]*:|/)", re.IGNORECASE)


def _canonical(tree: HtmlElement, url: str) -> str | None:
    for link in tree.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        if "canonical" in rels:
            found = absolute_http_url(url, link.get("href"))
            if found:
                return found
    for content in tree.xpath('//meta[@property="og:url"]/@content'):
        found = absolute_http_url(url, str(content)) if _OG_URL.match(str(content)) else None
        if found:
            return found
    return None


def clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = _SPACES.sub(" ", str(value)).strip()
    return value or None
