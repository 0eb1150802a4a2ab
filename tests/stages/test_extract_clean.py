"""stages.extract_clean and extract_score on hand-written lines: furniture goes, prose stays."""

from __future__ import annotations

import pytest
from lxml import html

from wirewatch.stages import extract_clean, extract_html
from wirewatch.stages.extract_clean import (
    clean_body,
    drop_author_bio,
    drop_boxed,
    drop_hover_cards,
    is_furniture,
    restore_accordions,
    restore_dropped,
    widen_truncated,
)
from wirewatch.stages.extract_score import (
    author_match,
    date_exact,
    page_scores,
    score,
    shingles,
    title_exact,
    word_f1,
)

PROSE = "The council said the repairs would start in the spring and last about six months."


@pytest.mark.parametrize(
    "line",
    [
        "Related: Dock workers vote to strike",
        "READ MORE",
        "More:",
        "12 comments",
        "SOURCE: News agencies",
        "Follow the Valley Courier on Twitter for the latest news.",
        "Sign up for our morning newsletter",
        "Get the day's top headlines delivered to your inbox.",
        "You may also like...",
        "Have a tip? Write to the newsroom.",
        "If you enjoyed this article, please support us.",
        "Advertisement",
        "Table of Contents",
        "In this article:",
        "Follow the Valley Courier on Telegram and X for the latest news.",
        "Read more stories like this on valleycourier.example",
        "Thanks for subscribing! Your first issue arrives on Monday.",
        "The week in harbour news, delivered to your inbox every Friday",
        "Want more from the Courier? Sign up for our weekend newsletter.",
        "© 2024 Valley Courier. All rights reserved.",
        "Copyright Valley Courier 2019 - ISSN: 1234-5678",
        "You may also be interested in the following reports:",
        "You May Also Check:",
        "This might be interesting to you:",
        "Related articles and links:",
        "Related Posts from the Harbour blog:",
        "Awesome, you're subscribed!",
    ],
)
def test_furniture_lines(line):
    assert is_furniture(line)


@pytest.mark.parametrize(
    "line",
    [
        PROSE,
        "More than 40 people were hurt in the crash.",
        "Related research published last year found the same pattern in three other regions of the country.",
        "Sources close to the talks said no agreement was near.",
        "Commentators were divided.",
        "The contents of the container were never declared at the port.",
        "Scam messages that land in your inbox often copy a bank's letterhead.",
        "Thanks for reading, the mayor wrote at the end of her letter to residents.",
        "Copyright law in a fragmented world",
        "You might enjoy it more than you think: the climb is short.",
        "Related articles in the journal reached the same conclusion.",
    ],
)
def test_prose_is_not_furniture(line):
    assert not is_furniture(line)


def test_a_table_of_contents_and_its_items_go():
    text = "\n".join(["Table of Contents", "- Why the bridge closed", "- What the repairs cost", PROSE])
    assert clean_body(text) == PROSE


def test_a_long_line_is_prose_whatever_its_first_word():
    long_line = "Subscribe " + " ".join(["word"] * 30) + "."
    assert not is_furniture(long_line)


def test_clean_body_drops_headline_furniture_and_the_list_under_it():
    text = "\n".join(
        [
            "Bridge closed for repairs",
            PROSE,
            "Related:",
            "- Flood defences approved",
            "- New school head named",
            "Buses will be diverted over the bypass while the work goes on.",
            "____",
            "Follow us on Facebook",
        ]
    )
    assert clean_body(text, ["Bridge closed for repairs | Valley Courier", None]) == (
        PROSE + "\nBuses will be diverted over the bypass while the work goes on."
    )


def test_a_second_copy_of_the_story_goes_and_a_repeated_short_block_stays():
    story = [f"{PROSE[:-1]}, paragraph {n}." for n in range(6)]
    assert clean_body("\n".join([*story, "Print edition", *story])) == "\n".join([*story, "Print edition"])
    # a timetable's repeated entries, a small part of the body, are its content
    day = ["Breakfast", "Oats with milk, berries and a spoon of honey", "Lunch", "Soup and bread"]
    plan = [*story, "Monday", *day, "Tuesday", *day]
    assert clean_body("\n".join(plan)) == "\n".join(plan)
    # and a line repeated alone (a "Pros" under every product) stays
    lines = [story[0], "Pros", story[1], "Pros", story[2]]
    assert clean_body("\n".join(lines)) == "\n".join(lines)


