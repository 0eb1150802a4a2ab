"""Link deduplication through the alias table: a link URL and its stored alias in, what the fetch
agent should do out.

An alias remembers where a link led (url -> final_url -> canonical_url) for ``sources.alias_ttl``
seconds. With a fresh alias:

    its article is already stored  -> Rejected("duplicate"): filtered, pointing at the canonical URL;
                                      nothing is fetched (the usual case: the same short link
                                      shared again, or a link redelivered)
    its article is not stored      -> fetch final_url directly: the redirect chain is not walked
                                      again (the article may have been filtered last time, or be
                                      still on its way to storage)

No alias, or an expired one: resolve and fetch the link as usual. `decide` is pure; `lookup` and
`remember` are the storage edge, and a storage failure there only costs the shortcut: the link is
then fetched as if no alias existed, never dead-lettered for it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from ..errors import Rejected, StageError

log = logging.getLogger(__name__)

DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class Alias:
    url: str
    final_url: str
    canonical_url: str
    resolved_at: datetime
    expires_at: datetime
    article_stored: bool

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Alias":
        return cls(**{k: row[k] for k in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class Decision:
    fetch_url: str  # what to fetch: the link itself, or the alias's final URL
    via_alias: bool


def decide(url: str, alias: Alias | None, now: datetime) -> Decision:
    """What to do with a link to `url`; raises Rejected("duplicate") when it is a known article."""
    if alias is None or alias.url != url or alias.expires_at <= now:
        return Decision(fetch_url=url, via_alias=False)
    if alias.article_stored:
        raise Rejected(
            DUPLICATE,
            f"{url} -> {alias.canonical_url} is already stored "
            f"(alias resolved {alias.resolved_at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ})",
        )
    return Decision(fetch_url=alias.final_url, via_alias=True)


class AliasStore(Protocol):
    async def get_alias(self, url: str) -> dict[str, Any] | None: ...
    async def put_alias(self, url: str, final_url: str, canonical_url: str, ttl: float) -> None: ...


async def lookup(storage: AliasStore | None, url: str, ttl: float) -> Alias | None:
    """The stored alias of `url`, or None (aliases off, none stored, or storage unavailable)."""
    if storage is None or ttl <= 0:
        return None
    try:
        row = await storage.get_alias(url)
    except StageError as e:
        log.warning("alias lookup failed, fetching %s without it: %s", url[:200], e)
        return None
    return Alias.from_row(row) if row else None


async def remember(storage: AliasStore | None, url: str, final_url: str, canonical_url: str, ttl: float) -> None:
    """Record where `url` led, for `ttl` seconds; a failure is logged (the next link just resolves)."""
    if storage is None or ttl <= 0:
        return
    try:
        await storage.put_alias(url, final_url, canonical_url, ttl)
    except StageError as e:
        log.warning("alias for %s not recorded: %s", url[:200], e)
