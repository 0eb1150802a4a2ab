"""Publication dates written with the month as a word of another language than English: read as the
day they name, not as 1 January of their year (htmldate's fallback when it reads only the year), and
not taken from the article's own prose (an event's date)."""

from __future__ import annotations

import pytest
from trafilatura import load_html

from wirewatch.stages import extract_meta
from wirewatch.stages.extract import extract

# Three paragraphs of an article that states no date in its metadata (own sentences).
PARAGRAPHS = {
    "es": [
        "Los vecinos del valle esperaron durante semanas una tormenta que nunca llegaba, y los campos "
        "de cebada se secaron poco a poco mientras el ayuntamiento repartía agua en camiones cisterna.",
        "El alcalde dijo que los pozos del pueblo volverán a llenarse si la lluvia dura al menos tres "
        "días seguidos, algo que no ocurre en la comarca desde hace casi dos años.",
        "Los agricultores calculan que han perdido la mitad de la cosecha y piden a la provincia ayudas "
        "para comprar semillas antes de que empiece la próxima siembra en otoño.",
    ],
    "pl": [
        "Mieszkańcy doliny czekali tygodniami na deszcz, który nie nadchodził, a pola jęczmienia "
        "wysychały powoli, podczas gdy gmina rozwoziła wodę beczkowozami do kolejnych wsi.",
        "Wójt powiedział, że studnie we wsi znowu się napełnią, jeśli deszcz potrwa co najmniej trzy dni "
        "z rzędu, co w tej okolicy nie zdarzyło się od prawie dwóch lat.",
        "Rolnicy szacują, że stracili połowę plonów, i proszą województwo o pomoc w zakupie nasion przed "
        "jesiennym siewem, który zaczyna się już za kilka tygodni.",
    ],
}
URL = "https://valle-diario.example/noticias/lluvia"


def page(byline: str, lang: str = "es", paragraphs: list[str] | None = None) -> str:
    body = "".join(f"<p>{p}</p>" for p in (paragraphs or PARAGRAPHS[lang]))
    return (
        f'<html lang="{lang}"><head><title>Vuelve la lluvia al valle</title></head><body><main><article>'
        f"<h1>Vuelve la lluvia al valle</h1><p class='fecha'>{byline}</p>{body}</article></main></body></html>"
    )


@pytest.mark.parametrize(
    "byline, date",
    [
        ("Publicado el 3 de marzo de 2024", "2024-03-03"),  # htmldate alone: 2024-01-01
        ("Por Ana Ruiz · 12 de enero de 2023", "2023-01-12"),
        ("Actualizado el 28 de septiembre del 2022", "2022-09-28"),
        ("3. März 2024, Redaktion Tal", "2024-03-03"),
        ("publié le 9 juin 2021", "2021-06-09"),
    ],
)
def test_a_date_with_a_month_word_of_another_language_is_that_day(byline, date):
    assert extract(page(byline), URL).published == date


def test_a_month_word_two_languages_give_two_months_is_read_in_the_pages_language():
    # "listopada": November in Polish, October in Croatian
    assert extract(page("Opublikowano 5 listopada 2022", "pl"), URL).published == "2022-11-05"
    tree = load_html(page("Opublikowano 5 listopada 2022", "pl").replace(' lang="pl"', ""))
    assert extract_meta._byline_date(tree) is None  # no language stated: no guess at the month


def test_a_date_with_a_month_word_in_the_prose_is_the_events_not_the_pages():
    told = [p + " La última gran tormenta cayó el 14 de enero de 2019 sobre la comarca." for p in PARAGRAPHS["es"]]
    html = page("Por Ana Ruiz", paragraphs=told).replace("<p class='fecha'>Por Ana Ruiz</p>", "")
    assert extract(html, URL).published is None
