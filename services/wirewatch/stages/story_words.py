"""Words and names of an article's text, for story matching: headline terms and proper nouns.

In:  a headline, a lead, a body (plain text) and the article's language.
Out: ``_content`` -> the stems of a headline's words that can tell one event from another;
     ``_proper_nouns`` -> names the text writes as proper nouns ("Immokalee", "Libby Lake");
     ``_people`` -> people named early in the text ("first last" stems), not officials,
     organisations, places or bylines. ``_stem`` / ``_tokens`` are the shared word helpers.

Pure. stages/story_view.py builds the ``ArticleView`` from these.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from .. import yamlfile

_WORD = re.compile(r"\w+", re.UNICODE)
# Words that say nothing about which event it is, beyond the casualty lexicon's own vocabulary
# (``_ignored``): function words, news furniture, and the kind of event itself ("shooting" is in
# every headline about a shooting, whichever shooting it is).
_STOP = frozenset(
    """
a an the of in on at to for from by with and or but as is are was were be been has have had it its
this that these those after before over under into near amid during says said say new latest live
update updates least more than about nearly some dozens dozen hundreds scores people person least
killed kill kills killing dead death deaths die dies died toll tolls rise rises rose risen climbs
climbed climb reach reaches reached injured injures injuring wounded wound wounds hurt missing
casualties casualty victims leaves leave left least now
shot shots shoot shoots shooting shootings gunfire gunshot gunshots gunman gunmen gun guns armed
stabbing stabbed stab deadly fatal fatally critical critically seriously hospital old aged year
accident accidental accidentally mishap apparent murder murders murdered homicide homicides slaying
slayings suicide himself herself themselves self incident
news video photos watch breaking report reports police updated
monday tuesday wednesday thursday friday saturday sunday weekend today tonight yesterday night
morning afternoon evening early late north south east west northeast northwest southeast southwest
ne nw se sw side county co parish township
he she him her his hers they them their theirs we us our you your i me my who whom whose which what
le la les de des du un une et en au aux par pour sur dans morts mort blessés bilan
lundi mardi mercredi jeudi vendredi samedi dimanche nord sud est ouest
fusillade fusillades tir tirs balle balles coups feu arme armé meurtrier meurtrière mortel mortelle
في من على إلى مقتل قتل قتلى قتيل جرحى جريح إصابة مصرع إطلاق النار نار هجوم مسلح
""".split()
)
_STEMMERS = {"en": "english", "fr": "french", "ar": "arabic"}
# Lexicon entries whose words are the vocabulary of tolls and victims, not of one event.
_LEXICON_KEYS = ("categories", "split_fatal", "victims", "numbers", "vague", "units", "stopwords", "aux", "qualifiers")


def _lexicon_words(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield from _WORD.findall(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _lexicon_words(k)
            yield from _lexicon_words(v)
    elif isinstance(value, list):
        for v in value:
            yield from _lexicon_words(v)


@lru_cache(maxsize=8)
def _stemmer(language: str) -> Any:  # a snowballstemmer stemmer (the library has no types)
    import snowballstemmer  # Snowball's light stemmers for en/fr/ar: "shootings" -> "shoot", pure Python

    name = _STEMMERS.get(language)
    return snowballstemmer.stemmer(name) if name else None


@lru_cache(maxsize=65536)
def _stem(word: str, language: str) -> str:
    st = _stemmer(language)
    return st.stemWord(word) if st is not None else word


@lru_cache(maxsize=8)
def _ignored(language: str) -> frozenset[str]:
    """Stems that never make two headlines one event: _STOP and the casualty lexicon's vocabulary."""
    from .enrich.casualties import LEXICON_DIR

    words = set(_STOP)
    path = LEXICON_DIR / f"{language}.yaml"
    if path.is_file():
        data = yamlfile.load(path.read_text(encoding="utf-8")) or {}
        for key in _LEXICON_KEYS:
            words.update(w.casefold() for w in _lexicon_words(data.get(key)))
    return frozenset(_stem(w, language) for w in words) | frozenset(words)


def _lang(language: str | None) -> str:
    return (language or "en").split("-")[0].split("_")[0].lower()


def _tokens(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text or "")]


def _content(title: str | None, language: str | None = None) -> frozenset[str]:
    """The stems of a headline's words that can tell one event from another."""
    lang = _lang(language)
    ignored = _ignored(lang)
    out = set()
    for w in _tokens(title or ""):
        if w in ignored or len(w) < 2 or any(c.isdigit() for c in w):
            continue
        stem = _stem(w, lang)
        if stem not in ignored:
            out.add(stem)
    return frozenset(out)


