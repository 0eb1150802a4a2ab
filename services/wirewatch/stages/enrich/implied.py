"""Implicit casualty counts: people killed or hurt that the text names or describes without a number.

In:  one sentence (and its offsets); built from the language's lexicon (its ``implied`` section,
     its singular victim nouns).
Out: ``Person`` records: one per person the sentence says was killed or hurt, each with a key that
     tells the same person apart from another across the article (a name's surname, a noun, a pronoun),
     the victim type and the evidence span; ``implied_figures`` turns an article's records into one
     figure per category.

Real news states most single-victim tolls without a figure: "a man was found shot to death",
"Jane Doe, 17, died at the scene", "police said he shot and killed his wife", "the boy was shot in
the leg" (being shot and surviving is an injury), "... and then killed himself" (the perpetrator).
The shapes are data (``implied`` in lexicon/<language>.yaml):

    SUBJECT [aux ...] TERM            "the teen was fatally shot", "Jane Doe, 17, later died"
    SUBJECT HURT PHRASE DIED          "teen shot in the chest on Friday has died" (killed)
    SUBJECT who ... DIED              "a teen who was caught in the crossfire has died" (killed)
    VERB OBJECT                       "shot and killed his girlfriend", "fatally shot a 20-year-old"
    NOMINAL OBJECT                    "the shooting death of a 5-year-old", "the death of John Roe"
    REFLEXIVE                         "killed himself", "a self-inflicted gunshot wound" (perpetrator)
    PERSON ... WOUND PHRASE           "found a man suffering from gunshot wounds" (injured)
    SELF-INJURY                       "accidentally shot himself in the hand" (injured, nobody dead)

A hurt person the sentence says lived ("is expected to recover", "in stable condition") or tells
apart from the dead ("another man was wounded", "was also shot") is ``alive``: never one of the
killed, so not taken off the injured count as someone who was shot and then died.

SUBJECT/OBJECT is a person: a determiner and a singular victim noun ("the 17-year-old boy"), a
capitalised name of two or three words (optionally with an age: "John Roe, 31,"), an "N-year-old",
or a pronoun (which only ever adds a person when no other is named). Lists add up: "John Roe, 16,
and Mary Poe, 13, died" is two.

A person's key: the surname of a name, else the noun; so "a man was killed ... Roe died" may be one
person or two, and ``implied_figures`` reads it as the larger of the distinct names and the nouns
of one sentence, never their sum. Nouns count per sentence: across an article one victim is "the
6-year-old", then "the boy", then "the child", while "a man and a woman" in one sentence are two.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .patterns import alternation

PERPETRATOR = "perpetrator"
ACCIDENT = "accident"  # the key of one who shot himself by accident and died: the victim, once
# A child: younger than this. One who shot himself did so by accident; a child shot is rare news on any
# one day (stages/story_follow.py).
CHILD_AGE = 13
_AGE = r"\d{1,3}-year-old"  # "a 17-year-old": an age standing for the person
SELF = "self"  # the key of a person hurt by their own shot (``injured_self``), in no sentence of death


@dataclass(frozen=True, slots=True)
class Person:
    category: str  # "killed" | "injured"
    key: str  # "name:roe", "noun:boy", "pron"
    victim: str | None  # victim name ("children", "people") or "perpetrator"
    start: int  # offsets of the sentence in the document
    end: int
    evidence: str
    alive: bool = False  # injured: the text says this person lives, or is not one of the dead ("another")


def _terms(d: dict[str, Any], key: str) -> re.Pattern[str] | None:
    """A case-blind search for the whole words of list ``key`` of an implied section; None where the
    language's lexicon has no such list (the shape that reads it is off)."""
    words = d.get(key)
    return re.compile(rf"(?<![\w-]){_alt(words)}(?![\w-])", re.IGNORECASE) if words else None


def _alt(words: Iterable[str]) -> str:
    return alternation(words, bounded=False)  # the shapes below put the boundaries


