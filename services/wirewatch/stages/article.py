"""Read an article: a fetched page in, the enriched article out, in one call to the process pool.

    read(html, final_url, article) -> the article payload (schemas/enriched.schema.json)
    read_page(body, content_type, final_url, article) -> the same from the page's bytes as fetched
    enrich_article(article) -> the same from an extracted article (the enrich agent's call)
    read_encoded(...), enrich_encoded(article) -> the same as the topic's bytes, validated (``Read``)

``article`` holds what the fetch agent knows without reading the page (link id, source, URLs,
redirects, status, fetched_at, a title from the feed). ``read`` extracts the body and metadata
(stages/extract.py), fills them in with the canonical URL, then enriches (stages/enrich) and reads
what story matching needs from the text (``story``: stages/story_view.py ``features``), so that
route only compares it with stories. All of it is CPU-bound, so the agent runs this in the
runtime's pool as ONE call per article: one trip of the page into a worker process, nothing but
bytes on the event loop. Raises what ``extract`` raises (``Rejected`` with a reason, ``PermanentError``).
The agents call the ``_encoded`` forms: the payload is validated against the enriched schema and
serialised here too (``contract.dumps``), so the loop receives the bytes it sends (one object to
unpickle, not a nested dict) and only hashes them (``contract.trust``), with the few fields it
counts beside them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .. import contract
from . import extract as extract_core
from .enrich import enrich
from .enrich.lexicon import languages, load_lexicon
from .fetch import decode_html
from .story_view import features
from .urls import as_uri, canonical_url


def read(html: str, final_url: str, article: dict[str, Any]) -> dict[str, Any]:
    ex = extract_core.extract(html, final_url)
    return enrich_article(
        {
            **article,
            "final_url": as_uri(final_url),  # as fetched, written as an RFC 3986 URI (the schema checks it)
            "canonical_url": canonical_url(ex.canonical_url or final_url),
            "title": ex.title or article.get("title"),
            "text": ex.text,
            "authors": list(ex.authors),
            "published": ex.published,
            "language": ex.language,
            "sitename": ex.sitename,
            "description": ex.description,
            "image": ex.image,
        }
    )


def read_page(body: bytes, content_type: str, final_url: str, article: dict[str, Any]) -> dict[str, Any]:
    """``read`` of a page as fetched: its bytes decoded to text here, in the pool (decode_html:
    BOM, charset, detection), so that the event loop sends bytes (pickled as they are; a str is
    encoded and decoded again on the way) and never decodes a page itself."""
    return read(decode_html(body, content_type), final_url, article)


class Read(NamedTuple):
    """An enriched article as the topic's bytes, and what the agent counts or keys it by."""

    data: bytes  # contract.dumps("enriched", ...): validated, ready to send
    canonical_url: str
    text_chars: int
    language: str | None


def read_encoded(body: bytes, content_type: str, final_url: str, article: dict[str, Any]) -> Read:
    """``read_page``, validated and serialised for the enriched topic (the fetch agent's call)."""
    return _encoded(read_page(body, content_type, final_url, article))


def enrich_encoded(article: dict[str, Any]) -> Read:
    """``enrich_article``, validated and serialised for the enriched topic (the enrich agent's call)."""
    return _encoded(enrich_article(article))


def _encoded(enriched: dict[str, Any]) -> Read:
    data = contract.dumps("enriched", enriched)
    return Read(data, enriched["canonical_url"], len(enriched["text"]), enriched.get("language"))


def enrich_article(article: dict[str, Any]) -> dict[str, Any]:
    """`article` (schemas/article.schema.json) enriched, with the story features route reads."""
    enriched = enrich(article)
    enriched["story"] = features(enriched)
    return enriched


def warm_up() -> None:
    """For a fresh pool process: import and load what extraction, enrichment and story features
    need, once.

    Every language's lexicon is loaded here (compiling one costs 1-1.5 s), not on the first
    article in that language, whose alert would wait for it.
    """
    extract_core.warm_up()
    contract.prepare("enriched")  # compiling the schema's check costs tens of ms
    for language in languages():
        load_lexicon(language)
    enrich_article(
        {
            "canonical_url": "https://warm.up/",
            "title": "Warm-up",
            "text": "Two people were killed and five injured in Accra, Ghana.",
            "language": "en",
        }
    )
