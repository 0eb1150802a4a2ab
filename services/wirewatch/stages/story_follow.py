"""Follow-ups: whether an article after a story's window closed still reports on it, and the
evidence story matching shares with it (the same toll, people named in both, gazetteer places).

Pure. stages/story.py scores and re-exports ``follow_up_score``; the rules are in its docstring.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .enrich.implied import CHILD_AGE as CHILD_AGE  # story.CHILD_AGE stays reachable
from .story_view import ArticleView, toll
from .story_words import _content, _stem, _tokens

if TYPE_CHECKING:
    from .story import Story

RECENT_FOLLOW_UP = timedelta(days=14)  # after the window: a follow-up this soon needs less evidence

DISTINCT_TOLL = 3  # killed + injured agreed on, from which a toll alone is rare enough to tell events apart
RARE_TOLL = 9  # killed + injured agreed on, from which the toll names the event in its city, however late


def _same_toll(a: tuple[Any, ...], tolls: Iterable[Any]) -> int:
    """How many people the best-agreeing toll of `tolls` shares with `a` (0: none agrees).

    Two tolls agree when every category both give is equal and they give at least one."""
    best = 0
    for b in tolls:
        both = [(x, y) for x, y in zip(a, b) if x is not None and y is not None]
        if both and all(x == y for x, y in both):
            best = max(best, 1 + sum(x for x, _ in both))
    return best


def _same_people(a: tuple[Any, ...], tolls: Iterable[Any]) -> int:
    """``_same_toll``, or as many people counted otherwise: a wounded victim who died is "1 killed"
    in one report and "1 injured" in another (how many people in all, plus one; 0: none agrees)."""
    agreed = _same_toll(a, tolls)
    n = sum(x or 0 for x in a)
    if agreed or not n:
        return agreed
    return 1 + n if any(n == sum(y or 0 for y in b) for b in tolls) else 0


def follow_up_score(article: ArticleView, story: Story) -> float:
    """> 0 when `article` is a follow-up of `story` however old (a trial, a funeral, an arrest):
    the same toll and a shared name of the event (a proper noun of both headlines, or the place
    named in both leads: then the toll must be one that is rare to share), or the same two names
    (a victim's first and last name). Stricter than matching in the window: a wrong join here
    silences a new event."""
    st = story.state
    lead = set(st.get("lead_places", []))
    places = set(st.get("places", []))
    if _other_country(article, st):
        return 0.0
    tl = toll(article.figures)
    agreed = _same_toll(tl, st.get("tolls", []))
    if _place_conflict(article, st):
        # Two people named in both outweigh places the gazetteer cannot relate (a county and a town
        # in it, a city and its suburb): one victim's and one suspect's name do not recur elsewhere.
        if len(_shared_people(article, st)) >= 2 or (agreed and len(_shared_people(article, st, deep=True)) >= 2):
            return 0.014
        return 0.0
    # People named in both texts: two of them, or one and a toll of two people or more (or the same
    # toll in the story's city), or one in
    # the story's city on the day it happened or whom the article names again and again (who it is
    # about: a byline or a bystander is named once); soon after the window, one and the same toll or a
    # headline word. (One, the city and a headline word is not enough: institutions' and reporters'
    # names slip through as people, and "charged" or "arrest" heads every follow-up.)
    people = _shared_people(article, st)
    # The days the story's leads state; where none does, the day of its first report (news of a
    # shooting comes out the day it happens).
    days = set(st.get("event_days", [])) or {story.first_at.date().isoformat()}
    day_named = bool(article.dates & days or (article.event_day and article.event_day in days))
    recent = article.at <= story.last_at + RECENT_FOLLOW_UP
    ages = article.ages & set(st.get("ages", []))
    if people:
        shared_words = max((len(article.title_words & set(t)) for t in st.get("titles", [])), default=0)
        if (
            len(people) >= 2
            or (agreed and (agreed - 1 >= 2 or recent or article.places & places))
            or (recent and shared_words)
            or (article.places & places and (day_named or people & article.central_people))
        ):
            return 0.015 + 0.001 * min(len(people), 9)
    # A person the story named early (a victim) named anywhere in the article, with the same toll:
    # a trial or funeral report names the court's people first.
    if (
        agreed
        and article.places & places
        and (agreed - 1 >= 2 or any(article.title_words & set(t) for t in st.get("titles", [])))
        and _shared_people(article, st, deep=True)
    ):
        return 0.012
    place_words = _place_words(article) | set(st.get("place_words", []))
    # Where and when: the story's city in both leads or a name of its headlines in the article's,
    # the day it happened (as a date, "the June 6 shooting", or as the lead tells it, "Saturday's
    # shooting"), and the same toll; a city alone also needs a headline word or a rarer toll.
    named = (article.names | article.title_words) & set(st.get("names", [])) - place_words
    if (
        agreed
        and day_named
        and (
            named
            or article.host in st.get("hosts", [])
            or (
                article.lead_places & lead
                and (
                    agreed - 1 >= DISTINCT_TOLL
                    or any(article.title_words & set(t) - place_words for t in st.get("titles", []))
                )
            )
        )
    ):
        return 0.011
    # A person's age told in both, the same people (a victim who died counted once as hurt, once as
    # killed), where it happened (the city in both leads or a name of the story's headlines) and the day.
    same_people = _same_people(tl, st.get("tolls", []))
    if day_named and ages and (named or article.lead_places & lead) and same_people:
        return 0.011
    # Soon after the window, a child's age told by another outlet with the same toll (or the same
    # people counted otherwise: a wounded child who died) in the city both leads name (one outlet's
    # pages share furniture: see story.score; a city's teenager or adult hurt is news every week).
    # (Where the article's lead names no city, the story's city in its headline: "Girl Dies Days
    # After Shooting in NW Miami-Dade".)
    child = any(int(a) < CHILD_AGE for a in ages)
    roundup = sum(int(a) < CHILD_AGE for a in article.ages) > 2  # "three children shot in four days"
    there = article.lead_places & lead or (
        not article.lead_places and any(_named_in(p, article.title_words) for p in lead)
    )
    if child and recent and there and article.host not in st.get("hosts", []) and not roundup and same_people:
        return 0.0107
    # A child's age and the day named in the story's city, whatever the toll (a wounded child who
    # died): a child shot is rare news on any one day (``CHILD_AGE``).
    if day_named and article.places & places and child:
        return 0.0106
    # Soon after the window, the same toll in a small town both leads name (later, another
    # shooting of one victim is likely even there).
    if agreed and article.small_places & lead and recent:
        return 0.0105
    # A toll rare enough to name the event by itself, in the story's city.
    if agreed - 1 >= RARE_TOLL and article.lead_places & lead:
        return 0.011
    # Names that are not the place itself: "Englewood" or "Memphis" has news every week; one
    # place name and the same toll is a follow-up only when the toll is rare ("4 wounded" is not).
    mine = article.names | article.lead_names
    in_both: list[frozenset[str]] = [mine & set(n) for n in st.get("name_sets", [])]
    longest = max(in_both, key=len) if in_both else frozenset()
    shared = set(longest)
    shared = {n for n in shared if n not in place_words}
    # One of them in both headlines: a name in passing (a police chief, a neighbourhood) is no event.
    if not shared & article.names & set(st.get("names", [])):
        return 0.0
    long_names = sum(" " in n for n in shared)
    if agreed and (long_names or len(shared) >= 2 or agreed - 1 >= 2 * DISTINCT_TOLL):
        return 0.02 + 0.001 * min(len(shared), 9)  # below any match in the window
    if long_names >= 2:  # a victim's full name and the venue's, say: the toll may have changed
        return 0.01 + 0.001 * min(len(shared), 9)
    return 0.0


def _other_country(article: ArticleView, st: dict[str, Any]) -> bool:
    """Whether `article` and the story name only different countries, and no city in common: one
    city's name read in two countries ("Naples", Italy's where a text names no other US place, a US
    town's where it does: enrich/places.py) is the gazetteer's doubt, not two events."""
    countries = set(st.get("countries", []))
    return bool(
        article.countries
        and countries
        and not article.countries & countries
        and not article.places & set(st.get("places", []))
    )


def _place_conflict(article: ArticleView, st: dict[str, Any]) -> bool:
    """Whether `article` and the story say it happened in different places: each names a city (or
    a state) in its lead and neither names the other's, not even in a headline (the gazetteer
    misses places: "Auburn" in the headline, only "Tacoma" found in the text). A state named only
    further on is anyone's: a victim's home, a teaser for another story."""
    lead, places, regions = set(st.get("lead_places", [])), set(st.get("places", [])), set(st.get("regions", []))
    lead_regions = set(st.get("lead_regions", []))
    if article.lead_regions and lead_regions and not (article.lead_regions & regions or lead_regions & article.regions):
        return True
    if not (article.lead_places and lead) or article.lead_places & places or lead & article.places:
        return False
    titles = [set(t) for t in st.get("titles", [])]
    return not (
        any(_named_in(p, t) for p in article.lead_places for t in titles)
        or any(_named_in(p, article.title_words) for p in lead)
    )


def _named_in(place: str, words: set[str] | frozenset[str]) -> bool:
    """Whether headline `words` (stems) name `place` ("Poplar Bluff": both its words)."""
    stems = _place_stems(place)
    return bool(stems) and stems <= words


@lru_cache(maxsize=4096)
def _place_stems(place: str) -> frozenset[str]:
    # Asked for each candidate story and each of its headlines: a place's stems are read once.
    return _content(place)


def _place_words(article: ArticleView) -> set[str]:
    """The gazetteer's places of `article` as names (stems, as ``names`` holds them)."""
    return {_place_word(p) for p in article.places | article.regions}


