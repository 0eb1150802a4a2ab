"""Articles: one row per canonical URL (``articles``), and which links led to it (``article_links``).

Redelivery of an article updates its one row (revision + 1, first_seen kept); fields are checked
here so a malformed article is ``storage_rejected`` rather than a database error.
"""

from __future__ import annotations

from typing import Any

import orjson

from wirewatch.errors import PermanentError
from wirewatch.sinks.storage.common import (
    _JSON_DEFAULTS,
    JSON_COLUMNS,
    REJECTED,
    Body,
    StorageBase,
    _dumps,
    _strip_nul,
    _Tx,
    _utcnow,
)
from wirewatch.sinks.storage.outcomes import UPSERT_OUTCOME, outcome_values

_ARTICLE_FIELDS = (
    "canonical_url", "link_id", "source", "url", "final_url", "status", "content_type", "fetched_at",
    "title", "text", "published", "language", "sitename", "description", "image", *JSON_COLUMNS,
)  # fmt: skip
_NOW = len(_ARTICLE_FIELDS) + 1

UPSERT_ARTICLE = f"""
INSERT INTO articles ({", ".join(_ARTICLE_FIELDS)}, revision, first_seen, updated_at)
VALUES ({", ".join(f"${i}" for i in range(1, _NOW))}, 1, ${_NOW}, ${_NOW})
ON CONFLICT (canonical_url) DO UPDATE SET
    {", ".join(f"{c} = excluded.{c}" for c in _ARTICLE_FIELDS[1:])},
    revision = articles.revision + 1,
    updated_at = excluded.updated_at
RETURNING revision
"""

UPSERT_ARTICLE_LINK = """
INSERT INTO article_links (link_id, canonical_url, url, first_seen) VALUES ($1, $2, $3, $4)
ON CONFLICT (link_id) DO UPDATE SET canonical_url = excluded.canonical_url, url = excluded.url
"""

SELECT_ARTICLES = "SELECT * FROM articles ORDER BY first_seen, canonical_url"
SELECT_ARTICLE = "SELECT * FROM articles WHERE canonical_url = $1"
SELECT_LINKS = "SELECT link_id, canonical_url FROM article_links ORDER BY first_seen, link_id"
SELECT_LINKS_OF = "SELECT link_id FROM article_links WHERE canonical_url = $1 ORDER BY first_seen, link_id"


class ArticleStore(StorageBase):
    """upsert_article, articles, get_article (``Storage.add``: an upsert in the group commit)."""

    async def upsert_article(self, enriched: dict[str, Any], *, stored_by: str | None = None) -> str:
        """Insert or replace the article keyed on canonical_url; "inserted" or "updated".

        Redelivery of the same article updates the one row (revision + 1, first_seen kept), and
        records the link_id that led to it in article_links in the same transaction. With
        ``stored_by`` (a stage), the link's outcome ``stored`` is written in that transaction too:
        one commit (one fsync on SQLite) per stored link instead of two, and never an article
        without its outcome.
        """
        return await self._transact(self._article_part(enriched, stored_by))

    def _article_part(self, enriched: dict[str, Any], stored_by: str | None) -> Body[str]:
        """The article's statements (with its link and outcome) as a transaction part, its values
        checked here (``storage_rejected`` before any transaction, so a bad article fails alone)."""
        params = self._article_params(enriched)
        outcome = None if stored_by is None else outcome_values(params[1], params[3], "stored", stored_by)
        now = self._ts(_utcnow())

        async def write(tx: _Tx) -> str:
            row = await tx.fetchrow(UPSERT_ARTICLE, *params, now)
            await tx.execute(UPSERT_ARTICLE_LINK, params[1], params[0], params[3], now)
            if outcome is not None:
                await tx.execute(UPSERT_OUTCOME, *outcome, now)
            assert row is not None  # an upsert always returns its row
            return "inserted" if row["revision"] == 1 else "updated"

        return write

    @staticmethod
    def _article_params(enriched: dict[str, Any]) -> list[Any]:
        if not isinstance(enriched, dict):
            raise PermanentError(REJECTED, f"article must be an object, got {type(enriched).__name__}")
        for field in ("canonical_url", "link_id", "text"):
            if not isinstance(enriched.get(field), str) or not enriched[field]:
                raise PermanentError(REJECTED, f"article has no {field}")
        status = enriched.get("status")
        if status is not None and (not isinstance(status, int) or isinstance(status, bool) or not 0 <= status < 2**31):
            raise PermanentError(REJECTED, f"status must be an HTTP status integer, got {status!r}")
        canonical = enriched["canonical_url"]
        scalars: dict[str, Any] = {
            "canonical_url": canonical,
            "link_id": enriched["link_id"],
            "source": enriched.get("source") or "",
            "url": enriched.get("url") or canonical,
            "final_url": enriched.get("final_url") or enriched.get("url") or canonical,
            "status": status,
        }
        params: list[Any] = []
        for field in _ARTICLE_FIELDS:
            if field in JSON_COLUMNS:
                value = enriched.get(field)
                params.append(_dumps(_JSON_DEFAULTS[field] if value is None else value))
            elif field in scalars:
                params.append(_strip_nul(scalars[field]))
            else:
                value = enriched.get(field)
                if value is not None and not isinstance(value, str):
                    raise PermanentError(REJECTED, f"{field} must be a string or null, got {type(value).__name__}")
                params.append(_strip_nul(value))
        return params

    async def articles(self) -> list[dict[str, Any]]:
        """Every stored article (JSON columns decoded, timestamps as UTC datetimes, plus link_ids)."""

        async def read(tx: _Tx) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            return await tx.fetch(SELECT_ARTICLES), await tx.fetch(SELECT_LINKS)

        rows, links = await self._transact(read, read_only=True)
        by_article: dict[str, list[str]] = {}
        for link in links:
            by_article.setdefault(link["canonical_url"], []).append(link["link_id"])
        return [self._article_out(row, by_article.get(row["canonical_url"], [])) for row in rows]

    async def get_article(self, canonical_url: str) -> dict[str, Any] | None:
        async def read(tx: _Tx) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
            row = await tx.fetchrow(SELECT_ARTICLE, canonical_url)
            return row, (await tx.fetch(SELECT_LINKS_OF, canonical_url) if row is not None else [])

        row, links = await self._transact(read, read_only=True)
        if row is None:
            return None
        return self._article_out(row, [link["link_id"] for link in links])

    def _article_out(self, row: dict[str, Any], link_ids: list[str]) -> dict[str, Any]:
        out = self._row_out(row)
        for column in JSON_COLUMNS:
            if isinstance(out.get(column), str | bytes):
                out[column] = orjson.loads(out[column])
        out["link_ids"] = link_ids
        return out
