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
