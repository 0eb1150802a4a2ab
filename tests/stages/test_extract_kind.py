"""stages.extract_kind on hand-written pages: stories are articles; shop, list and forum pages are not."""

from __future__ import annotations

import pytest
import trafilatura

from wirewatch.errors import Rejected
from wirewatch.stages import extract_kind
from wirewatch.stages.extract import extract

STORY = [
    "Flood water reached the first floor of the old mill on Sunday night, the fire service said, after "
    "two days of heavy rain swelled the river beyond its banks.",
    "Residents of the lower town were moved to the school hall, where volunteers served hot meals and "
    "the council set up a desk to help families find somewhere to stay.",
    "Engineers will inspect the bridge on Monday before deciding whether it can reopen to traffic, a "
    "spokesperson for the county said in a statement.",
]

ARTICLE = f"""<html><head><title>Flood water reaches the old mill</title>
<meta property="og:type" content="article"><meta name="author" content="Maria Santos">
</head><body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>Flood water reaches the old mill</h1>{"".join(f"<p>{p}</p>" for p in STORY)}</article>
</body></html>"""

SHOP = (
    """<html><head><title>Trail Flask 750 ml</title>
<meta property="og:type" content="product">
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "Product", "name": "Trail Flask",
 "offers": {"@type": "Offer", "price": "24.00", "priceCurrency": "EUR"}}</script>
</head><body><nav><a href="/">Shop</a> <a href="/c/bottles">Bottles</a> <a href="/c/mugs">Mugs</a></nav>
<main><h1>Trail Flask 750 ml</h1><p>€24.00</p><button>Add to cart</button><p>In stock</p>
<ul><li>Keeps drinks cold for 24 hours</li><li>Steel, 750 ml</li><li>Dishwasher safe</li></ul>
<p>A light steel flask for long walks that keeps water cold all day and fits most bike bottle cages.</p>
<p>Made from recycled steel with a leak-proof lid and a loop for carrying it on a finger or a strap.</p>
<ul>"""
    + "".join(f'<li><a href="/p/{i}">Camp mug number {i} in blue</a></li>' for i in range(30))
    + """</ul>
</main></body></html>"""
)

FORUM = (
    """<html><head><title>Which tent for a windy coast?</title></head><body>
<nav><a href="/">Forums</a> <a href="/forums/gear">Gear</a></nav><main><h1>Which tent for a windy coast?</h1>
"""
    + "".join(
        f"""<div class="message"><a href="/members/user{i}">user{i}</a> <span>Joined: 2021</span>
<p>I have used a tunnel tent on the coast for years and it has never let me down in strong wind, reply {i}.</p>
<a href="#">Reply</a> <a href="#">Quote</a></div>"""
        for i in range(8)
    )
    + "</main></body></html>"
)


def _shape(html: str, url: str) -> extract_kind.PageShape:
    tree = trafilatura.load_html(html)
    body = "\n".join(STORY)
    return extract_kind.page_shape(tree, url, body, has_author=False)


def test_a_story_is_an_article():
    e = extract(ARTICLE, "https://river-gazette.example/2024/03/flood-water-reaches-the-old-mill", min_length=50)
    assert e.text.startswith("Flood water reached")


@pytest.mark.parametrize(
    ("html", "url"),
    [(SHOP, "https://gear.example/p/trail-flask"), (FORUM, "https://talk.example/threads/windy-coast-tent.123/")],
)
def test_a_shop_or_forum_page_is_not_an_article(html, url):
    with pytest.raises(Rejected) as e:
        extract(html, url, min_length=50)
    assert e.value.reason == "not_article"
    assert "score" in e.value.detail


def test_declared_types_og_type_cart_and_forum_path_are_read():
    shop = _shape(SHOP, "https://gear.example/p/trail-flask")
    assert shop.declares_other == 1.0 and shop.og_product == 1.0 and shop.cart == 1.0 and shop.declares_article == 0.0
    forum = _shape(FORUM, "https://talk.example/threads/windy-coast-tent.123/")
    assert forum.forum_path == 1.0 and forum.replies > 0
    story = _shape(ARTICLE, "https://river-gazette.example/2024/03/flood-water-reaches-the-old-mill")
    assert story.declares_article == 1.0 and story.url_date == 1.0 and story.slug_words > 0.5


