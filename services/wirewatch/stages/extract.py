"""Extract: a page's HTML and URL in, the article's body text and metadata (an Extracted) out.

Pure, synchronous and CPU-bound: the agent runs ``extract`` in a process pool, so it is a
module-level function taking and returning picklable values. Built on trafilatura, which signals
failure by returning None and logging why; here every outcome carries a reason instead:

    Rejected        empty (nothing extractable, unparsable), too_short (body under min_length),
                    not_article (the page is a site's front page)
    PermanentError  extract_failed (trafilatura raised while extracting: a bug or a pathological page)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import trafilatura
from lxml.html import HtmlElement
from trafilatura.settings import use_config

from ..errors import PermanentError, Rejected
from .urls import absolute_http_url

# Our own min_length decides "too short"; trafilatura's own floor would return None and make
# "too short" indistinguishable from "empty".
_CONFIG = use_config()
_CONFIG.set("DEFAULT", "MIN_OUTPUT_SIZE", "1")
_CONFIG.set("DEFAULT", "MIN_OUTPUT_COMM_SIZE", "1")

# Only dates the page states in its metadata or URL. The extensive search guesses from body text,
# where the date it finds is often the event's (or a copyright line's), not the publication's.
_DATE_PARAMS = {"original_date": True, "extensive_search": False}

_LANG_TAG = re.compile(r"^\s*([A-Za-z]{2})(?:$|[-_])")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Extracted:
    title: str | None
    text: str
    authors: list[str] = field(default_factory=list)
    published: str | None = None  # "YYYY-MM-DD" as the page states it
    language: str | None = None  # ISO 639-1, lower case
    sitename: str | None = None
    canonical_url: str | None = None
    description: str | None = None
    image: str | None = None


def extract(html: str, url: str, min_length: int = 200) -> Extracted:
    """The article in ``html`` (served at ``url``, used to resolve relative links and for metadata)."""
    if not html or not html.strip():
        raise Rejected("empty", f"no HTML for {url}")
    if _is_front_page(url):
        # An expired short link usually lands on the outlet's home page: a page, but not a story.
        raise Rejected("not_article", f"{url} is a site's front page")
    try:
        tree = trafilatura.load_html(html)
    except Exception as e:  # lxml raises a zoo of types on hostile input; the page is at fault, not us
        raise Rejected("empty", f"{url} does not parse as HTML: {type(e).__name__}: {e}") from e
    if tree is None:
        raise Rejected("empty", f"{url} does not parse as HTML")
    try:
        # bare_extraction copies a tree it is given, so ``tree`` stays intact for our own reads.
        doc = trafilatura.bare_extraction(
            tree,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            deduplicate=False,
            date_extraction_params=dict(_DATE_PARAMS),
            config=_CONFIG,
        )
        language = _language(tree)
        canonical_url = _canonical(tree, url)
    except Exception as e:
        raise PermanentError("extract_failed", f"extracting {url}: {type(e).__name__}: {e}") from e
    if doc is None or not (doc.text or "").strip():
        raise Rejected("empty", f"no article text found in {url}")

    title = _clean(doc.title)
    text = _body(doc.text, title)
    if len(text) < min_length:
        raise Rejected("too_short", f"{len(text)} characters of text in {url}, fewer than {min_length}")
    return Extracted(
        title=title,
        text=text,
        authors=_authors(doc.author),
        published=_clean(doc.date),
        language=language,
        sitename=_clean(doc.sitename),
        canonical_url=canonical_url,
        description=_clean(doc.description),
        image=absolute_http_url(url, doc.image),
    )


def _is_front_page(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.path in ("", "/") and not parts.query


def _body(text: str, title: str | None) -> str:
    # trafilatura keeps the <h1> as the body's first line; drop it when it repeats the title, so
    # title and text can be scanned together without counting the headline's figures twice.
    text = text.strip()
    if title:
        first, _, rest = text.partition("\n")
        if _SPACES.sub(" ", first).strip().casefold() == _SPACES.sub(" ", title).casefold():
            text = rest.strip()
    return text


def _authors(raw: str | None) -> list[str]:
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


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = _SPACES.sub(" ", value).strip()
    return value or None