def _body_words(body: str) -> tuple[frozenset[str], frozenset[str]]:
    """(words the body writes in lower case, capitalised words it writes inside a sentence)."""
    lower: set[str] = set()
    inside: set[str] = set()
    # A dateline names the place however it is written: "HARTFORD —", "Hartford, Conn. —".
    dateline = _DATELINE.match(body)
    if dateline:
        inside.update(w.capitalize() if w.isupper() else w for w in _WORD.findall(dateline.group(1)))
    for m in _WORD.finditer(body):
        w = m.group()
        if w.islower():
            lower.add(w)
        elif w[:1].isupper() and not _SENTENCE_START.search(body, max(0, m.start() - 4), m.start()):
            inside.add(w)
    return frozenset(lower), frozenset(inside)


_DATELINE = re.compile(r"\s*((?:[A-Z][\w'.]*\s?){1,4}?)\s*(?:,|\s[—–-]|\()")
_SENTENCE_START = re.compile(r"(?:^|[.!?:\"“”\n])\s*$")


def _proper_nouns(head: str, words: tuple[frozenset[str], frozenset[str]], language: str | None) -> frozenset[str]:
    """The names in `head` that the body (``_body_words``) writes as proper nouns: capitalised
    inside a sentence and never in lower case ("Immokalee", "Libby Lake"), as stems, one entry per
    name (consecutive such words are one name). Such a name shared by two headlines names the
    event (a neighbourhood, a venue, a person), however rare the word."""
    lang = _lang(language)
    ignored = _ignored(lang)
    lower, inside = words
    names: set[str] = set()
    run: list[tuple[str, int]] = []
    for m in _WORD.finditer(head):
        w = m.group()
        proper = (
            w in inside
            and w.lower() not in lower
            and len(w) >= 3
            and w.casefold() not in ignored
            and not any(c.isdigit() for c in w)
        )
        if proper:
            gap = head[run[-1][1] : m.start()] if run else ""
            if run and gap.strip():  # "Memphis, Tennessee" is two names
                names.add(" ".join(x for x, _ in run))
                run = []
            run.append((_stem(w.casefold(), lang), m.end()))
            continue
        if run:
            names.add(" ".join(x for x, _ in run))
            run = []
    if run:
        names.add(" ".join(x for x, _ in run))
    return frozenset(n for n in names if n not in ignored)


