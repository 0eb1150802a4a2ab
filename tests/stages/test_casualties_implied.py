"""Implicit counts (stages/enrich/implied.py) and numbers that are not tolls, on sentences we wrote.

Each case is an article text and the killed/injured figures the enrich stage must report.
"""

from __future__ import annotations

import pytest

from wirewatch.stages.enrich import enrich

# (text, killed, injured)
CASES = [
    # No number written: a person said to be killed or hurt counts one.
    ("A woman was found shot to death behind a laundromat on Friday.", 1, 0),
    ("Marcus Greene, 19, was killed in the crossfire, officers said.", 1, 0),
    ("A boy was accidentally shot in the thigh while cleaning a rifle.", 0, 1),
    ("Deputies say Carl Webb shot and killed his neighbor, then killed himself.", 2, 0),
    ("Tom Hale, 22, and Rita Voss, 20, died at the scene.", 2, 0),
    ("Three brothers and a cousin were shot and wounded outside the arcade.", 0, 4),
    # People said to be shot count as injured only beyond the number killed: the dead were shot too.
    ("The teen was shot near the library on Tuesday. He died at the hospital.", 1, 0),
    ("A man was killed outside the bar. Later a teen and his cousin were shot on Elm Street.", 1, 1),
    # "N were shot": those who died are not injured.
    ("Five people were shot near the park late Sunday. One man died at the hospital.", 1, 4),
    # A named victim still counts when the sentence gives another category a figure.
    ("17-year-old Rory Dale killed, three others wounded at a house party", 1, 3),
    # An event named as fatal: one killed, unless the article says more.
    ("Second suspect arrested in the fatal shooting outside a bowling alley", 1, 0),
    ("A female was found dead with a gunshot wound in a stairwell.", 1, 0),
    # Numbers that are not tolls.
    ("Oscar Pratt, 31, of Lakeview, died after the shooting.", 1, 0),
    ("Image 3 of 14 Neighbours gather where a teenager was killed.", 1, 0),
    ("Crews cleared the road by noon.\n1:42 Two dead after crash on the interstate\n0:58 Storm knocks out power", 0, 0),
    ("Police recovered an AK-47 and said nobody was hurt.", 0, 0),
    ("Photo 12 of 20 A cyclist was hurt when the van turned.", 0, 1),
    ("Posted March 4, 2016 Woman dead after house fire", 1, 0),
    # A round-up's sum is no incident's toll; the incident it reports one by one is.
    ("14 shot, 3 killed in separate shootings across the city\n\nA man was killed on Elm Avenue on Friday.", 1, 0),
    ("Detectives said 130 people were murdered in the county this year. A woman was wounded on Friday.", 0, 1),
    ("Two cousins among 23 killed in the city's bloodiest weekend\n\nA man was killed on Maple Road.", 1, 0),
    ("The robbery came after a crash on the bypass left 14 people dead. A clerk was wounded.", 0, 1),
    # Active voice and older events are no mention.
    ("He killed time at the library before the game.", 0, 0),
    ("The storm killed dozens of cattle in 2011, a farmer recalled.", 0, 0),
    # "fatally" before "shot" makes a death, never an injury; "shot ... has died" is a death too.
    ("Teen fatally shot outside a corner store\n\nDetectives are looking for a grey sedan.", 1, 0),
    ("Boy shot on Tuesday near the skate park has died, police say", 1, 0),
    ("The cyclist struck by a stray bullet at the fair died on Sunday.", 1, 0),
    ("The 15-year-old who was shot in the chest at a bus stop on Friday was pronounced dead on Sunday.", 1, 0),
    ("The girl had been on life support since the shooting, but she passed away on Monday.", 1, 0),
    ("Man accused of killing a sheriff's deputy during a traffic stop appears in court", 1, 0),
    # One person named by several nouns across the article is one person, not one per noun.
    (
        "Police said the teenager was killed on Pine Street on Friday night. The boy died at the hospital an hour later.",
        1,
        0,
    ),
    (
        "Police named the 6-year-old fatally shot on Birch Lane. The boy died at the hospital. "
        "The child's uncle said he loved trains.",
        1,
        0,
    ),
    # A name in apposition, with an age before it, is the same person as its noun.
    ("The victim, 53-year-old Dora Vance, died on the way to the hospital, police said.", 1, 0),
    ("Police say he shot and killed his wife, 39-year-old Lena Marsh, on Sunday.", 1, 0),
    ("Paramedics arrived within minutes, but Mrs. Hale succumbed to her injuries at the scene.", 1, 0),
    # ...while different nouns in one sentence are different people.
    ("A man and a woman were found shot to death in a parked van.", 2, 0),
    # A vigil's, or an earlier incident's, dead are another event's.
    (
        "Five people were wounded when a gunman fired into a crowd on Monday. "
        "The vigil was for a 19-year-old who was killed on Saturday.",
        0,
        5,
    ),
    ("A woman was shot in the arm on Oak Street. Just last week, a man was shot and killed on the same corner.", 0, 1),
    ("A clerk was wounded on Pine Street. The shooting follows a robbery on Friday that left a guard dead.", 0, 1),
    (
        "Residents said the feud began after a man was shot dead near the bakery. Two teens were wounded on Thursday.",
        0,
        2,
    ),
    ("The death of Paul Avery led to a new curfew the next year. A woman was shot in the leg on Sunday.", 0, 1),
    ("A vigil following that deadly shooting drew a crowd. Three people were wounded on Friday.", 0, 3),
    ("2009: A guard is shot to death outside a museum.\nA clerk was wounded in a robbery on Monday.", 0, 1),
    # A run of headline-like lines in the body is a list of links to other stories...
    (
        "Man shot in the leg on Elm Street\n\nA man was shot in the leg on Elm Street on Tuesday, police said.\n\n"
        "Council approves new budget\nFour dead in highway pileup near Dayton\nSchool board names new principal",
        0,
        1,
    ),
    # ...unless it is the article's own list, after a heading with a colon or as bullets.
    (
        "Three killed in apartment shooting\n\nWhat we know:\nTwo women and a man killed in shooting near the "
        "apartments\nA fourth person was hurt in the same shooting\nPolice have not named a suspect",
        3,
        1,
    ),
    (
        "Names of the victims\n\nPolice named the victims:\n• Jane Roe, 28, who was shot in the back;\n"
        "• John Poe, 19, who was shot in the arm;\n• Ann Moe, 21, who was shot in the leg",
        0,
        3,
    ),
    # The emergency number is no toll.
    ("A neighbour called 911 reporting she had shot a man in the arm outside the garage.", 0, 1),
    # A year-to-date statistic and a report taken back are no toll.
    (
        "So far in 2026, at least 52 people have been killed in the county, records show. A man was wounded on Friday.",
        0,
        1,
    ),
    ("Early reports said a man had died in the crash, but that proved to be incorrect. Four people were hurt.", 0, 4),
    # A self-inflicted wound that nobody died of is no death, but an injury.
    ("The suspect arrived at the hospital with a self-inflicted gunshot wound to the foot.", 0, 1),
    # One who shot himself by accident and died is the victim, counted once, not also a perpetrator.
    ("Relatives said the boy died from an accidental, self-inflicted gunshot wound.", 1, 0),
    (
        "Mark Olsen, the 40-year-old man found dead near his tree stand, accidentally shot himself, the sheriff said.",
        1,
        0,
    ),
    ("Police said the teen accidentally shot himself to death while cleaning a rifle.", 1, 0),
    # A wound phrase: the person nearest before it was hurt, unless the sentence says they died.
    ("Officers found a cyclist with a gunshot wound to the arm near the bridge.", 0, 1),
    ("Deputies found a man suffering from gunshot wounds in a parked truck.", 0, 1),
    ("Officers found a driver with a gunshot wound; he was pronounced dead at the scene.", 1, 0),
    ("A juvenile was taken to a hospital for treatment of a gunshot wound to the leg.", 0, 1),
    ("The 20-year-old was treated and released from a hospital on Sunday.", 0, 1),
    # Someone hurt whom the article tells apart from the dead ("another", "also", alive) is not one of them.
    ("Two men were shot dead outside a bar on Friday. Their friend was also shot and is expected to recover.", 2, 1),
    ("Lou Parr and Dee Marsh were shot and killed in their kitchen. Another man was wounded in the yard.", 2, 1),
    (
        "A gunman killed a cashier at the bakery on Monday. The customer who was shot is in stable condition.",
        1,
        1,
    ),
    # ... while one said to be shot and then to die is the dead, not the hurt.
    ("A customer was shot at the bakery on Monday. She died at a hospital.", 1, 0),
    # A noun in the possessive is not the person: "the woman's boyfriend" is one person.
    ("A woman was killed at her home. Police said the woman's boyfriend was also shot in the leg.", 1, 1),
    # A verb between two nouns ends the first phrase: "the woman is his sister" names one person hurt.
    ("The woman is his sister who suffered a gunshot wound but survived, deputies said.", 0, 1),
    # Hurt by one's own shot, in an article that speaks of no death: one injured.
    ("Deputies said a hunter accidentally shot himself in the hip while climbing into his stand.", 0, 1),
    ("Boy, 7, shoots himself in the hand with a pistol he found under a bed", 0, 1),
    # ... but where the article speaks of a death, no injury is known.
    ("Deputies said the man accidentally shot himself in the garage. He was pronounced dead at a hospital.", 1, 0),
    # A pronoun hurt, where nobody is named: one injured.
    ("Police were called to the corner at midnight. He was shot in the leg and is expected to recover.", 0, 1),
    # Taken to a hospital, in a condition, struck and wounded: hurt.
    ("A cyclist was struck and wounded by a stray bullet on Elm Road.", 0, 1),
    ("The victim was transported to a local hospital, police said.", 0, 1),
    ("Officers said the teen is in critical condition after the shooting.", 0, 1),
    # An active verb after an adverb: the subject fired, the object was hurt or killed.
    ("Deputies believe a man apparently fatally shot his brother and then turned the gun on himself.", 2, 0),
    ("Deputies believe a man apparently shot his brother in the arm on Friday.", 0, 1),
    # One who died after he shot himself is that one, not a victim and a perpetrator beside him.
    (
        "Deputies said a 3-year-old Dunmore boy died on Sunday after he apparently shot himself at his home. The boy "
        "was pronounced dead.",
        1,
        0,
    ),
    # ... and a young child who shot himself did so by accident: the victim, not a perpetrator.
    (
        "3-year-old dies after shooting self with uncle's rifle\n\nA 3-year-old girl who apparently shot herself "
        "with her uncle's rifle has died, deputies said.",
        1,
        0,
    ),
    # A school is no name: "Cedar Hollow High School" is not one more person killed.
    (
        "Tom Ruiz, 16, was killed while fishing on Sunday. Tom Ruiz, a junior at Cedar Hollow High School was killed "
        "in the accident.",
        1,
        0,
    ),
    # A noun phrase in apposition after a name is the same person: "Ann Roe, a 17-year-old student,".
    ("Marco Vela, a 17-year-old student, died on Sunday after being shot near the park.", 1, 0),
    # Any relative clause between a person and a verb of dying: "a teen who was caught in ... has died".
    ("A Dunmore teen who was caught in the crossfire of a fight outside the arena has died, the coroner said.", 1, 0),
    # An age after a noun in apposition is no figure: "student, 15," is not 15 hurt.
    ("A student, 15, dead, another student injured at a Dunmore school", 1, 1),
]


