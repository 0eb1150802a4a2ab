"""story stage: which story an alerting article belongs to, and what it changes there.

In:  an ``enriched`` payload (schemas/enriched.schema.json; ``places`` read when present) and the
     candidate stories (``Story``: recent ones, plus the one already holding this article).
Out: ``match`` -> the candidate this article reports on, or None (a new story: ``new_story``);
     ``attach`` -> the story with the article added, and the figures it raised (``Change``).

Pure: no clock, no I/O. Storage keeps the stories (sinks/storage/stories.py ``assign_story``) and runs
``route.decide`` (which calls these) under a lock, so every worker sees one consistent set.

Articles about the same event form one story when, within ``window`` of the story's last article:
    near-duplicate text   MinHash estimate (64 independent hash functions) of the Jaccard
                          similarity of 3-word shingles of the headline and lead >= NEAR_DUPLICATE
                          (outlets republishing wire copy), or
    same headline terms   the headlines share >= 2 content words and most of the shorter one's,
                          and no conflicting places, or
    shared place          a shared city (not a state or country; or one lead's city the other's
                          headline writes as a name) and some headline or text overlap, or
    shared name           a proper noun of both headlines ("Immokalee", "Libby Lake"; or the
                          story's proper noun as a word of the article's headline) and half the
                          shorter headline or a shared city, or
    same toll             the same killed/injured figures and a shared city or headline word (a
                          small toll also needs both, or the same day as the leads state it,
                          ``event_day``, "on Saturday night", and the city in both leads, a
                          shared headline name, or the same outlet with a headline word or a
                          toll of two or more: a local outlet covers its region; where one lead
                          names no city, the other's in both texts), or
    toll that rose        a toll grown from one of the story's (no figure lower; at most twice as
                          many people plus one) in a city both leads name, on the same stated day, or
    same age              a person's age told in both ("a 19-year-old"), the same toll and the
                          same stated day, with a shared city, a headline word or a toll of
                          ``DISTINCT_TOLL`` people or more (a child's age, under ``CHILD_AGE``:
                          also where one side names no city); without the day, in the city both
                          leads name, told by another outlet (there, or after the window with
                          the day named, the same people counted otherwise will do: a wounded
                          victim who died, ``_same_people``); a child's age or two ages on the
                          same stated day with a shared city or headline word, told by another
                          outlet, whatever the tolls, or
    small town            the same toll in a town both leads name of fewer than ``SMALL_TOWN``
                          people (GeoNames' populations: ``story_view.small_towns``), unless
                          the leads state different days, or
    same people           a person named in both texts (``story_view._people``: victims, suspects;
                          not officials, organisations, places or bylines; spelt otherwise too,
                          ``story_follow._alike``, with a possessive or an apostrophe or not) and a second one (even
                          where the places conflict), the same toll, a headline word, a shared city
                          or the same stated day.
Headline terms are word stems (Snowball: en, fr, ar) with the outlet's name cut from the title
(``headline``) and without the words that name no event in particular: function words, the
casualty lexicon's vocabulary, the kind of event ("shooting"), days and directions. A place
counts where the article names it as a place: not only in the outlet's part of the title, not as
a street or a crossing ("21st & Cleveland"); a state ("Florida") tells events apart (where a
lead names it) but never joins them. Places conflict when both leads name where it happened and neither names the other's, in its text
or in a headline (``_place_conflict``: the gazetteer misses places a headline names).
Two articles naming only different countries never join, whatever the text says, unless they
name one city (``_other_country``: "Naples" read as Italy's where a text names no US place).

Follow-ups: after the window, up to ``follow_up`` later, an article joins an expired story only on
strong evidence (``follow_up_score``): two people named in both (early, or anywhere with the same
toll) where the places conflict; else a name in both headlines that is not a gazetteer place,
and the same toll with a second name or a rare toll, or two full names (a victim's, the venue's)
whatever the toll; or people named in both texts: two, or one and a toll of two people or more
or the same toll in the story's city,
or one in the story's city, with the day it happened or named again and again in the article
(``central_people``: the one it is about, not a byline or a passer-by) (within ``RECENT_FOLLOW_UP`` of the story's last
article: one and the same toll or a headline word); or a person the story named early named
anywhere in the article (a trial report names the court's people first), with the same toll, a
shared city and a headline word or a toll of two or more; or the same toll and the day it happened
as a story's lead stated it, named as a date ("the Oct. 3 shooting", ``named_dates``) or as the
lead tells it ("Saturday's shooting"), where the story happened: a name of its headlines, an
outlet that reported it, or its city in both leads with a headline word or a toll of ``DISTINCT_TOLL`` or more; or a toll of
``RARE_TOLL`` people or more in the story's city; or a person's age told in both, the same toll
and the day named, where a headline name or the city in both leads says it happened; or a child's
age and the day named in the story's city, whatever the toll; or, within ``RECENT_FOLLOW_UP``, the
same toll in a small town both leads name, or with an age told by another outlet in the city
both leads name. route.decide then raises no
"new" alert, and an update only for a rising toll.

Modules: stages/story_view.py reads the article (``view``: places, MinHash, toll) with
stages/story_words.py (headline terms, proper nouns, people); stages/story_index.py holds the
candidate index; stages/story_follow.py scores follow-ups after the window; this one scores and attaches. Their public names stay reachable here
(``story.view``, ``story.keys``...).

Candidate index: ``keys(article)`` are the strings an article is looked up under and
``story_keys(state)`` those storage files a story under (table story_keys), so that only stories
sharing a key with the article are loaded and scored. Exact but for near-duplicate text: every story that ``score`` could give more than 0
shares a key (each way of matching above needs one of: a pair of equal MinHash positions (one of
16 bands: shared by near-duplicates with a probability of 99% or more), a pair of shared
headline words, a shared place, a shared name, a shared headline word with a toll figure (of two
people or more: a toll without a shared place must count DISTINCT_TOLL), a
shared person: "f:p:" keys, or one spelt otherwise: "f:q:" keys, an age with the day: "a:" keys), so the decisions are those of
scoring every open story (but for a near-duplicate that shares no band and no other key). Keys starting "f:" (a name or headline word with a toll figure, a pair of
full names, a person, a city or an outlet with a day, a city with a rare toll's figure, a city or
name with an age) also find expired stories, for follow-ups.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .story_follow import (  # story.follow_up_score stays the entry point
    CHILD_AGE as CHILD_AGE,
    DISTINCT_TOLL as DISTINCT_TOLL,
    RECENT_FOLLOW_UP as RECENT_FOLLOW_UP,
    _other_country as _other_country,
    _place_conflict as _place_conflict,
    _place_word as _place_word,
    _place_words as _place_words,
    _same_people as _same_people,
    _same_toll as _same_toll,
    _shared_people as _shared_people,
    follow_up_score as follow_up_score,
)
from .story_index import keys as keys, story_keys as story_keys  # story.keys, story.story_keys stay the entry points
from .story_view import (  # what matching reads, reachable as story.X as before
    _TOLL as _TOLL,
    NEAR_DUPLICATE as NEAR_DUPLICATE,
    ArticleView as ArticleView,
    _count as _count,
    _iso as _iso,
    event_day as event_day,
    headline as headline,
    named_dates as named_dates,
    parse_time as parse_time,
    shingles as shingles,
    signature as signature,
    similarity as similarity,
    small_towns as small_towns,
    toll as toll,
    view as view,
)
from .story_words import _stem as _stem, _tokens as _tokens

TITLE_OVERLAP = 0.6
PLACE_TITLE_OVERLAP = 0.34
PLACE_TEXT_OVERLAP = 0.2
NAME_TITLE_OVERLAP = 0.5  # headlines sharing a proper noun: half of the shorter one's words
DEFAULT_WINDOW = timedelta(hours=48)
_KEEP_SIGNATURES = 8  # the first article's, then the most recent ones: wording drifts as a story ages
_KEEP_MEMBERS = 50  # members that raised no alert beyond this are counted, not listed
_KEEP_PEOPLE = 100  # people named across a story's articles, kept for matching


@dataclass
class Story:
    """One event. ``state`` is plain JSON (stored as is); the helpers below read and write it."""

    story_id: str
    first_at: datetime
    last_at: datetime
    state: dict[str, Any]

    @property
    def members(self) -> list[dict[str, Any]]:
        members: list[dict[str, Any]] = self.state.setdefault("members", [])
        return members

    def member(self, canonical_url: str) -> dict[str, Any] | None:
        return next((m for m in self.members if m["canonical_url"] == canonical_url), None)

    @property
    def figures(self) -> dict[str, Any]:
        """{category: {"count", "url", "sitename"}}: the highest figure any member reported."""
        figures: dict[str, Any] = self.state.setdefault("figures", {})
        return figures

    def to_row(self) -> dict[str, Any]:
        return {
            "story_id": self.story_id,
            "first_at": self.first_at,
            "last_at": self.last_at,
            "title": self.state.get("title"),
            "state": self.state,
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Story:
        return cls(row["story_id"], parse_time(row["first_at"]), parse_time(row["last_at"]), row["state"])  # type: ignore[arg-type]


@dataclass(frozen=True)
class Change:
    category: str
    previous: int | None
    current: int


def story_id(first: ArticleView) -> str:
    # From the first article, so a crash before the story was saved re-creates the same id.
    return "s-" + hashlib.sha256(first.canonical_url.encode()).hexdigest()[:20]


def _overlap(a: frozenset[str], b: frozenset[str]) -> tuple[int, float]:
    shared = len(a & b)
    return shared, (shared / min(len(a), len(b)) if a and b else 0.0)


def _risen(t: tuple[int | None, ...], st: dict[str, Any]) -> bool:
    """Whether toll `t` is some toll of the story's grown: no category lower, one higher, two people
    or more in all, and not more than twice as many plus one (a roundup of the city's weekend is
    not a toll that grew)."""
    n = sum(x or 0 for x in t)
    for b in st.get("tolls", []):
        both = [(x, y) for x, y in zip(t, b) if x is not None and y is not None]
        grew = both and all(x >= y for x, y in both) and any(x > y for x, y in both)
        if grew and 2 <= n <= 2 * sum(y or 0 for y in b) + 1:
            return True
    return False


def expired(article: ArticleView, story: Story, window: timedelta = DEFAULT_WINDOW) -> bool:
    """Whether `article` comes after `story`'s window closed: it can join only as a follow-up."""
    return article.at > story.last_at + window


