"""Stored rows -> the API's JSON (pure): the figure found in its sentence, snippets, members
not stored yet."""

from __future__ import annotations

import pytest

from wirewatch.api import views


@pytest.mark.parametrize(
    "sentence, count, language, found",
    [
        ("At least 12 people were killed on Monday.", 12, "en", "12"),
        ("The toll rose to 1,200 overnight.", 1200, "en", "1,200"),
        ("Twenty-three people died, officials said.", 23, "en", "Twenty-three"),
        ("More than two dozen were injured in 2024.", 24, "en", "two dozen"),
        ("Au moins quinze personnes ont été tuées.", 15, "fr", "quinze"),
        ("Nobody was hurt.", 3, "en", None),
    ],
)
def test_the_figure_is_found_in_its_sentence(sentence, count, language, found):
    span = views.figure_span(sentence, count, language)
    assert (sentence[span[0] : span[1]] if span else None) == found


def test_a_snippet_starts_near_the_first_word_found():
    text = "Opening words. " * 30 + "The tanker exploded near the market. " + "More words. " * 30
    snippet = views.snippet(text, ("tanker",))
    assert "tanker" in snippet and snippet.startswith("…") and len(snippet) <= 250


def test_a_story_lists_a_member_the_store_agent_has_not_written_yet():
    story = {
        "story_id": "s-1",
        "title": "T",
        "first_at": "2026-12-01T08:00:00Z",
        "last_at": "2026-12-01T09:00:00Z",
        "state": {
            "members": [
                {
                    "canonical_url": "https://a.example/1",
                    "sitename": "A",
                    "title": "T",
                    "at": "2026-12-01T08:00:00Z",
                    "figures": {"killed": 4},
                }
            ],
            "figures": {"killed": {"count": 4, "url": "https://a.example/1", "sitename": "A"}},
        },
    }
    detail = views.detail(story, [], {})
    assert [(i["outlet"], i["figures"], i["evidence"]) for i in detail["items"]] == [
        ("A", {"killed": {"count": 4}}, [])
    ]
    assert detail["killed"]["count"] == 4 and detail["history"][0]["count"] == 4