def test_headline_is_dropped_only_as_the_first_line():
    text = PROSE + "\nBridge closed for repairs"
    assert clean_body(text, ["Bridge closed for repairs"]) == text


def test_a_short_first_line_is_not_taken_for_a_longer_headline():
    assert clean_body("Bridge\n" + PROSE, ["Bridge closed for repairs"]) == "Bridge\n" + PROSE


def test_shingles_and_page_scores():
    assert shingles("one two three") == {("one", "two", "three"): 1}
    assert sum(shingles("a b c d e").values()) == 2
    assert page_scores("a b c d e", "a b c d e") == (1.0, 1.0)
    assert page_scores("", "a b c d e") == (None, 0.0)
    assert page_scores("", "") is None


def test_score_means_over_pages_and_empty_predictions_cost_recall_only():
    s = score([("a b c d e", "a b c d e"), ("", "f g h i j")])
    assert s.precision == 1.0 and s.recall == 0.5 and s.pages == 2
    assert round(s.f1, 4) == round(2 * 1.0 * 0.5 / 1.5, 4)


def test_word_f1_is_wcxb_per_page_metric():
    assert word_f1("The river rose", "the river rose") == 1.0
    assert word_f1("", "the river rose") == 0.0
    assert word_f1("", "") == 1.0
    # 2 of 3 predicted words are right, 2 of 4 true words are found
    assert round(word_f1("river rose fast", "the river rose again"), 4) == round(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5), 4)


def test_metadata_matches_ignore_case_spacing_and_how_names_are_joined():
    assert title_exact("Floods  close the  Valley road", "floods close the valley road")
    assert not title_exact("Floods close the valley road | Daily Echo", "Floods close the valley road")
    assert not title_exact(None, "Floods")
    assert author_match(["Ana Ruiz", "Tom Bell"], "Ana Ruiz and Tom Bell")
    assert author_match("By Ana Ruiz", "Ana Ruiz")
    assert not author_match(["Ana Ruiz"], "Ana Ruiz and Tom Bell")
    assert not author_match([], "Ana Ruiz")
    assert date_exact("2025-03-04T10:00:00", "2025-03-04")
    assert not date_exact("2025-03-05", "2025-03-04") and not date_exact(None, "2025-03-04")


def test_a_body_in_one_line_that_starts_with_the_headline_is_kept():
    one_line = "Bridge closed for repairs " + PROSE.replace("\n", " ")
    assert clean_body(one_line, ["Bridge closed for repairs"]) == one_line


GUIDE = """<html><body><article>
<h1>How the harbour reopened</h1>
<p>The harbour master closed the port on Monday after the storm tore two pontoons from their moorings.</p>
<h2>What the divers found</h2>
<div><p>Divers spent three days checking the sea wall for cracks below the waterline before any ship came in.</p></div>
<h3>Table of Contents</h3>
<p>The council paid for the repairs from its reserve fund, the treasurer told the meeting on Thursday.</p>
<h2>When the ferries return</h2>
<p>The first ferry is due on Saturday morning, weather permitting, with a reduced timetable for a week.</p>
</article><aside><h2>Most read</h2><p>Rowing club wins the regional cup for the third year in a row.</p></aside>
</body></html>"""


def test_the_section_headings_a_body_lost_come_back_above_their_paragraphs():
    body = "\n".join(
        [
            "The harbour master closed the port on Monday after the storm tore two pontoons from their moorings.",
            "Divers spent three days checking the sea wall for cracks below the waterline before any ship came in.",
            "The council paid for the repairs from its reserve fund, the treasurer told the meeting on Thursday.",
            "The first ferry is due on Saturday morning, weather permitting, with a reduced timetable for a week.",
        ]
    )
    lines = restore_dropped(html.fromstring(GUIDE), body).split("\n")
    # the sections' titles above their paragraphs; furniture and a sidebar's heading stay out
    assert lines[1] == "What the divers found" and lines[4] == "When the ferries return"
    assert "Table of Contents" not in lines and "Most read" not in lines
    assert len(lines) == 6


