"""Extract, metadata half: a parsed page and its URL in, a PageMeta (title, authors, date, language,
site name, canonical URL, description, image, page type) out.

Built from trafilatura's own metadata readers (OpenGraph and <meta> tags, then JSON-LD, which
overrides them) and htmldate, but only the ones wirewatch stores: trafilatura's
``extract_metadata`` also guesses categories, tags and a licence, which cost a third of its time and
which nothing here reads. Pure and picklable, like the rest of the stage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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

# Only dates the page states in its metadata (meta tags, JSON-LD, <time>) or its URL. The extensive
# search guesses from body text, where the date it finds is often the event's or a copyright line's.
_DATE_PARAMS = {"original_date": True, "extensive_search": False}

_LANG_TAG = re.compile(r"^\s*([A-Za-z]{2})(?:$|[-_])")
_SPACES = re.compile(r"\s+")


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
    except Exception:  # trafilatura's JSON-LD walk trips on odd but valid JSON; the meta tags still stand
        pass
    title = doc.title or extract_title(tree)
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


def split_authors(raw: str | None) -> list[str]:
    authors: list[str] = []
    seen: set[str] = set()
    for name in (raw or "").split(";"):
        name = _SPACES.sub(" ", name).strip()
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
