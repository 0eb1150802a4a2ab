"""Link intake: turn a submitted URL into a `link` message (schemas/link.schema.json).

Pure helpers here; the feed poller, `wirewatch submit` and `POST /links` all build links with
`make_link`, so every link gets a `link_id` that follows it to its one final outcome.
"""

from __future__ import annotations

import uuid
from typing import Any

from ..errors import InvalidMessage
from ..timeutil import iso

MAX_URL = 8192


def make_link(url: str, source: str, title: str | None = None) -> dict[str, Any]:
    """A link message for `url`; InvalidMessage when the URL is empty or absurdly long."""
    url = (url or "").strip()
    if not url:
        raise InvalidMessage("empty URL")
    if len(url) > MAX_URL:
        raise InvalidMessage(f"URL longer than {MAX_URL} characters")
    return {
        "link_id": uuid.uuid4().hex,
        "url": url,
        "source": source,
        "submitted_at": iso(),
        "title": title,
    }


def source_kind(source: str) -> str:
    """The low-cardinality part of a source name, for metric labels: feed:bbc -> feed."""
    return source.split(":", 1)[0]