def _minor_headings_page(titled: int) -> tuple[str, str]:
    # the sections of a listicle under <h4> titles, the first ``titled`` of them titled; the body
    # (as the precision pass leaves it) holds every paragraph and none of the titles
    paragraphs = [
        "The old pilot boat is moored at the east quay and takes visitors out on calm summer mornings.",
        "The lighthouse keeps its lamp room open on Sundays, with the keeper's log on show by the stairs.",
        "The fish market opens before dawn, and the auction starts once the first boat has tied up.",
    ]
    titles = ["1. The pilot boat", "2. The lighthouse", "3. The fish market"]
    sections = "".join(
        (f"<h4>{title}</h4>" if i < titled else "") + f"<p>{p}</p>"
        for i, (title, p) in enumerate(zip(titles, paragraphs))
    )
    return f"<html><body><article><h1>Three harbour sights</h1>{sections}</article></body></html>", "\n".join(
        paragraphs
    )


def test_a_series_of_minor_headings_comes_back_a_lone_one_does_not():
    page, body = _minor_headings_page(3)
    lines = restore_dropped(html.fromstring(page), body).split("\n")
    assert lines[0] == "1. The pilot boat" and lines[2] == "2. The lighthouse" and lines[4] == "3. The fish market"
    # one <h4> over one paragraph: as often the title of a box (a video's, a fact file's) as a section's
    page, body = _minor_headings_page(1)
    assert restore_dropped(html.fromstring(page), body) == body


def test_a_body_that_kept_its_headings_is_unchanged():
    body = "\n".join(
        [
            "What the divers found",
            "Divers spent three days checking the sea wall for cracks below the waterline before any ship came in.",
        ]
    )
    assert restore_dropped(html.fromstring(GUIDE), body) == body


STEPS_PAGE = """<html><body><article>
<p>Before the first ferry sails, the harbour master runs through the same checks every morning.</p>
<ul><li>Read the <a href="/forecast">forecast</a></li><li>Count the <a href="/rafts">life rafts</a></li></ul>
<p>Only when every check is done does the first crossing of the day get the signal to leave.</p>
<ul><li><img src="a.jpg"> The north pontoon after the storm</li></ul>
<p>The gallery above shows the damage the divers found on the north side of the harbour.</p>
</article><nav><p>Menu</p><ul><li><a href="/">Home</a></li></ul></nav></body></html>"""


def test_a_list_dropped_from_between_two_kept_paragraphs_comes_back_between_them():
    body = "\n".join(
        [
            "Before the first ferry sails, the harbour master runs through the same checks every morning.",
            "Only when every check is done does the first crossing of the day get the signal to leave.",
            "The gallery above shows the damage the divers found on the north side of the harbour.",
        ]
    )
    lines = restore_dropped(html.fromstring(STEPS_PAGE), body).split("\n")
    # the checks between their paragraphs; a gallery's caption list and the menu stay out
    assert lines[1:3] == ["- Read the forecast", "- Count the life rafts"]
    assert len(lines) == 5


def test_lists_next_to_each_other_or_under_a_label_come_back_between_the_paragraphs_around_them():
    page = """<html><body><article>
<p>The review team tried both ferries on the same stormy crossing last week.</p>
<ul><li>Warm cabins</li><li>Quick boarding</li></ul><ul><li>Few seats on deck</li></ul>
<p>On balance the newer ferry was the better ride for anyone who gets seasick.</p>
<p>Timetable:</p><ul><li>Sailings every two hours</li></ul>
<p>The operator says the older ferry will be retired at the end of the summer season.</p>
<p>Elsewhere:</p><p>Short label</p><ul><li>A list too far from any kept line</li></ul>
<p>Passengers with tickets for the old ferry can change them free of charge online.</p>
</article></body></html>"""
    body = "\n".join(
        [
            "The review team tried both ferries on the same stormy crossing last week.",
            "On balance the newer ferry was the better ride for anyone who gets seasick.",
            "The operator says the older ferry will be retired at the end of the summer season.",
            "Passengers with tickets for the old ferry can change them free of charge online.",
        ]
    )
    lines = restore_dropped(html.fromstring(page), body).split("\n")
    assert lines[1:4] == ["- Warm cabins", "- Quick boarding", "- Few seats on deck"]  # both lists, in page order
    assert lines[5] == "- Sailings every two hours"  # past its label
    assert "- A list too far from any kept line" not in lines and len(lines) == 8


