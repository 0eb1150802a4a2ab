"""Link deduplication through the alias table: a link URL and its stored alias in, what the fetch
agent should do out.

An alias remembers where a link led (url -> final_url -> canonical_url) for ``sources.alias_ttl``
seconds. With a fresh alias:

    its article is already stored  -> Rejected("duplicate"): filtered, pointing at the canonical URL;
                                      nothing is fetched (the usual case: the same short link
                                      shared again). Not for a redelivery of the very link that
                                      resolved the alias (same link_id: a worker died between
                                      recording the alias and emitting the article): that one
                                      takes the shortcut below, so it ends "stored" like any link
    its article is not stored      -> fetch final_url directly: the redirect chain is not walked
                                      again (the article may have been filtered last time, or be
                                      still on its way to storage); the chain stored with the alias
                                      (``Decision.redirects``) stands in for it on the article

Aliases are keyed by ``urls.link_key``: a link submitted as Unicode and again as punycode (or with
another spelling of its host or escapes) finds the same alias.

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
from .urls import link_key

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
    redirects: tuple[dict[str, Any], ...] = ()  # the hops from url to final_url, as {url, status}
    link_id: str = ""  # the link that resolved it; "" for rows from before it was recorded

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Alias:
        fields = {k: row[k] for k in cls.__dataclass_fields__ if k not in ("redirects", "link_id")}
        fields["link_id"] = row.get("link_id") or ""
        # Only well-formed hops: a chain is evidence shown with the article, never worth failing it.
        hops = tuple(
            {"url": h["url"], "status": h["status"]}
            for h in row.get("redirects") or ()
            if isinstance(h, dict) and isinstance(h.get("url"), str) and h["url"] and isinstance(h.get("status"), int)
        )
        return cls(**fields, redirects=hops)


@dataclass(frozen=True, slots=True)
class Decision:
    fetch_url: str  # what to fetch: the link itself, or the alias's final URL
    via_alias: bool
    redirects: tuple[dict[str, Any], ...] = ()  # via an alias: the hops it was resolved through


def decide(url: str, alias: Alias | None, now: datetime, link_id: str = "") -> Decision:
    """What to do with link `link_id` to `url`; raises Rejected("duplicate") when it is a known article."""
    if alias is None or alias.url not in (url, link_key(url)) or alias.expires_at <= now:
        return Decision(fetch_url=url, via_alias=False)
    if alias.article_stored and not (link_id and link_id == alias.link_id):
        raise Rejected(
            DUPLICATE,
            f"{url} -> {alias.canonical_url} is already stored "
            f"(alias resolved {alias.resolved_at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ})",
        )
    return Decision(fetch_url=alias.final_url, via_alias=True, redirects=alias.redirects)


class AliasStore(Protocol):
    async def get_alias(self, url: str) -> dict[str, Any] | None: ...
    async def put_alias(
        self,
        url: str,
        final_url: str,
        canonical_url: str,
        ttl: float,
        redirects: list[dict[str, Any]] | None = None,
        link_id: str = "",
        *,
        wait: bool = True,
    ) -> None: ...


async def lookup(storage: AliasStore | None, url: str, ttl: float) -> Alias | None:
    """The stored alias of `url`, or None (aliases off, none stored, or storage unavailable)."""
    if storage is None or ttl <= 0:
        return None
    try:
        row = await storage.get_alias(link_key(url))
    except StageError as e:
        log.warning("alias lookup failed, fetching %s without it: %s", url[:200], e)
        return None
    return Alias.from_row(row) if row else None


async def remember(
    storage: AliasStore | None,
    url: str,
    final_url: str,
    canonical_url: str,
    ttl: float,
    redirects: list[dict[str, Any]] | None = None,
    link_id: str = "",
) -> None:
    """Record where `url` led (and through which hops), for `ttl` seconds, without waiting for it:
    the alias rides with the storage's next transaction (usually this link's article's), so the
    article goes on at once and the alias costs no transaction of its own; a failure is logged
    (the next link just resolves)."""
    if storage is None or ttl <= 0:
        return
    try:
        await storage.put_alias(link_key(url), final_url, canonical_url, ttl, redirects, link_id, wait=False)
    except StageError as e:
        log.warning("alias for %s not recorded: %s", url[:200], e)