def test_a_sites_topics_path_is_no_forum_path():
    # Invision's and NodeBB's threads lie under /topic/; a plural /topics/ files a site's own guides.
    assert _shape(FORUM, "https://talk.example/topic/123-windy-coast-tent/").forum_path == 1.0
    assert _shape(ARTICLE, "https://farm.example/topics/climate/climate-change").forum_path == 0.0


def test_the_longest_line_of_the_body_is_read():
    tree = trafilatura.load_html(ARTICLE)
    url = "https://river-gazette.example/2024/03/flood-water-reaches-the-old-mill"
    longest = max(len(extract_kind._WORD.findall(p)) for p in STORY)
    shape = extract_kind.page_shape(tree, url, "\n".join(STORY), has_author=False)
    assert shape.longest_line == longest / extract_kind.LONG_LINE_WORDS
    one_block = " ".join(STORY * 3)  # more than LONG_LINE_WORDS words in one line
    assert extract_kind.page_shape(tree, url, one_block, has_author=False).longest_line == 1.0
    assert extract_kind.page_shape(tree, url, "", has_author=False).longest_line == 0.0


def test_link_text_counts_toward_link_density_and_scripts_do_not_count_as_text():
    html = "<html><body><script>var a = 'one two three four';</script><p>alpha beta <a href='/x'>gamma delta</a></p></body></html>"
    shape = _shape(html, "https://x.example/a")
    assert shape.link_density == 0.5


def test_score_is_higher_for_the_shop_than_for_the_story():
    shop = extract_kind.not_article_score(_shape(SHOP, "https://gear.example/p/trail-flask"))
    story = extract_kind.not_article_score(
        _shape(ARTICLE, "https://river-gazette.example/2024/03/flood-water-reaches-the-old-mill")
    )
    assert shop > extract_kind.NOT_ARTICLE_ABOVE >= story


DOCS = (
    """<html><head><title>Configuring the cache</title></head><body>
<nav>"""
    + "".join(f'<a href="/docs/topic-{i}">Topic {i}</a> ' for i in range(25))
    + """</nav><main><h1>Configuring the cache</h1>
<p>Set the size of the cache in the configuration file before the service starts, in megabytes.</p>
<pre><code>cache:
  size_mb: 256</code></pre>
<p>Call <code>flush()</code> to empty it and <code>stats()</code> to read how full it is at any moment.</p>
<pre><code>client.flush()</code></pre><pre><code>client.stats()</code></pre>
</main></body></html>"""
)


def test_code_blocks_a_documentation_path_and_the_bodys_share_of_the_page_are_read():
    docs = _shape(DOCS, "https://tool.example/docs/cache/configure")
    assert docs.doc_path == 1.0 and docs.code_blocks > 0.3
    story = _shape(ARTICLE, "https://river-gazette.example/2024/03/flood-water-reaches-the-old-mill")
    assert story.doc_path == 0.0 and story.code_blocks == 0.0
    page = trafilatura.load_html("<html><body><p>one two three four</p><p>five six seven eight</p></body></html>")
    assert (
        extract_kind.page_shape(page, "https://x.example/a", "one two three four", has_author=False).body_share == 0.5
    )


def test_a_documentation_page_is_not_an_article():
    with pytest.raises(Rejected) as e:
        extract(DOCS, "https://tool.example/docs/cache/configure", min_length=50)
    assert e.value.reason == "not_article"


def _tree(html: str):
    return trafilatura.load_html(html)