@pytest.mark.parametrize(("text", "killed", "injured"), CASES, ids=[c[0][:40] for c in CASES])
def test_article_figures(text: str, killed: int, injured: int) -> None:
    figures = enrich({"text": text})["figures"]
    got = tuple((figures[c] or {}).get("count", 0) for c in ("killed", "injured"))
    assert got == (killed, injured)


def test_implied_mentions_carry_qualifier_evidence_and_perpetrator() -> None:
    text = "Deputies say Carl Webb shot and killed his neighbor, then killed himself."
    out = enrich({"text": text})
    implied = [m for m in out["casualties"] if m["qualifier"] == "implied"]
    assert {m["victim"] for m in implied} == {"people", "perpetrator"}
    for m in implied:
        assert (m["category"], m["count"], m["min"], m["max"]) == ("killed", 1, 1, 1)
        assert text[m["start"] : m["end"]] == m["evidence"]


# The same classes in French and Arabic, from lexicon data (no code per language).
OTHER_LANGUAGES = [
    ("Pierre Lemoine a été tué par balle dans la nuit de samedi à Nantes.", "fr", 1, 0),
    ("Sophie Renard a été grièvement blessée par balle devant la gare.", "fr", 0, 1),
    ("Le jeune homme a été mortellement blessé par balle samedi soir près de la gare.", "fr", 1, 0),
    ("Il a abattu son épouse avant de retourner son arme contre lui.", "fr", 2, 0),
    ("Il a tué le temps en attendant le train.", "fr", 0, 0),
    ("انتحر المسلح بعد إطلاق النار في السوق.", "ar", 1, 0),
    ("حاول الانتحار لكن الشرطة أوقفته.", "ar", 0, 0),
]


@pytest.mark.parametrize(
    ("text", "language", "killed", "injured"), OTHER_LANGUAGES, ids=[c[0][:40] for c in OTHER_LANGUAGES]
)
def test_implied_beyond_english(text: str, language: str, killed: int, injured: int) -> None:
    out = enrich({"text": text, "language": language})
    assert out["language"] == language
    got = tuple((out["figures"][c] or {}).get("count", 0) for c in ("killed", "injured"))
    assert got == (killed, injured)