@lru_cache(maxsize=4096)
def _place_word(place: str) -> str:
    """A gazetteer place as a name: its words' stems, as ``names`` holds them ("kansa citi")."""
    return " ".join(_stem(w, "en") for w in _tokens(place))


def _shared_people(article: ArticleView, st: dict[str, Any], deep: bool = False) -> set[str]:
    """People named in `article` (`deep`: anywhere in its text) and early in the story's
    articles, gazetteer places left out."""
    mine, theirs = (article.body_people if deep else article.people), set(st.get("people", []))
    shared = mine & theirs
    if mine and theirs:
        shared |= _alike(mine - theirs, theirs - mine)
    return set(shared - _place_words(article) - set(st.get("place_words", []))) if shared else set()


def _alike(mine: Iterable[str], theirs: Iterable[str]) -> set[str]:
    """Those of `mine` ("first last" stems) that are someone of `theirs` spelt otherwise: the same
    last name and a first name of the same initial one or two letters apart ("Erik" and "Erick"), or
    the same first name and a last name one letter apart ("Lanfair", "Lonfair"). Found by
    ``spelling_keys``, which the candidate index files people under."""
    by_key: dict[str, list[str]] = {}
    for q in theirs:
        for k in spelling_keys(q):
            by_key.setdefault(k, []).append(q)
    out = set()
    for p in mine:
        first, _, last = p.partition(" ")
        for k in spelling_keys(p):
            for q in by_key.get(k, ()):
                f2, _, l2 = q.partition(" ")
                if (last == l2 and _apart(first, f2) <= 2) or (
                    first == f2 and len(last) >= 5 and _apart(last, l2) <= 1
                ):
                    out.add(p)
    return out


def spelling_keys(person: str) -> set[str]:
    """Keys two spellings of one person share (``_alike``): the first name's initial with the last
    name, the first name with the last name's initial."""
    first, _, last = person.partition(" ")
    return {f"{first[:1]} {last}", f"{first} {last[:1]}"} if first and last and len(last) >= 4 else set()


def _apart(a: str, b: str) -> int:
    """The edit distance of `a` and `b` (3 for anything more than 2)."""
    if abs(len(a) - len(b)) > 2:
        return 3
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[:], i
        for j, cb in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
    return min(row[-1], 3)