def score(
    article: ArticleView, story: Story, window: timedelta = DEFAULT_WINDOW, follow_up: timedelta | None = None
) -> float:
    """> 0 when `article` reports on `story` (higher = closer); 0 when it does not. After the
    window, only a follow-up within `follow_up` of the story's last article (None: none) scores."""
    if article.at < story.first_at - window:
        return 0.0
    if expired(article, story, window):
        if follow_up is None or article.at > story.last_at + follow_up:
            return 0.0
        return follow_up_score(article, story)
    st = story.state
    text = max((similarity(list(article.signature), s) for s in st.get("signatures", [])), default=0.0)
    shared_words, title = max(
        (_overlap(article.title_words, frozenset(t)) for t in st.get("titles", [])), default=(0, 0.0)
    )
    places = set(st.get("places", []))
    shared_place = bool(article.places & places)
    lead = set(st.get("lead_places", []))
    if not shared_place and (article.lead_places or lead):
        # A city one lead names that the other's headline writes as a name ("Shooting in Murray" where
        # the gazetteer found no place in that text) is a shared place too.
        mine = {_place_word(p) for p in article.lead_places}
        theirs = {_place_word(p) for p in lead}
        shared_place = bool(mine & set(st.get("names", [])) or theirs & (article.names | article.title_words))
    conflict = _other_country(article, st)
    if conflict and text < NEAR_DUPLICATE + 0.2:
        return 0.0
    # Places conflict when each side names where it happened and neither names the other's place.
    place_conflict = _place_conflict(article, st)
    story_names = set(st.get("names", []))
    # A name the story's texts write as a proper noun is a name in the article's headline too,
    # however the article writes it ("Roxbury" capitalised only in its headline). (Not the other
    # way round: filing every story under each headline word would load most open stories.)
    shared_names = (article.names | article.title_words) & story_names
    if text >= NEAR_DUPLICATE:
        return 2.0 + text
    if shared_words >= 2 and title >= TITLE_OVERLAP and not place_conflict:
        return 1.0 + title + text
    if shared_place and (title >= PLACE_TITLE_OVERLAP or text >= PLACE_TEXT_OVERLAP):
        return 0.5 + title + text
    same_day = bool(article.event_day and article.event_day in st.get("event_days", []))
    if shared_names and not place_conflict and (title >= NAME_TITLE_OVERLAP or shared_place):
        return 0.4 + title + text
    # The same toll is evidence too: with a shared place or headline word, and alone once it is
    # large enough to be rare ("1 killed" is every day's news; "2 killed, 7 wounded" is not).
    agreed = _same_toll(toll(article.figures), st.get("tolls", []))
    if (
        agreed
        and not place_conflict
        and (shared_place or shared_words)
        and (agreed - 1 >= DISTINCT_TOLL or (shared_place and shared_words))
    ):
        return 0.25 + title + text
    # The same toll in a small town both leads name, on no other stated day: a town of a few
    # thousand people has a shooting a month or fewer, a city several a day (``story_view.small_towns``).
    other_day = bool(article.event_day and st.get("event_days") and not same_day)
    if agreed and not place_conflict and not other_day and article.small_places & lead:
        return 0.23 + title + text
    # The same toll in the same city on the same day, as the leads tell it ("on Saturday night"
    # in Monday's paper and "late Saturday" in Sunday's).
    # (The outlet stands for the city where a text names none: a local outlet covers its region.)
    same_outlet = article.host in st.get("hosts", []) and (agreed - 1 >= 2 or shared_words)
    # (Where one lead names no city, a city the other's lead names and its text names too.)
    if article.lead_places and lead:
        in_leads = article.lead_places & lead
    else:
        in_leads = (article.lead_places & places) | (lead & article.places)
    if agreed and same_day and not place_conflict and (in_leads or shared_names or same_outlet):
        return 0.22 + title + text
    # A toll that rose (a wounded victim died, more were found hurt) in the city both leads name,
    # on the day both state.
    if same_day and article.lead_places & lead and not place_conflict and _risen(toll(article.figures), st):
        return 0.21 + title + text
    # A full name in both leads (a victim, a venue, a street's neighbourhood) that is no gazetteer
    # place, with the same toll, a shared city or a headline word.
    lead_names = {n for n in (article.names | article.lead_names) & set(st.get("lead_names", [])) if " " in n}
    if lead_names and not place_conflict:
        lead_names -= _place_words(article) | set(st.get("place_words", []))
        if lead_names and (agreed or shared_place or shared_words or len(lead_names) >= 2):
            return 0.2 + title + text
    # A person's age told in both (the victim's, the suspect's), with the same toll and the same
    # stated day, and a shared city, a headline word or a toll too large to be every day's; a
    # child's age (under ``CHILD_AGE``) also where one side names no city: a child shot is rare
    # news on any one day, a teenager or an adult is not.
    ages = article.ages & set(st.get("ages", []))
    child = any(int(a) < CHILD_AGE for a in ages)
    if (
        agreed
        and same_day
        and ages
        and not place_conflict
        and (
            shared_place
            or shared_words
            or agreed - 1 >= DISTINCT_TOLL
            or (child and not (article.lead_places and lead))
        )
    ):
        return 0.17 + title + text
    # A child's age, or two ages, told by another outlet on the same stated day with a shared city
    # or headline word, whatever the tolls say (a wounded child who died; a toll misread).
    if (
        (child or len(ages) >= 2)
        and same_day
        and (shared_place or shared_words)
        and not place_conflict
        and article.host not in st.get("hosts", [])
    ):
        return 0.165 + title + text
    # A person's age told in both, the same toll (or the same people counted otherwise, a victim who
    # died counted once as hurt, where the leads state no other day) and the city both leads name,
    # by another outlet: an age is told in every report of the event, whoever writes it (one
    # outlet's pages share their furniture: "the 5-year-old's hair" teased under every article of the day).
    if (
        ages
        and (agreed or (not other_day and _same_people(toll(article.figures), st.get("tolls", []))))
        and article.lead_places & lead
        and article.host not in st.get("hosts", [])
        and not place_conflict
    ):
        return 0.16 + title + text
    # A person named in both texts (a victim, a suspect), with a second person, the same toll or a
    # headline word (a shared city is not enough: its police spokesman is in all its news). Two
    # people outweigh places the gazetteer cannot relate (a county and a town in it).
    people = _shared_people(article, st)
    if people and (len(people) >= 2 or (not place_conflict and (agreed or shared_words or shared_place or same_day))):
        return 0.15 + title + text
    return 0.0


