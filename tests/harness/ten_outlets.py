"""One invented event reported by ten outlets, a later article with a higher toll, and unrelated
casualty reports: the corpus of the one-alert-per-story tests (unit and end to end).

All text is written for these tests. The event: a ferry capsizes on Lake Kivu off Goma (DR Congo).
Outlets rewrite the same wire copy, as they do: the same facts, slightly different words.
"""

from __future__ import annotations

from dataclasses import dataclass

PLACES = [
    {"name": "Goma", "country_code": "CD", "kind": "city"},
    {"name": "Lake Kivu", "country_code": "CD", "kind": "region"},
    {"name": "Democratic Republic of the Congo", "country_code": "CD", "kind": "country"},
]


@dataclass(frozen=True)
class Report:
    slug: str
    sitename: str
    title: str
    lead: str
    published: str
    killed: int


BODY = (
    "The vessel was carrying traders and their goods from Bukavu to Goma when strong winds rose in "
    "the late afternoon. Navy divers and fishermen searched the water through the night. Local "
    "officials said the boat was overloaded and that few of the passengers had life jackets."
)

TEN = [
    Report(
        "kivu-wire",
        "Lakeside Wire",
        "Ferry capsizes on Lake Kivu near Goma, at least 27 killed",
        "At least 27 people were killed when an overloaded ferry capsized on Lake Kivu near Goma on Sunday, provincial officials said.",
        "2026-11-22T17:05:00+00:00",
        27,
    ),
    Report(
        "kivu-daily",
        "Great Lakes Daily",
        "At least 27 killed as ferry capsizes on Lake Kivu near Goma",
        "At least 27 people were killed when an overloaded ferry capsized on Lake Kivu near Goma on Sunday, provincial officials said.",
        "2026-11-22T17:20:00+00:00",
        27,
    ),
    Report(
        "kivu-post",
        "The Kivu Post",
        "Ferry capsizes on Lake Kivu near Goma: at least 27 killed",
        "At least 27 people were killed when an overloaded ferry capsized on Lake Kivu close to Goma on Sunday, provincial officials said.",
        "2026-11-22T17:31:00+00:00",
        27,
    ),
    Report(
        "kivu-herald",
        "Bukavu Herald",
        "Overloaded ferry capsizes on Lake Kivu near Goma, killing at least 27",
        "At least 27 people were killed when an overloaded ferry capsized on Lake Kivu near Goma on Sunday afternoon, provincial officials said.",
        "2026-11-22T17:40:00+00:00",
        27,
    ),
    Report(
        "kivu-observer",
        "Central Africa Observer",
        "Lake Kivu ferry capsizes near Goma; at least 27 killed",
        "At least 27 people were killed when an overloaded ferry capsized on Lake Kivu near Goma on Sunday, provincial officials told reporters.",
        "2026-11-22T17:52:00+00:00",
        27,
    ),
    Report(
        "kivu-times",
        "Rift Valley Times",
        "Ferry capsizes on Lake Kivu near Goma, at least 27 killed, officials say",
        "At least 27 people were killed when an overloaded ferry capsized on Lake Kivu near Goma on Sunday, provincial officials said on Monday.",
        "2026-11-22T18:03:00+00:00",
        27,
    ),
    Report(
        "kivu-monitor",
        "Eastern Monitor",
        "At least 27 killed after ferry capsizes on Lake Kivu near Goma",
        "At least 27 people were killed after an overloaded ferry capsized on Lake Kivu near Goma on Sunday, provincial officials said.",
        "2026-11-22T18:15:00+00:00",
        27,
    ),
    Report(
        "kivu-courier",
        "Kinshasa Courier",
        "Ferry capsizes on Lake Kivu near Goma, leaving at least 27 killed",
        "At least 27 people were killed when an overloaded ferry capsized on Lake Kivu near Goma on Sunday, officials in the province said.",
        "2026-11-22T18:26:00+00:00",
        27,
    ),
    Report(
        "kivu-tribune",
        "Virunga Tribune",
        "Ferry capsizes on Lake Kivu near Goma with at least 27 killed",
        "At least 27 people were killed when an overloaded ferry capsized on Lake Kivu near Goma on Sunday, provincial officials said in a statement.",
        "2026-11-22T18:38:00+00:00",
        27,
    ),
    Report(
        "kivu-express",
        "Lakes Express",
        "Ferry capsizes on Lake Kivu near Goma, at least 27 killed",
        "At least 27 people were killed when an overloaded ferry capsized on Lake Kivu near the city of Goma on Sunday, provincial officials said.",
        "2026-11-22T18:49:00+00:00",
        27,
    ),
]

RISING = Report(
    "kivu-toll-rises",
    "Lakeside Wire",
    "Death toll from Lake Kivu ferry capsizing rises to 41",
    "The death toll from Sunday's ferry capsizing on Lake Kivu near Goma rose to 41 on Monday after divers "
    "recovered more bodies, provincial officials said.",
    "2026-11-23T09:10:00+00:00",
    41,
)

# A later article repeating the first toll: attached, no update.
SAME_TOLL = Report(
    "kivu-vigil",
    "Great Lakes Daily",
    "Goma mourns after Lake Kivu ferry capsizes",
    "Hundreds gathered in Goma on Monday to mourn the 27 people who were killed when a ferry capsized on Lake "
    "Kivu on Sunday, provincial officials said.",
    "2026-11-23T10:00:00+00:00",
    27,
)

# Different events, the same days: each is a story of its own.
OTHERS = [
    Report(
        "quarry-collapse",
        "Andes Journal",
        "Quarry wall collapses in Arequipa, five workers killed",
        "Five workers were killed when a quarry wall gave way outside Arequipa on Sunday, Peru's labour ministry said.",
        "2026-11-22T19:00:00+00:00",
        5,
    ),
    Report(
        "bus-gorge",
        "Himalayan Times Online",
        "Bus plunges into gorge in Himachal Pradesh, 12 killed",
        "Twelve people were killed when a bus fell into a gorge in Himachal Pradesh on Sunday, police said.",
        "2026-11-22T20:10:00+00:00",
        12,
    ),
]

OTHER_PLACES = {
    "quarry-collapse": [{"name": "Arequipa", "country_code": "PE", "kind": "city"}],
    "bus-gorge": [{"name": "Himachal Pradesh", "country_code": "IN", "kind": "region"}],
}


def article_text(r: Report) -> str:
    return f"{r.lead}\n\n{BODY if r.slug.startswith('kivu') else 'Rescue teams worked at the site into the night.'}"
