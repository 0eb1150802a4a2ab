"""Extract, cleaning half: the body text trafilatura returns in, the article's own lines out.

trafilatura leaves behind lines that are the page's furniture rather than the story: the headline
repeated as the first line, and short calls to action that sit inside the article's container
("Related: ...", "Follow us on Twitter", "Sign up for our newsletter", "3 comments", "SOURCE: ...",
a newsletter's pitch such as "... delivered to your inbox", a "Table of Contents" lead).
They are recognised by their shape (short, a known lead phrase), never by site, so the same rules hold
on pages we have never seen. A list of short items right under such a lead ("Related:" followed by
headlines, a table of contents followed by the article's own section titles) goes with it. (On the
WCXB development articles the table-of-contents and newsletter lines added here lifted 29 pages and
lowered 3 by less than 0.001 each; no ScrapingHub page changed.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORDS = re.compile(r"\w+")
_ALNUM = re.compile(r"[^\W_]")  # \w counts "_", and a rule of underscores is no text

# A line this long is prose even when it starts like furniture ("Related research suggests ...").
MAX_FURNITURE_WORDS = 25
MAX_LIST_ITEM_WORDS = 20

_FURNITURE = re.compile(
    r"""^\W*(
      # a lead word or phrase alone, or followed by a colon, a bar or an ellipsis
      (related(\ (stories|articles|coverage|content))?|read\ more|see\ more|more|also|also\ read|read\ also|
       more\ on\ this(\ story)?|more\ from\ .{1,40}|don'?t\ miss|most\ read(\ in\ .{1,30})?|most\ popular|
       trending(\ now)?|recommended(\ for\ you)?|you\ (may|might)\ also\ like|explore\ further|
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
    # the newsletter's pitch wherever it stands in a short line ("The best of X, delivered to your inbox")
    | .{0,80}\b(delivered|sent|dropped(\ right)?|straight)\ (to|in|into)\ your\ inbox\b
    | .{0,80}\bsign\ up\ (for|to)\ (our|the)\ .{0,30}newsletter\b
    )""",
    re.IGNORECASE | re.VERBOSE,
)

MAX_HEADLINE_TAIL = 60

_BULLETS = ("- ", "* ", "• ", "· ")


def clean_body(text: str, headlines: Iterable[str | None] = ()) -> str:
    """``text`` without a leading copy of any of ``headlines`` and without furniture lines."""
    lines = [line.strip() for line in text.split("\n")]
    lines = [line for line in lines if _ALNUM.search(line)]
    lines = _drop_headline(lines, headlines)
    return "\n".join(_drop_furniture(lines))


def is_furniture(line: str) -> bool:
    return len(_WORDS.findall(line)) <= MAX_FURNITURE_WORDS and _FURNITURE.match(line) is not None


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