# Words that make a run of capitalised words an organisation, a building, a road, a product or page
# furniture rather than a person ("Crime Stoppers", "Associated Press", "Medical Center", "Google
# Play"): such names recur in every story an outlet or a city's police put out, whichever event.
_NOT_A_PERSON = (
    frozenset(
        """
police department dept sheriff sheriffs office county city news press associated center centre medical hospital
memorial examiner attorney district court courthouse jury bureau stoppers crime media group corporation corp inc
llc radio daily tribune post times herald journal sun university college school academy high park street avenue
road boulevard drive lane parkway highway church facebook twitter instagram youtube google caption rights reserved
image images getty wire metro state federal fire patrol trauma united page hotline tip apartments apartment club
bar lounge mall store market restaurant hotel motel inn airport station bank company services service team unit
division agency commission council jail prison detention correctional institute foundation association health care
regional children general national international american party senate house congress investigation
investigations homicide detectives special task force emergency rescue public safety play copy hide transcript
previous next story free like load email alerts privacy policy comments comment contact download map maps plus
ave st rd blvd dr ln hwy pike trail turnpike expressway freeway route loop row area side day eve year
christmas thanksgiving easter photo photos buy all update updated our my your their his her we lady
healthcare conduct felon felony reckless aggravated endangerment possession manslaughter assault battery
incident harbor heights beach valley hills hill lake lakes springs village ridge creek bay point gardens garden
quarter island port fort mount mt saint san santa los las el classic baseball football basketball
chevrolet chevy toyota honda ford nissan dodge jeep chrysler hyundai kia bmw mercedes buick cadillac gmc lexus
acura mazda volkswagen pontiac infiniti subaru
january february march april may june july august september october november december
""".split()
    )
    | _STOP
)
# A name right after one of these is an official's or a byline's: they recur across a city's events.
_TITLE_BEFORE = re.compile(
    r"(?:Sheriff|Chief|Officers?|Sgt|Sergeant|Lt|Lieutenant|Capt|Captain|Detective|Det|Deputy|"
    r"Cpl|Corporal|Trooper|Agent|Commander|Mayor|Judge|Attorney|Prosecutor|Dr|Rev|Reverend|"
    r"Pastor|Gov|Governor|Sen|Senator|Rep|Superintendent|Commissioner|Coroner|Director|"
    r"President|[Ss]pokes(?:man|woman|person)|[Rr]eporter|By|Photo|Copyright|Council(?:man|woman)|"
    r"Alderman|Ald|\w['’]s|notifications on|[Aa]ctivist|[Pp]hotographer|[Ee]ditor|[Ww]riter|[Cc]olumnist|"
    r"[Cc]orrespondent|[Aa]nchor)[.:]?\s+$|\w/$"
)  # "KDKA's Jo Doe", "AP/Jo Doe", "Photo: Jo Doe": bylines, credits; "activist Jo Doe": a public figure
_TITLE_IN = re.compile(
    r"\b(?:Spokes(?:man|woman|person)|Sheriff|Chief|Officer|Sgt|Sergeant|Lt|Capt|Captain|Detective|Deputy|Mayor|Judge|"
    r"President|Gov|Governor|Sen|Senator|Rep|Dr|Rev)\b"
)
# "Jane Roe • jroe@example.com", "Jane Roe / Daily Ledger", "Jane Roe, Staff": a byline or a credit
_BYLINE_AFTER = re.compile(r"\s*[•|/,:]?\s*\S+@|\s*/\s*[A-Z]|,\s*Staff\b")
_SUFFIXES = frozenset(("jr", "sr", "ii", "iii", "iv"))
# Capitalised words and initials ("J.", "Jr."): a sentence's full stop ends the run.
_CAPITALISED_RUN = re.compile(r"(?:(?:[A-ZÀ-Þ]\.|[JS]r\.|[A-ZÀ-Þ][\w'’-]*)[ \t]){1,5}[A-ZÀ-Þ][\w'’-]+")
# Written as a place: "in Oak Hollow", "an Oak Hollow man", "Oak Hollow police".
# (The lookahead only says what both ways begin with, an "i", "n", "o" or a capital: it changes no
# match, and lets the regex engine pass over every other position of the text at once, ~2x faster.)
_AS_PLACE = re.compile(
    r"(?=[inoA-ZÀ-Þ])(?:\b(?:in|near|outside)\s+("
    + _CAPITALISED_RUN.pattern
    + ")|("
    + _CAPITALISED_RUN.pattern
    + r")\s+(?:man|woman|teen|boy|girl|resident|residents|police|neighborhood|area|native)\b)"
)
_PEOPLE_WORDS = 200  # people named this early are the event's; a roundup names many
_FIRST_WORDS = re.compile(rf"\s*(?:\S+(?:\s+|$)){{0,{_PEOPLE_WORDS}}}")  # the last word of a short text too
_MAX_PEOPLE = 8  # more people than this in the first lines: a roundup of several events, no evidence
_MAX_BODY_PEOPLE = 24  # more than this in the whole text: a roundup, no evidence


# One article's view reads its people three ways (early, whole, central): what those share about the
# text is read once (str hashes are cached, so the lookup costs nothing).
@lru_cache(maxsize=4)
def _written_as_place(body: str) -> frozenset[str]:
    return frozenset(" ".join((m.group(1) or m.group(2)).split()) for m in _AS_PLACE.finditer(body))


@lru_cache(maxsize=4)
def _word_counts(body: str) -> Counter[str]:
    return Counter(_WORD.findall(body))


def _mentions(body: str, name: str) -> int:
    """How often `body` writes `name` as a whole word."""
    if _WORD.fullmatch(name):  # the common case: counted from the text's words, read once
        return _word_counts(body)[name]
    return len(re.findall(rf"(?<!\w){re.escape(name)}(?!\w)", body))


def _people(
    body: str, words: tuple[frozenset[str], frozenset[str]], language: str | None, whole: bool = False, central: int = 0
) -> frozenset[str]:
    """People named in `body`: runs of two or three capitalised words and initials ("Marta J. Velasquez", not
    "John H. Stroger Jr. Hospital") none of
    which the text also writes in lower case, as the stems of their first and last words. Not
    people: runs with a word of an organisation, a road or page furniture (``_NOT_A_PERSON``), in
    capitals, with an official's title before or in them, or written somewhere as a place ("in Oak
    Hollow"). Only the first ``_PEOPLE_WORDS`` words; none from a text naming more than
    ``_MAX_PEOPLE`` there (a roundup of several events). English titles and words: other languages
    get fewer names filtered out. A person named in two articles is evidence they report the same
    event beyond the headline (a victim, a suspect). `whole`: from the whole text, up to
    ``_MAX_BODY_PEOPLE`` (a trial report names its victims late, after the court's people).
    `central`: only those whose last name the text writes at least that many times (news names the
    people its story is about again and again by their last name; a byline, an institution read
    as a name or a passer-by comes once)."""
    head = body if whole else body[: _FIRST_WORDS.match(body).end()]  # type: ignore[union-attr]
    named = _named_people(head, body, _lang(language), words[0], _written_as_place(body))
    return _kept(named, _MAX_BODY_PEOPLE if whole else _MAX_PEOPLE, central, body)