def test_the_types_a_page_declares_for_itself_are_its_top_level_ones():
    # A Product with a nested Review is a product page, not a review; an @graph lists page-level
    # objects, and a mainEntity is what the page is about.
    product = """<html><head><script type="application/ld+json">{"@context": "https://schema.org",
    "@type": "Product", "name": "Camp Stool", "review": {"@type": "Review", "author": {"@type": "Person"}},
    "offers": {"@type": "Offer", "price": "19.00"}}</script></head><body><p>A stool.</p></body></html>"""
    top, every = extract_kind._declared_types(_tree(product), extract_kind._ld_scripts(_tree(product)))
    assert top == {"product"} and {"review", "person", "offer"} <= every
    shape = extract_kind.page_shape(_tree(product), "https://gear.example/camp-stool", "A stool.", has_author=False)
    assert shape.declares_other == 1.0 and shape.declares_article == 0.0

    graph = """<html><head><script type="application/ld+json">{"@graph": [{"@type": "WebPage",
    "mainEntity": {"@type": "QAPage"}}, {"@type": "BlogPosting"}]}</script></head><body></body></html>"""
    assert extract_kind._declared_types(_tree(graph), extract_kind._ld_scripts(_tree(graph)))[0] == {
        "webpage",
        "qapage",
        "blogposting",
    }
    broken = """<html><head><script type="application/ld+json">{"@type": "Product", oops}</script></head></html>"""
    assert extract_kind._declared_types(_tree(broken), extract_kind._ld_scripts(_tree(broken)))[0] == {"product"}


# A thread marked up with microdata only, under a path no forum software is known by: its items
# (a DiscussionForumPosting holding Comments) and the user/message words of its template tell.
THREAD = (
    """<html><head><title>Best glue for oak joints?</title></head><body>
<nav><a href="/">Home</a> <a href="/club/woodwork">Woodwork</a></nav>
<main><div itemscope itemtype="https://schema.org/DiscussionForumPosting"><h1 itemprop="headline">Best glue for oak joints?</h1>"""
    + "".join(
        f"""<div class="message message-user-{i}" itemprop="comment" itemscope itemtype="https://schema.org/Comment">
<div class="user-card"><a class="username" href="/u/maker{i}">maker{i}</a> <span class="member-since">since 2019</span></div>
<div class="message-body"><p>I glued a set of oak chairs with a plain yellow glue and clamped them overnight; they held for years, post {i}.</p></div>
<div class="message-actions"><button class="vote-up">+1</button></div></div>"""
        for i in range(6)
    )
    + "</div></main></body></html>"
)


def test_a_thread_told_by_its_microdata_and_template_is_not_an_article():
    shape = extract_kind.page_shape(
        _tree(THREAD),
        "https://makers.example/club/woodwork/best-glue-for-oak-joints",
        "\n".join(STORY),
        has_author=False,
    )
    assert shape.discussion == 1.0 and shape.forum_path == 0.0 and shape.talk_classes > 0.5
    with pytest.raises(Rejected) as e:
        extract(THREAD, "https://makers.example/club/woodwork/best-glue-for-oak-joints", min_length=50)
    assert e.value.reason == "not_article"


# A shop's collection: a grid of product cards, each with a price and an add-to-cart button.
COLLECTION = (
    """<html><head><title>Rain jackets</title><meta property="og:type" content="website"></head><body>
<nav><a href="/">Shop</a> <a href="/collections/jackets">Jackets</a></nav><main><h1>Rain jackets</h1>
<p>Light and packable rain jackets for walking in the hills, tested on wet weekends by our staff in the shop.</p>
<div class="filters"><select class="sort-by"><option>Price</option></select></div><div class="product-grid">"""
    + "".join(
        f"""<div class="product-card"><a href="/products/jacket-{i}"><img src="/j{i}.jpg" alt=""><h3>Jacket {i}</h3></a>
<span class="price">€{60 + i}.00</span> <span class="rating">4.{i} stars</span><button class="add-to-cart">Add to cart</button></div>"""
        for i in range(12)
    )
    + "</div></main></body></html>"
)


