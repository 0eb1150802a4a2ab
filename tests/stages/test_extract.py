"""stages.extract on hand-written pages: the body survives, the boilerplate does not, rejections carry reasons."""

from __future__ import annotations

import pickle
import re
from copy import copy

import pytest
from lxml import etree

from wirewatch.errors import PermanentError, Rejected
from wirewatch.stages import extract as extract_module, extract_meta
from wirewatch.stages.extract import Extracted, extract

URL = "https://quayside-post.example/region/ferry-capsizes-off-north-coast?utm_source=share"

BODY = [
    "At least twelve people were killed and dozens more injured when a passenger ferry overturned "
    "in rough seas off the northern coast early on Tuesday, the coast guard said.",
    "Rescue crews pulled 48 survivors from the water in the hours after the vessel, which was carrying "
    "more than 60 people, sent a distress call shortly before dawn.",
    "A fisherman who joined the search said the swell was the worst he had seen all winter. Port "
    "officials said the ferry had been cleared to sail the previous evening.",
    "The regional governor declared three days of mourning and ordered an inquiry into why the crossing "
    "went ahead despite a storm warning issued overnight.",
]

BOILERPLATE = [
    "We use cookies to improve your experience",
    "Subscribe to our morning briefing",
    "ADVERTISEMENT",
    "Cheap flights to the sun",
    "Share on social media",
    "Storm warning issued for the coast",
    "Ferry operator fined last year",
    "Thoughts with all the families tonight",
    "Someone has to answer for this",
    "All rights reserved",
    "Privacy policy",
    "Most read",
]

ARTICLE_PAGE = f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<title>Ferry capsizes off north coast, at least 12 dead | Quayside Post</title>
<meta name="description" content="A passenger ferry overturned in rough seas on Tuesday morning.">
<meta property="og:title" content="Ferry capsizes off north coast, at least 12 dead">
<meta property="og:site_name" content="Quayside Post">
<meta property="og:type" content="article">
<meta property="og:image" content="/media/2024/ferry-rescue.jpg">
<meta property="og:url" content="https://quayside-post.example/og-url-should-lose">
<meta name="author" content="Ines Varga; Kwame Mensah">
<meta property="article:published_time" content="2024-03-05T08:30:00+00:00">
<link rel="stylesheet" href="/site.css">
<link rel="canonical" href="/region/ferry-capsizes-off-north-coast">
</head>
<body>
<div id="cookie-banner" class="cookie-consent">{BOILERPLATE[0]}. <button>Accept</button></div>
<header>
  <nav class="main-nav"><ul>
    <li><a href="/">Home</a></li><li><a href="/region">Region</a></li><li><a href="/sport">Sport</a></li>
    <li><a href="/business">Business</a></li><li><a href="/opinion">Opinion</a></li>
  </ul></nav>
</header>
<div class="ad-slot advert" id="ad-top">{BOILERPLATE[2]} <a href="https://ads.example/x">{BOILERPLATE[3]}</a></div>
<main>
<article class="story">
  <h1>Ferry capsizes off north coast, at least 12 dead</h1>
  <div class="share-buttons social"><a href="#">{BOILERPLATE[4]}</a> <a href="#">Email</a></div>
  <p>{BODY[0]}</p>
  <p>{BODY[1]}</p>
  <div class="newsletter-signup promo"><p>{BOILERPLATE[1]}</p><form><input type="email"><button>Sign up</button></form></div>
  <p>{BODY[2]}</p>
  <p>{BODY[3]}</p>
</article>
<section class="comments" id="comments">
  <h3>Comments</h3>
  <div class="comment"><p>harbourfan: {BOILERPLATE[7]}, what a dreadful morning for the whole town.</p></div>
  <div class="comment"><p>tidewatcher: {BOILERPLATE[8]}, the warning was out the night before.</p></div>
</section>
<aside class="related-stories">
  <h3>Related</h3>
  <ul><li><a href="/a">{BOILERPLATE[5]}</a></li><li><a href="/b">{BOILERPLATE[6]}</a></li></ul>
</aside>
<aside class="most-read"><h3>{BOILERPLATE[11]}</h3><ol><li><a href="/c">Council approves harbour wall</a></li></ol></aside>
</main>
<footer><p>© 2024 Quayside Post. {BOILERPLATE[9]}.</p><a href="/privacy">{BOILERPLATE[10]}</a></footer>
</body>
</html>
"""

ARABIC_PAGE = """<!DOCTYPE html>
<html lang="ar" dir="rtl">
<head>
<meta charset="utf-8">
<title>مقتل سبعة أشخاص في انهيار مبنى سكني</title>
<script type="application/ld+json">
{"@context": "https://schema.org", "@type": "NewsArticle",
 "headline": "مقتل سبعة أشخاص في انهيار مبنى سكني",
 "datePublished": "2024-11-02T06:10:00+03:00",
 "author": [{"@type": "Person", "name": "Layla Haddad"}],
 "publisher": {"@type": "Organization", "name": "Al-Sahil Daily"}}