def test_a_list_under_a_short_label_the_body_kept_comes_back_after_the_label():
    page = """<html><body><article>
<p>The harbour master's checklist changed after the storm of last winter.</p>
<h4>What to check</h4><ul><li>Mooring lines</li><li>Fuel valves</li></ul>
<p>Only when every check is done does the first crossing of the day get the signal to leave.</p>
<h4>Pros</h4><ul><li>Fast</li></ul><h4>Cons</h4><ul><li>Costly</li></ul>
<p>The operator says the older ferry will be retired at the end of the summer season.</p>
<h4>Pros</h4><ul><li>Quiet</li></ul><h4>Cons</h4><ul><li>Slow</li></ul>
</article></body></html>"""
    kept = (
        "The harbour master's checklist changed after the storm of last winter.\nWhat to check\n"
        "Only when every check is done does the first crossing of the day get the signal to leave.\nPros\nCons\n"
        "The operator says the older ferry will be retired at the end of the summer season.\nPros\nCons"
    )
    lines = restore_dropped(html.fromstring(page), kept).split("\n")
    assert lines[2:4] == ["- Mooring lines", "- Fuel valves"]  # between its label and the next paragraph
    # a label the body holds twice says nothing of where a list goes: those lists stay out
    assert not {"- Fast", "- Costly", "- Quiet", "- Slow"} & set(lines) and len(lines) == 10


def test_a_paragraph_dropped_from_between_two_kept_ones_comes_back_between_them():
    page = """<html><body><article>
<p>The review team tried both ferries on the same stormy crossing last week.</p>
<p>Both boats left on time, but the older one rolled badly once it cleared the harbour wall.</p>
<p>On balance the newer ferry was the better ride for anyone who gets seasick.</p>
<p>Book at <a href="/a">the ferry company's own site</a> or <a href="/b">the port's ticket office</a>.</p>
<p>The operator says the older ferry will be retired at the end of the summer season.</p>
</article><footer><p>Harbour News is published by the Quayside trust, registered in the town since 1898.</p></footer>
</body></html>"""
    kept = [
        "The review team tried both ferries on the same stormy crossing last week.",
        "On balance the newer ferry was the better ride for anyone who gets seasick.",
        "The operator says the older ferry will be retired at the end of the summer season.",
    ]
    lines = restore_dropped(html.fromstring(page), "\n".join(kept)).split("\n")
    # the prose comes back in its place; the link line and the footer, whose neighbours are not kept lines, stay out
    assert lines == [
        kept[0],
        "Both boats left on time, but the older one rolled badly once it cleared the harbour wall.",
        *kept[1:],
    ]


# A guide whose first part sits in the article's container and the rest in an accordion's panels
# beside it, with a comment, a related teaser, a photo caption and a newsletter pitch around them.
_LEAD = [
    "The harbour board has published its plan for rebuilding the north quay after the winter storms.",
    "Work is set to begin in April, and the board expects the quay to reopen to ferries by late autumn.",
]
_PANELS = [
    "The first phase replaces the timber piles that the January surge split along the eastern berth.",
    "In the second phase the deck is relaid in concrete, which the engineers say will outlast the old boards.",
    "The third phase adds a wave wall along the seaward edge, raised half a metre above the old parapet.",
    "Finally the board will repaint the bollards and restore the clock tower that has stood there since 1898.",
]