def test_a_shops_collection_page_is_not_an_article():
    shape = extract_kind.page_shape(
        _tree(COLLECTION), "https://outdoor.example/collections/rain-jackets", "\n".join(STORY), has_author=False
    )
    assert shape.shop_path == 1.0 and shape.shop_classes > 0.5 and shape.story_path == 0.0
    with pytest.raises(Rejected) as e:
        extract(COLLECTION, "https://outdoor.example/collections/rain-jackets", min_length=50)
    assert e.value.reason == "not_article"


def test_a_blog_post_with_its_readers_comments_is_still_an_article():
    # Comments nested in the post's JSON-LD are not a discussion page; a slug under /blog/ is a story path.
    html = ARTICLE.replace(
        "</head>",
        """<script type="application/ld+json">{"@type": "BlogPosting", "headline": "Flood water reaches the old mill",
        "comment": [{"@type": "Comment", "text": "Stay safe"}]}</script></head>""",
    )
    url = "https://river-gazette.example/blog/flood-water-reaches-the-old-mill"
    shape = extract_kind.page_shape(_tree(html), url, "\n".join(STORY), has_author=True)
    assert shape.discussion == 0.0 and shape.story_path == 1.0 and shape.declares_article == 1.0
    assert extract(html, url, min_length=50).text.startswith("Flood water reached")


@pytest.mark.parametrize(
    ("url", "story", "shop"),
    [
        ("https://paper.example/news", 0.0, 0.0),  # a section front: no slug after the word
        ("https://paper.example/news/bridge-reopens-after-floods", 1.0, 0.0),
        ("https://paper.example/blog/2024/bridge-reopens", 1.0, 0.0),
        ("https://shop.example/products/rain-jacket", 0.0, 1.0),
        ("https://shop.example/c/tents", 0.0, 1.0),
        ("https://magazine.example/collection/old-maps-of-the-coast", 0.0, 0.0),  # singular: an editor's collection
    ],
)
def test_story_and_shop_path_words(url, story, shop):
    shape = extract_kind.page_shape(_tree("<html><body><p>x</p></body></html>"), url, "x", has_author=False)
    assert (shape.story_path, shape.shop_path) == (story, shop)


@pytest.mark.parametrize(
    ("text", "replies", "cart"),
    [
        ("a plain story about rain and rivers", 0, 0.0),
        ("reply " * 3 + "joined 2021 quote", 5, 0.0),
        ("reply " * 40, extract_kind.REPLIES_FULL, 0.0),  # counted up to the cap, not past it
        ("replying is not a reply word; stockholm is not in stock", 1, 1.0),
        ("buy now or add to basket", 0, 1.0),
        ("added to the list; buyers; stocks", 0, 0.0),  # the hint words alone are not the phrases
    ],
)
def test_reply_and_cart_words_are_found_as_whole_phrases(text, replies, cart):
    shape = _shape(f"<html><body><p>{text}</p></body></html>", "https://x.example/a")
    assert shape.replies == replies / extract_kind.REPLIES_FULL and shape.cart == cart


def test_the_visible_text_the_stage_passes_in_gives_the_shape_it_would_read_itself():
    tree = _tree(ARTICLE)
    url = "https://river-gazette.example/2024/03/flood-water-reaches-the-old-mill"
    body = "\n".join(STORY)
    own = extract_kind.page_shape(tree, url, body, has_author=True)
    given = extract_kind.page_shape(tree, url, body, has_author=True, visible=extract_kind.visible_texts(tree))
    assert own == given


def test_the_kind_check_sees_every_page_long_enough_and_no_shorter_one():
    seen: list[extract_kind.PageShape] = []

    def keep_all(shape: extract_kind.PageShape) -> bool:
        seen.append(shape)
        return True

    assert extract(SHOP, "https://gear.example/p/trail-flask", min_length=50, kind_check=keep_all).text
    assert len(seen) == 1 and seen[0].cart == 1.0
    with pytest.raises(Rejected) as e:
        extract(SHOP, "https://gear.example/p/trail-flask", min_length=100_000, kind_check=keep_all)
    assert e.value.reason == "too_short" and len(seen) == 1  # too short: the kind was never asked


