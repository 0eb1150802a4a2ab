"""Extract, metadata half: a parsed page and its URL in, a PageMeta (title, authors, date, language,
site name, canonical URL, description, image, page type) out.

Built from trafilatura's own metadata readers (OpenGraph and <meta> tags, then JSON-LD, which
overrides them) and htmldate, but only the ones wirewatch stores: trafilatura's
``extract_metadata`` also guesses categories, tags and a licence, which cost a third of its time and
which nothing here reads. Pure and picklable, like the rest of the stage.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import (
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_sitename,
    extract_title,
)

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

# A line that notes a change to the page ("Editor's note: On May 6, 2025, I added ...", "Update:
# ...") dates the page, not the events it tells: a date in it is no event's date.
_UPDATE_NOTE = re.compile(r"^\W*(editor'?s\s+note|updated?|update\s+note|note)\b", re.IGNORECASE)

_LANG_TAG = re.compile(r"^\s*([A-Za-z]{2})(?:$|[-_])")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+")

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PageMeta:
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    language: str | None = None
    sitename: str | None = None
    canonical_url: str | None = None
    description: str | None = None
    image: str | None = None
    page_type: str | None = None  # og:type / JSON-LD @type as the page declares it, lower case


def read_metadata(tree: HtmlElement, url: str) -> PageMeta:
    """What ``tree`` (the page at ``url``) says about itself."""
    doc = examine_meta(tree)
    if doc.author and " " not in doc.author:
        doc.author = None  # a one-word "author" is a handle or the site's name far more often than a person
    try:
        doc = extract_meta_json(tree, doc)
    except Exception as e:  # noqa: BLE001 - trafilatura's JSON-LD walk trips on odd but valid JSON; the meta tags stand
        log.info("JSON-LD of %s not read, meta tags used alone: %s: %s", url, type(e).__name__, e)
    title = _headline(tree, doc.title or _title_element(tree) or extract_title(tree))
    author = doc.author or extract_author(tree)
    sitename = doc.sitename or extract_sitename(tree)
    if sitename:
        sitename = sitename.lstrip("@")
    date = find_date(tree, url=url, **_DATE_PARAMS)
    return PageMeta(
        title=clean(title),
        authors=split_authors(author),
        published=clean(date),
        language=_language(tree),
        sitename=clean(sitename),
        canonical_url=_canonical(tree, url),
        description=clean(doc.description),
        image=absolute_http_url(url, doc.image),
        page_type=(clean(doc.pagetype) or "").lower() or None,
    )


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


def fallback_date(tree: HtmlElement, url: str, body: str) -> str | None:
    """A date from the page's visible text, for a page whose metadata states none; not one of ``body``.

    First the date printed under the headline (the byline: "By Jane Roe, December 20, 2025"), then
    htmldate's extensive search of the whole page. On the WCXB development articles whose metadata
    states no date, the byline gives 15 of the 31 that have one, 2 of them that the extensive search
    gets wrong, and costs about 1% of it.
    """
    found = _byline_date(tree)
    if not found or _in_prose(found, body):
        found = clean(find_date(tree, url=url, **_EXTENSIVE_DATE_PARAMS))
    if not found or _in_prose(found, body):
        return None
    return found


def _byline_date(tree: HtmlElement) -> str | None:
    """The first whole date ("Dec 20, 2025", "20 December 2025", "2025-12-20") in the BYLINE_WORDS
    words of visible text that follow the first <h1>."""
    h1 = next(tree.iter("h1"), None)
    if h1 is None:
        return None
    text = " ".join(_text_after(h1, BYLINE_WORDS).split()[:BYLINE_WORDS])
    found = [(m.start(), read(m)) for pattern, read in _WRITTEN_DATES for m in [pattern.search(text)] if m]
    for _, (year, month, day) in sorted(found):
        if 1 <= month <= 12 and 1 <= day <= 31:
            return f"{year}-{month:02d}-{day:02d}"
    return None


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


def _in_prose(date: str, body: str) -> bool:
    """Whether a sentence of ``body`` names the day ``date`` (YYYY-MM-DD): "... on 14 January 2019 ...".

    A short line that is the date and little more ("Nov 21, 2018", "Last updated: November 13,
    2025") is the article's dateline, not prose, and does not count; nor does a note on a change to
    the page ("Editor's note: On May 6, 2025, I added ...").
    """
    try:
        year, month, day = date[:4], int(date[5:7]), int(date[8:10])
    except ValueError:
        return False
    name = _MONTHS[month - 1][:3] if 1 <= month <= 12 else "@"
    day_month = rf"(\b{day}(st|nd|rd|th)?\W{{1,3}}{name}\w*|\b{name}\w*\W{{1,3}}{day}(st|nd|rd|th)?\b)"
    named = re.compile(rf"{re.escape(date[:10])}|{day_month}\W{{1,3}}{year}\b", re.IGNORECASE)
    return any(
        len(_WORD.findall(line)) > DATELINE_MAX_WORDS and not _UPDATE_NOTE.match(line) and named.search(line)
        for line in body.split("\n")
    )


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
    candidates += tree.xpath(
        '//meta[translate(@http-equiv, "CONTENT-LANGUAGE", "content-language") = "content-language"]/@content'
    )
    candidates += tree.xpath('//meta[@property="og:locale"]/@content')
    for value in candidates:
        m = _LANG_TAG.match(str(value or ""))
        if m:
            return m.group(1).lower()
    return None


def _canonical(tree: HtmlElement, url: str) -> str | None:
    for link in tree.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        if "canonical" in rels:
            found = absolute_http_url(url, link.get("href"))
            if found:
                return found
    for content in tree.xpath('//meta[@property="og:url"]/@content'):
        found = absolute_http_url(url, str(content))
        if found:
            return found
    return None


def clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = _SPACES.sub(" ", str(value)).strip()
    return value or None