def _guide(panels: list[str] = _PANELS, extra: str = "") -> str:
    lead = "".join(f"<p>{p}</p>" for p in _LEAD)
    accordion = "".join(f"<div class='panel'><h3>Phase {i}</h3><p>{p}</p></div>" for i, p in enumerate(panels))
    return (
        "<html><body><nav><p>Home News Harbour Weather Sport Opinion Contact About Archive Jobs Shop</p></nav>"
        "<main><div class='page'><div class='page-inner'>"
        f"<div class='article-body'>{lead}</div>"
        f"<div class='accordion'>{accordion}</div>{extra}"
        "<figure><figcaption>The north quay after the storm, seen from the lighthouse on a grey morning.</figcaption></figure>"
        "<div class='related-stories'><p><a href='/a'>Ferry timetable changes for the summer season announced by the operator today</a></p></div>"
        "<div class='comments'><p>I have walked that quay every day for forty years and never seen it so badly broken.</p></div>"
        "</div></div></main></body></html>"
    )


def test_a_truncated_body_takes_the_stories_prose_around_its_container():
    widened = widen_truncated(html.fromstring(_guide()), "\n".join(_LEAD))
    assert widened.split("\n") == _LEAD + _PANELS  # in page order, and nothing of the furniture around them


def test_a_container_right_under_the_pages_body_is_widened_within_itself():
    # the intro and the slides under one <main>, itself right under <body>: no level above to go to
    lead = "".join(f"<p>{p}</p>" for p in _LEAD)
    slides = "".join(f"<section class='slide'><p>{p}</p></section>" for p in _PANELS)
    page = f"<html><body><main><div class='intro'>{lead}</div>{slides}</main><p>{_PANELS[0]} Outside.</p></body></html>"
    assert widen_truncated(html.fromstring(page), "\n".join(_LEAD)).split("\n") == _LEAD + _PANELS


def test_a_body_is_not_widened_with_a_lone_blurb_or_a_repeated_block():
    lead = "\n".join(_LEAD)
    assert widen_truncated(html.fromstring(_guide(_PANELS[:2])), lead) == lead  # two blocks: not more of the story
    repeated = _guide([_PANELS[0]] * 4)  # one block printed again and again is a template's
    assert widen_truncated(html.fromstring(repeated), lead) == lead


def test_an_ads_script_is_no_prose():
    ads = "".join(
        f"<div class='slot'><script>var slot{i} = 'one two three four five six seven eight nine ten eleven';</script></div>"
        for i in range(4)
    )
    lead = "\n".join(_LEAD)
    assert widen_truncated(html.fromstring(_guide(_PANELS[:1], extra=ads)), lead) == lead


_STORY = [
    "The harbour board voted on Tuesday to close the north quay until the storm damage is repaired.",
    "Engineers found cracks along forty metres of the wall after last week's gale broke over it.",
    "Fishing boats will moor at the south pier in the meantime, the board's chairwoman said.",
    "Repairs are expected to take about three months and to cost the town some two million euros.",
]
_BIO = "Maria Lind is a reporter for the Valley Courier who covers the harbour, shipping and the coast."
_PITCH = "The Courier is kept going by its readers: give what you can and help us keep reporting the coast."
_TEASERS = [
    "A look back at the winter the ferry stopped running and the island had to fend for itself for weeks.",
    "How the lighthouse keepers' cottages became the town's most sought-after holiday homes this year.",
]


def _boxed_page(*, excerpts: int = 2, wrapper: str = "article-body") -> str:
    story = "".join(f"<p>{p}</p>" for p in _STORY)
    teasers = "".join(
        f"<div class='post'><div class='post-excerpt'><p>{t}</p></div></div>" for t in _TEASERS[:excerpts]
    )
    return (
        f"<html><body><article class='{wrapper}'>{story}"
        f"<div class='author-box'><div class='author-box__bio'><p>{_BIO}</p></div></div>"
        f"<div class='donate-cta'><p>{_PITCH}</p></div></article>"
        f"<section class='more-posts'>{teasers}</section></body></html>"
    )