def _people_of(
    body: str, words: tuple[frozenset[str], frozenset[str]], language: str | None, central: int
) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """``_people`` of `body` three ways at once: (early, whole, whole and `central`), from one
    scan of the whole text (and one of its first words when it is longer), not one per way."""
    lang, lower, as_place = _lang(language), words[0], _written_as_place(body)
    end = _FIRST_WORDS.match(body).end()  # type: ignore[union-attr]
    anywhere = _named_people(body, body, lang, lower, as_place)
    early = anywhere if end >= len(body) else _named_people(body[:end], body, lang, lower, as_place)
    return (
        _kept(early, _MAX_PEOPLE, 0, body),
        _kept(anywhere, _MAX_BODY_PEOPLE, 0, body),
        _kept(anywhere, _MAX_BODY_PEOPLE, central, body),
    )


def _named_people(
    head: str, body: str, lang: str, lower: frozenset[str], as_place: frozenset[str]
) -> dict[str, set[str]]:
    """The people ``_people`` finds in `head` (`body` or its first words), each with the last
    names it is written with there (``central`` counts those in the whole `body`)."""
    out: dict[str, set[str]] = {}
    for m in _CAPITALISED_RUN.finditer(head):
        ws = [w.rstrip(".") for w in m.group().split()]
        full = [w for w in ws if len(w) > 1 and w.casefold() not in _SUFFIXES]
        if not 2 <= len(full) <= 3 or " ".join(m.group().split()) in as_place or _TITLE_IN.search(m.group()):
            continue
        if any(_bare(w) in _NOT_A_PERSON or w.isupper() for w in full):
            continue
        if any(w.lower() in lower for w in full):  # "Officers", "Witnesses": words written in lower case too
            continue
        if _TITLE_BEFORE.search(head, max(0, m.start() - 24), m.start()) or _BYLINE_AFTER.match(head, m.end()):
            continue
        out.setdefault(f"{_name_stem(full[0], lang)} {_name_stem(full[-1], lang)}", set()).add(full[-1])
    return out


_POSSESSIVE = re.compile(r"['’‘]s?$")
_LETTERS = re.compile(r"[^\W\d_]+")


def _bare(word: str) -> str:
    """A word's letters up to its first other character, case-folded: "Children's" and a mis-decoded
    "Childrenâ€™s" are "children" (an institution's name, not a person's)."""
    m = _LETTERS.match(word.split("â€")[0])
    return m.group().casefold() if m else word.casefold()


_APOSTROPHES = re.compile(r"['’‘`]")


def _name_stem(word: str, lang: str) -> str:
    """A name's word as one key however it is written: "Duncan’s" and "Duncan", "De’Shaun" and
    "DeShaun" (a possessive, a typographic or a missing apostrophe are one name)."""
    return _stem(_APOSTROPHES.sub("", _POSSESSIVE.sub("", word)).casefold(), lang)


def _kept(named: dict[str, set[str]], most: int, central: int, body: str) -> frozenset[str]:
    """The people of `named` (``central``: whose last name `body` writes that often), none past `most`."""
    out = [p for p, last in named.items() if not central or any(_mentions(body, w) >= central for w in last)]
    return frozenset(out) if len(out) <= most else frozenset()


# A person's age as news gives it: "a 24-year-old man", "the 3-year-old", "Marta Velasquez, 41,"; in
# words and in any case too ("Sixteen-Year-Old Girl Shot": headlines capitalise it).
_AGE_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty"
).split()
_AGE = re.compile(
    rf"\b(\d{{1,2}}|{'|'.join(_AGE_WORDS)})[- ]years?[- ]old\b|(?-i:\b[A-Z][\w'’-]+,\s(\d{{1,2}}),)",
    re.IGNORECASE,
)
_MAX_AGES = 4  # more ages than this early in the text: a roundup of several events, no evidence


def _age(m: re.Match[str]) -> str:
    told = m.group(1) or m.group(2)
    return str(_AGE_WORDS.index(told.lower()) + 1) if told.isalpha() else told


def _ages(text: str) -> frozenset[str]:
    """The ages of people described early in `text` (its first ``_PEOPLE_WORDS`` words): a victim's
    or a suspect's age is told again in every report of the event, whoever writes it, and alike."""
    head = text[: _FIRST_WORDS.match(text).end()]  # type: ignore[union-attr]
    out = {_age(m) for m in _AGE.finditer(head)}
    return frozenset(out) if len(out) <= _MAX_AGES else frozenset()