class ImpliedGrammar:
    """The regexes of one language's implied section, compiled once per lexicon."""

    def __init__(self, data: dict[str, Any], singular_nouns: dict[str, str]) -> None:
        d = data or {}
        self.enabled = bool(d)
        if not self.enabled:
            return
        f = re.IGNORECASE
        self.nouns = singular_nouns  # lower-case form -> victim name
        det = _alt(d.get("determiners", []))
        noun = _alt(singular_nouns)
        pron = _alt(d.get("pronouns", []))
        age = _AGE
        # A capitalised name: two or three words, case-sensitive (a middle initial allowed).
        name = r"(?-i:[A-Z][a-z'’]+(?:-[A-Z][a-z'’]+)?(?:\s+[A-Z]\.)?(?:\s+(?:[A-Z][a-z'’]+(?:-[A-Z][a-z'’]+)?|[A-Z]'[A-Z][a-z]+)){1,2})"
        titles = "|".join(re.escape(t) for t in sorted(d.get("titles", []), key=len, reverse=True))
        if titles:  # "Mrs. Williams succumbed": a title and a surname are a name too
            name = rf"(?:(?-i:(?<![\w.])(?:{titles})\s+[A-Z][a-z'’]+(?:-[A-Z][a-z'’]+)?)(?![\w'’-])|{name})"
        # "Jane Roe, 31, of Springfield,": an age and a home town in apposition.
        home = r"(?:\s*,?\s*(?:of|from)\s+(?-i:[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,2})\s*,)?"
        # "Jane Roe, a 17-year-old student,": a noun phrase in apposition after a name.
        indefinite = d.get("indefinite", [])
        appos = rf"|\s*,\s*{_alt(indefinite)}\s+(?:[\w'’-]+\s+){{0,3}}?{noun}\s*," if indefinite else ""
        name_age = rf"{name}(?:\s*,\s*(?:age\s+)?\d{{1,2}}\s*,{home}{appos})?"
        # "his wife, Jane Roe,", "the victim, 53-year-old Jane Roe,": a name in apposition, an age before it.
        # Up to three words between the determiner and the noun ("the 17-year-old boy"), none of them a
        # verb or a conjunction ("the woman is his girlfriend" is two people); a noun in the possessive
        # ("the woman's boyfriend") is not the person.
        stops = d.get("not_in_noun_phrase", [])
        filler = rf"(?:(?!(?:{_alt(stops)})\s)[\w'’-]+\s+)" if stops else r"(?:[\w'’-]+\s+)"
        noun_np = (
            rf"{det}\s+{filler}{{0,3}}?{noun}(?![\w-]|['’]s(?!\w))"
            rf"(?:\s*,\s*(?:{age}\s+)?{name}\s*,(?:\s*\d{{1,2}}\s*,)?)?"
        )
        bare_age = rf"{det}?\s*{age}(?:\s+{noun})?(?![\w-])(?:\s*,\s*{name}\s*,)?"
        # Headlines drop the article: "Teen dies after shooting", "2016 Woman dead after fire".
        bare_noun = rf"(?:^|(?<=\d )|(?<=[:—–] )){noun}(?![\w-])"
        person = rf"(?:{noun_np}|{bare_age}|{name_age}|{bare_noun})"
        self.person_re = re.compile(person, f)
        self.name_re = re.compile(name)
        self.noun_re = re.compile(rf"(?<![\w-]){noun}(?![\w-])", f)
        conj = _alt(d.get("conjunctions", ["and"]))
        plist = rf"(?P<who>{person}(?:\s*,?\s*(?:{conj}\s+)?{person}){{0,4}}|{pron})"
        aux = _alt(d.get("aux", []))
        killed_after = _alt(d.get("killed_after", []))
        injured_after = _alt(d.get("injured_after", []))
        not_after = _alt(d.get("injured_not_followed_by", []))
        tail = rf"(?P<aux>(?:\s*,?\s+{aux}){{0,4}})\s+"
        self.subject_re = re.compile(
            rf"(?<![\w-]){plist}{tail}(?:(?P<killed>{killed_after})|(?P<injured>{injured_after})(?!\s+{not_after}))(?![\w-])",
            f,
        )
        # "Teen shot in Wichita has died", "the boy who was shot on Friday was pronounced dead": a
        # participle with its phrase (a relative clause, often reduced), then the verb of death. The
        # person was hurt first and then died: killed.
        followers = _alt(d.get("passive_followers", []))
        intransitive = _alt(d.get("intransitive", []))
        relative = _alt(d.get("relative_aux", []))
        self.reduced_re = re.compile(
            rf"(?<![\w-]){plist}(?:\s+{relative})?\s+(?:{injured_after})(?!\s+{not_after})(?:\s+{followers}(?:\s+[^\s.,;:!?]+){{0,11}}?)?"
            rf"(?:(?P<aux>(?:\s*,?\s+{aux}){{1,4}})\s+(?P<killed>{killed_after})|\s+(?P<died>{intransitive}))(?![\w-])",
            f,
        )
        # reduced_re holds a hurt word, then a killed word or a verb of dying, each a whole word:
        # a sentence without both in that order is spared the costly shape.
        self.reduced_need_re = re.compile(
            rf"(?<![\w-])(?:{injured_after})(?![\w-]).*?(?<![\w-])(?:{killed_after}|{intransitive})(?![\w-])",
            f | re.DOTALL,
        )
        # "a teen who was caught in the crossfire has died": any relative clause, then a verb of dying.
        relatives = d.get("relative_pronouns", [])
        self.relative_re = (
            re.compile(
                rf"(?<![\w-]){plist}\s+(?:{_alt(relatives)})(?:\s+[^\s.,;:!?]+){{1,12}}?\s+(?P<died>{intransitive})(?![\w-])",
                f,
            )
            if relatives
            else None
        )
        self.intransitive_need_re = re.compile(rf"(?<![\w-])(?:{intransitive})(?![\w-])", f)
        killed_verbs = _alt(d.get("killed_before", []))
        injured_verbs = _alt(d.get("injured_before", []))
        nominal = _alt(d.get("killed_nominal", []))
        obj = rf"(?P<who>{person}(?:\s*,?\s*(?:{conj}\s+)?{person}){{0,4}})"
        self.object_re = re.compile(
            rf"(?<![\w-])(?:(?P<killed>{killed_verbs}|{nominal})|(?P<injured>{injured_verbs}))\s+{obj}"
            rf"(?!\s+{not_after})",
            f,
        )
        # A hurt person the sentence says survived ("is expected to recover", "in stable condition") or
        # tells apart from the dead ("another man was wounded", "was also shot"): not one of the killed.
        self.alive_re = _terms(d, "alive")
        self.other_re = _terms(d, "other_person")
        self.reflexive_re = re.compile(rf"(?<![\w-]){_alt(d.get('perpetrator', []))}(?![\w-])", f)
        self.pron_re = re.compile(rf"^{pron}$", f)
        # The auxiliaries of a passive ("was shot", "were found dead"): before a participle without one
        # the subject fired ("a man apparently shot his wife"). Without the list, any auxiliary will do.
        self.passive_aux_re = _terms(d, "passive_aux") or re.compile(r"\S")
        self.event_re = re.compile(rf"(?<![\w-]){_alt(d.get('fatal_events', []))}(?![\w-])", f)
        self.intransitive_re = re.compile(_alt(d.get("intransitive", [])), f)
        self.passive_end_re = re.compile(rf"\s*(?:[,.;:!?)—–-]|$|{_alt(d.get('passive_followers', []))}(?![\w-]))", f)
        # "self-inflicted" or "shot himself" is a perpetrator's death only in a sentence of death.
        self.reflexive_death_re = re.compile(rf"(?<![\w-]){_alt(d.get('perpetrator_if_death', []))}(?![\w-])", f)
        # "the teen was taken to a hospital with a gunshot wound to the leg", "police found a man
        # suffering from gunshot wounds": a wound phrase whose person is the nearest one before it.
        wound_by, wounds = d.get("wounded_by_phrase", []), d.get("wounds", [])
        self.wound_re = (
            re.compile(
                rf"(?<![\w-])(?:{_alt(wound_by)})\s+(?:[\w-]+\s+){{0,4}}?(?:{_alt(wounds)})(?![\w-])",
                f,
            )
            if wound_by and wounds
            else None
        )
        self.accident_re = _terms(d, "accident_words")
        self.child_re = _terms(d, "child_words")
        self.age_re = re.compile(rf"(?<![\w-]){_AGE}", f)
        self.killer_re = re.compile(rf"(?<![\w-])(?:{killed_verbs})(?![\w-])", f)
        # "the boy shot himself in the hand": hurt by his own shot, in a sentence that says nobody died.
        self.self_hurt_re = _terms(d, "injured_self")
        self.attempted_re = re.compile(rf"{_alt(d.get('perpetrator_not_after', []))}\s*$", f)
        self.death_re = re.compile(rf"(?<![\w-]){_alt(d.get('death_words', []))}(?![\w-])", f)
        # Words of a capitalised headline or a common phrase are not a name: "Man Shot, Killed".
        self.not_name = {w.lower() for w in singular_nouns} | {
            w.lower()
            for k in ("killed_after", "injured_after", "determiners", "not_name")
            for t in d.get(k, [])
            for w in str(t).split()
        }
        self.hedge_re = re.compile(rf"(?<![\w-]){_alt(d.get('not_a_report', []))}(?![\w-])", f)
        terms = [
            t
            for k in (
                "killed_after",
                "injured_after",
                "killed_before",
                "injured_before",
                "killed_nominal",
                "perpetrator",
                "perpetrator_if_death",
                "wounds",
                "fatal_events",
                "injured_self",
            )
            for t in d.get(k, [])
        ]
        self.after_terms_re = re.compile(rf"(?<![\w-])(?:{killed_after}|{injured_after})(?![\w-])", f)
        self.before_terms_re = re.compile(rf"(?<![\w-])(?:{killed_verbs}|{nominal}|{injured_verbs})\s", f)
        # Cheap pre-check: most sentences hold none of the terms, and the shapes above are costly.
        self.trigger_re = re.compile(rf"(?<![\w-]){_alt(terms)}(?![\w-])", f)

    def people(self, sent: str, s0: int, s1: int, background: Callable[[int, int], bool]) -> list[Person]:
        """The people `sent` says were killed or hurt; `background(start, end)` tells a span that
        belongs to an older event ("in the 2013 shooting death of ...")."""
        if not self.enabled or not self.trigger_re.search(sent) or self.hedge_re.search(sent):
            return []
        out: list[Person] = []
        taken: list[tuple[int, int]] = []
        died_here = False  # someone this sentence says died (a subject, not a verb's object)
        words = sent.split()
        # A title-case headline ("Man Shot, Killed Few Blocks Away") makes every pair of words a name.
        titled = len(words) >= 4 and sum(w[:1].isupper() for w in words) > 0.6 * len(words)
        # Each shape ends (subject) or starts (object) with its terms: without them it cannot match,
        # and a cheap search for the terms spares the costly shape on most sentences.
        shapes = [
            rx
            for rx, need in (
                (self.reduced_re, self.reduced_need_re),
                (self.relative_re, self.intransitive_need_re),
                (self.subject_re, self.after_terms_re),
                (self.object_re, self.before_terms_re),
            )
            if rx is not None and need.search(sent)
        ]
        for rx in shapes:
            for m in rx.finditer(sent):
                if any(a <= m.start("who") < b for a, b in taken) or background(m.start(), m.end()):
                    continue
                if (
                    rx is self.subject_re
                    and not self.passive_aux_re.search(m.group("aux"))
                    and not self.intransitive_re.fullmatch(m.group("killed") or m.group("injured"))
                    and (self.pron_re.match(m.group("who")) or not self.passive_end_re.match(sent, m.end()))
                ):
                    # "he killed time", "the storm killed 40 people", "a man apparently shot his
                    # wife": a participle with no form of "be" before it and an object is active
                    # voice; "Man killed in crash" (a headline) is passive.
                    continue
                category = "killed" if rx in (self.reduced_re, self.relative_re) or m.group("killed") else "injured"
                died_here |= category == "killed" and rx is not self.object_re
                taken.append(m.span("who"))
                # (an object, "shot another man", is other than the shooter, not other than the dead)
                alive = category == "injured" and self._alive(sent, m.group("who"), m.groupdict().get("aux"))
                for key, victim in self._persons(m.group("who"), titled):
                    out.append(Person(category, key, victim, s0, s1, sent, alive))
        if self.wound_re is not None and not self.death_re.search(sent):
            w = self.wound_re.search(sent)
            if w is not None and not background(w.start(), w.end()):
                before = list(self.person_re.finditer(sent, 0, w.start()))
                if before and not any(a <= before[-1].start() < b for a, b in taken):
                    who = before[-1].group()
                    alive = self._alive(sent, who)
                    taken.append(before[-1].span())
                    for key, victim in self._persons(who, titled):
                        out.append(Person("injured", key, victim, s0, s1, sent, alive))
        e = self.event_re.search(sent)
        if e is not None and not background(e.start(), e.end()):
            # "the fatal shooting", "a shooting death": someone died, who is not said here.
            out.append(Person("killed", "event", None, s0, s1, sent))
        r = self.reflexive_re.search(sent)
        if r is not None and self.attempted_re.search(sent[: r.start()]):
            r = None  # "an attempted murder-suicide": nobody died
        explicit = r is not None  # "killed himself", "murder-suicide"; else "shot himself" by a death
        if r is None and self.death_re.search(sent):
            r = self.reflexive_death_re.search(sent)
        if r is not None and died_here:
            # "the boy has died after he shot himself", "a man and his daughter were found dead in a
            # murder-suicide": the one who fired is among those the sentence says died, counted there
            r = None
        if r is not None and not background(r.start(), r.end()):
            if (self.accident_re is not None and self.accident_re.search(sent)) or (
                not explicit and self._child_before(sent, r.start())
            ):
                # "the boy accidentally shot himself and died", "a 3-year-old who shot himself has
                # died": the one who fired is the victim, no perpetrator beside him
                out.append(Person("killed", ACCIDENT, None, s0, s1, sent))
            else:
                out.append(Person("killed", "perpetrator", PERPETRATOR, s0, s1, sent))
        elif self.self_hurt_re is not None and not self.death_re.search(sent):
            h = self.self_hurt_re.search(sent)
            if h is not None and not background(h.start(), h.end()):
                out.append(Person("injured", SELF, None, s0, s1, sent))
        return out

    def _child_before(self, sent: str, end: int) -> bool:
        """Whether a child (a toddler; the first age told, under ``CHILD_AGE``) is named in `sent` before
        `end`, and not as one killed ("a man kills his 7-year-old daughter, himself": the father fired)."""
        head = sent[:end]
        if self.killer_re.search(head):
            return False
        if self.child_re is not None and self.child_re.search(head):
            return True
        first = self.age_re.search(head)  # the sentence's first age is its subject's, most often
        return first is not None and int(first.group().split("-")[0]) < CHILD_AGE

    def _alive(self, sent: str, who: str, aux: str | None = "") -> bool:
        """Whether the hurt person ``who`` is said to live, or told apart from the dead in ``who`` or in
        ``aux`` (the auxiliaries before a subject's verb; None for an object: no such test)."""
        if self.alive_re is not None and self.alive_re.search(sent):
            return True
        if self.other_re is None or aux is None:
            return False
        return bool(self.other_re.search(who) or self.other_re.search(aux))

    def _persons(self, who: str, titled: bool = False) -> list[tuple[str, str | None]]:
        """(key, victim) of each person in a subject or object phrase; an apposition name after a
        noun ("his wife, Jane Doe,") is the same person."""
        if self.pron_re.match(who.strip()):
            return [("pron", None)]
        out: list[tuple[str, str | None]] = []
        for m in self.person_re.finditer(who):
            part = m.group()
            n = self.noun_re.search(part)
            nm = self.name_re.search(part)
            if nm and (titled or any(w.lower() in self.not_name for w in nm.group().split())):
                nm = None
                if not n:
                    continue
            if nm and not (n and n.start() < nm.start()):
                out.append((f"name:{nm.group().split()[-1].lower()}", "people"))
            elif n:
                out.append((f"noun:{n.group().lower()}", self.nouns.get(n.group().lower())))
            else:
                out.append(("noun:person", "people"))
        return out


