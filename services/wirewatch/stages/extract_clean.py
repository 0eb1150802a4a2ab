"""Extract, cleaning half: the body text trafilatura returns in, the article's own lines out.

trafilatura leaves behind lines that are the page's furniture rather than the story: the headline
repeated as the first line, and short calls to action that sit inside the article's container
("Related: ...", "Follow us on Twitter", "Sign up for our newsletter", "3 comments", "SOURCE: ...",
a newsletter's pitch such as "... delivered to your inbox", a "Table of Contents" lead, a
"© 2024 Site" copyright notice, a related-links lead such as "You may also be interested in the
following articles:" or "Related articles and links:", "Awesome, you're subscribed!").
They are recognised by their shape (short, a known lead phrase), never by site, so the same rules hold
on pages we have never seen. A list of short items right under such a lead ("Related:" followed by
headlines, a table of contents followed by the article's own section titles) goes with it. (On the
WCXB development articles the table-of-contents and newsletter lines added here lifted 29 pages and
lowered 3 by less than 0.001 each; no ScrapingHub page changed.)

And it puts back what trafilatura's precision mode drops from the story itself: the section
headings above paragraphs the body kept and the lists between them (``restore_dropped``, read
from the parsed page). Where every mode of trafilatura settles on a container that holds only part
of the story (the rest in an accordion, a slider, or a sibling block the container rules do not
reach), ``widen_truncated`` adds the running prose of the blocks around the body's container.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterable
from functools import cache, lru_cache
from typing import cast

from lxml import etree
from lxml.html import HtmlElement

from . import extract_html

_WORDS = re.compile(r"\w+")
_ALNUM = re.compile(r"[^\W_]")  # \w counts "_", and a rule of underscores is no text

# A line this long is prose even when it starts like furniture ("Related research suggests ...").
MAX_FURNITURE_WORDS = 25
MAX_LIST_ITEM_WORDS = 20

_FURNITURE_LEADS = r"""^\W*(
      # a lead word or phrase alone, or followed by a colon, a bar or an ellipsis
      (related(\ (stories|articles|posts|guides|coverage|content)(\ (and|&)\ \w+|\ from\ .{1,40}|\ that\ may\ interest\ you)?)?|
       read\ more|see\ more|more|also|also\ read|read\ also|
       more\ on\ this(\ story)?|more\ from\ .{1,40}|don'?t\ miss|most\ read(\ in\ .{1,30})?|most\ popular|
       trending(\ now)?|recommended(\ for\ you)?|explore\ further|
       # "You may also like:", "You may also be interested in the following articles:", "This might be interesting to you:"
       you\ (may|might)\ (also\ )?(like|enjoy|check(\ out)?|be\ interested(\ in)?)(\ \w+){0,3}?|
       this\ might\ (also\ )?(be\ )?interest(ing)?(\ to\ you)?|
       user\ comments|comments?|\d+\ comments?|show\ (new\ )?comments.*|view\ comments|all\ comments|
       leave\ a\ (comment|reply)|comment\ on\ this(\ story|\ article)?|comments\ powered\ by\ \w+|
       join\ (the\ )?discussion|advertisement|sponsored(\ content)?|share(\ this)?(\ article|\ story|\ post)?|
       tell\ us\ what\ you\ think|filed\ under|tags?|source|
       table\ of\ contents|contents|in\ this\ (article|post|guide)|on\ this\ page|jump\ to)
      \b\W*(:|\||$|…|\.\.\.)
    | (follow|like)\ .{0,60}\bon\ (twitter|facebook|instagram|youtube|linkedin|tiktok|telegram|pinterest|x|threads)\b
    | (subscribe|sign\ up|get\ the\ latest|click\ here|listen\ to\ .{0,40}\ live|download\ the\ .{0,30}\ app)\b
    | get\ .{0,40}\ (delivered|in\ your\ inbox|on\ the\ go)
    | have\ a\ (news\ )?tip\b
    | if\ you\ (enjoyed|liked)\ this\b
    | read\ more\ (news|stories|articles)\b.{0,40}\bon\b
    | thanks?\ (you\ )?for\ (subscribing|signing\ up)\b
    | ((awesome|great|success|thanks?)\W+)?you'?re\ (now\ )?subscribed\b
    # a copyright notice: the sign or the word, then a year within a few words ("© 2024 Site", "Copyright Site 2019")
    | (©|\(c\)|copyright)\W*(copyright\W*)?(\S+\s+){0,4}?(19|20)\d\d\b
    """
# the newsletter's pitch wherever it stands in a short line ("The best of X, delivered to your inbox")
_FURNITURE_PITCH = r"""
    | .{0,80}\b(delivered|sent|dropped(\ right)?|straight)\ (to|in|into)\ your\ inbox\b
    | .{0,80}\bsign\ up\ (for|to)\ (our|the)\ .{0,30}newsletter\b
    """
_FURNITURE = re.compile(_FURNITURE_LEADS + _FURNITURE_PITCH + ")", re.IGNORECASE | re.VERBOSE)
# The pitch's patterns try each of the line's first 80 characters as their start, which costs more
# than all the others together, and match only a line that has "inbox" or "newsletter": a line that
# has neither is matched without them.
_FURNITURE_NO_PITCH = re.compile(_FURNITURE_LEADS + ")", re.IGNORECASE | re.VERBOSE)
_PITCH_WORDS = re.compile("inbox|newsletter", re.IGNORECASE)

MAX_HEADLINE_TAIL = 60

_BULLETS = ("- ", "* ", "• ", "· ")


def clean_body(text: str, headlines: Iterable[str | None] = ()) -> str:
    """``text`` without a leading copy of any of ``headlines`` and without furniture lines."""
    lines = [line.strip() for line in text.split("\n")]
    lines = [line for line in lines if _ALNUM.search(line)]
    lines = _drop_headline(lines, headlines)
    return "\n".join(_drop_repeated_passages(_drop_furniture(lines)))


def is_furniture(line: str) -> bool:
    if _has_more_words(line, MAX_FURNITURE_WORDS):
        return False
    return (_FURNITURE if _PITCH_WORDS.search(line) else _FURNITURE_NO_PITCH).match(line) is not None


# A run of this many characters holds more than MAX_FURNITURE_WORDS (or HEADING_LEAD_WORDS) words
# in nearly every line of prose: counting them there, instead of in the whole line (a paragraph of
# hundreds of words), answers for most lines.
_PREFIX_CHARS = 400
_OPENING_CHARS = 100


def _has_more_words(text: str, most: int) -> bool:
    """Whether ``text`` has more than ``most`` words (``\\w+`` runs)."""
    return len(_WORDS.findall(text, 0, _PREFIX_CHARS)) > most or (
        len(text) > _PREFIX_CHARS and len(_WORDS.findall(text)) > most
    )


def _key(text: str | None) -> str:
    return " ".join(_WORDS.findall(text or "")).casefold()


def _drop_headline(lines: list[str], headlines: Iterable[str | None]) -> list[str]:
    # trafilatura keeps the <h1> as the body's first line; the title is stored apart, and counting
    # the headline's figures twice would double the casualties read from title + text. A <title>
    # often carries the site's name after the headline, hence the prefix match (on a long enough line).
    if not lines:
        return lines
    first = _key(lines[0])
    if not first:
        return lines
    for headline in headlines:
        key = _key(headline)
        if key and (first == key or (len(first) > 15 and (key.startswith(first) or _headline_and_tail(first, key)))):
            return lines[1:]
    return lines


def _headline_and_tail(first: str, key: str) -> bool:
    # The headline with a short tail ("... - Site Name", a dateline) is the headline; a first line
    # that starts with the headline and runs on for paragraphs is the whole body in one line.
    return first.startswith(key) and len(first) <= len(key) + MAX_HEADLINE_TAIL


def _drop_furniture(lines: list[str]) -> list[str]:
    kept: list[str] = []
    in_furniture_list = False
    for line in lines:
        if is_furniture(line):
            in_furniture_list = True
            continue
        if in_furniture_list and line.startswith(_BULLETS) and len(_WORDS.findall(line)) <= MAX_LIST_ITEM_WORDS:
            continue
        in_furniture_list = False
        kept.append(line)
    return kept


# A page that prints its article twice (a second copy for another screen size, a print view, a
# slider that repeats its first slide) gives trafilatura a body that holds the story twice. A run of
# REPEAT_MIN_LINES or more lines, REPEAT_MIN_SHARE of the body's words or more, that repeats an
# earlier run of the body line for line is such a copy and goes. A repeated line (a "Pros" under
# every product) or a repeated block that is a small part of the body stays: a meal plan or a
# timetable repeats its days' entries, and the ground truth keeps them. On the WCXB development
# articles: word F1 0.94138 -> 0.94252 (2 pages of 2 sites up, by 0.32 and 0.49, none down; halves
# 0.95012 / 0.93262 -> 0.95012 / 0.93489); no ScrapingHub page changed. (Any repeated run of 100
# words or more: 0.94275, 2 more pages up, whose copies are a sixth of the body or less, but a
# ScrapingHub meal plan lost its repeated days, F1 0.9820 -> 0.9807.)
REPEAT_MIN_LINES = 3
REPEAT_MIN_SHARE = 0.25


def _drop_repeated_passages(lines: list[str]) -> list[str]:
    first: dict[str, int] = {}
    for i, line in enumerate(lines):
        first.setdefault(line, i)
    # each line of a repeated run repeats an earlier one: a body with fewer repeats has no such run
    # (most bodies), and the body's words are counted only once a run is found
    if len(lines) - len(first) < REPEAT_MIN_LINES:
        return lines
    least: float | None = None
    kept: list[str] = []
    i = 0
    while i < len(lines):
        j = first[lines[i]]
        run = 0
        while j < i and i + run < len(lines) and j + run < i and lines[j + run] == lines[i + run]:
            run += 1
        words = len(_WORDS.findall(" ".join(lines[i : i + run]))) if run >= REPEAT_MIN_LINES else 0
        if words:
            if least is None:
                least = REPEAT_MIN_SHARE * len(_WORDS.findall(" ".join(lines)))
            if words >= least:
                i += run
                continue
        kept.append(lines[i])
        i += 1
    return kept


# Section headings the precision pass dropped. trafilatura's precision mode prunes an article's
# <h2>/<h3> subheadings (as link-heavy, or as a "title" it does not trust) while keeping the
# paragraphs under them, so a guide loses its step names and a report its section titles. A
# heading comes back when the block right after it in the page opens a line of the body (its first
# HEADING_LEAD_WORDS words, at least MIN_LEAD_WORDS of them): it titled that part of the story, not
# a list of teasers or a sidebar. Furniture ("Related articles", "Table of Contents") stays out.
# On the WCXB development articles: word F1 +0.0012 (0.9393 -> 0.9407 and 0.9226 -> 0.9237 on the
# halves of an alternating split; 95 pages up, 27 down), ScrapingHub 0.9793 -> 0.9795 with
# precision unchanged. No extra trafilatura pass: one walk of the page's headings, about 1 ms a page.
# Minor headings (<h4>-<h6>) come back the same way when two or more of them do: a series titles
# the story's parts (a listicle's "1. The pilot boat", "2. ..."), while a lone one is as often the
# title of a box in the story (a video's, a fact file's), which ScrapingHub's ground truth leaves
# out. WCXB word F1 0.94650 -> 0.94678 (halves 0.95430 -> 0.95457, 0.93868 -> 0.93896; 15 pages up,
# 1 down), no ScrapingHub page changed (every one of them, lone ones too: 0.9820 -> 0.9819, its
# precision under its floor).
#
# The same holds for a list the precision pass pruned (as link-heavy, or its items as too short)
# from between two paragraphs it kept: a <ul>/<ol> whose neighbours in the page are a <p> that
# opens one line of the body and a <p> or heading that opens the very next line comes back between
# them, as trafilatura writes a list ("- item"), unless it holds images (a gallery's captions) or
# more than MAX_LIST_ITEMS items. WCXB word F1 0.9322 -> 0.9330 (halves 0.9407 -> 0.9418,
# 0.9237 -> 0.9242; 25 pages up, 8 down), no ScrapingHub page changed. Headings and lists share
# one walk of the page.
#
# A neighbour is looked for up to LIST_REACH blocks away (a <p>, <div> or heading), so that a list
# under its own short label ("Pros:", which the precision pass drops too) or next to another list
# comes back (not under a furniture lead such as "Related:"), and every list dropped between the
# same two lines comes back, in page order: WCXB
# word F1 0.9362 -> 0.9367 (halves 0.9443 -> 0.9453, 0.9280 -> 0.9281; 14 pages up, 2 down by
# 0.003 or less), no ScrapingHub page changed. (Three blocks away: 0.9369, but small lists the
# ScrapingHub ground truth leaves out came back on 2 pages, precision under its floor.)
# A neighbour too short for an opening (fewer than MIN_LEAD_WORDS words: "What to check", "You
# will need:") places the list too when the body holds that label as one of its lines, once (a
# "Pros" written under every product says nothing of which one): WCXB word F1 0.94130 -> 0.94138
# (halves 0.95000 -> 0.95012, 0.93259 -> 0.93262; 9 pages up, 2 down), no ScrapingHub page changed.
#
# And a paragraph of running prose (PARAGRAPH_MIN_WORDS words or more, at most
# PARAGRAPH_MAX_LINK_SHARE of them link text, no furniture line) that the precision pass dropped from
# between two paragraphs it kept, the blocks right before and after it opening adjacent lines of the
# body, comes back between them: ScrapingHub F1 0.9795 -> 0.9797 (recall 0.9840 -> 0.9844, precision
# unchanged), WCXB word F1 0.9388 -> 0.9389. (Looking two blocks away: 7 WCXB pages down, ScrapingHub
# 0.9797 with precision lower.) It reads each <p> of the page in the same walk: about 1.5 ms a page
# on WCXB, 0.5 on ScrapingHub.
_SECTION_HEADINGS = ("h2", "h3")
_MINOR_HEADINGS = ("h4", "h5", "h6")
MIN_MINOR_HEADINGS = 2
_LISTS = ("ul", "ol")
_BLOCKS_PUT_BACK = ("p", *_LISTS)  # one heading goes back before a line, any number of these
_AROUND_A_LIST = ("p", "div", "h2", "h3", "h4")
LIST_REACH = 2
PARAGRAPH_MIN_WORDS = 10
PARAGRAPH_MAX_LINK_SHARE = 0.3
HEADING_LEAD_WORDS = 8
MIN_LEAD_WORDS = 4
MAX_HEADING_WORDS = 20
MAX_LIST_ITEMS = 60


def restore_dropped(tree: HtmlElement, text: str) -> str:
    """``text`` (a body found in the page ``tree``) with the section headings of its paragraphs and
    the lists and paragraphs between them put back."""
    lines, opened, openings = _read_body(text)
    present = {_key(line) for line in lines}
    labels = _short_labels(opened)
    found: dict[int, list[str]] = {}

    @cache
    def held() -> str:  # the body's words (``_key``) between spaces, for the rare paragraph that needs them
        return f" {_key(text)} "

    minor: list[tuple[int, str]] = []
    for element in tree.iter(*_SECTION_HEADINGS, *_MINOR_HEADINGS, *_LISTS, "p"):
        if element.tag == "p":
            at, block = _dropped_paragraph(element, held, openings, labels)
        elif element.tag in _LISTS:
            at, block = _dropped_list(element, present, openings, labels)
        else:
            at, block = _dropped_heading(element, present, openings)
            if at is not None and block and at not in found and element.tag in _MINOR_HEADINGS:
                minor.append((at, block[0]))
        if at is not None and block and (element.tag in _BLOCKS_PUT_BACK or at not in found):
            found.setdefault(at, []).extend(block)
            present.update(_key(line) for line in block)
    if len(minor) < MIN_MINOR_HEADINGS:  # a lone minor heading: a box's title as often as a section's
        for at, title in minor:
            found[at].remove(title)
            if not found[at]:
                del found[at]
    if not found:
        return text
    restored: list[str] = []
    for i, line in enumerate(lines):
        restored += found.get(i, ())
        restored.append(line)
    return "\n".join(restored)


def dropped_list_words(tree: HtmlElement, text: str) -> int:
    """Words of the page's lists that ``text`` (a body found in ``tree``) leaves out while a block
    next to one of them (up to LIST_REACH blocks away) opens a line of it: the story's own lists,
    pruned (``extract._whole_story``)."""
    _, _, openings = _read_body(text)
    held = ""
    words = 0
    for items in tree.iter(*_LISTS):
        if not (_opens_a_line(items, openings, before=True) or _opens_a_line(items, openings, before=False)):
            continue
        lines = [" ".join(item.text_content().split()) for item in items.iterchildren("li")]
        held = held or f" {_key(text)} "  # the body's words, read for the first list next to it
        if lines and f" {_key(lines[0])} " not in held:
            words += sum(len(line.split()) for line in lines)
    return words


def _opens_a_line(element: HtmlElement, openings: dict[str, int], *, before: bool) -> bool:
    """Whether one of the LIST_REACH blocks before or after ``element`` opens a line of the body
    (``_nearest_opening`` without its short labels and furniture leads: a cheaper test, for every
    list), its parent's neighbours where it has none on that side (a list alone in a box of stats)."""
    climbed = False
    reach = LIST_REACH
    while reach:
        sibling = _sibling(element, before=before)
        if sibling is None:
            parent = element.getparent()
            if climbed or parent is None or parent.tag in _PAGE_TAGS:
                return False
            element, climbed = parent, True
            continue
        if sibling.tag in _AROUND_A_LIST and _opening(sibling.itertext()) in openings:
            return True
        element, reach = sibling, reach - 1
    return False


@lru_cache(maxsize=1)
def _read_body(text: str) -> tuple[list[str], list[str], dict[str, int]]:
    """A body's lines, each line's ``_opening`` and the line each opening opens (``_line_openings``):
    read once for ``dropped_list_words`` and ``restore_dropped`` on the same body (which change none)."""
    lines = text.split("\n")
    opened = [_opening([line]) for line in lines]
    return lines, opened, _line_openings(lines, opened)


def _line_openings(lines: list[str], opened: list[str] | None = None) -> dict[str, int]:
    """Each line's opening (``_opening``, of MIN_LEAD_WORDS words or more) and the first line it opens
    (``opened``: each line's ``_opening``, where the caller has them)."""
    openings: dict[str, int] = {}
    for i, opening in enumerate(opened if opened is not None else (_opening([line]) for line in lines)):
        if opening.count(" ") + 1 >= MIN_LEAD_WORDS:
            openings.setdefault(opening, i)
    return openings


def _short_labels(opened: list[str]) -> dict[str, int]:
    """The lines too short to have an opening (fewer than MIN_LEAD_WORDS words: "Pros", "You will
    need:") that the body holds once, by their words (``opened``: each line's ``_opening``), and where."""
    labels: dict[str, int] = {}
    seen: set[str] = set()
    for i, label in enumerate(opened):
        if label and label.count(" ") + 1 < MIN_LEAD_WORDS:
            if label in seen:
                labels.pop(label, None)
            else:
                seen.add(label)
                labels[label] = i
    return labels


def _dropped_heading(heading: HtmlElement, present: set[str], openings: dict[str, int]) -> tuple[int | None, list[str]]:
    """Where the heading goes back (the line its next block opens) and its line, or (None, [])."""
    title = " ".join(heading.text_content().split())
    key = _key(title)
    if not key or key in present or key.count(" ") >= MAX_HEADING_WORDS or is_furniture(title):
        return None, []
    after = _sibling(heading, before=False)
    if after is None:
        return None, []
    return openings.get(_opening(after.itertext())), [title]


def _dropped_list(
    items: HtmlElement, present: set[str], openings: dict[str, int], labels: dict[str, int]
) -> tuple[int | None, list[str]]:
    """Where a list dropped from between two adjacent lines of the body goes back and its lines, or (None, [])."""
    above = _nearest_opening(items, openings, before=True, labels=labels)
    below = _nearest_opening(items, openings, before=False, labels=labels)
    if above is None or below is None or below != above + 1 or items.find(".//img") is not None:
        return None, []
    block = [f"- {' '.join(item.text_content().split())}" for item in items.iterchildren("li")]
    block = [line for line in block if len(line) > 2]
    if not block or len(block) > MAX_LIST_ITEMS or any(_key(line) in present for line in block):
        return None, []
    return below, block


def _dropped_paragraph(
    p: HtmlElement, held: Callable[[], str], openings: dict[str, int], labels: dict[str, int]
) -> tuple[int | None, list[str]]:
    """Where a paragraph of running prose dropped from between two adjacent lines of the body goes
    back and its line, or (None, []); ``held()`` is the body's words (``_key``) between spaces."""
    if _opening(p.itertext()) in openings:  # most paragraphs of a page: the body holds them
        return None, []
    above = _nearest_opening(p, openings, before=True, reach=1, labels=labels)
    below = None if above is None else _nearest_opening(p, openings, before=False, reach=1, labels=labels)
    if above is None or below != above + 1:
        return None, []
    line = " ".join(p.text_content().split())
    words = len(line.split())
    if words < PARAGRAPH_MIN_WORDS or f" {_key(line)} " in held() or is_furniture(line):
        return None, []  # a call to action is dropped from the body for good (``clean_body``)
    if sum(len(a.text_content().split()) for a in p.iter("a")) > PARAGRAPH_MAX_LINK_SHARE * words:
        return None, []
    return below, [line]


def _nearest_opening(
    element: HtmlElement,
    openings: dict[str, int],
    *,
    before: bool,
    reach: int = LIST_REACH,
    labels: dict[str, int] | None = None,
) -> int | None:
    """The body line opened by the nearest of the ``reach`` blocks before or after ``element``, or,
    for a block of a few words, the line of ``labels`` (``_short_labels``) it is."""
    for _ in range(reach):
        sibling = _sibling(element, before=before)
        if sibling is None:
            return None
        if sibling.tag in _AROUND_A_LIST:
            opening = _opening(sibling.itertext())
            at = openings.get(opening)
            if at is None and labels and opening.count(" ") + 1 < MIN_LEAD_WORDS:
                at = labels.get(opening)
            if at is not None:
                return at
        if is_furniture(" ".join(sibling.text_content().split())):  # "Related:" over a list of headlines
            return None
        element = sibling
    return None


def _sibling(element: HtmlElement, *, before: bool) -> HtmlElement | None:
    """The element right before or after ``element``, past comments and processing instructions."""
    sibling = element.getprevious() if before else element.getnext()
    while sibling is not None and not isinstance(sibling.tag, str):
        sibling = sibling.getprevious() if before else sibling.getnext()
    return sibling


def _opening(texts: Iterable[str]) -> str:
    """The first HEADING_LEAD_WORDS words of ``texts`` joined, lower-cased."""
    words: list[str] = []
    for text in texts:
        # the words of a prefix of a long text, when they are more than the opening takes: every
        # one but the last (maybe cut short) is a whole word of the text; the opening's nine words
        # fit in _OPENING_CHARS in most lines of prose, where the regex finds them in a quarter of the time
        first = _WORDS.findall(text, 0, _OPENING_CHARS)
        if len(first) <= HEADING_LEAD_WORDS and len(text) > _OPENING_CHARS:
            first = _WORDS.findall(text, 0, _PREFIX_CHARS)
            if len(first) <= HEADING_LEAD_WORDS and len(text) > _PREFIX_CHARS:
                first = _WORDS.findall(text)
        words += first
        if len(words) >= HEADING_LEAD_WORDS:
            break
    return " ".join(words[:HEADING_LEAD_WORDS]).casefold()


# Accordions. A guide's or a report's FAQ, a list of key points or a set of expandable sections is
# often written as an accordion (a <details>, or elements whose class names one): the questions in
# buttons, the answers in panels hidden until opened, which trafilatura's rules drop while keeping
# the paragraphs around them. ``restore_accordions`` puts back an accordion (the outermost one)
# that lies in the story's container, an ancestor up to ACCORDION_UP levels above it that holds
# the openings of at least half the body's lines, after the body line opened by the nearest block
# before it, one line per question and answer, when ACCORDION_MIN_WORDS of its words or more are
# not in the body yet. A footer's, a menu's, a cookie banner's or a table of contents' accordion
# is not in that container, or is named so. No walk of the page: one XPath finds the accordions,
# and only a page that has one pays for the rest.
ACCORDION_UP = 4
ACCORDION_MIN_WORDS = 10
ACCORDION_REACH = 40
_ACCORDION = re.compile("accordion")
_NOT_ACCORDION_NAMES = re.compile(r"toc|table-of-contents|consent|cookie|footer|menu|nav|filter|cart", re.IGNORECASE)
_ACCORDION_LINES = ("p", "li", "h2", "h3", "h4", "h5", "h6", "button", "summary", "dt", "dd", "div")
_PRECEDING_BLOCKS = etree.XPath(
    "preceding::*[self::p or self::li or self::h2 or self::h3 or self::h4 or self::div][position() <= $reach]"
)


def restore_accordions(tree: HtmlElement, text: str, names: extract_html.Names | None = None) -> str:
    """``text`` (a body found in the page ``tree``) with the accordions of the story's container put
    back (``names``: ``extract_html.page_names(tree)``, where the caller has it already)."""
    named = [*(names or extract_html.page_names(tree)).owners(_ACCORDION), *tree.iter("details")]
    if not named:
        return text
    every = set(named)
    accordions = [a for a in named if not any(ancestor in every for ancestor in a.iterancestors())]
    lines = text.split("\n")
    openings = _line_openings(lines)
    held = f" {_key(text)} "
    found: dict[int, list[str]] = {}
    stories: dict[HtmlElement, bool] = {}
    for accordion in accordions:
        chain = [accordion, *itertools.islice(accordion.iterancestors(), ACCORDION_UP)]
        if _named_furniture(chain):
            continue
        block = [line for line in _accordion_lines(accordion) if f" {_key(line)} " not in held]
        if sum(len(line.split()) for line in block) < ACCORDION_MIN_WORDS or not _in_story(chain, openings, stories):
            continue
        at = _opened_before(accordion, openings)
        if at is not None:
            found.setdefault(at, []).extend(block)
            held += f"{_key(' '.join(block))} "
    if not found:
        return text
    restored: list[str] = []
    for i, line in enumerate(lines):
        restored.append(line)
        restored += found.get(i, ())
    return "\n".join(restored)


def _accordion_lines(accordion: HtmlElement) -> list[str]:
    """The visible text of the accordion's innermost text blocks, in page order, each once."""
    lines: dict[str, None] = {}
    for element in accordion.iter(*_ACCORDION_LINES):
        if any(isinstance(d.tag, str) and d.tag in _ACCORDION_LINES for d in element.iterdescendants()):
            continue
        line = _visible_text(element)
        if _ALNUM.search(line) and not is_furniture(line):
            lines.setdefault(line, None)
    return list(lines)


def _named_furniture(chain: list[HtmlElement]) -> bool:
    """Whether an accordion (``chain[0]``, then its ancestors) lies in a furniture tag or name."""
    for element in chain[:-1]:
        if element.tag in _PAGE_TAGS:
            return False
        if element.tag in _NOT_STORY_TAGS or _NOT_ACCORDION_NAMES.search(
            f"{element.get('class') or ''} {element.get('id') or ''}"
        ):
            return True
    return False


def _in_story(chain: list[HtmlElement], openings: dict[str, int], stories: dict[HtmlElement, bool]) -> bool:
    """Whether an ancestor in ``chain[1:]`` (an accordion's, up to ACCORDION_UP levels) holds half the
    body's line openings (``stories``: each ancestor's answer so far)."""
    for element in chain[1:]:
        if element.tag in _PAGE_TAGS:
            return False
        if element not in stories:
            within = f" {_key(_visible_text(element))} "
            stories[element] = 2 * sum(f" {opening} " in within for opening in openings) >= len(openings)
        if stories[element]:
            return True
    return False


def _opened_before(accordion: HtmlElement, openings: dict[str, int]) -> int | None:
    """The body line opened by the nearest of the ACCORDION_REACH blocks before ``accordion``."""
    for block in reversed(cast(list[HtmlElement], _PRECEDING_BLOCKS(accordion, reach=ACCORDION_REACH))):
        at = openings.get(_opening(block.itertext()))
        if at is not None:
            return at
    return None


# Hover cards. Some templates write a card into the story's paragraph right after a linked name
# or term (a photo, the name again, links to other stories), hidden until the reader hovers over
# the link: trafilatura reads it as text of the paragraph ("Jane RoeJane RoeOther headline |
# Another headline ..."). The page names it (tooltip, popover, hovercard, rollover), so
# ``drop_hover_cards`` takes such elements out of the page before any pass: the innermost named
# ones of HOVER_CARD_MIN_WORDS words or more (the card, not the named wrapper that also holds the
# link) and of HOVER_CARD_MAX_WORDS at most (a card, not a page whose <body> class names a tooltip
# script), never a link itself (a term linked to its glossary entry is the story's text).
# ScrapingHub F1 0.9799 -> 0.9820 (precision 0.9757 -> 0.9795; halves 0.9806 / 0.9791 -> 0.9806 /
# 0.9834: two pages of one template, to 0.99 and 1.0 word F1); on WCXB author hover cards of
# another template family go (5 pages up), and glossary cards a ground truth keeps (1 page down).
# One XPath over the page, in C: no Python walk.
HOVER_CARD_MIN_WORDS = 4
HOVER_CARD_MAX_WORDS = 80
_HOVER_CARDS = etree.XPath(
    "//body//*[not(self::a)][contains(@class, 'tooltip') or contains(@class, 'popover') or contains(@class, 'hovercard')"
    " or contains(@class, 'rollover') or contains(@id, 'tooltip') or contains(@id, 'popover')]"
)


# The same test on the page's names read once (``extract_html.Names``): the XPath's contains() on
# every element of the page costs more than reading all the names (about 0.9 ms a ScrapingHub page
# against a search of them), so its words are searched in the names (lower-cased: a superset), and
# the XPath's exact test is made on the few elements that have one.
_HOVER_WORDS = re.compile("tooltip|popover|hovercard|rollover")
_HOVER_CLASS_WORDS = ("tooltip", "popover", "hovercard", "rollover")
_HOVER_ID_WORDS = ("tooltip", "popover")


def drop_hover_cards(tree: HtmlElement, names: extract_html.Names | None = None) -> None:
    """Take the hover cards (``_HOVER_CARDS``) out of the page ``tree``, in place (``names``:
    ``extract_html.page_names(tree)``, where the caller has it)."""
    named = [
        e
        for e in _hover_named(tree, names)
        if HOVER_CARD_MIN_WORDS <= len(_visible_text(e).split()) <= HOVER_CARD_MAX_WORDS
    ]
    if not named:
        return
    inner = set(named)
    for card in named:
        if any(ancestor in inner for ancestor in card.iterancestors()):
            for ancestor in card.iterancestors():
                inner.discard(ancestor)
    for card in named:
        if card in inner and card.getparent() is not None:
            card.drop_tree()


def _hover_named(tree: HtmlElement, names: extract_html.Names | None) -> list[HtmlElement]:
    """The elements ``_HOVER_CARDS`` selects in ``tree``, in document order."""
    if names is None or not names.whole_document:  # the XPath reads the whole document
        return cast(list[HtmlElement], _HOVER_CARDS(tree))
    return [
        e
        for e in names.owners(_HOVER_WORDS)
        if e.tag != "a"
        and (
            any(w in (e.get("class") or "") for w in _HOVER_CLASS_WORDS)
            or any(w in (e.get("id") or "") for w in _HOVER_ID_WORDS)
        )
        and any(ancestor.tag == "body" for ancestor in e.iterancestors())
    ]


# A truncated body widened. On some pages every trafilatura mode settles on a container that holds
# only the first part of the story: the rest sits in an accordion's panels, a slider's slides, the
# entries of a ranked list, or a table of paragraphs, beside that container under a common parent,
# where trafilatura's container rules do not look. ``widen_truncated`` (the stage calls it only on a
# body under half the page's running prose, after the default mode's try) finds the body's container,
# the nearest element holding every block of the page that opens a body line, and adds the running
# prose (blocks of WIDEN_BLOCK_WORDS words or more) that lies at most WIDEN_UP levels above it (or
# under its highest ancestor below <body>, where that is nearer), in page order, when that is at least WIDEN_MIN_BLOCKS blocks and WIDEN_MIN_SHARE of the body's words:
# more of the story, not a stray blurb. What is not the story stays out by its shape, never its
# site: page furniture elements (nav, aside, footer, form, header, figure, button), blocks whose own
# or ancestors' class or id names a caption, gallery, comment, related, share, newsletter, promotion,
# sidebar or menu block, text repeated on the page (a template's), and blocks that are mostly link
# text (teasers). On the WCXB development articles it widens 4 bodies, word F1 0.9330 -> 0.9362
# (halves 0.9418 -> 0.9443 and 0.9242 -> 0.9280; the widened pages from 0.03-0.49 to 0.74-0.95), and
# changes no ScrapingHub page and no outcome of a non-article page. A container right under
# <body> (a <main>) is widened within itself instead of not at all: 0.9367 -> 0.9388 (halves
# 0.9453 -> 0.9479, 0.9281 -> 0.9297), a listicle's slides and an article the page-kind check
# declined on its truncated body (articles accepted 0.9859 -> 0.9873). (Three levels up: the same pages,
# a little lower; without the script, repeat and three-block checks, an ad's script and a lone blurb
# under a news story came into 3 ScrapingHub bodies.) No trafilatura pass: one walk of the page's
# blocks, and only on a body still truncated after the default mode's try.
WIDEN_UP = 2
WIDEN_BLOCK_WORDS = 10
WIDEN_MIN_BLOCKS = 3
WIDEN_MIN_SHARE = 0.5
WIDEN_MAX_LINK_SHARE = 0.3
_LEAF_BLOCKS = ("p", "li", "div", "td", "dd", "blockquote")
_BLOCK_TAGS = frozenset(
    {"p", "li", "div", "td", "dd", "blockquote", "section", "article", "main", "ul", "ol", "dl", "table", "tr",
     "h1", "h2", "h3", "h4", "h5", "h6", "header", "footer", "nav", "aside", "form", "figure"}
)  # fmt: skip
_PAGE_TAGS = ("body", "html")
_NOT_STORY_TAGS = frozenset({"nav", "aside", "footer", "form", "header", "figure", "figcaption", "button", "label"})
_NOT_STORY_NAMES = re.compile(
    r"caption|credit|gallery|comment|related|share|social|newsletter|subscribe|promo|sidebar|cookie|modal|popup"
    r"|advert|banner|teaser|recommend|breadcrumb|menu|nav",
    re.IGNORECASE,
)
# A block's visible text: a script inside an ad's <div> is no text of the page.
_VISIBLE = etree.XPath(
    "descendant::text()[not(ancestor::script | ancestor::style | ancestor::noscript | ancestor::template)]",
    smart_strings=False,
)


def widen_truncated(tree: HtmlElement, text: str) -> str:
    """``text`` (a body found in the page ``tree`` that holds a small part of its prose) with the
    running prose of the blocks around its container added in page order, or ``text`` unchanged."""
    lines = text.split("\n")
    openings = _line_openings(lines)
    blocks = [(block, _visible_text(block)) for block in _leaf_blocks(tree)]
    anchors: list[tuple[HtmlElement, int]] = []  # each body line's first block in the page
    claimed: set[int] = set()
    for block, t in blocks:
        at = openings.get(_opening([t]))
        if at is not None and at not in claimed:
            claimed.add(at)
            anchors.append((block, at))
    container = _common_ancestor([block for block, _ in anchors]) if len(anchors) >= 2 else None
    if container is None:
        return text
    around = _ancestor(container, WIDEN_UP)
    if around.tag in _PAGE_TAGS:
        return text
    repeated = Counter(t for _, t in blocks)
    anchored = {block for block, _ in anchors}
    inside = set(around.iter(*_LEAF_BLOCKS))  # tested first: most of the page's blocks lie elsewhere
    added = [
        (block, t)
        for block, t in blocks
        if block in inside
        and block not in anchored
        and repeated[t] == 1
        and _opening([t]) not in openings
        and _is_prose(block, t)
        and _is_story_block(block, around)
    ]
    if len(added) < WIDEN_MIN_BLOCKS or sum(len(t.split()) for _, t in added) < WIDEN_MIN_SHARE * len(text.split()):
        return text
    order = {element: i for i, element in enumerate(tree.iter())}
    placed = sorted((order[block], line) for block, line in anchors)
    before: dict[int, list[str]] = {}
    after: list[str] = []
    for block, t in added:
        # before the first body line whose block comes after it in the page, or at the end
        at = next((line for position, line in placed if position > order[block]), None)
        (after if at is None else before.setdefault(at, [])).append(t)
    widened: list[str] = []
    for i, line in enumerate(lines):
        widened += before.get(i, ())
        widened.append(line)
    return "\n".join(widened + after)


def _leaf_blocks(tree: HtmlElement) -> Iterable[HtmlElement]:
    """The page's blocks that hold no other block: the paragraphs, items and cells text is written in."""
    for block in tree.iter(*_LEAF_BLOCKS):
        if not any(isinstance(d.tag, str) and d.tag in _BLOCK_TAGS for d in block.iterdescendants()):
            yield block


def _common_ancestor(elements: list[HtmlElement]) -> HtmlElement | None:
    chain = list(elements[0].iterancestors())[::-1]  # root first
    for element in elements[1:]:
        ancestors = set(element.iterancestors())
        while chain and chain[-1] not in ancestors:
            chain.pop()
    return chain[-1] if chain else None


def _ancestor(element: HtmlElement, up: int) -> HtmlElement:
    """``element``'s ancestor ``up`` levels above it, or the highest below the page's <body> on the way."""
    for _ in range(up):
        parent = element.getparent()
        if parent is None or parent.tag in _PAGE_TAGS:
            break
        element = parent
    return element


def _visible_text(element: HtmlElement) -> str:
    return " ".join(" ".join(cast(list[str], _VISIBLE(element))).split())


def _is_prose(block: HtmlElement, text: str) -> bool:
    """A run of WIDEN_BLOCK_WORDS words or more (a URL is one word), not mostly link text."""
    words = len(text.split())
    if words < WIDEN_BLOCK_WORDS or len(_WORDS.findall(text)) < WIDEN_BLOCK_WORDS:
        return False
    links = sum(len(_visible_text(a).split()) for a in block.iter("a"))
    return links <= WIDEN_MAX_LINK_SHARE * words


def _is_story_block(block: HtmlElement, around: HtmlElement) -> bool:
    """Whether ``block`` lies under ``around`` outside every furniture element and name."""
    element: HtmlElement | None = block
    while element is not None and element is not around:
        if element.tag in _NOT_STORY_TAGS or _NOT_STORY_NAMES.search(
            f"{element.get('class') or ''} {element.get('id') or ''}"
        ):
            return False
        element = element.getparent()
    return element is around


# Furniture boxes. trafilatura keeps some boxes that sit inside or right after an article's
# container and are not the story: the author's bio, a disclaimer or copyright notice, a call to
# action, a newsletter or donation pitch, and the excerpts of a list of other posts. They are
# written as plain paragraphs, so no line rule sees them, but the page names them: ``drop_boxed``
# takes out the body lines whose block lies in a short element (BOX_MAX_WORDS words at most: a
# box, never the article's wrapper, whose class may name its author) whose class or id names such
# a box, as long as those are fewer than half the body's lines. An excerpt counts only where two
# or more body lines are excerpts (a list of teasers; one excerpt under a headline is its standfirst).
# On the WCXB development articles: word F1 0.9389 -> 0.9400 (halves 0.9480 -> 0.9489, 0.9297 ->
# 0.9311; 47 pages up, 8 down, where the ground truth keeps an author's bio); ScrapingHub F1
# 0.9797 -> 0.9798 (a disclaimer its ground truth keeps on one page, a newsletter line on another).
# No trafilatura pass: one search of the page's names (read in C, shared with the page-kind check).
# A cookie banner's or consent plugin's notice written into the article's container is such a box
# too (cookie, consent, gdpr): WCXB word F1 0.94543 -> 0.94546 (halves 0.95267 / 0.93816 -> 0.95267
# / 0.93822; 2 pages up, none down), no ScrapingHub page changed (21 of its pages have such names).
# So is a disclosure box (an affiliate's or a fund's disclosures, the disclaimer's kin): 0.94546 ->
# 0.94553 (halves 0.95276 / 0.93827; 4 pages up, none down), no ScrapingHub page changed. (A footer
# name too: a ScrapingHub page lost lines its ground truth keeps, F1 0.9820 -> 0.9817.) A box's
# table is its too, a line a row (a consent plugin's table of cookies, written into the body after
# the story): 0.94754 -> 0.94775 (one page up by 0.15, none down), no ScrapingHub page changed.
_BOX_NAMES = re.compile(
    r"author|(^|[\s_-])bio($|[\s_-])|disclaimer|copyright|(^|[\s_-])cta($|[\s_-])|newsletter|subscri|signup|donat"
    r"|cookie|consent|gdpr|disclos|(?P<excerpt>excerpt)",
    re.IGNORECASE,
)
# A plain-word test first, over all the page's names at once (``extract_html.Names``): the exact
# one costs ten times as much a name, and a page has hundreds.
_BOX_QUICK = re.compile(
    "author|bio|disclaimer|copyright|cta|newsletter|subscri|signup|donat|cookie|consent|gdpr|disclos|excerpt"
)
BOX_MAX_WORDS = 250


def drop_boxed(tree: HtmlElement, text: str, names: extract_html.Names | None = None) -> str:
    """``text`` (a body found in the page ``tree``) without the lines the page holds in a furniture box
    (``names``: ``extract_html.page_names(tree)``, where the caller has it already; read before an
    element left the tree (``drop_hover_cards``), that element is passed over)."""
    boxes: list[tuple[HtmlElement, bool]] = []
    for element in (names or extract_html.page_names(tree)).owners(_BOX_QUICK):
        if not _within(element, tree):
            continue
        if match := _BOX_NAMES.search(f"{element.get('class') or ''} {element.get('id') or ''}"):
            boxes.append((element, match.group("excerpt") is not None))
    if not boxes:
        return text
    lines = text.split("\n")
    openings = _line_openings(lines)
    boxed: set[int] = set()
    excerpts: set[int] = set()
    for box, is_excerpt in boxes:
        if box.tag in _PAGE_TAGS or len(_visible_text(box).split()) > BOX_MAX_WORDS:
            continue
        held = {  # its paragraphs' lines, and its table's (a line a row: "| cookie_id | 11 months | ... |")
            at
            for block in itertools.chain(_leaf_blocks(box), box.iter("tr"))
            if (at := openings.get(_opening([_visible_text(block)]))) is not None
        }
        if 2 * len(held) <= len(lines):
            (excerpts if is_excerpt else boxed).update(held)
    if len(excerpts) >= 2:
        boxed |= excerpts
    if not boxed or 2 * len(boxed) > len(lines):
        return text
    return "\n".join(line for i, line in enumerate(lines) if i not in boxed)


def _within(element: HtmlElement, tree: HtmlElement) -> bool:
    """Whether ``element`` is ``tree`` or one of its descendants (not taken out of it since)."""
    return element is tree or any(ancestor is tree for ancestor in element.iterancestors())


# An author's bio written as the article's last paragraphs ("Jane Roe is a reporter who covers
# ..."), in the article's own container, where no box names it: a line among the body's last
# BIO_TAIL_LINES that opens with the full name of an author the page states (a person's: two or
# more capitalised words), then within a few words a verb of a bio; the next line goes too when it
# opens with that author's first name ("Jane holds a ..."). WCXB word F1 0.9400 -> 0.9402 (halves
# 0.94886 -> 0.94931, 0.93112 -> 0.93115: a small gain, nearly all the first half's; 6 pages up, 3
# down where the ground truth keeps the bio); no ScrapingHub page changed. No walk of the page:
# the last lines of the body only.
BIO_TAIL_LINES = 3
BIO_MIN_WORDS = 8
_BIO_VERB = (
    r"\W{0,3}(\([^)]{0,30}\)\W{0,3})?(\w+\W{1,3}){0,6}?(is|was|has|holds|writes|covers|joined|lives|leads|founded)\b"
)


def drop_author_bio(text: str, authors: Iterable[str]) -> str:
    """``text`` without the author's bio among its last lines (``authors``: the names the page states)."""
    names = [" ".join(a.split()) for a in authors]
    people = [n for n in names if n.count(" ") >= 1 and all(w[:1].isupper() for w in n.split())]
    if not people:
        return text
    lines = text.split("\n")
    full = re.compile(rf"^\W{{0,2}}({'|'.join(map(re.escape, people))}){_BIO_VERB}")
    dropped: set[int] = set()
    first_name: re.Pattern[str] | None = None
    for i in range(max(1, len(lines) - BIO_TAIL_LINES), len(lines)):
        line = lines[i]
        if len(line.split()) < BIO_MIN_WORDS:
            continue
        if match := full.match(line):
            dropped.add(i)
            first_name = re.compile(rf"^{re.escape(match.group(1).split()[0])}{_BIO_VERB}")
        elif first_name is not None and i - 1 in dropped and first_name.match(line):
            dropped.add(i)
    if not dropped:
        return text
    return "\n".join(line for i, line in enumerate(lines) if i not in dropped)