def test_lines_the_page_holds_in_a_bio_pitch_or_teaser_box_go():
    body = "\n".join([*_STORY, _BIO, _PITCH, *_TEASERS])
    assert drop_boxed(html.fromstring(_boxed_page()), body) == "\n".join(_STORY)


def test_names_read_before_a_box_left_the_page_find_only_the_boxes_still_in_it():
    body = "\n".join([*_STORY, _BIO, _PITCH, *_TEASERS])
    tree = html.fromstring(_boxed_page())
    names = extract_html.page_names(tree)  # read first, as the stage does
    for box in tree.find_class("author-box"):
        box.drop_tree()  # as drop_hover_cards does
    assert drop_boxed(tree, body, names) == drop_boxed(tree, body) == "\n".join([*_STORY, _BIO])


def test_a_cookie_banners_lines_in_the_body_go():
    # a consent plugin's notice, written into the article's container: no line of the story
    notice = [
        "Necessary cookies are absolutely essential for the website to function properly and store no data.",
        "This website uses cookies to improve your experience. By clicking Accept you agree to our policy.",
    ]
    page = (
        f"<html><body><article>{''.join(f'<p>{p}</p>' for p in _STORY)}"
        f"<div id='cookie-law-info-bar'><div class='cli-tab-content'><p>{notice[0]}</p></div>"
        f"<p>{notice[1]}</p></div></article></body></html>"
    )
    assert drop_boxed(html.fromstring(page), "\n".join([*_STORY, *notice])) == "\n".join(_STORY)


def test_an_affiliate_disclosure_box_in_the_body_goes():
    disclosure = "We may earn a commission when you buy through the links on this page, at no cost to you."
    page = (
        f"<html><body><article>{''.join(f'<p>{p}</p>' for p in _STORY)}"
        f"<div class='affiliate-disclosure'><p>{disclosure}</p></div></article></body></html>"
    )
    assert drop_boxed(html.fromstring(page), "\n".join([disclosure, *_STORY])) == "\n".join(_STORY)


def test_a_cookie_table_in_a_consent_box_goes_row_by_row():
    rows = [
        ("harbour_session_id", "1 day", "Keeps the visitor signed in while the tide tables load"),
        ("harbour_analytics_seen", "11 months", "Records whether the visitor agreed to analytics cookies"),
    ]
    table = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td></tr>" for a, b, c in rows)
    page = (
        f"<html><body><article>{''.join(f'<p>{p}</p>' for p in _STORY)}"
        f"<div class='cookie-description'><table>{table}</table></div></article></body></html>"
    )
    body = "\n".join([*_STORY, *(f"| {a} | {b} | {c} |" for a, b, c in rows)])
    assert drop_boxed(html.fromstring(page), body) == "\n".join(_STORY)


def test_a_lone_excerpt_and_an_article_wrapper_named_for_its_author_stay():
    # one excerpt is a standfirst, not a list of teasers; a long wrapper is the article, not a box
    body = "\n".join([*_STORY, _TEASERS[0]])
    assert drop_boxed(html.fromstring(_boxed_page(excerpts=1)), body) == body
    long_story = _STORY * 8
    page = (
        "<html><body><article class='post author-lind'>"
        + "".join(f"<p>{p}</p>" for p in long_story)
        + "</article></body></html>"
    )
    assert drop_boxed(html.fromstring(page), "\n".join(long_story)) == "\n".join(long_story)


def test_the_authors_bio_at_the_end_of_the_body_goes():
    bio = [
        "Maria Lind is a reporter for the Valley Courier who covers the harbour and the coast.",
        "Maria holds a degree in marine engineering and sails whenever the weather allows it.",
    ]
    body = "\n".join([*_STORY, *bio])
    assert drop_author_bio(body, ["Maria Lind"]) == "\n".join(_STORY)
    assert drop_author_bio(body, ["Valley Courier"]) == body  # an outlet, not a person: no bio to tell


