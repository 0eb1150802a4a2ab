"""Every item of the demo feed: redirect chain, expected outcome and page text.

Why one module of ~670 lines: it is data (invented page texts), not logic; it ships only in the
``demo`` extra.

The demo outlet ("The Meridian Ledger") and everything it reports are
invented; places are real so the text reads like wire copy. Paths here are
site-relative; ``wirewatch.demo.site`` turns them into URLs for whatever port
the server got.

Rules the content keeps, because tests and downstream extractors depend on it:

* ``news`` and ``not_article`` pages, including their related links and
  comments, use no casualty vocabulary at all (checked by the tests), so any
  alert raised on them is a false positive;
* casualty figures appear once, plainly, in the first paragraph; later
  paragraphs avoid numbers next to casualty words, so the expected figures
  are unambiguous;
* comments never repeat a sentence of the body, so comment leakage into the
  extracted text is detectable.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Hop:
    """One redirect: answer ``status`` with a Location pointing at ``target``."""

    status: int
    target: str  # site path, may carry a query string
    absolute: bool  # Location as full URL; otherwise root-relative


@dataclass(frozen=True)
class Comment:
    author: str
    posted: str
    text: str


@dataclass(frozen=True)
class Article:
    path: str
    lang: str
    section: str  # key of SECTIONS
    breadcrumb: tuple[str, ...]  # labels after "Home"
    author: str
    author_role: str
    published: str  # ISO 8601, UTC
    title: str
    description: str
    paragraphs: tuple[str, ...]
    comments: tuple[Comment, ...]
    related: tuple[str, ...]  # keys of ITEMS
    canonical_path: str | None = None  # None: same as path
    alias_paths: tuple[str, ...] = ()  # other paths serving the same page
    modified: str | None = None

    @property
    def canonical(self) -> str:
        return self.canonical_path or self.path

    @property
    def first_sentence(self) -> str:
        first = self.paragraphs[0]
        end = first.find(". ")
        return first if end < 0 else first[: end + 1]


@dataclass(frozen=True)
class Stub:
    """A near-empty placeholder page (HTTP 200, but nothing to extract)."""

    path: str
    lang: str
    title: str
    text: str
    link_label: str
    link_path: str


@dataclass(frozen=True)
class FeedItem:
    key: str
    code: str  # short link is /s/<code>
    kind: str  # casualty | casualty_update | news | non_html | dead | not_article
    title: str
    summary: str
    published: str  # ISO 8601, UTC
    hops: tuple[Hop, ...]
    killed: int | None = None
    injured: int | None = None
    final_status: int = 200
    content_type: str = "text/html; charset=utf-8"
    article: Article | None = None
    stub: Stub | None = None
    notes: str = ""

    @property
    def short_path(self) -> str:
        return f"/s/{self.code}"

    @property
    def final_target(self) -> str:
        return self.hops[-1].target if self.hops else self.short_path


@dataclass(frozen=True)
class Section:
    label: str
    path: str
    intro: str
    extra_headlines: tuple[str, ...] = field(default=())


# Section indexes are real pages; the "business" one is the not-an-article item.
SECTIONS: dict[str, Section] = {
    "world": Section(
        "World", "/world/", "News and analysis from our correspondents around the world, updated through the day."
    ),
    "business": Section(
        "Business",
        "/business/",
        "The latest business news, markets coverage and analysis from our correspondents, updated through the day.",
        (
            "Dockworkers in Valparaíso agree new three-year pay deal",
            "Coffee prices ease as Brazilian harvest beats forecasts",
            "Regional airline adds winter routes to the Canary Islands",
            "Start-up lending picks up in the Baltic states",
            "Why second-hand bike sales are booming",
        ),
    ),
    "sport": Section("Sport", "/sport/", "Results, reports and interviews from the weekend's sport."),
    "culture": Section("Culture", "/culture/", "Museums, music, books and film, reviewed by our critics."),
    "opinion": Section("Opinion", "/opinion/", "Columns and comment from our writers and guest contributors."),
    "culture_fr": Section(
        "Culture", "/fr/culture/", "Expositions, spectacles, livres et cinéma : toute l'actualité culturelle."
    ),
}


# --- casualty reports -------------------------------------------------------

KUMASI = Article(
    path="/news/2026/11/kumasi-tanker-explosion.html",
    lang="en",
    section="world",
    breadcrumb=("World", "Africa"),
    author="Abena Mensah-Larbi",
    author_role="West Africa correspondent",
    published="2026-11-17T19:10:00+00:00",
    title="Tanker explosion near Kumasi leaves at least 12 people killed",
    description=(
        "A fuel tanker exploded beside a roadside market on the highway outside "
        "Kumasi on Tuesday evening, Ghana's health ministry said."
    ),
    paragraphs=(
        "At least 12 people were killed and 30 wounded when a fuel tanker exploded "
        "on a busy highway outside Kumasi on Tuesday evening, Ghana's health ministry "
        "said. The blast happened beside a roadside market where traders sell "
        "produce to passing drivers.",
        "Witnesses said the tanker had pulled onto the hard shoulder after a "
        "mechanical fault and that a crowd had gathered around it before it caught "
        "fire. Flames spread quickly to market stalls and to minibuses waiting "
        "nearby for passengers.",
        "The wounded were taken to the city's main teaching hospital, where a "
        "spokesperson said many were being treated for severe burns. The hospital "
        "appealed for blood donors and asked off-duty staff to report for work.",
        "Fire crews from Kumasi and the nearby town of Ejisu worked for more than "
        "three hours to bring the fire under control. Police closed the highway in "
        "both directions and diverted traffic through side roads.",
        "The national road safety authority said it would open an inquiry into how "
        "the tanker came to stop beside the market and whether the vehicle had "
        "passed its most recent inspection.",
        "Traders said they had long asked the district assembly to move the stalls "
        'away from the carriageway. "We have warned about this place for years," '
        "said one vendor, who asked not to be named.",
    ),
    comments=(
        Comment(
            "KofiD",
            "2 hours ago",
            "Praying for everyone affected. The stalls on that stretch have worried me every time I drive past.",
        ),
        Comment(
            "Ama_in_Adum",
            "1 hour ago",
            "Why are tankers allowed to stop next to a market at all? Someone has to answer for this.",
        ),
        Comment(
            "Yaw Boakye",
            "45 minutes ago",
            "The donation centre in Adum is open late tonight for anyone who can give blood.",
        ),
    ),
    related=("kumasi_update", "cebu", "copper"),
)

KUMASI_UPDATE = Article(
    path="/news/2026/11/kumasi-tanker-explosion-toll-rises.html",
    lang="en",
    section="world",
    breadcrumb=("World", "Africa"),
    author="Abena Mensah-Larbi",
    author_role="West Africa correspondent",
    published="2026-11-18T11:25:00+00:00",
    modified="2026-11-18T13:02:00+00:00",
    title="Death toll from Kumasi tanker explosion rises to 19",
    description=(
        "Ghana's health ministry raised the number of people killed in Tuesday's "
        "tanker explosion outside Kumasi and said dozens remain in hospital."
    ),
    paragraphs=(
        "At least 19 people have now been killed and 41 wounded in Tuesday's fuel "
        "tanker explosion outside Kumasi, Ghana's health ministry said on Wednesday, "
        "as emergency teams finished clearing the site.",
        "The revised figures are higher than those released on Tuesday night "
        "because several people taken to hospital with severe burns did not "
        "survive, a ministry spokesperson said.",
        "The president's office announced national mourning until the weekend and "
        "said the government would cover the medical costs of everyone treated "
        "after the explosion.",
        "The highway between Kumasi and Accra reopened to traffic on Wednesday "
        "afternoon. The road safety authority said its inquiry would examine the "
        "tanker's maintenance record and the route its driver had been told to take.",
        "Market traders returned to the scene to salvage what they could from their "
        "stalls. District officials said they would meet the traders' association "
        "next week to discuss moving the market further from the road.",
    ),
    comments=(
        Comment(
            "KofiD",
            "3 hours ago",
            "Heartbreaking news this morning. Thank you to the nurses who have been working through the night.",
        ),
        Comment(
            "Efua.T",
            "2 hours ago",
            "Covering the medical bills is the least the government can do. Now move the market.",
        ),
        Comment(
            "Nana Agyei",
            "1 hour ago",
            "My uncle drives that route every week. He says the traffic was moving again by lunchtime.",
        ),
    ),
    related=("kumasi", "cebu", "marathon"),
)

CEBU = Article(
    path="/news/2026/11/cebu-arcade-collapse.html",
    lang="en",
    section="world",
    breadcrumb=("World", "Asia-Pacific"),
    author="Maricel Santos",
    author_role="Manila correspondent",
    published="2026-11-19T12:40:00+00:00",
    title="Seven killed as shopping arcade collapses in Cebu",
    description=(
        "Part of a shopping arcade under renovation gave way in the Philippine city "
        "of Cebu on Thursday, disaster officials said."
    ),
    paragraphs=(
        "Seven people were killed and more than two dozen were injured when part of "
        "a shopping arcade under renovation collapsed in the Philippine city of Cebu "
        "on Thursday afternoon, local disaster officials said.",
        "Rescue workers used cutting equipment and sniffer dogs to search the rubble "
        "late into the night. Officials said they believed everyone who had been "
        "inside the building was now accounted for, but that the search would "
        "continue until engineers declared the site safe.",
        "The city's disaster risk reduction office said the injured had been taken "
        "to hospitals across the city and that most were expected to go home "
        "within days.",
        "Shop owners said contractors had been removing interior walls on the upper "
        "floor for several weeks. A city building official told reporters that the "
        "renovation permit would be reviewed and that the contractor had been asked "
        "to hand over its plans.",
        "The mayor ordered inspections of similar buildings in the downtown area and "
        "declared a day of mourning. Flags on municipal buildings will fly at "
        "half-mast on Friday.",
    ),
    comments=(
        Comment(
            "jun_cebuano",
            "5 hours ago",
            "My cousin works two streets from there. Please stay away from the area so the rescuers can do their job.",
        ),
        Comment(
            "Liza M.",
            "4 hours ago",
            "Renovation permits in this city are a joke. I hope the inspections actually happen this time.",
        ),
        Comment(
            "Ramon de la Cruz",
            "2 hours ago",
            "Condolences to the families. Salamat to the volunteers who brought food for the rescue teams.",
        ),
    ),
    related=("kumasi_update", "kumasi", "museum"),
)


# --- ordinary news (must stay free of casualty vocabulary) -------------------

COPPER = Article(
    path="/amp/business/2026/11/chile-copper-exports-record.html",
    canonical_path="/business/2026/11/chile-copper-exports-record.html",
    alias_paths=("/business/2026/11/chile-copper-exports-record.html",),
    lang="en",
    section="business",
    breadcrumb=("Business", "Markets"),
    author="Valentina Órdenes",
    author_role="Santiago business reporter",
    published="2026-11-23T15:05:00+00:00",
    title="Chilean copper exporters report record quarter as port volumes climb",
    description=("New loading equipment at Antofagasta eased a long-standing bottleneck, customs figures show."),
    paragraphs=(
        "Chile's copper exporters shipped more metal in the third quarter than in "
        "any quarter on record, according to figures published on Monday by the "
        "national customs service. New loading equipment at the port of "
        "Antofagasta eased a long-standing bottleneck.",
        "Shipments rose 8.4 percent from a year earlier, helped by strong demand "
        "from battery and cable makers in Asia and Europe. Analysts said higher "
        "volumes had more than made up for a modest fall in the international "
        "copper price over the same period.",
        "The port authority in Antofagasta said the new cranes, installed in the "
        "spring, had cut the average time a bulk carrier spends at berth by almost "
        "a day. Operators are now planning a second expansion phase that would add "
        "storage capacity for concentrate.",
        '"This is the payoff from years of investment in logistics rather than in '
        'new mines," said Rodrigo Fuenzalida, an economist at a Santiago '
        'consultancy. "The question now is whether the rail network inland can '
        'keep up."',
        "The finance ministry welcomed the figures, saying they would support the "
        "peso and strengthen tax revenue next year. Business groups urged the "
        "government to speed up permits for rail upgrades linking the mines of the "
        "Atacama region to the coast.",
        "Exporters cautioned that the pace may slow in the first months of next "
        "year, when scheduled maintenance at two smelters is expected to reduce "
        "output.",
    ),
    comments=(
        Comment(
            "pato_antofa",
            "6 hours ago",
            "Good news for once. Now fix the trains, the freight line to Calama is older than my grandfather.",
        ),
        Comment(
            "M. Henríquez",
            "4 hours ago",
            "Record volumes but lower prices. Let's see what the full-year numbers look like.",
        ),
        Comment("camila.r", "1 hour ago", "Does anyone know if the new cranes were built locally or imported?"),
    ),
    related=("marathon", "museum", "lyon"),
)

MARATHON = Article(
    path="/sport/2026/11/lisbon-marathon-course-record.html",
    lang="en",
    section="sport",
    breadcrumb=("Sport", "Athletics"),
    author="Duarte Cabral",
    author_role="Athletics writer",
    published="2026-11-22T13:30:00+00:00",
    title="Rahel Tesfaye wins Lisbon Marathon in course record",
    description=(
        "The Ethiopian pulled clear along the riverside in the final six "
        "kilometres to win in two hours, 19 minutes and 42 seconds."
    ),
    paragraphs=(
        "Ethiopia's Rahel Tesfaye won the Lisbon Marathon on Sunday in a course "
        "record of two hours, 19 minutes and 42 seconds, pulling clear of the "
        "leading group along the riverside in the final six kilometres.",
        "Tesfaye, 27, ran much of the race in a pack of five before pressing the "
        "pace after the turn at Belém. Her nearest rival, Kenya's Mercy Wanjiru, "
        "finished 48 seconds behind, with Portugal's Inês Carvalho a strong third.",
        '"I felt good from the start, and when the wind dropped by the river I '
        'knew I could go," Tesfaye said at the finish in Praça do Comércio. "The '
        'crowds in the last kilometre were incredible."',
        "In the men's race, Uganda's Samuel Okello held off a late challenge from "
        "two Moroccan runners to win in two hours, six minutes and 55 seconds.",
        "Organisers said a record 38,000 runners had registered across the "
        "marathon, the half marathon and a family mini-race, and that the event "
        "had raised money for a children's charity in the city.",
        "Tesfaye said she would rest for several weeks before deciding whether to race again in the spring.",
    ),
    comments=(
        Comment(
            "joana_corre", "20 hours ago", "I was at kilometre 35 cheering and she looked so relaxed going past us!"
        ),
        Comment("Rui P.", "18 hours ago", "Course record and a Portuguese podium, what a morning for Lisbon."),
        Comment(
            "runner_from_porto",
            "9 hours ago",
            "Organisation was great this year, the water stations were much better than last time.",
        ),
    ),
    related=("copper", "museum", "lyon"),
)

MUSEUM = Article(
    path="/culture/2026/11/tbilisi-manuscript-museum-reopens.html",
    lang="en",
    section="culture",
    breadcrumb=("Culture", "Museums"),
    author="Nino Beridze",
    author_role="Caucasus correspondent",
    published="2026-11-21T10:15:00+00:00",
    title="Tbilisi manuscript museum reopens after three-year restoration",
    description=("Illuminated gospels and scientific treatises go back on show in the Georgian capital's old town."),
    paragraphs=(
        "A small museum of manuscripts in Tbilisi's old town reopened on Saturday "
        "after a three-year restoration, putting on display illuminated gospels and "
        "scientific treatises that the public has not seen for decades.",
        "The collection, housed in a nineteenth-century merchant's house near the "
        "Mtkvari river, includes more than forty volumes written on parchment "
        "between the eleventh and fifteenth centuries. Conservators spent much of "
        "the closure stabilising pages affected by damp in the building's cellar.",
        "The museum's director, Tamar Kipiani, said the new climate-controlled "
        "galleries would allow the most fragile books to be opened for visitors on "
        'a rotating schedule. "For the first time, people will be able to see the '
        'colours as the scribes intended," she said.',
        "The restoration was paid for by the city and a group of private donors, "
        "and included a reading room where researchers can request digitised "
        "copies of the collection.",
        "Visitors queued along the narrow street on opening day, and the museum "
        "said tickets for the first two weekends had already been booked. Entry "
        "will be free on the first Sunday of each month.",
    ),
    comments=(
        Comment(
            "Salome K.",
            "1 day ago",
            "Went this morning with my daughter. The gold leaf on the gospel pages is breathtaking.",
        ),
        Comment(
            "giorgi_tbs",
            "1 day ago",
            "Finally! I remember the old building smelling of damp, glad they fixed it properly.",
        ),
        Comment("TravellerAnne", "22 hours ago", "Will there be guided tours in English?"),
    ),
    related=("lyon", "marathon", "copper"),
)

LYON = Article(
    path="/fr/culture/2026/11/lyon-fete-des-lumieres-programme.html",
    lang="fr",
    section="culture_fr",
    breadcrumb=("Culture", "Spectacles"),
    author="Claire Dumoulin",
    author_role="Correspondante à Lyon",
    published="2026-11-21T17:45:00+00:00",
    title="Lyon dévoile le programme de la Fête des Lumières 2026",
    description=(
        "Une trentaine d'installations lumineuses sont attendues du 4 au "
        "7 décembre, entre la presqu'île et la Croix-Rousse."
    ),
    paragraphs=(
        "La Ville de Lyon a dévoilé samedi le programme de la Fête des Lumières, qui "
        "se tiendra du 4 au 7 décembre, avec une trentaine d'installations "
        "lumineuses réparties entre la presqu'île, le Vieux-Lyon et les pentes de "
        "la Croix-Rousse.",
        "Parmi les œuvres les plus attendues figure une projection monumentale sur "
        "la façade de la cathédrale Saint-Jean, conçue par un collectif d'artistes "
        "lyonnais et accompagnée d'une création musicale originale.",
        "« Nous voulons une fête plus sobre en énergie, mais toujours aussi "
        "généreuse », a expliqué l'adjointe à la culture lors d'une conférence de "
        "presse à l'Hôtel de Ville. Toutes les installations fonctionneront avec "
        "des éclairages LED basse consommation.",
        "Les organisateurs attendent plus de deux millions de visiteurs sur les "
        "quatre soirées. Les transports en commun seront renforcés et plusieurs "
        "rues du centre seront réservées aux piétons à partir de 18 heures.",
        "Comme chaque année, les Lyonnais sont invités à déposer des lumignons sur "
        "le rebord de leurs fenêtres le soir du 8 décembre, tradition à l'origine "
        "de la fête.",
    ),
    comments=(
        Comment(
            "Mathilde69",
            "il y a 5 heures",
            "Vivement décembre ! La projection sur Saint-Jean l'an dernier était magnifique.",
        ),
        Comment("J.-P. Roux", "il y a 3 heures", "Deux millions de visiteurs… bon courage pour prendre le métro."),
        Comment("lumignon_fan", "il y a 1 heure", "Merci pour le plan des installations, très pratique."),
    ),
    related=("museum", "marathon", "copper"),
)


# --- the feed ---------------------------------------------------------------

# Redirect chains are deliberately varied: every 3xx code, relative and
# absolute Locations, 1 to 4 hops, tracking parameters and an AMP path on the
# final URL, so URL resolution and canonicalisation are exercised.
ITEMS: tuple[FeedItem, ...] = (
    FeedItem(
        key="kumasi",
        code="q7k2",
        kind="casualty",
        title=KUMASI.title,
        summary=KUMASI.description,
        published=KUMASI.published,
        hops=(
            Hop(301, "/r/q7k2", absolute=False),
            Hop(302, KUMASI.path + "?utm_source=rss&utm_medium=feed&utm_campaign=world", absolute=True),
        ),
        killed=12,
        injured=30,
        article=KUMASI,
        notes="digits; final URL carries utm_* parameters, canonical does not",
    ),
    FeedItem(
        key="cebu",
        code="m4t8",
        kind="casualty",
        title=CEBU.title,
        summary=CEBU.description,
        published=CEBU.published,
        hops=(
            Hop(302, "/go/m4t8", absolute=True),
            Hop(307, "/r/m4t8", absolute=False),
            Hop(308, CEBU.path, absolute=False),
        ),
        killed=7,
        injured=24,
        article=CEBU,
        notes="number words; 'more than two dozen' injured is taken as 24",
    ),
    FeedItem(
        key="kumasi_update",
        code="u9c3",
        kind="casualty_update",
        title=KUMASI_UPDATE.title,
        summary=KUMASI_UPDATE.description,
        published=KUMASI_UPDATE.published,
        hops=(
            Hop(303, "/r/u9c3", absolute=False),
            Hop(301, KUMASI_UPDATE.path, absolute=True),
        ),
        killed=19,
        injured=41,
        article=KUMASI_UPDATE,
        notes="same event as 'kumasi' with a higher toll",
    ),
    FeedItem(
        key="copper",
        code="e2b6",
        kind="news",
        title=COPPER.title,
        summary=COPPER.description,
        published=COPPER.published,
        hops=(Hop(308, COPPER.path, absolute=True),),
        article=COPPER,
        notes="economy; final URL is the /amp/ copy, canonical is the /business/ page",
    ),
    FeedItem(
        key="marathon",
        code="s5d1",
        kind="news",
        title=MARATHON.title,
        summary=MARATHON.description,
        published=MARATHON.published,
        hops=(
            Hop(301, "/go/s5d1", absolute=True),
            Hop(302, "/r/s5d1", absolute=False),
            Hop(307, "/t/s5d1", absolute=False),
            Hop(303, MARATHON.path, absolute=True),
        ),
        article=MARATHON,
        notes="sport; four hops",
    ),
    FeedItem(
        key="museum",
        code="c8f4",
        kind="news",
        title=MUSEUM.title,
        summary=MUSEUM.description,
        published=MUSEUM.published,
        hops=(Hop(307, MUSEUM.path, absolute=False),),
        article=MUSEUM,
        notes="culture",
    ),
    FeedItem(
        key="lyon",
        code="f3r6",
        kind="news",
        title=LYON.title,
        summary=LYON.description,
        published=LYON.published,
        hops=(
            Hop(302, "/r/f3r6", absolute=False),
            Hop(301, LYON.path, absolute=False),
        ),
        article=LYON,
        notes="French, UTF-8",
    ),
    FeedItem(
        key="transport_pdf",
        code="p1d5",
        kind="non_html",
        title="Regional transport statistics 2026 (PDF)",
        summary="Download the full annual report on passenger and freight traffic.",
        published="2026-11-16T08:00:00+00:00",
        hops=(
            Hop(302, "/r/p1d5", absolute=True),
            Hop(303, "/files/regional-transport-statistics-2026.pdf", absolute=False),
        ),
        content_type="application/pdf",
        notes="final response is a PDF",
    ),
    FeedItem(
        key="budgets_gone",
        code="d0a9",
        kind="dead",
        title="Opinion: City budgets need a rethink before winter",
        summary="Councils are planning for the wrong kind of year, argues our columnist.",
        published="2026-11-20T07:30:00+00:00",
        hops=(
            Hop(301, "/r/d0a9", absolute=False),
            Hop(302, "/opinion/2026/11/city-budgets-rethink.html", absolute=True),
        ),
        final_status=404,
        notes="redirects to a page that has been removed (404)",
    ),
    FeedItem(
        key="weather_unknown",
        code="zz00",
        kind="dead",
        title="Weekend weather: showers clearing to bright spells",
        summary="A mild end to the week for most of the region.",
        published="2026-11-20T16:00:00+00:00",
        hops=(),
        final_status=404,
        notes="the short code itself is unknown (404, no redirect)",
    ),
    FeedItem(
        key="business_index",
        code="b3x7",
        kind="not_article",
        title="Business: the latest headlines",
        summary="All our business coverage in one place.",
        published="2026-11-23T18:00:00+00:00",
        hops=(Hop(301, "/business/", absolute=False),),
        notes="section index with headlines only (og:type website, no body text)",
    ),
    FeedItem(
        key="ferry_stub",
        code="h2l5",
        kind="not_article",
        title="Live: harbour ferry timetable changes",
        summary="Follow the latest timetable updates for the harbour ferries.",
        published="2026-11-22T06:45:00+00:00",
        hops=(Hop(302, "/live/2026/11/harbour-ferry-timetable", absolute=False),),
        stub=Stub(
            path="/live/2026/11/harbour-ferry-timetable",
            lang="en",
            title="This live page has ended",
            text="Our coverage of the harbour ferry timetable has moved to the "
            "transport page, where the latest service notices are listed.",
            link_label="Go to the transport page",
            link_path="/business/",
        ),
        notes="'page moved' stub served with 200",
    ),
)

ARTICLES: dict[str, Article] = {i.key: i.article for i in ITEMS if i.article is not None}