</script>
</head>
<body>
<nav><a href="/">الرئيسية</a> <a href="/local">محليات</a> <a href="/sport">رياضة</a></nav>
<article>
<p>قال الدفاع المدني إن سبعة أشخاص لقوا حتفهم وأصيب أحد عشر آخرون عندما انهار مبنى سكني من خمسة طوابق في وسط المدينة فجر اليوم.</p>
<p>وأوضح متحدث باسم الدفاع المدني أن فرق الإنقاذ ما زالت تبحث تحت الأنقاض عن ناجين محتملين، وأن المبنى كان قد صدر بحقه إنذار بالإخلاء العام الماضي.</p>
<p>وأعلنت السلطات المحلية فتح تحقيق في أسباب الانهيار، فيما نقل المصابون إلى ثلاثة مستشفيات قريبة لتلقي العلاج.</p>
</article>
<footer>جميع الحقوق محفوظة</footer>
</body>
</html>
"""


def page(paragraphs: list[str], head: str = "", url_note: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"<!DOCTYPE html><html><head><title>Note</title>{head}</head><body><article>{body}</article>{url_note}</body></html>"


def test_keeps_the_body_and_drops_the_boilerplate():
    result = extract(ARTICLE_PAGE, URL)

    for paragraph in BODY:
        assert paragraph in result.text
    for junk in BOILERPLATE:
        assert junk not in result.text, junk
    assert result.text.index(BODY[0]) < result.text.index(BODY[3])


def test_headline_is_the_title_not_the_first_body_line():
    result = extract(ARTICLE_PAGE, URL)
    assert result.title == "Ferry capsizes off north coast, at least 12 dead"
    assert result.text.startswith(BODY[0])


def test_metadata_fields():
    result = extract(ARTICLE_PAGE, URL)
    assert result.authors == ["Ines Varga", "Kwame Mensah"]
    assert result.published == "2024-03-05"
    assert result.language == "en"
    assert result.sitename == "Quayside Post"
    assert result.description == "A passenger ferry overturned in rough seas on Tuesday morning."
    # Relative references in the page are made absolute against the page URL.
    assert result.canonical_url == "https://quayside-post.example/region/ferry-capsizes-off-north-coast"
    assert result.image == "https://quayside-post.example/media/2024/ferry-rescue.jpg"


def test_arabic_article_with_json_ld():
    result = extract(ARABIC_PAGE, "https://al-sahil.example/local/building-collapse-7")
    assert "سبعة أشخاص لقوا حتفهم" in result.text
    assert "الرئيسية" not in result.text and "جميع الحقوق محفوظة" not in result.text
    assert result.language == "ar"
    assert result.authors == ["Layla Haddad"]
    assert result.published == "2024-11-02"
    assert result.title == "مقتل سبعة أشخاص في انهيار مبنى سكني"
    assert result.canonical_url is None


def test_canonical_falls_back_to_og_url_and_absent_fields_are_none():
    html = page(BODY, head='<meta property="og:url" content="https://quayside-post.example/s/ferry">')
    result = extract(html, "https://quayside-post.example/s/ferry?ref=share")
    assert result.canonical_url == "https://quayside-post.example/s/ferry"
    assert result.authors == []
    assert result.published is None
    assert result.language is None
    assert result.description is None and result.image is None


@pytest.mark.parametrize(
    ("og_url", "expected"),
    [
        ("Ferry capsizes off the north coast", None),  # a bare title: no URL at all
        ("ferry-capsizes-off-north-coast", None),  # nor a slug without its path
        ("/region/ferry-capsizes", "https://quayside-post.example/region/ferry-capsizes"),  # a path from the root
        ("//quayside-post.example/s/ferry", "https://quayside-post.example/s/ferry"),
    ],
)
def test_an_og_url_that_is_no_url_is_ignored(og_url, expected):
    html = page(BODY, head=f'<meta property="og:url" content="{og_url}">')
    assert extract(html, "https://quayside-post.example/a/123456").canonical_url == expected


@pytest.mark.parametrize(
    "lang, expected",
    [('lang="pt-BR"', "pt"), ('lang="FR"', "fr"), ('lang="en_US"', "en"), ('lang=""', None), ('lang="und"', None)],
)
def test_language_is_normalised_to_two_letters(lang, expected):
    paragraphs = "".join(f"<p>{p}</p>" for p in BODY)
    html = (
        f"<!DOCTYPE html><html {lang}><head><title>t</title></head><body><article>{paragraphs}</article></body></html>"
    )
    assert extract(html, URL).language == expected


def test_authors_are_split_trimmed_and_deduplicated():
    html = page(BODY, head='<meta name="author" content="Ana Ruiz ;  Bo Lind; ana ruiz">')
    assert extract(html, URL).authors == ["Ana Ruiz", "Bo Lind"]


def test_a_date_in_the_text_is_not_taken_for_the_publication_date():
    text = [p + " The previous collapse was on 14 January 2019." for p in BODY]
    assert extract(page(text), "https://quayside-post.example/news/ferry").published is None


@pytest.mark.parametrize(
    "html", ["", "   \n\t", "<html></html>", "<html><body><script>var a = 1;</script></body></html>"]
)
def test_nothing_to_extract_is_empty(html):
    with pytest.raises(Rejected) as e:
        extract(html, URL)
    assert e.value.reason == "empty"
    assert URL in e.value.detail


def test_navigation_only_page_is_rejected():
    html = (
        "<html><body><nav><ul><li><a href='/a'>Region</a></li><li><a href='/b'>Sport</a></li></ul></nav></body></html>"
    )
    with pytest.raises(Rejected) as e:
        extract(html, URL)
    assert e.value.reason in {"empty", "too_short"}


def test_short_text_is_too_short_with_its_length():
    with pytest.raises(Rejected) as e:
        extract(page(["Power was restored to the east of the city tonight."]), URL)
    assert e.value.reason == "too_short"
    assert e.value.detail.startswith("51 characters")
    assert "fewer than 200" in e.value.detail


def test_min_length_is_the_callers_choice():
    html = page(["Power was restored to the east of the city tonight."])
    assert extract(html, URL, min_length=20).text == "Power was restored to the east of the city tonight."


@pytest.mark.parametrize("url", ["https://quayside-post.example/", "https://quayside-post.example"])
def test_front_page_is_not_an_article(url):
    with pytest.raises(Rejected) as e:
        extract(ARTICLE_PAGE, url)
    assert e.value.reason == "not_article"
    assert url in e.value.detail


def test_trafilatura_failure_becomes_extract_failed(monkeypatch):
    def boom(*args, **kwargs):
        raise IndexError("list index out of range")

    monkeypatch.setattr(extract_module.trafilatura_core, "tree_cleaning", boom)  # every pass cleans a copy
    with pytest.raises(PermanentError) as e:
        extract(ARTICLE_PAGE, URL)
    assert e.value.reason == "extract_failed"
    assert URL in e.value.detail
    assert isinstance(e.value.__cause__, IndexError)


def test_result_is_deterministic_and_picklable():
    first = extract(ARTICLE_PAGE, URL)
    assert extract(ARTICLE_PAGE, URL) == first
    assert isinstance(first, Extracted)
    assert pickle.loads(pickle.dumps(first)) == first
    assert pickle.loads(pickle.dumps(extract)) is extract


@pytest.mark.parametrize(
    "body",
    [
        "%PDF-1.7\n\x00\x01\x02 binary junk",
        "\x89PNG\r\n\x1a\n rest",
        '{"items": [1, 2, 3]}',
        '<?xml version="1.0"?>\n<rss version="2.0"><channel></channel></rss>',
        "<html>\x00\x00</html>",
    ],
)
def test_a_document_that_is_not_html_is_wrong_type(body):
    with pytest.raises(Rejected) as e:
        extract(body, URL)
    assert e.value.reason == "wrong_type"
    assert URL in e.value.detail


def test_page_type_and_method_are_reported():
    result = extract(ARTICLE_PAGE, URL)
    assert result.page_type == "article"
    assert result.method == "precision"


def test_a_short_page_gets_the_later_passes():
    html = page(["Power was restored to the east of the city tonight after a long outage."])
    assert extract(html, URL, min_length=20).method in {"precision", "default_full"}


def test_warm_up_runs():
    extract_module.warm_up()


def test_the_printed_headline_wins_over_a_title_written_for_search_engines():
    html = page(BODY).replace("<title>Note</title>", "<title>Ferry capsizes: 12 dead | Quayside Post</title>")
    html = html.replace("<article>", "<article><h1>Ferry capsizes, 12 dead</h1>")
    assert extract(html, "https://quayside-post.example/news/ferry").title == "Ferry capsizes, 12 dead"


def test_an_h1_that_is_a_logo_or_section_name_is_not_the_headline():
    html = page(BODY).replace("<title>Note</title>", "<title>Ferry capsizes off north coast | Quayside Post</title>")
    html = html.replace("<article>", "<h1>Regional news</h1><article>")
    assert (
        extract(html, "https://quayside-post.example/news/ferry").title
        == "Ferry capsizes off north coast | Quayside Post"
    )


def test_a_byline_date_is_read_when_the_metadata_states_none():
    html = page(BODY).replace("<article>", "<article><div class='byline'>Posted on March 5, 2024</div>")
    assert extract(html, "https://quayside-post.example/news/ferry").published == "2024-03-05"


def test_a_date_in_a_note_on_a_change_to_the_page_dates_the_page():
    note = "Editor's note: on March 5, 2024, we added the names of the crew and the port's statement."
    html = page([*BODY, note])
    assert extract(html, "https://quayside-post.example/news/ferry").published == "2024-03-05"


@pytest.mark.parametrize(
    "byline, date",
    [
        ("By Ana Ruiz, 20th December 2025", "2025-12-20"),
        ("Dec. 3, 2024 | Port desk", "2024-12-03"),
        ("Posted 2023-07-09 by the port desk", "2023-07-09"),
        ("By Ana Ruiz", None),
    ],
)
def test_the_date_printed_under_the_headline_is_the_byline_date(byline, date):
    html = (
        "<html><body><nav><span>Weather, May 1, 2020</span></nav><main><header><h1>Ferry capsizes</h1>"
        f"<script>var built = 'January 2, 2019';</script></header><div class='byline'><span>{byline}</span></div>"
        + "".join(f"<p>{p}</p>" for p in BODY)
        + "</main></body></html>"
    )
    assert extract_meta._byline_date(extract_module.trafilatura.load_html(html)) == date


def test_a_page_the_other_passes_find_nothing_in_gets_the_recall_pass(monkeypatch):
    full = "\n".join(BODY)
    monkeypatch.setattr(extract_module, "_body", lambda page, *, favor_recall=False, **_: full if favor_recall else "")
    result = extract(page(BODY), "https://quayside-post.example/news/ferry")
    assert (result.text, result.method) == (full, "recall")


def test_json_ld_that_trafilatura_cannot_walk_leaves_the_meta_tags_and_says_why(monkeypatch, caplog):
    def trips(tree, doc):
        raise TypeError("unexpected list")

    monkeypatch.setattr(extract_meta, "_json_ld", trips)
    html = page(BODY).replace("<head>", "<head><meta property='og:title' content='Ferry capsizes'>")
    with caplog.at_level("INFO", logger="wirewatch.stages.extract_meta"):
        meta = extract_meta.read_metadata(extract_module.trafilatura.load_html(html), URL)
    assert meta.title
    assert "JSON-LD" in caplog.text and "TypeError: unexpected list" in caplog.text


def test_json_ld_reads_as_trafilaturas():
    # extract_meta._json_ld minifies each script with a findall instead of trafilatura's
    # JSON_MINIFY.sub: the same text, so the same metadata, whatever the spacing and quoting.
    from trafilatura.metadata import examine_meta, extract_meta_json

    scripts = [
        '{"@type": "NewsArticle",\n  "headline" : "Ferry  capsizes \\"off\\" the coast",\n'
        '  "author": {"@type": "Person", "name": "Jane  Roe"}, "datePublished": "2024-03-02"}',
        '{ "@context": "https://schema.org", "@graph": [ {"@type": "WebSite", "name": "Quayside Post"},'
        ' {"@type": "Article", "headline": "Harbour\twall", "author": [{"name": "Ali Khan"}]} ] }',
        '{"@type": "Article", "headline": "An unterminated string \\\n, "author": "Sam Lee"',
        '{"@type":"Article","name":"x"}  "stray quote',
    ]
    read = []
    for script in scripts:
        html = page(BODY).replace("<head>", f"<head><script type='application/ld+json'>{script}</script>")
        tree = extract_module.trafilatura.load_html(html)
        ours, theirs = extract_meta._json_ld(tree, examine_meta(tree)), extract_meta_json(tree, examine_meta(tree))
        fields = [k for k in theirs.__slots__ if k not in ("body", "commentsbody")]  # (fresh empty trees)
        assert {k: getattr(ours, k) for k in fields} == {k: getattr(theirs, k) for k in fields}
        read.append(theirs.author)
    assert "Ali Khan" in read  # (the JSON-LD is read at all)


def _passes_returning(monkeypatch, texts: dict[bool, str]):
    # The precision passes find only a teaser (as on pages whose article container holds the first
    # part); the default mode's wider net finds the whole story. Which one a page gets is decided here.
    monkeypatch.setattr(extract_module, "_body", lambda page, *, favor_precision, fast: texts[favor_precision])


def test_a_body_that_is_a_small_part_of_the_pages_prose_gives_way_to_the_fuller_one(monkeypatch):
    story = [f"{p} Part {i} of the report." for i in range(6) for p in BODY]
    teaser, full = "\n".join(story[:4]), "\n".join(story)
    assert len(teaser) > extract_module.SECOND_PASS_BELOW  # long enough that the later passes would not run
    _passes_returning(monkeypatch, {True: teaser, False: full})
    got = extract(page(story), "https://quayside-post.example/news/ferry")
    assert got.text == full and got.method == "default_full"


def test_a_wider_body_that_only_repeats_lines_is_not_fuller(monkeypatch):
    # a page that prints its teasers or its metadata again and again: longer, but no more story
    story = [f"{p} Part {i} of the report." for i in range(6) for p in BODY]
    teaser, repeated = "\n".join(story[:4]), "\n".join(story[:4] + ["Ferry capsizes off north coast", *story[:2]] * 6)
    _passes_returning(monkeypatch, {True: teaser, False: repeated})
    got = extract(page(story), "https://quayside-post.example/news/ferry-capsizes-off-north-coast-in-rough-seas")
    assert got.text == teaser and got.method == "precision"


def test_a_short_whole_story_is_not_swapped_for_one_topped_with_its_standfirst(monkeypatch):
    # A paywalled story's free paragraphs: short enough that the default mode runs too, and that
    # mode adds the standfirst above them. A little longer is not fuller: the story stays as found.
    story = "\n".join(BODY[:2])
    assert len(story) < extract_module.SECOND_PASS_BELOW
    standfirst = "Survivors describe a night crossing that should never have left port, and the storm it met."
    _passes_returning(monkeypatch, {True: story, False: f"{standfirst}\n{story}"})
    got = extract(page(BODY[:2]), "https://quayside-post.example/news/ferry", min_length=100)
    assert got.text == story and got.method == "precision"


def test_a_short_body_gives_way_to_a_much_fuller_one(monkeypatch):
    short, full = BODY[0], "\n".join(BODY)
    _passes_returning(monkeypatch, {True: short, False: full})
    got = extract(page(BODY), "https://quayside-post.example/news/ferry")
    assert got.text == full and got.method == "default_full"


def _modes_returning(monkeypatch, precision: str, default: str, recall: str):
    def body(page, *, favor_precision, fast, favor_recall=False):
        return recall if favor_recall else precision if favor_precision else default

    monkeypatch.setattr(extract_module, "_body", body)


STEPS = [
    f"Step {i}: the harbour master checks the {thing} before any crossing in a storm warning."
    for i, thing in enumerate(["forecast", "manifest", "life rafts", "radio", "crew list", "ballast"])
]


def test_a_story_whose_lists_the_precision_pass_pruned_gives_way_to_the_recall_body(monkeypatch):
    # The page's prose is the story and its list of steps; the precision pass kept the paragraphs
    # and dropped the list (between TRUNCATED_BELOW and SHORTENED_BELOW of the prose).
    story, whole = "\n".join(BODY), "\n".join([*BODY, *STEPS])
    _modes_returning(monkeypatch, precision=story, default=story, recall=whole)
    got = extract(page([*BODY, *STEPS]), "https://quayside-post.example/news/ferry")
    assert got.text == whole and got.method == "recall"


CHECKS = [
    "Forecast: read at dawn",
    "Manifest: signed by the master",
    "Life rafts: counted twice",
    "Radio: tested on deck",
]
REPORT = [*BODY, *(f"Later on Tuesday: {p}" for p in BODY)]


def _checklist(i: int) -> list[str]:
    return [f"{item} (crossing {i})" for item in CHECKS]


def _story_with_checklists(lists: int) -> str:
    # the story's paragraphs, the first ``lists`` of them followed by a short checklist (items
    # under PROSE_MIN_WORDS words: no running prose, so a body without them holds the page's prose)
    blocks = [
        f"<p>{p}</p>" + ("<ul>" + "".join(f"<li>{item}</li>" for item in _checklist(i)) + "</ul>" if i < lists else "")
        for i, p in enumerate(REPORT)
    ]
    return (
        f"<!DOCTYPE html><html><head><title>Note</title></head><body><article>{''.join(blocks)}</article></body></html>"
    )


def test_a_story_whose_short_list_items_the_precision_pass_pruned_gives_way_to_the_recall_body(monkeypatch):
    # The precision pass kept every paragraph (the page's prose, all of it) and dropped the
    # checklists between them; the recall body holds both: it wins.
    story = "\n".join(REPORT)
    whole = "\n".join(line for i, p in enumerate(REPORT) for line in [p, *(f"- {item}" for item in _checklist(i))])
    _modes_returning(monkeypatch, precision=story, default=story, recall=whole)
    got = extract(_story_with_checklists(len(REPORT)), "https://quayside-post.example/news/ferry")
    assert got.text == whole and got.method == "recall"


def test_a_body_that_leaves_out_no_list_beside_it_gets_no_recall_pass(monkeypatch):
    story = "\n".join(REPORT)
    calls = []

    def body(page, *, favor_precision, fast, favor_recall=False):
        calls.append(favor_recall)
        return story

    monkeypatch.setattr(extract_module, "_body", body)
    got = extract(_story_with_checklists(0), "https://quayside-post.example/news/ferry")
    assert got.text == story and got.method == "precision" and True not in calls


def test_the_lists_a_body_leaves_out_count_where_a_block_beside_them_opens_one_of_its_lines():
    from wirewatch.stages import extract_clean
    from wirewatch.stages.extract_html import load_html

    tree = load_html(_story_with_checklists(2))
    words = sum(len(item.split()) for item in _checklist(0))
    assert extract_clean.dropped_list_words(tree, "\n".join(REPORT)) == 2 * words
    with_one = "\n".join([REPORT[0], *(f"- {item}" for item in _checklist(0)), *REPORT[1:]])
    assert extract_clean.dropped_list_words(tree, with_one) == words  # the first list is in the body
    assert extract_clean.dropped_list_words(tree, "An unrelated line of some length about other things.") == 0
    # a list alone in its box (a school's stats under its paragraph): the box's neighbours count
    boxed = load_html(
        f"<html><body><article><p>{REPORT[0]}</p><div class='stats'><ul>"
        + "".join(f"<li>{item}</li>" for item in _checklist(0))
        + f"</ul></div><p>{REPORT[1]}</p></article></body></html>"
    )
    assert extract_clean.dropped_list_words(boxed, "\n".join(REPORT[:2])) == words


def test_a_default_body_that_replaced_a_short_one_still_gets_the_recall_test(monkeypatch):
    # The precision pass found almost nothing; the default mode's body is fuller but still prunes
    # the list of steps (under SHORTENED_BELOW of the prose): the recall body, which holds it all, wins.
    story, whole = "\n".join(BODY), "\n".join([*BODY, *STEPS])
    _modes_returning(monkeypatch, precision=BODY[0][:80], default=story, recall=whole)
    got = extract(page([*BODY, *STEPS]), "https://quayside-post.example/news/ferry")
    assert got.text == whole and got.method == "recall"


def test_a_default_body_that_holds_the_pages_prose_is_not_widened(monkeypatch):
    story = "\n".join(BODY * 3)
    _modes_returning(monkeypatch, precision=BODY[0][:80], default=story, recall="\n".join(BODY * 3 + STEPS * 4))
    got = extract(page(BODY * 3), "https://quayside-post.example/news/ferry")
    assert got.text == story and got.method == "default_full"


def test_a_wider_body_that_leaves_out_the_story_found_is_not_taken(monkeypatch):
    # recall's body is longer but does not hold the first body's lines: another container
    story, other = "\n".join(BODY), "\n".join([BODY[0], *STEPS, *STEPS[:2]])
    _modes_returning(monkeypatch, precision=story, default=story, recall=other)
    got = extract(page([*BODY, *STEPS]), "https://quayside-post.example/news/ferry")
    assert got.text == story and got.method == "precision"


def test_a_body_that_holds_most_of_the_pages_prose_is_kept(monkeypatch):
    body, wider = "\n".join(BODY * 3), "\n".join(BODY * 3 + BOILERPLATE * 5)
    _passes_returning(monkeypatch, {True: body, False: wider})
    got = extract(page(BODY * 3), "https://quayside-post.example/news/ferry")
    assert got.text == body and got.method == "precision"


def test_a_body_every_mode_truncates_is_widened_with_the_prose_around_its_container(monkeypatch):
    # Every mode stops at the container holding the first paragraphs; the rest of the story sits in
    # panels beside it, under the same parent, next to a comment that stays out.
    panels = "".join(f"<div class='panel'><p>Part {i} of the report. {p}</p></div>" for i, p in enumerate(BODY))
    html = (
        "<html><head><title>Ferry</title></head><body><main><div class='story'><div class='wrap'>"
        f"<div class='lead'>{''.join(f'<p>{p}</p>' for p in BODY)}</div><div class='panels'>{panels}</div>"
        f"<div class='comments'><p>{BODY[2]} Said a reader.</p></div></div></div></main></body></html>"
    )
    lead = "\n".join(BODY)
    assert len(lead) > extract_module.SECOND_PASS_BELOW
    _modes_returning(monkeypatch, precision=lead, default=lead, recall=lead)
    got = extract(html, "https://quayside-post.example/news/ferry", min_length=20)
    assert got.text.split("\n") == [*BODY, *(f"Part {i} of the report. {p}" for i, p in enumerate(BODY))]
    assert got.method == "precision"


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ("By Jane Roe", ["Jane Roe"]),
        ("Author Isaiah Stone", ["Isaiah Stone"]),
        ("Ana Ruiz Mar 3, 2024", ["Ana Ruiz"]),
        ("Ana Ruiz; On December 9", ["Ana Ruiz"]),
        ("Jan Novak; Anna March; May Chen", ["Jan Novak", "Anna March", "May Chen"]),
    ],
)
def test_a_byline_lead_word_and_date_are_not_part_of_the_name(raw, names):
    assert extract_meta.split_authors(raw) == names


_BYLINES = [
    "<div class='story-meta'><span class='author-name'>Ana Ruiz</span></div>",
    "<p class='byline'>By Ana Ruiz <time>March 5, 2024</time> for the port desk</p>",
    "<div id='comments'><span class='author'>Reader Joe</span></div><div class='AuthorBox'>Ana Ruiz</div>",
    "<div class='sidebar'><a rel='author'>Sidebar Sam</a></div><h4 class='journalist-name'>Ana Ruiz</h4>",
    "<div data-component='BylineBlock'><figure>Photo: Lee Wu</figure>Ana Ruiz and Tom Bell</div>",
    "<span class='writer'>x</span><author>Ana Ruiz</author>",
    "<div class='meta'>Port desk</div>",
]


@pytest.mark.parametrize("byline", _BYLINES)
def test_the_byline_author_is_the_one_trafilatura_finds(byline):
    from trafilatura.metadata import extract_author

    html = f"<html><body><h1>Ferry capsizes</h1>{byline}" + "".join(f"<p>{p}</p>" for p in BODY) + "</body></html>"
    tree = extract_module.trafilatura.load_html(html)
    assert extract_meta.byline_author(tree) == extract_author(tree)


def test_past_the_size_bound_only_the_byline_is_searched_for_a_date(monkeypatch):
    note = "Editor's note: on March 5, 2024, we added the names of the crew and the port's statement."
    url = "https://quayside-post.example/news/ferry"
    monkeypatch.setattr(extract_module, "DATE_SEARCH_MAX_CHARS", 100)
    assert extract(page([*BODY, note]), url).published is None  # only the whole-page search finds that one
    html = page(BODY).replace("<article>", "<article><div class='byline'>Posted on March 5, 2024</div>")
    assert extract(html, url).published == "2024-03-05"


_FORUM_PAGE = (
    "<html><head><title>Ferry timetable changes</title><script type='application/ld+json'>"
    '{"@context": "https://schema.org", "@type": "DiscussionForumPosting", "headline": "Ferry timetable changes"}'
    "</script></head><body><h1>Ferry timetable changes</h1><div class='post'><p>"
    + BODY[0]
    + "</p></div><ul class='comments'>"
    + "".join(f"<li class='comment'><p>{p}</p></li>" for p in BODY[1:])
    + "</ul></body></html>"
)
_TEASER_PAGE = (
    "<html><body><div class='nav'>"
    + "".join(f"<a href='/s/{i}'>Section {i}</a> " for i in range(30))
    + f"</div><article><p>{BODY[0][:120]}</p></article><div class='more'>"
    + "".join(f"<div><p>{p}</p></div>" for p in BODY * 3)
    + "</div></body></html>"
)

# What trafilatura's raw-tree and comment prunings take out: a follow-up article of an infinite
# scroll, share buttons, a comment section (its list in a <ul>), a Disqus thread in a <ul>.
_PRUNED_PAGE = (
    "<html><body><h1>Ferry capsizes</h1><div class='entry-content'>"
    + "".join(f"<p>{p}</p>" for p in BODY)
    + "<div class='elementor-share-buttons'><p>Share this story with your friends and family today</p></div>"
    + "<div id='comments'><p>A reader wrote in about the ferry and the harbour's safety record.</p></div>"
    + "<ul class='comment-list'><li>Another reader's long comment on the ferry that capsized.</li></ul>"
    + "<ul id='disqus_thread'><li>A third reader's comment, in a Disqus thread on the page.</li></ul>"
    + "</div><div class='infinite-scroll'><h2>Next story</h2>"
    + "".join(f"<p>{p}</p>" for p in reversed(BODY))
    + "</div></body></html>"
)


@pytest.mark.parametrize("html", [ARTICLE_PAGE, ARABIC_PAGE, _FORUM_PAGE, _TEASER_PAGE, _PRUNED_PAGE, page(BODY[:1])])
def test_each_pass_finds_what_trafilatura_bare_extraction_finds(html):
    # The stage runs trafilatura's cascade itself, to share the pruned copy of the page between passes
    # (extract._Page, extract._sequence): each mode's text must stay trafilatura's own.
    tree = extract_module.extract_html.load_html(html)
    shared = extract_module._Page(tree, URL, [], extract_module.extract_html.page_names(tree))
    for options in (*(o for _, o in extract_module._PASSES), extract_module._LAST_RESORT[1]):
        doc = extract_module.trafilatura.bare_extraction(
            tree,
            url=URL,
            with_metadata=False,
            include_comments=False,
            include_tables=True,
            deduplicate=False,
            config=extract_module._CONFIG,
            **options,
        )
        expected = doc.text if doc is not None and (doc.text or "").strip() else ""
        assert extract_module._body(shared, **options) == extract_module.extract_clean.clean_body(expected, [])


_NAME_PATTERNS = (
    extract_module._RAW_TREE_PRUNE,
    extract_module._REMOVE_COMMENTS_AND_LISTS,
    extract_module._REMOVE_COMMENTS,
)


@pytest.mark.parametrize("html", [ARTICLE_PAGE, _FORUM_PAGE, _TEASER_PAGE, _PRUNED_PAGE])
def test_a_pruning_xpath_left_out_for_a_page_selects_nothing_on_it(html):
    # The passes skip a pruning XPath when none of the page's class and id names matches its
    # patterns (extract._NamePatterns): it must be one that would have found nothing.
    tree = extract_module.extract_html.load_html(html)
    names = extract_module.extract_html.page_names(tree)
    for patterns in _NAME_PATTERNS:
        kept = patterns.selecting(names)
        for xpath in patterns.xpaths:
            if xpath not in kept:
                assert xpath(tree) == []
    if html is _PRUNED_PAGE:  # and each XPath that selects something is kept
        assert all(patterns.selecting(names) == patterns.xpaths for patterns in _NAME_PATTERNS)


@pytest.mark.parametrize(
    ("pattern", "literals"),
    [
        (r"^(?:[Cc]omment(?!ary)|comol)|(?:article|post)-comments", {"omment", "comol", "-comments"}),
        (r"bread-?crumb|infinite-?scroll", {"bread", "infinite"}),  # the longer run, the first of two alike
        (r"(x)?abc|(?:de)+fgh", {"abc", "fgh"}),
        (r"abc|", None),  # an empty branch matches anywhere
        (r"(?i:abc)|def", None),  # a string ignoring case is no substring to search for
        (r"(?i)abc", None),
        (r"[ab]c?", None),
    ],
)
def test_every_match_of_a_pattern_holds_one_of_its_required_literals(pattern, literals):
    compiled = re.compile(pattern, re.MULTILINE)
    found = extract_module._required_literals(compiled)
    assert found == (None if literals is None else frozenset(literals))
    for text in ["comment-list", "xcomol", "post-comments", "breadcrumb", "infinitescroll", "xabc", "dedefgh", "x"]:
        if compiled.search(text):
            assert extract_module._may_match(found, text)


def test_only_an_xpath_selecting_by_class_and_id_patterns_is_told_from_the_names():
    with pytest.raises(ValueError):
        extract_module._NamePatterns([etree.XPath(".//div[contains(@style, 'display:none')]")])
    with pytest.raises(ValueError):
        extract_module._NamePatterns([etree.XPath(".//header")])
    with pytest.raises(ValueError):  # a flag other than 'i' (ignore case) is not read from the names
        extract_module._NamePatterns([etree.XPath(".//*[re:test(@class, 'ad', 'g')]", namespaces=_EXSLT_RE)])
    with pytest.raises(ValueError):  # nor a contains() on both names at once
        extract_module._NamePatterns([etree.XPath(".//div[contains(@class|@id, 'footer')]")])


_EXSLT_RE = {"re": "http://exslt.org/regular-expressions"}
_COOKIE_PAGE = _TEASER_PAGE.replace("<div class='more'>", "<div class='more'><div id='CookieBot'>We use cookies.</div>")


def test_an_xpath_union_splits_at_its_top_level_bars():
    assert extract_module._union_members(".//a|.//div[contains(@class|@id, 'x|y')]|.//*[f(@id, '|')]") == [
        ".//a",
        ".//div[contains(@class|@id, 'x|y')]",
        ".//*[f(@id, '|')]",
    ]


@pytest.mark.parametrize("html", [ARTICLE_PAGE, ARABIC_PAGE, _FORUM_PAGE, _TEASER_PAGE, _PRUNED_PAGE, _COOKIE_PAGE])
def test_the_recall_escalations_page_text_and_justext_body_are_trafilaturas(html):
    # The default mode's recall escalation cleans its copies of the page with trafilatura's
    # BASIC_CLEAN_XPATH less its cookie-banner names where no name of the page can be one of them
    # (extract._Pruned.basic_clean): the page's text and jusText's body must stay trafilatura's own.
    tree = extract_module.extract_html.load_html(html)
    pruned = extract_module._Page(tree, URL, [], extract_module.extract_html.page_names(tree)).pruned()
    clean = pruned.basic_clean()
    cookies = html in (ARTICLE_PAGE, _COOKIE_PAGE)  # a class or id that names a cookie banner ("CookieBot")
    assert (clean is extract_module.BASIC_CLEAN_XPATH) == cookies
    assert extract_module.BASIC_CLEAN_XPATH(pruned.tree) == clean(pruned.tree)
    if cookies:
        assert extract_module.BASIC_CLEAN_XPATH(pruned.tree) != extract_module._BASIC_CLEAN_BY_TAG(pruned.tree)
    assert extract_module._page_text(pruned.tree, clean) == extract_module.trafilatura_core.html2txt(pruned.tree)
    options = extract_module.Extractor(config=extract_module._CONFIG, comments=False, url=URL)
    body, text = extract_module._justext_rescue(pruned.tree, options, clean)
    expected_body, expected_text = extract_module.trafilatura_core.justext_rescue(copy(pruned.tree), options)
    assert text == expected_text and etree.tostring(body) == etree.tostring(expected_body)


def test_a_streamed_story_is_read_whole_where_its_script_would_put_the_rest():
    shell = "".join(f"<p>{p}</p>" for p in BODY[:2])
    rest = "".join(f"<p>{p}</p>" for p in BODY[2:])
    html = (
        "<html><head><title>Ferry</title></head><body><header><nav><a href='/'>Home</a></nav></header>"
        f"<main><article><h1>Ferry capsizes</h1>{shell}"
        '<!--$?--><template id="B:0"></template><div>Loading paragraph...</div><!--/$--></article></main>'
        f'<footer><p>{BOILERPLATE[-3]}</p></footer><div hidden id="S:0">{rest}</div>'
        '<script>$RC("B:0","S:0")</script></body></html>'
    )
    got = extract(html, "https://quayside-post.example/news/ferry-capsizes")
    assert got.text.split("\n") == BODY


def test_a_paragraph_whose_words_follow_an_image_keeps_them():
    # trafilatura's precision mode deletes an empty element with the text after it: here the
    # span left empty once its image is gone, and with it the whole paragraph's words
    divers = "Divers reached the hull at noon and found the car deck flooded to the roof."
    behind_image = (
        f"<p><span class='lazy-frame'><img src='/ferry.jpg' alt=''></span>{divers}</p>"
        "<figure><img src='/hull.jpg' alt=''></figure>"  # (no paragraph next to it to put it back by)
    )
    paragraphs = "".join(f"<p>{p}</p>" for p in REPORT[:4]) + behind_image + "".join(f"<p>{p}</p>" for p in REPORT[4:])
    html = f"<html><head><title>Ferry</title></head><body><article><h1>Ferry capsizes</h1>{paragraphs}</article></body></html>"
    got = extract(html, "https://quayside-post.example/news/ferry-capsizes")
    assert got.text.split("\n") == [*REPORT[:4], divers, *REPORT[4:]] and got.method == "precision"
