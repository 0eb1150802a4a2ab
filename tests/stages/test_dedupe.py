"""stages.dedupe (pure): what a link with a stored alias becomes."""

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wirewatch.errors import Rejected
from wirewatch.stages.dedupe import Alias, decide

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
EXAMPLE = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "examples" / "enriched.json").read_text())
SHORT = "https://exm.pl/k3x9"


def alias(stored: bool, expires_in: float = 3600, url: str = SHORT) -> Alias:
    return Alias(
        url=url,
        final_url="https://news.example.org/x?ref=feed",
        canonical_url="https://news.example.org/x",
        resolved_at=NOW - timedelta(minutes=5),
        expires_at=NOW + timedelta(seconds=expires_in),
        article_stored=stored,
    )


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


@pytest.mark.parametrize(
    "stale", [alias(True, expires_in=0), alias(True, expires_in=-60), alias(True, url="https://other.example/")]
)
def test_expired_or_foreign_alias_is_ignored(stale):
    d = decide(SHORT, stale, NOW)
    assert (d.fetch_url, d.via_alias) == (SHORT, False)


def test_a_fresh_alias_hands_its_redirect_chain_to_the_fetch():
    hops = ({"url": SHORT, "status": 301}, {"url": "https://t.example/x", "status": 302})
    fresh = Alias(
        url=SHORT,
        final_url="https://news.example.org/x?ref=feed",
        canonical_url="https://news.example.org/x",
        resolved_at=NOW,
        expires_at=NOW + timedelta(hours=1),
        article_stored=False,
        redirects=hops,
    )
    assert decide(SHORT, fresh, NOW).redirects == hops
    assert decide(SHORT, None, NOW).redirects == ()


def test_alias_rows_without_a_chain_or_with_a_broken_one_read_as_fewer_hops():
    row = dict(
        url=SHORT,
        final_url="https://n.example/1",
        canonical_url="https://n.example/1",
        resolved_at=NOW,
        expires_at=NOW,
        article_stored=False,
    )
    assert Alias.from_row(row).redirects == ()  # a row from before the chain was stored
    row["redirects"] = [{"url": SHORT, "status": 301}, {"url": 7, "status": 302}, "junk", {"url": "https://x.example/"}]
    assert Alias.from_row(row).redirects == ({"url": SHORT, "status": 301},)


def test_a_redelivery_of_the_link_that_resolved_the_alias_is_not_a_duplicate():
    resolved_by = Alias(
        url=SHORT,
        final_url="https://news.example.org/x?ref=feed",
        canonical_url="https://news.example.org/x",
        resolved_at=NOW,
        expires_at=NOW + timedelta(hours=1),
        article_stored=True,
        link_id="L1",
    )
    d = decide(SHORT, resolved_by, NOW, link_id="L1")  # its article may never have been emitted
    assert (d.fetch_url, d.via_alias) == ("https://news.example.org/x?ref=feed", True)
    with pytest.raises(Rejected):
        decide(SHORT, resolved_by, NOW, link_id="L2")  # the same short link shared again


async def test_a_link_shared_as_unicode_then_as_punycode_is_a_duplicate(tmp_path):
    # The alias table on real SQLite: fetch remembers where the Unicode spelling led; the same link
    # submitted again as punycode finds that alias and is filtered, not fetched and stored again.
    from wirewatch.sinks import open_storage
    from wirewatch.stages.dedupe import lookup, remember

    article = copy.deepcopy(EXAMPLE)
    article["canonical_url"] = "https://xn--bcher-kva.example/%C3%BCber"
    storage = open_storage(f"sqlite:///{tmp_path / 'aliases.db'}")
    await storage.start()
    try:
        await remember(storage, "https://bücher.example/über", article["canonical_url"], article["canonical_url"], 3600)
        await storage.upsert_article(article)  # the alias rides with this transaction
        for again in (
            "https://xn--bcher-kva.example/%C3%BCber",
            "bücher.example/%c3%bcber",
            "https://bücher.example/über",
        ):
            found = await lookup(storage, again, 3600)
            assert found is not None, again
            with pytest.raises(Rejected) as e:
                decide(again, found, datetime.now(UTC), "another-link-id")
            assert e.value.reason == "duplicate"
    finally:
        await storage.close()
