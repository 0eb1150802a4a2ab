"""Casualty extraction (stages/enrich/casualties.py), keyword matching and the enrich stage.

Table-driven: each case is a sentence we wrote and the mentions it must (or must not) yield.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from wirewatch import contract
from wirewatch.stages.enrich import DEFAULT_KEYWORDS, analysed_text, enrich
from wirewatch.stages.enrich.casualties import Mention, find_casualties, split_sentences, summarize
from wirewatch.stages.enrich.keywords import match_keywords

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"

# (sentence, [(category, count, min, max, qualifier, victim), ...])
POSITIVE = [
    ("At least 12 people were killed in the attack.", [("killed", 12, 12, None, "at_least", "people")]),
    ("The airstrike killed at least 12 people.", [("killed", 12, 12, None, "at_least", "people")]),
    ("12 people were killed.", [("killed", 12, 12, 12, None, "people")]),
    ("The blast left 5 dead.", [("killed", 5, 5, 5, None, None)]),
    ("The death toll rose to 40.", [("killed", 40, 40, 40, None, None)]),
    (
        "12 dead and 30 injured after the storm.",
        [("killed", 12, 12, 12, None, None), ("injured", 30, 30, 30, None, None)],
    ),
    (
        "Gunmen opened fire, killing 3 soldiers and wounding two.",
        [("killed", 3, 3, 3, None, "soldiers"), ("injured", 2, 2, 2, None, "soldiers")],
    ),
    ("Seven people died when the bus overturned.", [("killed", 7, 7, 7, None, "people")]),
    ("Twenty-three people were hurt.", [("injured", 23, 23, 23, None, "people")]),
    ("Two hundred people are missing after the flood.", [("missing", 200, 200, 200, None, "people")]),
    ("The gunman wounded two hundred and fifty people.", [("injured", 250, 250, 250, None, "people")]),
    ("More than 1,200 people have died.", [("killed", 1200, 1200, None, "more_than", "people")]),
    ("Over 300 civilians were wounded.", [("injured", 300, 300, None, "more_than", "civilians")]),
    ("Nearly 40 people were killed.", [("killed", 40, 36, 40, "nearly", "people")]),
    ("Almost 40 people were killed.", [("killed", 40, 36, 40, "nearly", "people")]),
    ("About 40 people were injured.", [("injured", 40, 36, 44, "about", "people")]),
    ("Around 300 protesters were wounded in the clashes.", [("injured", 300, 270, 330, "about", "protesters")]),
    ("Up to 5 people were killed.", [("killed", 1, 1, 5, "up_to", "people")]),
    ("As many as 80 miners are missing.", [("missing", 1, 1, 80, "up_to", "workers")]),
    ("Between 10 and 15 civilians were killed.", [("killed", 10, 10, 15, None, "civilians")]),
    ("Two or three people were hurt.", [("injured", 2, 2, 3, None, "people")]),
    ("A dozen soldiers were wounded.", [("injured", 12, 12, 12, None, "soldiers")]),
    ("Half a dozen people were injured.", [("injured", 6, 6, 6, None, "people")]),
    ("At least two dozen people died.", [("killed", 24, 24, None, "at_least", "people")]),
    ("Dozens of people were injured.", [("injured", 24, 24, 99, None, "people")]),
    ("Scores of protesters were wounded.", [("injured", 40, 40, 199, None, "protesters")]),
    ("Hundreds were feared dead.", [("killed", 200, 200, 999, None, None)]),
    ("Tens of thousands of people are missing.", [("missing", 20000, 20000, 99999, None, "people")]),
    ("Several police officers were hurt.", [("injured", 3, 3, 9, None, "police")]),
    ("A man was shot dead in the street.", [("killed", 1, 1, 1, None, "men")]),
    ("A 25-year-old man was stabbed to death.", [("killed", 1, 1, 1, None, "men")]),
    ("A 25-year-old was killed.", [("killed", 1, 1, 1, None, "people")]),
    ("A police officer was wounded.", [("injured", 1, 1, 1, None, "police")]),
    ("A child has died after the fire.", [("killed", 1, 1, 1, None, "children")]),
    (
        "One person died and two others were hospitalised.",
        [("killed", 1, 1, 1, None, "people"), ("injured", 2, 2, 2, None, "people")],
    ),
    (
        "The death toll from Monday's quake has risen from 12 to 40, officials said.",
        [("killed", 40, 40, 40, None, None)],
    ),
    ("The death toll stands at 1.2 million.", [("killed", 1200000, 1200000, 1200000, None, None)]),
    ("12 people, including three children, were killed.", [("killed", 12, 12, 12, None, "people")]),
    # Times and repetitions are not counts; the person said to be killed or hurt still counts one.
    ("She was killed at 10:30 on Tuesday.", [("killed", 1, 1, 1, "implied", None)]),
    ("He was wounded 3 times in 2 years.", [("injured", 1, 1, 1, "implied", None)]),
    ("Two people in the car were killed.", [("killed", 2, 2, 2, None, "people")]),
    (
        "The attack left 12 people dead and 40 wounded.",
        [("killed", 12, 12, 12, None, "people"), ("injured", 40, 40, 40, None, "people")],
    ),
    ("Floods Kill 12 In Kenya", [("killed", 12, 12, 12, None, None)]),
    (
        "Twelve killed, 30 hurt in market blast",
        [("killed", 12, 12, 12, None, None), ("injured", 30, 30, 30, None, None)],
    ),
    (
        "The earthquake, which struck at 3 am, killed more than 2,000 people and injured about 5,000.",
        [("killed", 2000, 2000, None, "more_than", "people"), ("injured", 5000, 4500, 5500, "about", "people")],
    ),
    ("As many as 10,000 people may have died.", [("killed", 1, 1, 10000, "up_to", "people")]),
    (
        "Three Israelis were killed and two Palestinians wounded.",
        [("killed", 3, 3, 3, None, "israelis"), ("injured", 2, 2, 2, None, "palestinians")],
    ),
    ("A man aged 70 was killed.", [("killed", 1, 1, 1, None, "men")]),
    ("Three soldiers were killed on 12 March 2024.", [("killed", 3, 3, 3, None, "soldiers")]),
    ("Fourteen people are unaccounted for.", [("missing", 14, 14, 14, None, "people")]),
    ("Rescuers are searching for 14 people who remain missing.", [("missing", 14, 14, 14, None, "people")]),
    ("Ten people have lost their lives.", [("killed", 10, 10, 10, None, "people")]),
    ("The 12 victims were all killed instantly.", [("killed", 12, 12, 12, None, "victims")]),
    ("The bus was carrying 40 passengers when it crashed, killing 12.", [("killed", 12, 12, 12, None, None)]),
    ("Some 40 bodies were recovered.", [("killed", 40, 36, 44, "about", None)]),
    ("The fire claimed the lives of 9 residents.", [("killed", 9, 9, 9, None, "residents")]),
]

# Sentences that must yield no mention at all.
NEGATIVE = [
    "No one was hurt.",
    "Nobody was killed in the fire.",
    "There were no casualties.",
    "No deaths were reported.",
    "None of the 40 passengers were hurt.",
    "A 25-year-old man was arrested.",
    "The law was passed in 2019.",
    "The summit opened on 12 March.",
    "The summit opened on March 12.",
    "Officials warned the storm could kill thousands.",
    "The flood could leave thousands dead.",
    "In 2019, 12 people were killed in a similar blast.",
    "The attack was the deadliest since 2015, when 40 people died.",
    "Since the war began, more than 30,000 people have been killed.",
    "Forty people died in a similar attack last year.",
    "Thousands could have been killed.",
    "Residents at 25 Elm Street said two dozen homes were destroyed.",
    "Thousands could be killed if the dam breaks.",
    "The group vowed to kill 100 soldiers.",
    "The death toll is expected to rise to 100.",
    "Officials fear the death toll could reach 1,000.",
    "The company said 500 workers would lose their jobs.",
    "He killed time for 20 minutes.",
    "The team scored 3 goals and killed the game.",
    "The plane, Flight 370, vanished with 239 people on board.",
    "A wounded soldier told reporters he was fine.",
    "A dead tree fell on 3 cars.",
    "12 people were not injured.",
    "Prices rose 12 percent.",
    "Two dozen homes were destroyed.",
    "Aged 12, she moved to the capital.",
    "The marathon drew 40,000 runners.",
]


def _tuples(mentions: list[Mention]) -> list[tuple]:
    return [(m.category, m.count, m.min, m.max, m.qualifier, m.victim) for m in mentions]


@pytest.mark.parametrize(("sentence", "expected"), POSITIVE, ids=[s for s, _ in POSITIVE])
def test_positive(sentence: str, expected: list[tuple]) -> None:
    mentions = find_casualties(sentence)
    assert _tuples(mentions) == expected
    for m in mentions:
        assert m.evidence == sentence[m.start : m.end]
        assert m.min <= m.count and (m.max is None or m.count <= m.max)


@pytest.mark.parametrize("sentence", NEGATIVE)
def test_negative(sentence: str) -> None:
    assert find_casualties(sentence) == []


def test_offsets_point_at_each_sentence() -> None:
    text = "Heavy rain fell on Monday. Mr. Smith said 3 people died.\nLater, 7 were injured!  Police arrived."
    mentions = find_casualties(text)
    assert [(m.category, m.count) for m in mentions] == [("killed", 3), ("injured", 7)]
    assert [text[m.start : m.end] for m in mentions] == ["Mr. Smith said 3 people died.", "Later, 7 were injured!"]


def test_split_sentences_keeps_abbreviations_and_decimals() -> None:
    text = "The U.S. embassy said 2.5 tonnes arrived. Dr. Lee agreed."
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "The U.S. embassy said 2.5 tonnes arrived.",
        "Dr. Lee agreed.",
    ]


def test_summarize_reports_largest_toll_not_sum() -> None:
    text = (
        "Blast kills at least nine\n\nAt least nine people were killed on Monday. "
        "By Tuesday the death toll had risen to 14, and 30 people were injured. Two others are missing."
    )
    assert summarize(find_casualties(text)) == {
        "killed": {"count": 14, "min": 14, "max": 14},
        "injured": {"count": 30, "min": 30, "max": 30},
        "missing": {"count": 2, "min": 2, "max": 2},
    }


def test_summarize_empty() -> None:
    assert summarize([]) == {"killed": None, "injured": None, "missing": None}


def test_unknown_language_falls_back_to_english() -> None:
    assert _tuples(find_casualties("12 people were killed.", "xx")) == [("killed", 12, 12, 12, None, "people")]


KEYWORDS = [
    ("An Air  Strike hit the town.", ["air strike", "strike"], ["air strike", "strike"]),
    ("Attacks continued.", ["attack"], []),
    ("A counterattack began.", ["attack"], []),
    ("Shooting, then an explosion.", ["explosion", "shooting", "Explosion"], ["explosion", "shooting"]),
    ("The flood-hit area", ["flood"], ["flood"]),
    ("Nothing happened.", DEFAULT_KEYWORDS, []),
]


@pytest.mark.parametrize(("text", "keywords", "expected"), KEYWORDS)
def test_match_keywords(text: str, keywords: list[str], expected: list[str]) -> None:
    assert match_keywords(text, keywords) == expected


def _article(**over) -> dict:
    article = json.loads((EXAMPLES / "article.json").read_text())
    article.update(over)
    return article


def test_enrich_example_validates_and_reads_title_first() -> None:
    article = _article()
    before = copy.deepcopy(article)
    enriched = enrich(article)
    assert article == before  # a new dict; the input is untouched
    contract.validate("enriched", enriched)
    doc = analysed_text(article)
    assert doc.startswith(article["title"] + "\n\n")
    for c in enriched["casualties"]:
        assert doc[c["start"] : c["end"]] == c["evidence"]
    assert enriched["casualties"][0]["evidence"] == article["title"]
    assert enriched["figures"]["killed"] == {"count": 9, "min": 9, "max": None}
    assert enriched["figures"]["injured"] == {"count": 23, "min": 23, "max": 23}
    assert enriched["figures"]["missing"] is None
    assert "blast" in enriched["keywords"]


def test_enrich_ordinary_news_without_title() -> None:
    enriched = enrich(
        _article(title=None, text="The central bank kept rates at 4.5 percent in 2026."), keywords=["rates"]
    )
    contract.validate("enriched", enriched)
    assert enriched["casualties"] == []
    assert enriched["figures"] == {"killed": None, "injured": None, "missing": None}
    assert enriched["keywords"] == ["rates"]


# (language, sentence, [(category, count, min, max, qualifier, victim), ...])
MULTILINGUAL = [
    (
        "fr",
        "Au moins 12 personnes ont été tuées et une trentaine blessées.",
        [("killed", 12, 12, None, "at_least", "people"), ("injured", 30, 30, 39, None, "people")],
    ),
    ("fr", "Un homme a été tué par balle.", [("killed", 1, 1, 1, None, "men")]),
    ("fr", "Un homme de 25 ans a été blessé.", [("injured", 1, 1, 1, None, "men")]),
    ("fr", "Le bilan s'élève désormais à quatre-vingt-dix-sept morts.", [("killed", 97, 97, 97, None, None)]),
    ("fr", "Quatre-vingts civils ont péri.", [("killed", 80, 80, 80, None, "civilians")]),
    ("fr", "Soixante et onze soldats ont été tués.", [("killed", 71, 71, 71, None, "soldiers")]),
    ("fr", "L'attaque a tué 1 200 civils.", [("killed", 1200, 1200, 1200, None, "civilians")]),
    ("fr", "Des dizaines de manifestants ont été blessés.", [("injured", 20, 20, 99, None, "protesters")]),
    ("fr", "Près de 40 personnes sont mortes.", [("killed", 40, 36, 40, "nearly", "people")]),
    (
        "ar",
        "قتل 12 شخصا وأصيب 30 آخرون.",
        [("killed", 12, 12, 12, None, "people"), ("injured", 30, 30, 30, None, "people")],
    ),
    ("ar", "أسفر الهجوم عن مقتل ما لا يقل عن ١٥ مدنيا.", [("killed", 15, 15, None, "at_least", "civilians")]),
    (
        "ar",
        "ارتفعت حصيلة القتلى إلى 40 قتيلا و150 جريحا.",
        [("killed", 40, 40, 40, None, None), ("injured", 150, 150, 150, None, None)],
    ),
    ("ar", "قتل رجل في إطلاق نار.", [("killed", 1, 1, 1, None, "men")]),
    (
        "ar",
        "مقتل شخصين وإصابة ثلاثة أطفال.",
        [("killed", 2, 2, 2, None, "people"), ("injured", 3, 3, 3, None, "children")],
    ),
    ("ar", "لقي خمسة وعشرون شخصا حتفهم.", [("killed", 25, 25, 25, None, "people")]),
    ("ar", "أصيب عشرات الأشخاص.", [("injured", 20, 20, 99, None, "people")]),
    # Added with the blind French/Arabic article round (articles_fr/ar.jsonl).
    (
        "fr",
        "L'explosion a fait un mort et une quinzaine de blessés.",
        [("killed", 1, 1, 1, None, None), ("injured", 15, 15, 19, None, None)],
    ),
    ("fr", "Le préfet a indiqué que 12 personnes avaient été tuées.", [("killed", 12, 12, 12, None, "people")]),
    ("fr", "Des hommes armés ont tué trois soldats et cinq civils.", [("killed", 8, 8, 8, None, "soldiers")]),
    ("ar", "قتل ثلاثة جنود وخمسة مدنيين في هجوم.", [("killed", 8, 8, 8, None, "soldiers")]),
    ("ar", "ارتفعت الحصيلة إلى 2946 قتيلا.", [("killed", 2946, 2946, 2946, None, None)]),
    ("ar", "غرق 23 مهاجرا قبالة السواحل.", [("killed", 23, 23, 23, None, "migrants")]),
    ("ar", "نقل 25 عاملا إلى المستشفى.", [("injured", 25, 25, 25, None, "workers")]),
]

MULTILINGUAL_NEGATIVE = [
    ("fr", "Personne n'a été blessé."),
    ("fr", "Aucune personne n'a été tuée."),
    ("fr", "L'an dernier, 40 personnes avaient été tuées."),
    ("fr", "La tempête pourrait faire des milliers de morts."),
    ("fr", "Un homme de 25 ans a été arrêté le 12 mars."),
    ("ar", "لم يصب أحد بأذى."),
    ("ar", "وكان 50 شخصا قد قتلوا في هجوم مماثل العام الماضي."),
    ("ar", "منذ بداية الحرب قتل أكثر من 30 ألف شخص."),
    ("fr", "Les attentats du 13 novembre 2015, qui avaient fait 130 morts, restent dans les mémoires."),
    ("ar", "في الذكرى الخامسة للانفجار الذي أودى بحياة أكثر من 220 شخصا."),
]


@pytest.mark.parametrize(("language", "sentence", "expected"), MULTILINGUAL, ids=[s for _, s, _ in MULTILINGUAL])
def test_multilingual_positive(language: str, sentence: str, expected: list[tuple]) -> None:
    mentions = find_casualties(sentence, language)
    assert _tuples(mentions) == expected
    for m in mentions:
        assert m.evidence == sentence[m.start : m.end]


@pytest.mark.parametrize(("language", "sentence"), MULTILINGUAL_NEGATIVE)
def test_multilingual_negative(language: str, sentence: str) -> None:
    assert find_casualties(sentence, language) == []


def test_arabic_sentences_split_on_full_stops() -> None:
    text = "قتل 3 أشخاص. وأصيب 7 آخرون؟ انتهى."
    mentions = find_casualties(text, "ar")
    assert [(m.category, m.count, m.evidence) for m in mentions] == [
        ("killed", 3, "قتل 3 أشخاص."),
        ("injured", 7, "وأصيب 7 آخرون؟"),
    ]


@pytest.mark.parametrize(
    ("language", "sentence", "source"),
    [
        ("en", "At least 12 people were killed, the health ministry said.", "the health ministry"),
        ("en", "According to local officials, 12 people died.", "local officials"),
        ("en", "Police said 3 people were wounded.", "Police"),
        ("en", "12 people were killed.", None),
        ("fr", "Au moins 12 personnes ont été tuées, selon le ministère de la Santé.", "le ministère de la Santé"),
        ("ar", "قتل 12 شخصا، بحسب وزارة الصحة.", "وزارة الصحة"),
    ],
)
def test_attribution(language: str, sentence: str, source: str | None) -> None:
    (m, *_) = find_casualties(sentence, language)
    assert m.attribution == source


def test_background_year_depends_on_publication() -> None:
    s = "In 2025, 12 people were killed."
    assert find_casualties(s, "en", published_year=2026) == []
    assert [m.count for m in find_casualties(s, "en", published_year=2025)] == [12]


def test_every_lexicon_loads_and_reads_its_numbers() -> None:
    from wirewatch.stages.enrich.casualties import languages, load_lexicon

    assert {"en", "fr", "ar"} <= set(languages())
    assert load_lexicon("fr").number("quatre-vingt-dix-neuf") == 99
    assert load_lexicon("fr").number("deux mille cinq cents") == 2500
    assert load_lexicon("ar").number("خمسة وعشرون") == 25
    assert load_lexicon("en").number("two hundred and fifty") == 250


def test_enrich_adds_places_language_and_attribution() -> None:
    enriched = enrich(
        _article(
            title="Strike on Aleppo kills 4",
            text="Four civilians were killed in Aleppo, Syria, the civil defence said.",
            language=None,
        )
    )
    contract.validate("enriched", enriched)
    assert enriched["language"] == "en"
    assert [p["name"] for p in enriched["places"]] == ["Aleppo", "Syria"]
    assert enriched["figures"]["killed"]["count"] == 4
    assert enriched["casualties"][-1]["attribution"] == "the civil defence"


def test_enrich_arabic_article_declared_english() -> None:
    enriched = enrich(_article(title=None, text="قتل 12 شخصا في غارة على غزة، بحسب وزارة الصحة.", language="en"))
    contract.validate("enriched", enriched)
    assert enriched["language"] == "ar"
    assert enriched["figures"]["killed"]["count"] == 12
    assert enriched["places"][0]["country_code"] == "PS"


# Shapes met in full news articles (tests/corpus/casualties/articles_en.jsonl).
ARTICLE_SHAPES = [
    ("Three soldiers and five civilians were killed in the ambush.", "killed", 8),
    ("The attack killed four soldiers, two customs officials and a driver.", "killed", 7),
    ("Two Israelis and a Palestinian were killed overnight.", "killed", 3),
    ("Rockets hit the street, killing 16 civilians, a local volunteer group said.", "killed", 16),
    ("Four people were killed, including a security guard, and 17 were wounded.", "injured", 17),
    ("A man, 27, and a woman were shot dead.", "killed", 1),
    ("Four elderly residents of a care home died in the fire.", "killed", 4),
    ("Four die in fire at care home", "killed", 4),
    ("The plane crashed, killing all three people on board.", "killed", 3),
    ("Twenty-three others were taken to hospital.", "injured", 23),
    ("Around 30 people were treated for gunshot wounds.", "injured", 30),
    (
        "The number of people killed when the factory collapsed on the outskirts of the city on Tuesday rose to 67.",
        "killed",
        67,
    ),
]

RECALLED_TOLLS = [
    "The collapse revived memories of the 2013 disaster, in which 1,134 people died.",
    "Hundreds gathered to mark 25 years since the earthquake that killed more than 17,000 people.",
    "Last August, similar fighting in the city killed 55 people.",
    "Floods and landslides kill hundreds of people every year.",
    "Communal violence has killed thousands of people over the past decade.",
    "Press freedom groups say at least 14 journalists have been killed in the conflict.",
    "A memorial was held for the 71 people who died in the fire, seven years after the blaze.",
]


@pytest.mark.parametrize(("sentence", "category", "count"), ARTICLE_SHAPES, ids=[s for s, _, _ in ARTICLE_SHAPES])
def test_article_shapes(sentence: str, category: str, count: int) -> None:
    assert (summarize(find_casualties(sentence))[category] or {}).get("count") == count


@pytest.mark.parametrize("sentence", RECALLED_TOLLS)
def test_recalled_tolls_are_not_the_event(sentence: str) -> None:
    assert find_casualties(sentence) == []


# Shapes found in the blind round (tests/corpus/casualties/articles_en_2.jsonl).


@pytest.mark.parametrize(
    "sentence, killed, injured",
    [
        ("Two people were shot, one fatally, early Sunday outside a bar.", 1, 1),
        ("At least 28 people were shot, four of them fatally, over the weekend.", 4, 24),
        ("The dead included four women, three men and a 12-year-old boy, prosecutors said.", 8, None),
        ("A dozen people lost their lives and 20 others sustained injuries.", 12, 20),
        ("Forty-six people were killed and at least 22 others were being treated for burns.", 46, 22),
    ],
)
def test_blind_round_shapes(sentence: str, killed: int, injured: int | None) -> None:
    figures = summarize(find_casualties(sentence))
    assert (figures["killed"] or {}).get("count") == killed
    assert (figures["injured"] or {}).get("count") == injured


def test_link_lines_and_related_headlines_are_other_events() -> None:
    from wirewatch.stages.enrich import enrich

    text = (
        "Lawmakers approved the bill by 185 votes to 72.\n\nRead more: Six killed as police fire on crowds\n\n"
        "RELATED COVERAGE\nFire at ski resort hotel kills 76\nFloods kill 12 in the north\n\n"
        "The bill now goes to the president."
    )
    assert enrich({"text": text})["figures"]["killed"] is None


def test_headline_caps_a_larger_toll_further_down() -> None:
    from wirewatch.stages.enrich import enrich

    text = (
        "Strikes kill at least 32 in Gaza, medics say\n\nStrikes killed at least 32 people on Sunday. "
        "The war has killed more than 42,000 people, according to the health ministry."
    )
    assert enrich({"text": text})["figures"]["killed"]["count"] == 32
    # Without a headline the largest figure stands, as before.
    assert enrich({"text": text.split("\n\n", 1)[1]})["figures"]["killed"]["count"] == 42000


def test_a_full_date_does_not_hide_an_old_year() -> None:
    s = "More than 170,000 people died when the waves hit on Dec. 26, 2004, after a quake."
    assert find_casualties(s, "en", published_year=2024) == []