def test_a_person_the_story_is_about_stays():
    # the author's name opening a line high up in the story, or a line about someone else, is the story
    quoted = "Maria Lind is the harbour master's deputy and says the repairs cannot wait until the spring."
    body = "\n".join([quoted, *_STORY])
    assert drop_author_bio(body, ["Maria Lind"]) == body
    other = "Tom Berg is a fisherman who has moored at the north quay for thirty years and will move south."
    assert drop_author_bio("\n".join([*_STORY, other]), ["Maria Lind"]) == "\n".join([*_STORY, other])


_HOVER_PAGE = """<html><body><article>
<p>The council met <span class="people-rollover"><a href="/people/ana-ruiz">Ana Ruiz</a><span class="rollover-card"
><img src="/ana.jpg"><a href="/people/ana-ruiz">Ana Ruiz</a><a href="/other">Ferry fares rise again | Bridge closed
for a week</a></span></span> on Monday to agree the harbour budget.</p>
<p>The repairs are paid from the <a class="term-tooltip" href="/glossary/reserve">reserve fund</a> this year.</p>
</article></body></html>"""


def test_hover_cards_go_and_the_linked_names_and_terms_stay():
    tree = html.fromstring(_HOVER_PAGE)
    drop_hover_cards(tree)
    paragraphs = [" ".join(p.text_content().split()) for p in tree.iter("p")]
    assert paragraphs == [
        "The council met Ana Ruiz on Monday to agree the harbour budget.",
        "The repairs are paid from the reserve fund this year.",
    ]


def test_a_page_whose_body_names_a_tooltip_script_keeps_its_text():
    for wrapper in ("<body class='with-tooltip'>", "<body><div id='tooltip-root'>"):
        tree = html.fromstring(f"<html>{wrapper}{f'<p>{PROSE}</p>' * 8}</body></html>")
        drop_hover_cards(tree)
        assert len(list(tree.iter("p"))) == 8


def test_hover_cards_found_in_the_names_are_those_the_xpath_selects():
    page = (
        "<html><head><meta class='tooltip'></head><body class='tooltip'><div id='popover-1'>"
        "<span class='ToolTip'>case differs</span><span id='hovercard'>an id, not a class</span>"
        "<a class='tooltip'>a link</a><em class='x rollover y'>a rollover</em>"
        "<i class='a' id='b-tooltip'>by its id</i></div></body></html>"
    )
    for source in (page, _HOVER_PAGE):
        tree = html.fromstring(source)
        selected = extract_clean._HOVER_CARDS(tree)
        assert extract_clean._hover_named(tree, extract_html.page_names(tree)) == selected


_GUIDE_LINES = [
    "Renting a boat for the weekend takes more planning than most first-time sailors expect.",
    "Start by checking the forecast for wind and tide a week before you plan to leave the harbour.",
    "Book the mooring early, because the marina fills up quickly in the summer months.",
]
_ACCORDION_PAGE = f"""<html><body><div class="post"><div class="post-content">
{"".join(f"<p>{line}</p>" for line in _GUIDE_LINES)}
<div class="faq-accordion"><div class="accordion-item"><button>Do I need a licence to rent a boat?</button>
<div class="accordion-panel"><p>Most harbours ask for a basic skipper's certificate for boats over six metres.</p></div>
</div></div></div></div>
<footer><div class="footer-accordion"><button>Company</button><div><p>About us, careers, press and the
contact form for every harbour we serve along the coast.</p></div></div></footer></body></html>"""


def test_an_accordion_in_the_storys_container_comes_back_after_the_line_before_it():
    body = "\n".join(_GUIDE_LINES)
    lines = restore_accordions(html.fromstring(_ACCORDION_PAGE), body).split("\n")
    assert lines == [
        *_GUIDE_LINES,
        "Do I need a licence to rent a boat?",
        "Most harbours ask for a basic skipper's certificate for boats over six metres.",
    ]


def test_an_accordion_the_body_holds_or_outside_the_story_is_not_added_again():
    body = "\n".join(
        [*_GUIDE_LINES, "Do I need a licence to rent a boat?",
         "Most harbours ask for a basic skipper's certificate for boats over six metres."]
    )  # fmt: skip
    assert restore_accordions(html.fromstring(_ACCORDION_PAGE), body) == body
