"""Places (stages/enrich/places.py) and language detection (stages/enrich/language.py)."""

from __future__ import annotations

import pytest

from wirewatch.stages.enrich.language import article_language, detect_language
from wirewatch.stages.enrich.places import find_places


def _names(text: str) -> list[tuple[str, str, str]]:
    return [(p["name"], p["country_code"], p["kind"]) for p in find_places(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("Strikes on Gaza City and Rafah; Israel said.", [("Gaza City", "PS", "city"), ("Rafah", "PS", "city"), ("Israel", "IL", "country")]),
    ("Floods in DR Congo reached Goma.", [("Democratic Republic of the Congo", "CD", "country"), ("Goma", "CD", "city")]),
    ("Turkey and Syria were hit; Syria again.", [("Turkey", "TR", "country"), ("Syria", "SY", "country")]),
    ("They ate turkey in Chad's capital.", []),  # lower-case word; Chad left out as a first name
    ("Des frappes à Alep en Syrie, selon Damas.", [("Aleppo", "SY", "city"), ("Syria", "SY", "country"), ("Damascus", "SY", "city")]),
    ("La Côte d’Ivoire et le Mali.", [("Ivory Coast", "CI", "country"), ("Mali", "ML", "country")]),
    ("قتل 12 شخصا في بغزة وبغداد وللجزائر ومصر", [("Palestine", "PS", "country"), ("Baghdad", "IQ", "city"), ("Algeria", "DZ", "country"), ("Egypt", "EG", "country")]),
])
def test_find_places(text: str, expected: list) -> None:
    assert _names(text) == expected


def test_place_offsets_point_at_the_first_mention() -> None:
    text = "In Kabul, police said. Kabul again."
    (p,) = find_places(text)
    assert text[p["start"] : p["end"]] == "Kabul" and p["start"] == 3


@pytest.mark.parametrize(("text", "expected"), [
    ("At least 12 people were killed in the attack on the market, the ministry said on Monday.", "en"),
    ("Au moins 12 personnes ont été tuées dans l'attaque du marché, selon le ministère de la Santé.", "fr"),
    ("قتل 12 شخصا في هجوم على سوق شعبي في بغداد", "ar"),
    ("Mindestens zwölf Menschen wurden bei dem Anschlag getötet, teilte die Polizei mit.", None),
    ("", None),
])
def test_detect_language(text: str, expected: str | None) -> None:
    assert detect_language(text) == expected


def test_article_language_prefers_the_text_over_a_wrong_declaration() -> None:
    assert article_language("قتل 12 شخصا في هجوم على سوق", "en") == "ar"
    assert article_language("Zwölf Menschen starben.", "de-DE") == "de"
    assert article_language("", None) is None


@pytest.mark.parametrize(("text", "expected"), [
    # GeoNames major cities, beyond the hand-curated YAML; "X City" is also found as "X" outside the US.
    ("Typhoon hits Cebu and Davao.", [("Cebu City", "PH", "city"), ("Davao", "PH", "city")]),
    ("Blasts in Bogota and İzmir.", [("Bogotá", "CO", "city"), ("İzmir", "TR", "city")]),
    ("Floods in Hyderabad and Kansas City.", [("Hyderabad", "IN", "city"), ("Kansas City", "US", "city")]),
    # Common words and first names are not places; a name must be capitalised.
    ("Of course it was a nice day for Reading a book; Victoria said the split was mobile.", []),
    ("the davao office", []),
])
def test_major_cities_from_geonames(text: str, expected: list) -> None:
    assert _names(text) == expected


def test_yaml_names_win_over_geonames() -> None:
    # "Mexico" is the country (YAML), not the short form of "Mexico City"; Gaza City stays the YAML one.
    assert _names("Mexico said Gaza City was hit.") == [("Mexico", "MX", "country"), ("Gaza City", "PS", "city")]
