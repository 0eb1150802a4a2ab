"""stages.dedupe (pure): what a link with a stored alias becomes."""

from datetime import UTC, datetime, timedelta

import pytest

from wirewatch.errors import Rejected
from wirewatch.stages.dedupe import Alias, decide

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
SHORT = "https://exm.pl/k3x9"


def alias(stored: bool, expires_in: float = 3600, url: str = SHORT) -> Alias:
    return Alias(url=url, final_url="https://news.example.org/x?ref=feed", canonical_url="https://news.example.org/x",
                 resolved_at=NOW - timedelta(minutes=5), expires_at=NOW + timedelta(seconds=expires_in),
                 article_stored=stored)


def test_no_alias_resolves_the_link():
    d = decide(SHORT, None, NOW)
    assert (d.fetch_url, d.via_alias) == (SHORT, False)


def test_fresh_alias_to_a_stored_article_is_a_duplicate_naming_the_canonical_url():
    with pytest.raises(Rejected) as e:
        decide(SHORT, alias(stored=True), NOW)
    assert e.value.reason == "duplicate"
    assert "https://news.example.org/x" in e.value.detail


def test_fresh_alias_to_an_unstored_article_fetches_the_final_url_without_resolving():
    d = decide(SHORT, alias(stored=False), NOW)
    assert (d.fetch_url, d.via_alias) == ("https://news.example.org/x?ref=feed", True)


@pytest.mark.parametrize("stale", [alias(True, expires_in=0), alias(True, expires_in=-60), alias(True, url="https://other.example/")])
def test_expired_or_foreign_alias_is_ignored(stale):
    d = decide(SHORT, stale, NOW)
    assert (d.fetch_url, d.via_alias) == (SHORT, False)