def implied_figures(people: Iterable[Person]) -> dict[str, int]:
    """{category: how many people the article implies were killed / injured (not killed)}.

    Distinct names and nouns may be the same people, so the count is the larger of the distinct
    names and the most distinct nouns of one sentence (a pronoun only counts when nothing else does);
    a perpetrator who killed himself is one more.
    Someone hurt who is also among the killed ("the man was shot ... Roe died") is not injured:
    the injured count drops those keys, and as many noun/pronoun keys as the killed names stand for,
    but never below the people said to be alive (returned as "alive", which the summary keeps too).
    One hurt by his own shot counts only where nobody else is killed or hurt.
    """
    people = list(people)
    out: dict[str, int] = {}
    killed = [p for p in people if p.category == "killed" and p.victim != PERPETRATOR and p.key != ACCIDENT]
    k_count = _distinct(killed)
    perp = any(p.victim == PERPETRATOR for p in people)
    out["killed"] = k_count + (1 if perp else 0)
    if not out["killed"] and any(p.key == ACCIDENT for p in people):
        out["killed"] = 1  # the one who shot himself by accident, named by no other shape
    killed_keys = {p.key for p in killed}
    hurt = [p for p in people if p.category == "injured" and p.key not in killed_keys and p.key not in ("pron", SELF)]
    if (
        not hurt
        and not killed
        and not perp
        and any(p.category == "injured" and p.key in ("pron", SELF) for p in people)
    ):
        # one hurt by his own shot, or "he was shot in the leg": nobody else named killed or hurt
        out["killed"], out["injured"], out["alive"] = 0, 1, 0
        return out
    i_count = _distinct(hurt)
    alive = _distinct([p for p in hurt if p.alive])
    if killed and i_count:
        # "the boy was shot" + "Roe died": an unnamed noun hurt may be a named person killed.
        names_k = {p.key for p in killed if p.key.startswith("name:")}
        nouns_h = {p.key for p in hurt if not p.key.startswith("name:")}
        names_h = {p.key for p in hurt if p.key.startswith("name:")}
        i_count = max(len(names_h), len(nouns_h) - max(len(names_k), 1 if not names_k else 0))
    out["injured"] = max(i_count, alive, 0)
    out["alive"] = alive  # of the injured, those no killed person can be
    return out


def _distinct(people: list[Person]) -> int:
    names = {p.key for p in people if p.key.startswith("name:")}
    by_sentence: dict[int, set[str]] = {}
    for p in people:
        if p.key.startswith("noun:"):
            by_sentence.setdefault(p.start, set()).add(p.key)
    nouns = max((len(v) for v in by_sentence.values()), default=0)
    pron = any(p.key in ("pron", "event") for p in people)
    return max(len(names), nouns, 1 if pron else 0)
