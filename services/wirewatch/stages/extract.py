"""Extract: a page's HTML and URL in, the article's body text and metadata (an Extracted) out.

Pure, synchronous and CPU-bound: the agent runs ``extract`` in a process pool, so it is a
module-level function taking and returning picklable values. Built on trafilatura, which signals
failure by returning None and logging why; here every outcome carries a reason instead:

    Extracted       the article (``method`` says which pass found it)
    Rejected        empty (nothing extractable, unparsable), too_short (body under min_length),
                    not_article (a site's front page, or a page shaped like a listing, a shop, a
                    forum or a service page rather than a story: ``extract_kind``), wrong_type (not an HTML page at
                    all: a PDF, an image, a JSON or feed document served where an article was expected)
    PermanentError  extract_failed (trafilatura raised while extracting: a bug or a pathological page)

How the body is found (measured on a public benchmark with human ground truth, see
benchmarks/bench_extract.py): trafilatura in its precision mode, which keeps less of the page than
its default mode and is right more often, in its fast form first; only when that finds too little
does the costlier default mode run (its wider net, with trafilatura's readability/jusText
comparison), so the typical page costs less than one default-mode trafilatura call. When the
body found is a small part of the page's running prose (a container holding only a teaser or the
first part of a long article), the default mode runs too and its fuller body wins; where every
mode stops at that one container, the body takes the running prose of the blocks around it
(``extract_clean.widen_truncated``). Then ``extract_clean`` removes what trafilatura leaves behind
(furniture lines, and the lines the page holds in a bio, disclaimer, disclosure, call-to-action,
cookie-notice or teaser box), puts back the section headings, lists and paragraphs the precision mode drops from between the
lines it kept and the accordions (a FAQ's answers, expandable sections) of the story's container,
and ``extract_meta`` reads the metadata. Hover cards (a linked name's hidden card of other
headlines) leave the page before any pass.
The page-kind check of the body comes only after the length check and the date (htmldate, the costliest part
of the metadata) only for a page the kind check accepts; the page's visible text is read once for
both the truncation check and the kind check. Before any trafilatura pass, a page that no body
could make an article is declined at once: the page-kind score, with each feature a body sets at
its most article-like for any body the page's text could give (``extract_kind.lowest_score``), is
still above the threshold, so the passes could not make it an article. (A page so declined that
would have ended ``empty`` or ``too_short`` ends ``not_article``: 5 WCXB non-article pages.) On
WCXB 83 of 911 pages are declined so, no article; no ScrapingHub page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from copy import copy
from dataclasses import dataclass, field
from re import (  # type: ignore[attr-defined]  # the parse tree of a regular expression: _required_literals
    _constants as sre_constants,
    _parser as sre_parse,
)
from typing import cast
from urllib.parse import urlsplit

import trafilatura
from lxml.etree import XPath, _Element, strip_tags
from lxml.html import HtmlElement
from trafilatura import core as trafilatura_core
from trafilatura.baseline import _spaced_text
from trafilatura.external import try_justext
from trafilatura.htmlprocessing import prune_unwanted_nodes
from trafilatura.settings import BASIC_CLEAN_XPATH, CUT_EMPTY_ELEMS, Document, Extractor, use_config
from trafilatura.utils import trim
from trafilatura.xml import delete_element
from trafilatura.xpaths import RAW_TREE_PRUNE_XPATH, REMOVE_COMMENTS_AND_LISTS_XPATH, REMOVE_COMMENTS_XPATH

from ..errors import PermanentError, Rejected
from . import extract_clean, extract_html, extract_kind, extract_meta

# Our own min_length decides "too short"; trafilatura's own floor would return None and make
# "too short" indistinguishable from "empty".
_CONFIG = use_config()
_CONFIG.set("DEFAULT", "MIN_OUTPUT_SIZE", "1")
_CONFIG.set("DEFAULT", "MIN_OUTPUT_COMM_SIZE", "1")
# htmldate's parameters for trafilatura's own date search, which a pass never runs (no metadata:
# extract_meta reads the date). Given, they spare each pass building the default ones, which reads
# the configuration and the local time zone: about 80 us a pass, nearly half of setting one up.
_UNUSED_DATE_PARAMS: dict[str, object] = {"original_date": True, "extensive_search": False}

# Below this many characters of cleaned precision-mode text the default mode gets a try: short
# enough that real articles rarely trigger the (costlier) second pass, long enough that a page whose
# body the precision mode dropped whole does.
SECOND_PASS_BELOW = 500

# Each pass runs only when the ones before found less than SECOND_PASS_BELOW characters; a later
# pass's body replaces an earlier one only when it is fuller by FULLER_BY (below), as for a
# truncated body: a short precision body is often a whole short article (a paywalled story's free
# paragraphs) that the default mode merely tops with its standfirst or a caption. (Longest-wins took
# the standfirst on 1 of the 91 ScrapingHub pages: F1 0.9776 against 0.9793; no WCXB page changed.)
# The fast precision pass skips trafilatura's readability/jusText comparison,
# which on the benchmark changed the cleaned body of 1 page in 91, and that page was a short one:
# exactly the pages the later pass is for. (A middle pass, precision mode with the comparison, was
# longer than the default mode's body on 8 of the 101 short WCXB pages and 1 of 2 ScrapingHub ones,
# and going straight to the default mode scored as well on both: one costly pass saved.)
_PASSES = (
    ("precision", {"favor_precision": True, "fast": True}),
    ("default_full", {"favor_precision": False, "fast": False}),
)
_FULLER = _PASSES[-1]
# When both find nothing at all, trafilatura's recall mode gets a last try: on pages whose markup
# hides the article from the other modes' container rules it still finds the running text (and a
# page that is not an article still meets the page-kind check below).
_LAST_RESORT = ("recall", {"favor_precision": False, "fast": False, "favor_recall": True})

# A truncated body: the precision pass sometimes settles on a container that holds only the first
# part of a long article, or a teaser of it, while the page holds the whole text. Such a body has far
# fewer words than the page's running prose (its visible text runs of PROSE_MIN_WORDS words or more,
# whatever element holds them: sentences, not menus or captions). Below TRUNCATED_BELOW of it the
# default mode's wider net runs, and its body replaces the first when it has FULLER_BY times the
# words, counting a line repeated in it once (a page that prints its teasers or its metadata twice
# makes a body longer, not fuller); trafilatura still leaves comments out of it. On the WCXB
# development articles this pass runs on about 1 page in 15 and lifts word F1 by 0.013 (on each half
# of an alternating split), the truncated pages from recall 0.1-0.3 back to the full text. (Counting
# only <p> elements missed articles written in <div>s and lists: 0.002 less.)
PROSE_MIN_WORDS = 10
_PROSE_MIN_CHARS = 2 * PROSE_MIN_WORDS - 1  # a shorter run cannot hold that many words
TRUNCATED_BELOW = 0.5
FULLER_BY = 1.5

# A shortened body: between TRUNCATED_BELOW and SHORTENED_BELOW of the page's running prose, the
# precision pass has usually found the right container but pruned parts of the story inside it
# (its stricter rules drop lists, headed sections and paragraphs with a few links: a guide's steps,
# a report's recommendations). trafilatura's recall mode, which costs about what the fast precision
# pass does, keeps them; its body replaces the first when it has WIDER_BY times the words and holds
# HELD_SHARE of the first body's lines (the same story, more of it: not another container). On the
# WCXB development pages this pass runs on 62 of 911 and lifts article word F1 from 0.9264 to
# 0.9296 (0.9340 -> 0.9373 and 0.9188 -> 0.9219 on the two halves of an alternating split; every
# article whose body it replaced scored higher); it runs on 11 of the 91 ScrapingHub pages and
# changes none. Up to 0.8 of the prose it gained 0.0012 more on WCXB but ran on 26 ScrapingHub
# pages for nothing (a news page's comments and related stories are prose too), a fifth more time
# there. (The default mode in its place: 0.9269, it prunes much like the precision pass. Below
# TRUNCATED_BELOW the default mode's body scores better than recall's.)
SHORTENED_BELOW = 0.7
WIDER_BY = 1.2
HELD_SHARE = 0.9

# A body whose prose looks whole may still lack the story's lists: the page's running prose counts
# only text runs of PROSE_MIN_WORDS words or more, and a listicle's or a guide's items ("Beautiful
# templates: a wide range of designs", "Median GMAT: 740") are shorter, so a body the precision pass
# pruned of them holds most of the prose. Where the page's lists that the body leaves out while a
# block next to one of them opens one of its lines (``extract_clean.dropped_list_words``) hold
# PRUNED_LISTS_SHARE of the body's words or more, the recall mode's body replaces it when it has
# PRUNED_LISTS_WIDER_BY times the words and holds HELD_SHARE of its lines. On the WCXB development
# articles: word F1 0.94553 -> 0.94650 (halves 0.95276 -> 0.95430, 0.93827 -> 0.93868; 10 pages up,
# among them a listicle's pros, cons and prices 0.59 -> 0.93, 2 down, where the recall body brought
# related-story teasers in); no ScrapingHub page changed. A list alone in its box (a school's
# stats) has its box's neighbours: 0.94775 -> 0.94793 (one page, 0.83 -> 0.96). The recall pass
# runs on 37 of 911 WCXB pages and none of ScrapingHub's; the lists' walk (0.3-0.5 ms a
# ScrapingHub page) shares its reading of the body with ``extract_clean.restore_dropped`` and
# runs only on a body under PRUNED_LISTS_BELOW of the prose (every page it lifts is under 1.1; on
# 57 of the 91 ScrapingHub pages, where the stage is tightest on time). (At 0.05 of the body's words the pass
# also ran on 2 ScrapingHub pages, 4.5% of the stage's time there, for one page's recall, 0.79 ->
# 0.86; counting every list item the body leaves out, menus and related links too, it would run on
# 22 to 39 of them.)
PRUNED_LISTS_SHARE = 0.1
PRUNED_LISTS_WIDER_BY = 1.1
PRUNED_LISTS_BELOW = 1.1

# htmldate's extensive date search (the fallback for a page whose metadata states no date) runs
# regular expressions over the whole serialised page, in time proportional to its size: 0.4 ms a
# kilobyte, half a second on a megabyte-long shop page, more than the rest of the stage together.
# Past DATE_SEARCH_MAX_CHARS of HTML only the date under the headline is looked for. On the WCXB
# development articles every date that search found right was on a page under 130,000 characters.
DATE_SEARCH_MAX_CHARS = 250_000

# What a non-HTML body starts with. PDFs, images and archives; JSON; an RSS/Atom feed.
# (Binary magic numbers as a decoder leaves them: latin-1 keeps the byte, UTF-8 makes it U+FFFD.)
_NOT_HTML = re.compile(
    r"^\s*(%PDF-|[\x89\ufffd]PNG|GIF8|[\xff\ufffd]{1,2}[\xd8\ufffd]|PK\x03\x04|\x1f[\x8b\ufffd]"
    r"|[\[{]\s*[\"\[{]|<\?xml[^>]*>\s*<(rss|feed|rdf:RDF)\b)",
    re.IGNORECASE,
)


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
    page_type: str | None = None  # og:type or JSON-LD @type as declared, e.g. "article"
    method: str = "precision"  # the pass that found the body: precision, default_full or recall


def extract(
    html: str,
    url: str,
    min_length: int = 200,
    *,
    kind_check: Callable[[extract_kind.PageShape], bool] = extract_kind.is_article,
) -> Extracted:
    """The article in ``html`` (served at ``url``, used to resolve relative links and for metadata).

    ``kind_check`` says whether a page of that shape is an article (benchmarks/fit_page_kind.py
    passes one that keeps every shape and lets the page through)."""
    if not html or not html.strip():
        raise Rejected("empty", f"no HTML for {url}")
    if "\x00" in html[:2048] or _NOT_HTML.match(html[:256]):
        raise Rejected("wrong_type", f"{url} is not an HTML page")
    if _is_front_page(url):
        # An expired short link usually lands on the outlet's home page: a page, but not a story.
        raise Rejected("not_article", f"{url} is a site's front page")
    try:
        streamed, segments = extract_html.streamed_in_place(html)
        tree = extract_html.load_html(streamed)
        if tree is not None:
            extract_html.place_streamed_segments(tree, segments)
    except Exception as e:  # lxml raises a zoo of types on hostile input; the page is at fault, not us
        raise Rejected("empty", f"{url} does not parse as HTML: {type(e).__name__}: {e}") from e
    if tree is None:
        raise Rejected("empty", f"{url} does not parse as HTML")
    try:
        meta = extract_meta.read_metadata(tree, url)
        headlines = [meta.title, *(h.text_content() for h in tree.iter("h1"))]
        # the page's visible text, read once for the truncation check and the page-kind check
        visible = extract_kind.visible_texts(tree)
        names = extract_html.page_names(
            tree
        )  # and its class and id names, for the same check, drop_boxed and the passes
        passes_on = _Page(tree, url, headlines, names)  # what trafilatura's passes share
        page = extract_kind.page_features(
            tree, url, has_author=bool(meta.authors), visible=visible, names=names, declared_url=meta.canonical_url
        )
        if kind_check is extract_kind.is_article:  # (a check of the caller's own sees every page)
            floor = extract_kind.surely_not_article(page, tree)
            if floor is not None:
                raise _not_article(url, floor, "at least", " whatever body is found")
        extract_clean.drop_hover_cards(tree, names)
        text, method, passes = "", "", 0
        for name, options in _PASSES:
            found = _body(passes_on, **options)
            passes += 1
            if _is_fuller(found, text):
                text, method = found, name
            if len(text) >= SECOND_PASS_BELOW:
                break
        if not text:
            text, method = _body(passes_on, **_LAST_RESORT[1]), _LAST_RESORT[0]
        elif passes == 1 or method == _FULLER[0]:  # a long enough body: is it the whole story?
            text, method = _whole_story(passes_on, text, method, visible)
        if text:
            text = extract_clean.restore_accordions(tree, extract_clean.restore_dropped(tree, text), names)
            text = extract_clean.drop_author_bio(extract_clean.drop_boxed(tree, text, names), meta.authors)
    except Rejected:
        raise
    except Exception as e:
        raise _failed(url, e) from e
    if not text:
        raise Rejected("empty", f"no article text found in {url}")
    if len(text) < min_length:
        raise Rejected("too_short", f"{len(text)} characters of text in {url}, fewer than {min_length}")
    # What only an accepted page needs comes last: the page-kind check, then the date (htmldate
    # costs more than the rest of the metadata together).
    try:
        shape = extract_kind.with_body(page, text)
        accepted = kind_check(shape)
        published = None
        if accepted:
            published = extract_meta.stated_date(tree, url) or extract_meta.fallback_date(
                tree, url, text, search_page=len(html) <= DATE_SEARCH_MAX_CHARS
            )
    except Exception as e:
        raise _failed(url, e) from e
    if not accepted:
        raise _not_article(url, extract_kind.not_article_score(shape))
    return Extracted(
        title=meta.title,
        text=text,
        authors=meta.authors,
        published=published,
        language=meta.language,
        sitename=meta.sitename,
        canonical_url=meta.canonical_url,
        description=meta.description,
        image=meta.image,
        page_type=meta.page_type,
        method=method,
    )


_WARM_UP_PAGE = (
    "<html lang='en'><head><title>Warm-up</title><meta property='article:published_time' content='2024-01-02'>"
    "</head><body><article><h1>Warm-up</h1>"
    + "<p>A paragraph of plain text that is long enough to count as an article body here.</p>" * 8
    + "</article></body></html>"
)


# No date in the metadata and a date written in Spanish under the headline: the fallback search
# hands it to dateparser, whose first call compiles a regex set for each of its ~200 locales (about
# 6 s of CPU), a stall that would otherwise land on the first such article after a start.
# The date above the <h1>: under it, the byline reader (extract_meta) would read it, and htmldate's
# date parser, which other pages need, would stay cold; here both load (the byline reader's month
# words when the padded 1 January htmldate answers is checked against the page).
_WARM_UP_DATELESS_PAGE = (
    "<html><head><title>Calentamiento</title><meta property='og:type' content='article'></head>"
    "<body><div><p>Publicado el 3 de marzo de 2024</p>"
    "<h1>Calentamiento</h1>"
    + "<p>Un párrafo de texto corriente, lo bastante largo para contar como el cuerpo de un artículo.</p>" * 8
    + "</div></body></html>"
)


def warm_up() -> None:
    """Run extractions that load what extraction needs (its date parser's locales too), so a fresh
    worker process takes its first article at full speed."""
    extract(_WARM_UP_PAGE, "https://warm-up.invalid/news/warm-up", min_length=1)
    extract(_WARM_UP_DATELESS_PAGE, "https://warm-up.invalid/noticias/calentamiento", min_length=1)


def _body(page: _Page, *, favor_precision: bool, fast: bool, favor_recall: bool = False) -> str:
    """The cleaned body one trafilatura pass finds in the page (whose tree it leaves intact)."""
    url = page.url
    options = Extractor(
        config=_CONFIG,
        output_format="python",
        fast=fast,
        precision=favor_precision,
        recall=favor_recall,
        comments=False,
        formatting=None,
        links=False,
        images=False,
        tables=True,
        dedup=False,
        lang=None,
        url=url,
        with_metadata=False,
        only_with_metadata=False,
        author_blacklist=None,
        url_blacklist=None,
        date_params=_UNUSED_DATE_PARAMS,  # type: ignore[arg-type]  # htmldate takes bools too
    )
    try:
        pruned = page.pruned()
        if pruned.is_forum and options.focus != "precision":  # its posts are content: lists not pruned
            doc = trafilatura.bare_extraction(page.tree, url=url, options=options)
            text = doc.text if isinstance(doc, Document) else None
        else:
            text = _sequence(pruned, options, url)
    except (TypeError, ValueError):  # as bare_extraction: no body
        text = None
    if not (text or "").strip():
        return ""
    return extract_clean.clean_body(text or "", page.headlines)


# trafilatura's passes, with what they share done once a page. ``trafilatura.bare_extraction``
# copies the page's tree, prunes the copy of the containers of infinite-scroll follow-up articles
# and of comments (XPaths whose regular expressions lxml evaluates by calling back into Python:
# about 2 ms a ScrapingHub page, a quarter of a fast precision pass), then copies it again to clean
# it and once more as a backup that only the default mode's comparison reads. With comments off
# every mode prunes the same (but on a forum thread, where the default and recall modes keep the
# posts: those passes go through bare_extraction), so the pruned copy is made once a page and each
# pass cleans a copy of it; the fast precision pass makes no backup. ``_sequence`` is
# ``trafilatura.core.trafilatura_sequence`` from its first copy on, and the end of
# ``bare_extraction``, for these options (comments, metadata, deduplication and language filter
# off); tests/stages/test_extract.py checks that each mode's text is bare_extraction's.
#
# Those prunings are XPaths that walk the whole tree and test each element's class and id with
# regular expressions that lxml runs by calling back into Python (raw-tree and comment pruning
# together about a tenth of the stage's time on ScrapingHub), while they select nothing on most
# pages: none of their patterns matches any class or id the page has. Each of them selects only an
# element whose class or id matches one of the patterns in its text (``_NamePatterns``), so a pass
# evaluates only those of them for which one of the page's names, read once (``extract_html.Names``),
# matches one: the same tree, without the walks that cannot find anything.
#
# The same goes for trafilatura's basic cleaning (``BASIC_CLEAN_XPATH``: asides, footers, scripts,
# styles... and any element whose class or id names a cookie banner, tested with a case-blind
# regular expression on every element's class and id), which the default mode's recall escalation
# runs on a copy of the page twice, for the page's text (``html2txt``) and for jusText: about 12 ms a
# page's copy where the tags alone take 1.4 (load 8), while no name of most pages is a cookie
# banner's. Where none is, the escalation cleans with the XPath's members that select by tag
# (``_BASIC_CLEAN_BY_TAG``): the same elements go.
@dataclass(slots=True)
class _Pruned:
    tree: HtmlElement
    is_forum: bool
    remove_comments: list[XPath]  # REMOVE_COMMENTS_XPATH, less what can select nothing on the page
    names: extract_html.Names
    _basic_clean: XPath | None = None

    def basic_clean(self) -> XPath:
        """BASIC_CLEAN_XPATH, or its members that select by tag alone where no name of the page can
        match its cookie-banner patterns (told once, when a pass first needs it)."""
        if self._basic_clean is None:
            by_name = _BASIC_CLEAN_BY_NAME.selecting(self.names)
            self._basic_clean = BASIC_CLEAN_XPATH if by_name else _BASIC_CLEAN_BY_TAG
        return self._basic_clean


class _NamePatterns:
    """The XPaths of ``xpaths`` that can select an element of a page, told from the page's names.

    Built only for XPaths that select an element only when its class or id matches one of the
    ``re:test`` (flag ``'i'`` or none) or ``contains`` patterns written in the XPath's text; an XPath
    that reads any other attribute is refused (ValueError). The patterns run on ``Names.distinct`` (one value a line)
    with ``^`` and ``$`` at each line: a value that an XPath's pattern matches is matched there too,
    and a match across two lines only keeps an XPath that finds nothing (never the other way round).
    Most pages hold none of the strings one of which every match of the patterns holds
    (``_required_literals``: "omment" for ``^[Cc]omment(?!ary)``), which a substring search tells
    several times faster than the regular expression, tried at every position of the names; where
    one is there, one search of all the patterns together answers for most pages (none matches)."""

    _TEST = re.compile(r"re:test\(@(?:id|class)(?:\|@(?:id|class))?, '([^']*)'(?:, '(i?)')?\)")
    _CONTAINS = re.compile(r"contains\(@(?:id|class), '([^']*)'\)")
    _ATTRIBUTE = re.compile(r"@([\w-]+)")

    def __init__(self, xpaths: list[XPath]) -> None:
        self.xpaths = xpaths
        alternatives = [self._alternatives(x.path) for x in xpaths]
        self.patterns = [self._compiled(found) for found in alternatives]
        self.any = self._compiled([p for found in alternatives for p in found])
        self.literals = [_required_literals(p) for p in self.patterns]
        self.any_literals = _required_literals(self.any)

    @classmethod
    def _alternatives(cls, path: str) -> list[str]:
        if set(cls._ATTRIBUTE.findall(path)) - {"id", "class"} or re.search(r"\\[AZz]", path):
            raise ValueError(f"not an XPath selecting by class and id patterns alone: {path}")
        tests, contains = cls._TEST.findall(path), cls._CONTAINS.findall(path)
        if len(tests) != path.count("re:test(") or len(contains) != path.count("contains("):
            raise ValueError(f"a test of a name not read here (flags other than 'i'?): {path}")
        found = [
            *(f"(?i:{p})" if flags else p for p, flags in tests),  # 'i': ignoring case
            *map(re.escape, contains),
        ]
        if not found:
            raise ValueError(f"no class or id pattern in {path}")
        return found

    @staticmethod
    def _compiled(alternatives: list[str]) -> re.Pattern[str]:
        # each once: the regex engine tries every alternative at every position of the names
        return re.compile("|".join(f"(?:{p})" for p in dict.fromkeys(alternatives)), re.MULTILINE)

    def selecting(self, names: extract_html.Names) -> list[XPath]:
        """Those of the XPaths that can select an element of the page whose names are ``names``."""
        text = names.distinct
        if not _may_match(self.any_literals, text) or not self.any.search(text):
            return []
        return [
            x
            for x, p, literals in zip(self.xpaths, self.patterns, self.literals, strict=True)
            if _may_match(literals, text) and p.search(text)
        ]


def _may_match(literals: frozenset[str] | None, text: str) -> bool:
    """False where ``text`` holds none of ``literals`` (``_required_literals`` of a pattern: then the
    pattern finds nothing in it); None (no such strings known) may match anything."""
    return literals is None or any(literal in text for literal in literals)


_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT)


def _required_literals(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Strings one of which every match of ``pattern`` holds (None: none found, or the pattern
    ignores case), read from its parse tree: a run of literal characters in sequence, or one
    such set for each branch of an alternation, a group or a repeat of at least one, whichever
    has the longest shortest string."""
    parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    if parsed.state.flags & re.IGNORECASE:
        return None
    return _required_in(list(parsed))


def _required_in(items: Sequence[tuple[object, object]]) -> frozenset[str] | None:
    best: frozenset[str] | None = None
    run: list[str] = []
    for op, av in [*items, (None, None)]:
        if op is sre_constants.LITERAL:
            run.append(chr(av))  # type: ignore[arg-type]
            continue
        found: list[frozenset[str] | None] = [frozenset({"".join(run)})] if run else []
        run = []
        if op is sre_constants.BRANCH:
            branches = [_required_in(list(b)) for b in av[1]]  # type: ignore[index]
            if all(branches):
                found.append(frozenset().union(*branches))  # type: ignore[arg-type]
        elif op is sre_constants.SUBPATTERN and not av[1] & re.IGNORECASE:  # type: ignore[index]
            found.append(_required_in(list(av[3])))  # type: ignore[index]
        elif op in _REPEATS and av[0] >= 1:  # type: ignore[index]
            found.append(_required_in(list(av[2])))  # type: ignore[index]
        for candidate in found:
            if candidate and (best is None or min(map(len, candidate)) > min(map(len, best))):
                best = candidate
    return best


def _union_members(path: str) -> list[str]:
    """The members of an XPath union (``a|b[@x|@y]|c``): split at each ``|`` outside brackets,
    parentheses and quotes."""
    members, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(path):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == "|" and depth == 0:
            members.append(path[start:i])
            start = i + 1
    return [*members, path[start:]]


_RAW_TREE_PRUNE = _NamePatterns(RAW_TREE_PRUNE_XPATH)
_REMOVE_COMMENTS_AND_LISTS = _NamePatterns(REMOVE_COMMENTS_AND_LISTS_XPATH)
_REMOVE_COMMENTS = _NamePatterns(REMOVE_COMMENTS_XPATH)
_BASIC_CLEAN_MEMBERS = _union_members(BASIC_CLEAN_XPATH.path)
_EXSLT_RE = {"re": "http://exslt.org/regular-expressions"}
_BASIC_CLEAN_BY_TAG = XPath("|".join(m for m in _BASIC_CLEAN_MEMBERS if "re:test(" not in m))
_BASIC_CLEAN_BY_NAME = _NamePatterns(
    [XPath("|".join(m for m in _BASIC_CLEAN_MEMBERS if "re:test(" in m), namespaces=_EXSLT_RE)]
)


@dataclass(slots=True)
class _Page:
    """A page the passes read: its tree (left intact), URL, headlines, class and id names (read before
    any change to the tree: a pass's tree has no name that is not among them), and its pruned copy
    once made."""

    tree: HtmlElement
    url: str
    headlines: list[str | None]
    names: extract_html.Names
    _pruned: _Pruned | None = None

    def pruned(self) -> _Pruned:
        """The tree copied and pruned as every trafilatura pass (comments off) prunes it, made once."""
        if self._pruned is None:
            tree = copy(self.tree)
            is_forum = trafilatura_core._forum_thread_page(tree)
            tree = prune_unwanted_nodes(tree, _RAW_TREE_PRUNE.selecting(self.names))
            tree = prune_unwanted_nodes(tree, _REMOVE_COMMENTS_AND_LISTS.selecting(self.names))
            _keep_paragraph_tails(tree)
            self._pruned = _Pruned(tree, is_forum, _REMOVE_COMMENTS.selecting(self.names), self.names)
        return self._pruned


# trafilatura's precision mode deletes an empty element (no text, no children left once images,
# icons and scripts are gone) together with the text that follows it (``prune_html``: its tail),
# where the other modes keep that text. Inside a paragraph that text is the paragraph's: "<p><span
# class='lazy'><img ...></span>Renting a car comes with ...</p>" lost its every word. Before the
# passes, such text of PARAGRAPH_TAIL_MIN_WORDS words or more (not an icon's label: "Share",
# "Read more") moves onto what comes before the element, where no mode deletes it. On the WCXB
# development articles: word F1 0.94746 -> 0.94754 (5 pages up, the largest +0.046; 7 down by 0.01
# or less, where an image's caption came in, as in trafilatura's default mode); ScrapingHub 0.98200
# -> 0.98220 (2 pages changed, one of them 0.98 -> 1.00).
PARAGRAPH_TAIL_MIN_WORDS = 4
_EMPTIED = tuple(sorted(CUT_EMPTY_ELEMS))


def _keep_paragraph_tails(tree: HtmlElement) -> None:
    """Move the text after each empty child of a paragraph in ``tree`` onto what comes before it."""
    for paragraph in tree.iter("p"):
        for element in paragraph.iterchildren(*_EMPTIED):
            tail = element.tail
            if not tail or len(_WORD.findall(tail)) < PARAGRAPH_TAIL_MIN_WORDS:
                continue
            if any(text.strip() for text in element.itertext()):
                continue
            extract_html.keep_tail(element)


def _sequence(pruned: _Pruned, options: Extractor, url: str) -> str | None:
    """The text trafilatura's cascade extracts from the pruned page (None: nothing, as bare_extraction's None)."""
    tree, is_forum = pruned.tree, pruned.is_forum
    cleaned = trafilatura_core.tree_cleaning(copy(tree), options)
    backup = copy(cleaned) if not options.fast else cleaned  # read by the comparison alone
    cleaned = trafilatura_core.convert_tags(cleaned, options, url)
    if options.focus == "precision" and not is_forum:
        cleaned = prune_unwanted_nodes(cleaned, pruned.remove_comments)
    postbody, text = trafilatura_core._extract_and_compare(cleaned, backup, tree, options)
    if len(text) < options.min_extracted_size and options.focus != "precision":
        b_body, b_text, b_len = trafilatura_core.baseline(tree)
        if b_len > len(text):
            postbody, text = b_body, b_text
    if (
        options.focus == "balanced"
        and 0 < len(text) < trafilatura_core.ESCALATION_MAX_LENGTH
        and len(text) < trafilatura_core.ESCALATION_PAGE_SHARE * len(_page_text(tree, pruned.basic_clean()))
    ):
        postbody, text = _escalated(pruned, options, url, postbody, text)
    if options.max_tree_size and len(postbody) > options.max_tree_size:
        strip_tags(postbody, "hi")
        if len(postbody) > options.max_tree_size:
            return None
    if len(text) < options.min_output_size and options.min_output_comm_size > 0:  # no comments: 0 chars
        return None
    return str(trafilatura_core.xmltotxt(postbody, options.formatting))


def _escalated(pruned: _Pruned, options: Extractor, url: str, postbody: _Element, text: str) -> tuple[_Element, str]:
    """trafilatura's recall escalation of a short default-mode body (comments off: the tree as pruned)."""
    tree = pruned.tree
    r_options = copy(options)
    r_options.focus = "recall"
    r_text = ""
    try:
        r_body, r_text = trafilatura_core._recall_retry(tree, r_options, url)
    except Exception:  # noqa: BLE001 - as trafilatura: the first body stands
        r_text = ""
    j_text = ""
    if not options.fast:
        try:
            j_body, j_text = _justext_rescue(tree, options, pruned.basic_clean())
        except Exception:  # noqa: BLE001 - as trafilatura
            j_text = ""
    if len(j_text) > len(r_text) and len(j_text) > trafilatura_core.ESCALATION_JUSTEXT_RATIO * len(text):
        return j_body, j_text
    if len(r_text) >= options.min_extracted_size and len(r_text) > trafilatura_core.ESCALATION_ACCEPT_RATIO * len(text):
        return r_body, r_text
    return postbody, text


def _basic_cleaning(tree: HtmlElement, xpath: XPath) -> HtmlElement:
    """trafilatura's ``baseline.basic_cleaning`` with ``xpath`` (``_Pruned.basic_clean``) for BASIC_CLEAN_XPATH."""
    for element in cast(list[_Element], xpath(tree)):
        delete_element(element)
    return tree


def _page_text(tree: HtmlElement, xpath: XPath) -> str:
    """trafilatura's ``html2txt(tree)``, the text of a copy of the page less asides, footers, scripts
    and the like, cleaned with ``xpath``."""
    tree = copy(tree)
    body = tree.find(".//body")
    return str(_spaced_text(_basic_cleaning(tree if body is None else body, xpath)))


def _justext_rescue(tree: HtmlElement, options: Extractor, xpath: XPath) -> tuple[_Element, str]:
    """trafilatura's ``justext_rescue(copy(tree), options)``, cleaned with ``xpath``."""
    body = try_justext(_basic_cleaning(copy(tree), xpath), options.url, options.lang)
    return body, trim(" ".join(cast(Iterator[str], body.itertext())))


_WORD = re.compile(r"\w+")


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _whole_story(page: _Page, text: str, method: str, visible: list[str]) -> tuple[str, str]:
    """The body found (by the first pass, or by the default mode after a short first body), or a
    later pass's when it is a truncated or shortened story (``visible``: the page's visible text runs),
    widened with the prose around its container when it is still truncated (``extract_clean.widen_truncated``).

    A default-mode body gets the recall mode's test whenever it is under SHORTENED_BELOW of the
    prose: the default mode has had its try, and it prunes much like the precision pass (on WCXB it
    replaced a short precision body with 0.13 and 0.62 of a page's prose where the recall mode's
    body held all of it and the whole story; 9 of 911 pages run the recall pass for it, none of the
    91 ScrapingHub pages).
    """
    prose = _prose_words(visible)
    words = _words(text)  # counted again only for a later pass's body
    share = words / max(1, prose)
    if share < TRUNCATED_BELOW and method != _FULLER[0]:
        fuller = _body(page, **_FULLER[1])
        if _is_fuller(fuller, text):
            text, method, words = fuller, _FULLER[0], _words(fuller)
    elif share < SHORTENED_BELOW:
        text, method, words = _recall_if_wider(page, text, method, words, WIDER_BY)
    elif share < PRUNED_LISTS_BELOW and extract_clean.dropped_list_words(page.tree, text) >= PRUNED_LISTS_SHARE * words:
        text, method, words = _recall_if_wider(page, text, method, words, PRUNED_LISTS_WIDER_BY)
    if words < TRUNCATED_BELOW * prose:  # still truncated: every mode stopped at one container
        text = extract_clean.widen_truncated(page.tree, text)
    return text, method


def _recall_if_wider(page: _Page, text: str, method: str, words: int, by: float) -> tuple[str, str, int]:
    """The recall mode's body, with its words, when it has ``by`` times the words of ``text`` and
    holds it (``_holds``); else ``text`` as it was."""
    wider = _body(page, **_LAST_RESORT[1])
    if _is_fuller(wider, text, by) and _holds(wider, text):
        return wider, _LAST_RESORT[0], _words(wider)
    return text, method, words


def _is_fuller(found: str, text: str, by: float = FULLER_BY) -> bool:
    """Whether a later pass's body ``found`` should replace ``text``: it has ``by`` times the words.

    A line repeated in ``found`` counts once: a page that prints its teasers or its metadata twice
    makes a body longer, not fuller.
    """
    if not text:
        return bool(found)
    return _words("\n".join(dict.fromkeys(found.split("\n")))) > by * _words(text)


def _holds(wider: str, text: str) -> bool:
    """Whether ``wider`` holds nearly every line of ``text``: the same story, more of it."""
    lines = text.split("\n")
    held = set(wider.split("\n"))
    return sum(line in held for line in lines) >= HELD_SHARE * len(lines)


def _not_article(url: str, score: float, qualifier: str = "", whatever: str = "") -> Rejected:
    return Rejected(
        "not_article",
        f"{url} is shaped like a listing, shop, forum or service page (score {qualifier}{' ' if qualifier else ''}"
        f"{score:.2f}{whatever})",
    )


def _failed(url: str, e: Exception) -> PermanentError:
    return PermanentError("extract_failed", f"extracting {url}: {type(e).__name__}: {e}")


def _prose_words(visible: list[str]) -> int:
    """Words of the page's running prose: its ``visible`` text runs of PROSE_MIN_WORDS words or more."""
    total = 0
    for run in visible:
        if len(run) >= _PROSE_MIN_CHARS:
            n = len(run.split())
            if n >= PROSE_MIN_WORDS:
                total += n
    return total


def _is_front_page(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.path in ("", "/") and not parts.query
