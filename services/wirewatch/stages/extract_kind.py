"""Extract, kind of page: a parsed page, its URL, extracted body and metadata in; is it an article? out.

A news pipeline should not store a shop's product page, a section front, a forum thread or a
company's service page as an article, yet trafilatura extracts a body from nearly any page. What
tells them apart is the shape of the page, never its site: what it declares itself to be (the
schema.org types of its top-level JSON-LD objects and microdata items, og:type), whether people
talk on it (forum and Q&A types, comments in microdata), whether it names an author, whether its
body is running prose or short lines and how long its longest block runs, how much of the page the body is and how much of it is links,
whether its URL ends in a headline-like slug or a date, lies under a documentation, forum or shop
path or under a blog's or newsroom's with a slug after the word (/blog/SLUG; not /news/world nor
/news/123456, a section front's and any page's shapes) (the URL the page names as its own, its canonical
link or og:url, where it names one: a site that serves its stories at numbers, /?p=123 or /a/123456,
still names the story's URL there), whether it holds code, offers a cart or holds
replies, and which words its template's class names use (price, cart, filter, rating; user,
member, message, vote), and whether a date is written out next to its headline (a story's
dateline; 391 of WCXB's 711 articles, 22 of its 200 other pages). (A stated date, in the page's
metadata, told nothing once the rest was known: "neither a byline nor a date", fitted beside the
author, took a small weight of the wrong sign, so it is left out.)
Each is a feature below;
``not_article_score`` weighs them with a logistic model and the page is declined above
``NOT_ARTICLE_ABOVE``.

The weights were fitted (logistic regression, then rounded) on the WCXB development pages (711
articles, 200 others), on the bodies the stage extracts with every page let through, so that the
features are the ones the check will see. Articles weigh ten times a page of another kind in the
fit: what matters is the ranking among the few articles that look least like one, where the
threshold sits. The threshold is set by hand in a gap of the scores: above the highest-scoring
article accepted (-1.51) and under the next other page (-1.42); losing a story costs more than
storing a shop page. The body's longest line (``longest_line``: a block of running prose, which
an article's body holds and a listing's, a shop's or a service page's lines seldom do) came in with
the last refit: on the whole set other pages declined 0.745 -> 0.755 and articles accepted 0.9873
-> 0.9902. Checked the honest way, fitted on one half of an alternating split with its threshold
set on that half and scored on the other (``make fit-page-kind``): with the threshold above the
98.5th percentile of the half's articles, other pages declined 0.770 and articles accepted 0.980
(the table before, 0.73 / 0.979); with the highest threshold that declines 0.745 of the half's
other pages (``FIT_ARGS="--declined 0.745"``), 0.730 / 0.986. No ScrapingHub page scores above -2.38.
The table below is session 15's refit (the slug after a story word, the dateline; threshold by
``--declined 0.765``): the same verdict on every page at its own URL, and at a URL without a slug
(/a/N, /?p=N, /news/N) articles accepted 0.9831 / 0.9817 / 0.9944 -> 0.9887 each, other pages
declined 0.715 / 0.725 / 0.610 -> 0.715 / 0.725 / 0.715; held out 0.735 / 0.9887 (docs/benchmarks.md).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any, cast
from urllib.parse import urlsplit

from lxml import etree
from lxml.html import HtmlElement

from . import extract_html, extract_meta

# schema.org types that say "an article" and types that say "something else" (a thing for sale, a
# list of things, a discussion, a business, an application, a course).
_ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "blogposting",
    "report",
    "techarticle",
    "scholarlyarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "reportagenewsarticle",
    "backgroundnewsarticle",
    "liveblogposting",
    "recipe",
    "howto",
    "review",
    "socialmediaposting",
    "blog",
}
_OTHER_TYPES = {
    "product",
    "offer",
    "aggregateoffer",
    "productgroup",
    "itempage",
    "collectionpage",
    "itemlist",
    "discussionforumposting",
    "qapage",
    "softwareapplication",
    "course",
    "store",
    "service",
    "localbusiness",
}
_LD_TYPE = re.compile(r'"@type"\s*:\s*(\[[^\]]*\]|"[^"]*")')
_QUOTED = re.compile(r'"([^"]+)"')
_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"[.!?:…][\"'”’)\]]*$")
_URL_DATE = re.compile(r"/(19|20)\d\d/")
# The path shapes of common forum and Q&A software (Discourse /t/, XenForo /threads/, phpBB
# viewtopic, Invision /topic/, Stack Exchange /questions/, Reddit /comments/): conventions of
# software, not of a site. The plural /topics/ is none of them: it files a site's own guides and
# hubs (on WCXB 4 articles, a documentation page and a listing; no forum thread).
_FORUM_PATH = re.compile(
    r"/(threads?|t|topic|forums?|viewtopic|questions|comments|discussions?|boards?)[/.]", re.IGNORECASE
)
# The path shapes of documentation sites (/docs/, /reference/, /manual/, /api/, /wiki/): again a
# convention of the software that serves them.
_DOC_PATH = re.compile(r"/(docs?|documentation|reference|manual|api|wiki)[/.]", re.IGNORECASE)
# Path words of shop software (Shopify /products/ and /collections/, WooCommerce /product/ and
# /product-category/, /c/ and /category/ listings) and of blog and news software (/blog/SLUG,
# /news/SLUG, /article/SLUG): a page under one of the latter counts only with a slug after the word
# (a segment of two words or more, a headline's), since every news site files its section fronts
# under the same word (/news, /news/world) and a number after it (/news/123456) names any page.
_SHOP_WORDS = {"product", "products", "collections", "category", "product-category", "c", "shop", "store"}
_STORY_WORDS = {"blog", "blogs", "post", "posts", "article", "articles", "news", "story", "stories"}
# schema.org types, anywhere on the page, that say "people talking": a forum thread or a question
# with its answers. In microdata (itemtype) a comment counts too; in JSON-LD an article may nest its
# readers' comments, so there only the page-level types do. (An Answer is no sign: FAQ blocks on
# articles and service pages are Questions with Answers.)
_DISCUSSION_TYPES = {"discussionforumposting", "qapage"}
_DISCUSSION_ITEMS = _DISCUSSION_TYPES | {"comment"}
# Words in class and id attributes: the vocabulary shop templates use for their parts (price,
# cart, stock, SKU, filters and sorting of a product grid, star ratings), and the one forum
# templates use for theirs (users, members, messages, votes). Conventions of the software that
# builds such pages, counted over the whole page.
_SHOP_CLASSES = re.compile(r"price|cart|sku|stock|filter|facet|sort|rating")
_TALK_CLASSES = re.compile(r"user|member|message|vote")
_CLASSES = etree.XPath("//@class | //@id", smart_strings=False)
# Matched on the lower-cased text: a case-blind regex over a whole page costs several times more.
# Each pattern starts with a word of its own, and runs only on a page that holds that word at all
# (``in`` finds a word in a fraction of the time a regex takes to scan a page). It is searched
# without a leading \b, the boundary before a match checked on the text (``_at_word_start``): a
# pattern that opens with a literal lets the regex engine jump from one occurrence of it to the
# next, where a leading \b (or an alternation) makes it try every position of the page.
_CART = (
    ("add", re.compile(r"add\s+to\s+(cart|bag|basket)\b")),
    ("buy", re.compile(r"buy\s+now\b")),
    ("stock", re.compile(r"in\s+stock\b")),
    ("stock", re.compile(r"out\s+of\s+stock\b")),
)
_REPLIES = tuple((word, re.compile(rf"{word}\b")) for word in ("reply", "replies", "joined", "quote"))
_WORD_CHAR = re.compile(r"\w")
REPLIES_FULL = 10

SENTENCE_MIN_WORDS = 10
LONG_LINE_WORDS = 100

# (feature, weight); the score is bias + sum(weight * value), a log-odds of "not an article".
# Refit with `make fit-page-kind CORPUS=DIR` (benchmarks/fit_page_kind.py prints this table).
_BIAS = 0.4
_WEIGHTS = {
    "declares_other": 0.95,
    "declares_article": -1.45,
    "og_product": 1.65,
    "has_author": -1.0,
    "prose_lines": -0.95,
    "body_size": -0.15,
    "link_density": 0.95,
    "slug_words": -2.05,
    "url_date": -1.05,
    "cart": 0.4,
    "forum_path": 3.9,
    "replies": 1.0,
    "article_elements": -0.55,
    "code_blocks": 2.4,
    "doc_path": 2.0,
    "body_share": -1.15,
    "discussion": 2.8,
    "talk_classes": 0.7,
    "shop_classes": 1.95,
    "shop_path": 2.75,
    "story_path": -2.1,
    "dateline": -1.3,
    "longest_line": -1.95,
}
NOT_ARTICLE_ABOVE = -1.4


@dataclass(frozen=True, slots=True)
class PageShape:
    declares_other: float  # the page declares itself a product, a list, a discussion, ... (and not an article)
    declares_article: float
    og_product: float
    has_author: float
    prose_lines: float  # share of the body's lines that are sentences of SENTENCE_MIN_WORDS words or more
    body_size: float  # log of the body's words, scaled: 1.0 at about 3,000 words
    link_density: float  # share of the page's words that are link text
    slug_words: float  # words in the URL's last path segment, 8 or more = 1.0
    url_date: float
    cart: float
    forum_path: float
    replies: float  # "reply", "joined", "quote" on the page, 10 or more = 1.0
    article_elements: float  # <article> elements, 10 or more = 1.0
    code_blocks: float  # <pre> elements and fifths of <code> elements, 10 or more = 1.0
    doc_path: float
    body_share: float  # share of the page's words that the body holds
    discussion: float  # a forum thread's or a Q&A page's schema.org types, anywhere on the page
    talk_classes: float  # forum template words in class/id attributes, log-scaled: 1.0 at 50
    shop_classes: float  # shop template words in class/id attributes, log-scaled: 1.0 at 50
    shop_path: float  # a shop's path word (/product/, /collections/, /c/ ...)
    story_path: float  # a blog's or newsroom's path word followed by a slug (/blog/SLUG, /news/2024/05/SLUG)
    dateline: float  # a date written out next to the headline (in the words after the first <h1>)
    longest_line: float  # words of the body's longest line (a block of running prose), 100 or more = 1.0


# The features that depend on the body; every other one is the page's alone. Each body feature's
# range, for ``lowest_score``: (least, most) it can be for a body of ``max_words`` words.
_BODY_RANGES: dict[str, Callable[[int], tuple[float, float]]] = {
    "prose_lines": lambda max_words: (0.0, 1.0),
    "body_size": lambda max_words: (0.0, math.log1p(max_words) / 8),
    "body_share": lambda max_words: (0.0, 1.0),
    "longest_line": lambda max_words: (0.0, min(max_words, LONG_LINE_WORDS) / LONG_LINE_WORDS),
}


@dataclass(frozen=True, slots=True)
class PageFeatures:
    """What ``page_shape`` reads from the page alone, before any body is known."""

    shape: PageShape  # the body's features at 0
    page_words: int  # words of the page's visible text


def page_shape(
    tree: HtmlElement,
    url: str,
    body: str,
    *,
    has_author: bool,
    visible: list[str] | None = None,
    declared_url: str | None = None,
) -> PageShape:
    """The features of the page ``tree`` at ``url`` whose extracted body is ``body``; ``visible`` is
    ``visible_texts(tree)`` where the caller has it already (the stage reads it once for both uses);
    ``declared_url``: the URL the page names as its own (``page_features``)."""
    return with_body(page_features(tree, url, has_author=has_author, visible=visible, declared_url=declared_url), body)


def with_body(page: PageFeatures, body: str) -> PageShape:
    """The features of ``page`` (``page_features``) once its extracted body is ``body``."""
    lines = [line for line in body.split("\n") if line.strip()]
    words = [len(_WORD.findall(line)) for line in lines]  # no word crosses a line: they add up to the body's
    sentences = sum(
        1 for line, n in zip(lines, words) if n >= SENTENCE_MIN_WORDS and _SENTENCE_END.search(line.strip())
    )
    return replace(
        page.shape,
        prose_lines=sentences / len(lines) if lines else 0.0,
        body_size=math.log1p(sum(words)) / 8,
        body_share=min(len(body.split()) / page.page_words, 1.0) if page.page_words else 0.0,
        longest_line=min(max(words, default=0), LONG_LINE_WORDS) / LONG_LINE_WORDS,
    )


def page_features(
    tree: HtmlElement,
    url: str,
    *,
    has_author: bool,
    visible: list[str] | None = None,
    names: extract_html.Names | None = None,
    declared_url: str | None = None,
) -> PageFeatures:
    """The features of the page ``tree`` at ``url`` that no extracted body changes (``visible`` and
    ``names``: ``visible_texts(tree)`` and ``extract_html.page_names(tree)``, where the caller has them).

    The URL's features (slug, date, path words) are read from ``declared_url``, the URL the page
    names as its own (its canonical link or og:url, ``extract_meta``), where that has a path (is not
    its site's root): a site may serve a story at a number (``/?p=123``, ``/a/123456``) or through a
    link shortener and still name the story's own URL, and a template's default canonical, the
    site's root, says nothing of the page."""
    tags = _tagged(tree)
    top_types, all_types = _declared_types(tree, _ld_texts(tags["script"]), tags["*itemtype"])
    og_type = " ".join(_meta_contents(tags["meta"], "og:type")).lower()
    page_words, link_words, page_text = _page_words(tree, visible_texts(tree) if visible is None else visible)
    page_text = page_text.lower()
    if names is not None and names.whole_document:
        classes = names.lowered  # the same names, one a line (no word these count holds a space)
    else:
        classes = " ".join(cast(list[str], _CLASSES(tree))).lower()
    declared = _path(declared_url) if declared_url else ""
    path = declared if declared.strip("/") else _path(url)
    shape = PageShape(
        declares_other=float(bool(top_types & _OTHER_TYPES) and not top_types & _ARTICLE_TYPES),
        declares_article=float(bool(top_types & _ARTICLE_TYPES) or og_type.strip() == "article"),
        og_product=float("product" in og_type),
        has_author=float(has_author),
        prose_lines=0.0,
        body_size=0.0,
        link_density=link_words / page_words if page_words else 0.0,
        **_path_features(path),
        cart=float(any(next(_at_word_start(pattern, word, page_text), None) for word, pattern in _CART)),
        replies=_replies(page_text) / REPLIES_FULL,
        article_elements=min(len(tags["article"]), 10) / 10,
        code_blocks=min(len(tags["pre"]) + len(tags["code"]) / 5, 10) / 10,
        body_share=0.0,
        discussion=float(
            bool(all_types & _DISCUSSION_TYPES or _itemtypes(_all_itemtypes(tags["*itemtype"])) & _DISCUSSION_ITEMS)
        ),
        talk_classes=_log_scaled(len(_TALK_CLASSES.findall(classes)), 50),
        shop_classes=_log_scaled(len(_SHOP_CLASSES.findall(classes)), 50),
        dateline=float(bool(tags["h1"]) and _dates_its_headline(tags["h1"][0])),
        longest_line=0.0,
    )
    return PageFeatures(shape, page_words)


def _dates_its_headline(h1: HtmlElement) -> bool:
    """Whether a date is written out ("Dec 20, 2025", "20 December 2025", "2025-12-20") in the words
    that follow the headline ``h1``, where a story's byline or dateline stands: the words and date
    forms ``extract_meta`` reads a byline's date from, the headline found in the walk that finds
    the page's other tags (a search of its own for the first <h1> would cost more than reading them)."""
    return extract_meta.writes_a_date(extract_meta.byline_text(h1))


def _path_features(path: str) -> dict[str, float]:
    """The features of a URL's ``path``: its slug, date and path words (``PageShape``)."""
    segments = [s for s in path.split("/") if s]
    words = [_segment_words(s) for s in segments]
    lowered = [s.lower() for s in segments]
    return {
        "slug_words": min(len(words[-1]) if words else 0, 8) / 8,
        "url_date": float(bool(_URL_DATE.search(path))),
        "forum_path": float(bool(_FORUM_PATH.search(path + "/"))),
        "doc_path": float(bool(_DOC_PATH.search(path + "/"))),
        "shop_path": float(bool(set(lowered) & _SHOP_WORDS)),
        "story_path": float(
            any(s in _STORY_WORDS and any(len(w) >= 2 for w in words[i + 1 :]) for i, s in enumerate(lowered[:-1]))
        ),
    }


def _segment_words(segment: str) -> list[str]:
    """The words of a URL path's segment, its file extension left out ("bridge-reopens.html": 2)."""
    return [w for w in re.split(r"[-_+]", re.sub(r"\.\w+$", "", segment)) if w]


# The elements the page's features are read from, gathered in one walk of the page instead of one
# XPath walk each (a whole-page XPath costs about what walking the tree in lxml's C does; the tag
# filter of ``iter`` skips every other element without making a Python object of it), and the
# elements that carry microdata types (one XPath, for both the page's own types and all of them).
_TAGGED = ("script", "meta", "article", "pre", "code", "h1")
_WITH_ITEMTYPE = etree.XPath("//*[@itemtype]")


def _tagged(tree: HtmlElement) -> dict[str, list[HtmlElement]]:
    found: dict[str, list[HtmlElement]] = {tag: [] for tag in _TAGGED}
    for element in tree.iter(*_TAGGED):
        found[element.tag].append(element)
    found["*itemtype"] = cast(list[HtmlElement], _WITH_ITEMTYPE(tree))
    return found


def _meta_contents(metas: list[HtmlElement], prop: str) -> list[str]:
    """The content of each <meta property=``prop``> among ``metas``, in document order."""
    return [c for m in metas if m.get("property") == prop and (c := m.get("content")) is not None]


def lowest_score(page: PageFeatures, max_words: int) -> float:
    """The lowest ``not_article_score`` that ``page`` can have, whatever body of at most
    ``max_words`` words is extracted from it: each body feature at the end of its range that
    weighs most towards "an article". Above NOT_ARTICLE_ABOVE no body makes the page an article."""
    score = not_article_score(page.shape)  # the body's features count 0 in it
    for name, bounds in _BODY_RANGES.items():
        score += min(_WEIGHTS[name] * bound for bound in bounds(max_words))
    return score


def surely_not_article(page: PageFeatures, tree: HtmlElement) -> float | None:
    """``page``'s lowest score when no body extracted from ``tree`` could make it an article, else None.

    The lowest score only falls as the words a body may hold rise, so the page's word bound (a walk
    of all its text) is read only where even a body of no words leaves the page above the threshold
    (an article's page is let through on its own features alone), and only until the words counted
    so far bring the lowest score down to the threshold: the rest could only bring it lower."""
    if lowest_score(page, 0) <= NOT_ARTICLE_ABOVE:
        return None
    words = 0
    for words in _running_words(tree):
        if lowest_score(page, words) <= NOT_ARTICLE_ABOVE:
            return None
    return lowest_score(page, words)


def max_body_words(tree: HtmlElement) -> int:
    """At most how many words (``\\w+`` runs, as ``body_size`` counts them) a body extracted from
    ``tree`` holds: trafilatura's text is the page's own text nodes (a JSON-LD articleBody is a
    script's text; a formula's LaTeX, a <math> attribute, is counted too), each taken once, and
    joining two runs never makes more words of them. Each text node is counted apart."""
    return max(_running_words(tree), default=0)  # the running count's last value


# Text nodes counted together: joined with a space, which no word crosses, and counted by one call
# of the regex instead of one a node (most nodes are a few words, and the call costs more than them).
_COUNTED_TOGETHER = 256


def _running_words(tree: HtmlElement) -> Iterator[int]:
    """The words of ``tree``'s text nodes (``max_body_words``) counted so far, a batch of nodes at a time."""
    texts = cast(list[str], _ALL_TEXT(tree))
    words = 0
    for start in range(0, len(texts), _COUNTED_TOGETHER):
        words += len(_WORD.findall(" ".join(texts[start : start + _COUNTED_TOGETHER])))
        yield words


_ALL_TEXT = etree.XPath("//text() | //math//@*", smart_strings=False)


def not_article_score(shape: PageShape) -> float:
    return float(_BIAS + sum(weight * getattr(shape, name) for name, weight in _WEIGHTS.items()))


def is_article(shape: PageShape) -> bool:
    return not_article_score(shape) <= NOT_ARTICLE_ABOVE


def _at_word_start(pattern: re.Pattern[str], word: str, text: str) -> Iterator[re.Match[str]]:
    """The matches of ``pattern`` (which opens with ``word``) in ``text`` that start a word, as
    ``\b`` + ``pattern`` finds them. (A match that starts inside a word lies within that word's
    tail, where no match that starts a word can begin, so skipping it hides none of them.)"""
    if word not in text:
        return
    for m in pattern.finditer(text):
        start = m.start()
        if start == 0 or not _WORD_CHAR.match(text, start - 1):
            yield m


def _replies(text: str) -> int:
    """Reply, joined and quote words in ``text``, up to REPLIES_FULL (no need to count past it)."""
    found = (m for word, pattern in _REPLIES for m in _at_word_start(pattern, word, text))
    return sum(1 for _ in zip(range(REPLIES_FULL), found))


def _log_scaled(count: int, full: int) -> float:
    return min(math.log1p(count) / math.log1p(full), 1.0)


def _ld_scripts(tree: HtmlElement) -> list[str]:
    return _ld_texts(tree.iter("script"))


def _ld_texts(scripts: Iterable[HtmlElement]) -> list[str]:
    """The JSON-LD text of those of ``scripts`` that hold it."""
    return [s.text for s in scripts if s.get("type") == "application/ld+json" and s.text is not None]


def _itemtypes(values: Any) -> set[str]:
    return {t.lower().rsplit("/", 1)[-1] for v in cast(list[str], values) for t in str(v).split()}


def _all_itemtypes(items: list[HtmlElement]) -> list[str]:
    return [cast(str, item.get("itemtype")) for item in items]


def _declared_types(
    tree: HtmlElement, scripts: list[str], items: list[HtmlElement] | None = None
) -> tuple[set[str], set[str]]:
    """The schema.org types the page declares for itself, and every type it names anywhere.

    For itself: the top-level JSON-LD objects (those of an ``@graph`` included) and the microdata
    items inside no other item, and what a top-level object names its ``mainEntity``; not a type
    nested otherwise, such as the Review inside a Product or the Offer inside an Article. A JSON-LD
    block that does not parse gives all its types. ``items``: the page's elements with an
    ``itemtype``, where the caller has them already.
    """
    top: set[str] = set()
    every: set[str] = set()
    for script in scripts:
        named = {t.lower().rsplit("/", 1)[-1] for found in _LD_TYPE.findall(script) for t in _QUOTED.findall(found)}
        every |= named
        try:
            top |= _top_ld_types(json.loads(script))
        except ValueError:
            top |= named
    if items is None:
        items = cast(list[HtmlElement], _WITH_ITEMTYPE(tree))
    outermost = [i for i in items if not any(a.get("itemscope") is not None for a in i.iterancestors())]
    micro = _itemtypes(_all_itemtypes(outermost))
    return top | micro, every | micro


def _top_ld_types(data: Any) -> set[str]:
    items = data if isinstance(data, list) else [data]
    found: set[str] = set()
    for item in items:
        if not isinstance(item, dict):
            continue
        for inner in ("@graph", "mainEntity"):
            if isinstance(item.get(inner), (list, dict)):
                found |= _top_ld_types(item[inner])
        declared = item.get("@type")
        for t in declared if isinstance(declared, list) else [declared]:
            if isinstance(t, str):
                found.add(t.lower().rsplit("/", 1)[-1])
    return found


# The page's visible text nodes, element text and tails alike (in XPath a tail is a text child of
# the element's parent): lxml gathers them in C, several times faster than a walk in Python. Plain
# strings (smart_strings=False): a "smart" one carries a link to its element, which costs half the call.
_VISIBLE_TEXT = etree.XPath(
    "descendant-or-self::text()[not(parent::script | parent::style | parent::noscript | parent::template)]",
    smart_strings=False,
)


def visible_texts(tree: HtmlElement) -> list[str]:
    """The text nodes of the page's <body> that a reader sees, in document order."""
    return cast(list[str], _VISIBLE_TEXT(_body(tree)))  # an XPath of text() nodes, plain strings


def _body(tree: HtmlElement) -> HtmlElement:
    # The <body> is the root's child (the parser never puts one inside <head>); a search of every
    # descendant, which walks the whole <head> first, only for a tree that is no whole page.
    body = tree.find("body")
    if body is None:
        body = tree.find(".//body")
    return tree if body is None else body


def _page_words(tree: HtmlElement, visible: list[str]) -> tuple[int, int, str]:
    """Words of the page's visible text, words of its link text, and the visible text itself."""
    text = " ".join(visible)
    links = sum(len(a.text_content().split()) for a in _body(tree).iter("a"))
    return len(text.split()), links, text


def _path(url: str) -> str:
    try:
        return urlsplit(url).path
    except ValueError:
        return ""