def test_a_declined_page_is_not_searched_for_its_date(monkeypatch):
    from wirewatch.stages import extract_meta

    asked: list[str] = []
    monkeypatch.setattr(extract_meta, "stated_date", lambda tree, url: asked.append(url))
    with pytest.raises(Rejected):
        extract(SHOP, "https://gear.example/p/trail-flask", min_length=50)
    assert asked == []
    extract(ARTICLE, "https://river-gazette.example/2024/03/flood-water-reaches-the-old-mill", min_length=50)
    assert len(asked) == 1


def test_no_body_scores_a_page_lower_than_its_lowest_score():
    tree = _tree(SHOP)
    url = "https://gear.example/p/trail-flask"
    page = extract_kind.page_features(tree, url, has_author=False)
    floor = extract_kind.lowest_score(page, extract_kind.max_body_words(tree))
    bodies = ["\n".join(STORY), "Trail Flask", "\n".join(STORY * 40), " ".join(t for t in tree.itertext())]
    for body in bodies:
        shape = extract_kind.with_body(page, body)
        assert shape == extract_kind.page_shape(tree, url, body, has_author=False)
        if len(extract_kind._WORD.findall(body)) <= extract_kind.max_body_words(tree):
            assert extract_kind.not_article_score(shape) >= floor


def test_the_word_bound_counts_every_text_node_apart_and_a_formulas_source():
    tree = _tree(
        '<html><head><script type="application/ld+json">{"articleBody": "one two three"}</script></head>'
        '<body><p>four<b>five</b> six</p><math alttext="x + y"><mi>x</mi></math></body></html>'
    )
    # one two three, four, five, six, the formula's x and y, the <mi>'s x; and "articleBody"
    assert extract_kind.max_body_words(tree) == 10


def test_a_page_no_body_could_make_an_article_is_declined_before_any_pass(monkeypatch):
    from wirewatch.stages import extract as extract_stage

    calls: list[dict] = []
    first = extract_stage._body

    def counted(*args, **options):
        calls.append(options)
        return first(*args, **options)

    monkeypatch.setattr(extract_stage, "_body", counted)
    url = "https://gear.example/p/trail-flask"
    with pytest.raises(Rejected) as e:
        extract(SHOP, url, min_length=50)
    assert e.value.reason == "not_article" and "whatever body" in str(e.value)
    assert calls == []
    # a kind check of the caller's own sees the page after every pass the page calls for
    calls.clear()
    assert extract(SHOP, url, min_length=50, kind_check=lambda shape: True).text
    assert len(calls) > 1


def test_a_page_is_surely_no_article_only_where_its_lowest_score_is_above_the_threshold():
    url = "https://gear.example/p/trail-flask"
    for html, declined in ((SHOP, True), (ARTICLE, False)):
        tree = _tree(html)
        page = extract_kind.page_features(tree, url, has_author=False)
        floor = extract_kind.lowest_score(page, extract_kind.max_body_words(tree))
        assert (floor > extract_kind.NOT_ARTICLE_ABOVE) is declined
        assert extract_kind.surely_not_article(page, tree) == (floor if declined else None)


# A post that says nothing of itself but its canonical link (no og:type, no author, no <article>) and
# holds command lines, as a how-to does: at its own URL an article, at a number a page like the docs.
PLAIN_STORY = (
    """<html><head><title>Flood water reaches the old mill</title>{canonical}</head><body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav><div class="content"><h1>Flood water reaches the old mill</h1>"""
    + "".join(
        f"<p>{p}</p><pre>curl https://river.example/levels/{i}</pre><pre>jq .level</pre>" for i, p in enumerate(STORY)
    )
    + "</div></body></html>"
)
STORY_URL = "https://river-gazette.example/2024/03/flood-water-reaches-the-old-mill"


