"""benchmarks.extract_errors on a hand-written page: which kind of element each missed or extra word came from."""

from __future__ import annotations

from benchmarks.extract_errors import analyse, blocks
from wirewatch.stages.extract_score import Page

PAGE = """<html><body><article>
<h1>Harbour reopens after the storm</h1>
<p>The harbour reopened on Monday after divers checked the sea wall for cracks below the waterline.</p>
<h2>What the repairs cost</h2>
<ul><li>Two new pontoons for the north quay</li><li>A week of diving work on the wall</li></ul>
<p>The council paid for the work from its reserve fund, the treasurer told the Thursday meeting.</p>
</article><div class="related-stories"><p>Rowing club wins the regional cup for the third year in a row.</p></div>
</body></html>"""

TRUTH = "\n".join(
    [
        "The harbour reopened on Monday after divers checked the sea wall for cracks below the waterline.",
        "What the repairs cost",
        "Two new pontoons for the north quay",
        "A week of diving work on the wall",
        "The council paid for the work from its reserve fund, the treasurer told the Thursday meeting.",
    ]
)


def test_blocks_are_put_in_their_element_categories():
    kinds = [kind for kind, _ in blocks(PAGE)]
    assert kinds == ["h1", "p (plain paragraph)", "h2-h6", "list item", "list item", "p (plain paragraph)",
                     "related/promo/newsletter/share"]  # fmt: skip


def test_missed_and_extra_words_are_charged_to_their_categories():
    body = "\n".join(
        [
            "The harbour reopened on Monday after divers checked the sea wall for cracks below the waterline.",
            "The council paid for the work from its reserve fund, the treasurer told the Thursday meeting.",
            "Rowing club wins the regional cup for the third year in a row.",
        ]
    )
    page = Page("p1", "https://quayside-post.example/news/harbour", PAGE, TRUTH, page_type="article")
    result = analyse([page], [body])
    rows = {(r["category"], r["side"]): r for r in result["rows"]}
    assert set(rows) == {("list item", "missed"), ("h2-h6", "missed"), ("related/promo/newsletter/share", "extra")}
    # 15 words in the list, 3 of them ("for", "the", "work") as often in the body as in the truth
    assert rows[("list item", "missed")]["words"] == 12 and rows[("h2-h6", "missed")]["words"] == 4
    assert all(r["points"] > 0 for r in result["rows"]) and result["refused_pages"] == 0


def test_a_refused_page_counts_apart():
    page = Page("p1", "https://quayside-post.example/news/harbour", PAGE, TRUTH, page_type="article")
    assert analyse([page], [""]) == {"articles": 1, "refused_points": 1.0, "refused_pages": 1, "rows": []}