def match(
    article: ArticleView,
    candidates: Iterable[Story],
    window: timedelta = DEFAULT_WINDOW,
    follow_up: timedelta | None = None,
) -> Story | None:
    """The candidate story `article` belongs to: the one already holding it, else the best scoring
    (an open story before an expired one that `article` follows up)."""
    candidates = list(candidates)
    for s in candidates:
        if s.member(article.canonical_url) is not None:
            return s
    scored = [(score(article, s, window, follow_up), s) for s in candidates]
    scored = [(sc, s) for sc, s in scored if sc > 0]
    if not scored:
        return None
    # Ties go to the older story, so every worker and every replay picks the same one.
    return max(scored, key=lambda x: (x[0], -x[1].first_at.timestamp(), x[1].story_id))[1]


def new_story(article: ArticleView) -> Story:
    return Story(
        story_id(article),
        article.at,
        article.at,
        {
            "title": article.title,
            "signatures": [],
            "titles": [],
            "places": [],
            "countries": [],
            "figures": {},
            "members": [],
            "size": 0,
            "rules": {},
        },
    )


def attach(story: Story, article: ArticleView) -> list[Change]:
    """Add `article` to `story` (in place; idempotent) and return the figures it raised."""
    st = story.state
    changes: list[Change] = []
    for cat in sorted(article.figures):
        n = _count(article.figures, cat)
        if n is None:
            continue
        prev = _count(st["figures"], cat)
        if prev is None or n > prev:
            changes.append(Change(cat, prev, n))
            st["figures"][cat] = {"count": n, "url": article.canonical_url, "sitename": article.sitename}
    existing = story.member(article.canonical_url)
    entry = {
        "canonical_url": article.canonical_url,
        "url": article.url,
        "link_id": article.link_id,
        "sitename": article.sitename,
        "title": article.title,
        "at": _iso(article.at),
        "figures": {c: _count(article.figures, c) for c in article.figures if _count(article.figures, c) is not None},
    }
    if existing is not None:
        existing.update({k: v for k, v in entry.items() if k != "at"})  # a revised article
    else:
        st["size"] = st.get("size", 0) + 1
        st["members"].append({**entry, "alerts": []})
        sig = list(article.signature)
        st["signatures"] = (st["signatures"][:1] + st["signatures"][1:][-(_KEEP_SIGNATURES - 2) :] + [sig])[
            :_KEEP_SIGNATURES
        ]
        st["titles"] = (st["titles"] + [sorted(article.title_words)])[-_KEEP_SIGNATURES:]
        st["places"] = sorted(set(st["places"]) | article.places)
        st["regions"] = sorted(set(st.get("regions", [])) | article.regions)
        st["lead_regions"] = sorted(set(st.get("lead_regions", [])) | article.lead_regions)
        st["lead_places"] = sorted(set(st.get("lead_places", [])) | article.lead_places)
        st["names"] = sorted(set(st.get("names", [])) | article.names)
        st["lead_names"] = sorted(
            set(st.get("lead_names", [])) | {n for n in article.names | article.lead_names if " " in n}
        )
        st["place_words"] = sorted(set(st.get("place_words", [])) | _place_words(article))
        if article.people:
            st["people"] = sorted(set(st.get("people", [])) | article.people)[:_KEEP_PEOPLE]
        if article.names or article.lead_names:
            st["name_sets"] = (st.get("name_sets", []) + [sorted(article.names | article.lead_names)])[
                -_KEEP_SIGNATURES:
            ]
        t = list(toll(article.figures))
        if any(x is not None for x in t) and t not in st.setdefault("tolls", []):
            st["tolls"] = (st["tolls"] + [t])[-_KEEP_SIGNATURES:]
        st["countries"] = sorted(set(st["countries"]) | article.countries)
        st["hosts"] = sorted(set(st.get("hosts", [])) | {article.host})[:_KEEP_MEMBERS]
        if article.ages:
            st["ages"] = sorted(set(st.get("ages", [])) | article.ages)[:_KEEP_PEOPLE]
        if article.event_day:
            st["event_days"] = sorted(set(st.get("event_days", [])) | {article.event_day})[-_KEEP_SIGNATURES:]
        quiet = [m for m in st["members"] if not m.get("alerts")]
        if len(quiet) > _KEEP_MEMBERS:  # keep the story row bounded on a story everyone covers
            drop = quiet[0]["canonical_url"]
            st["members"] = [m for m in st["members"] if m["canonical_url"] != drop or m.get("alerts")]
    story.first_at = min(story.first_at, article.at)
    story.last_at = max(story.last_at, article.at)
    return changes


def sources(story: Story, limit: int = 20) -> list[dict[str, Any]]:
    """The members that reported a figure, as {url, sitename, figures}: who said what."""
    out = [
        {"url": m["canonical_url"], "sitename": m.get("sitename"), "figures": m.get("figures") or {}}
        for m in story.members
        if m.get("figures")
    ]
    return out[:limit]