@pytest.mark.parametrize("served_at", ["http://127.0.0.2/a/123456", "https://river-gazette.example/?p=12345"])
def test_an_article_served_at_a_url_without_a_slug_is_accepted(served_at):
    # Sites that number their stories (/?p=N, /a/N) or serve them through a shortener still name the
    # story's own URL; the check reads the URL's features from it.
    html = PLAIN_STORY.format(canonical=f'<link rel="canonical" href="{STORY_URL}">')
    assert extract(html, STORY_URL, min_length=50).text.startswith("Flood water reached")
    assert extract(html, served_at, min_length=50).text.startswith("Flood water reached")
    tree, body = _tree(html), "\n".join(STORY)
    assert extract_kind.page_shape(tree, served_at, body, has_author=False, declared_url=STORY_URL) == (
        extract_kind.page_shape(tree, STORY_URL, body, has_author=False)
    )


def test_a_canonical_link_to_the_sites_root_says_nothing_of_the_page():
    tree, body = _tree(PLAIN_STORY.format(canonical="")), "\n".join(STORY)
    root = "https://river-gazette.example/"
    assert extract_kind.page_shape(tree, STORY_URL, body, has_author=False, declared_url=root) == (
        extract_kind.page_shape(tree, STORY_URL, body, has_author=False)
    )


@pytest.mark.parametrize(
    ("url", "story"),
    [
        ("https://paper.example/news/world", 0.0),  # a section front: a section's name after the word
        ("https://paper.example/news/", 0.0),
        ("https://paper.example/news/123456", 0.0),  # a number after the word names any page
        ("https://paper.example/news/2026/12/07/some-slug", 1.0),
        ("https://paper.example/news/world-europe-67123456", 1.0),
        ("https://paper.example/blog/post/2026-01-26-query-plans/view", 1.0),  # a slug anywhere after the word
        ("https://paper.example/world/bridge-reopens-after-floods", 0.0),  # no story word
    ],
)
def test_a_story_path_needs_a_slug_after_its_word(url, story):
    shape = extract_kind.page_shape(_tree("<html><body><p>x</p></body></html>"), url, "x", has_author=False)
    assert shape.story_path == story


# A newsroom's section front: teasers of its stories, each a linked headline and a sentence.
SECTION_FRONT = (
    """<html><head><title>World news</title></head><body><nav><a href="/">Home</a> <a href="/news">News</a>
<a href="/news/world">World</a> <a href="/news/business">Business</a></nav><main><h1>World</h1>"""
    + "".join(
        f"""<div class="teaser"><h3><a href="/news/2026/12/07/story-number-{i}">Ferry service resumes on the
north coast after storm number {i}</a></h3><p>{STORY[i % 3]}</p></div>"""
        for i in range(12)
    )
    + "</main></body></html>"
)


def test_a_section_front_under_news_is_declined_and_a_story_under_it_accepted():
    with pytest.raises(Rejected) as e:
        extract(SECTION_FRONT, "https://paper.example/news/world", min_length=50)
    assert e.value.reason == "not_article"
    story = PLAIN_STORY.format(canonical="")
    assert extract(story, "https://paper.example/news/2026/12/07/some-slug", min_length=50).text.startswith(
        "Flood water reached"
    )


def test_a_date_next_to_the_headline_is_read_and_dates_a_story_served_at_a_number():
    # A tech post with code blocks, no byline, no declared type and no URL of its own, served at a
    # number: the date under its headline is what says "a story".
    undated = PLAIN_STORY.format(canonical="")
    dated = undated.replace("</h1>", "</h1><p>Posted December 7, 2026</p>")
    far = undated.replace("</div></body>", "<p>Posted December 7, 2026</p></div></body>")
    body, served_at = "\n".join(STORY), "http://127.0.0.2/a/123456"
    assert extract_kind.page_shape(_tree(dated), served_at, body, has_author=False).dateline == 1.0
    assert extract_kind.page_shape(_tree(undated), served_at, body, has_author=False).dateline == 0.0
    assert extract_kind.page_shape(_tree(far), served_at, body, has_author=False).dateline == 0.0
    assert "Flood water reached" in extract(dated, served_at, min_length=50).text
    with pytest.raises(Rejected):  # without it, the post is refused there
        extract(undated, served_at, min_length=50)
