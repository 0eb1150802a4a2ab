"""``Storage``: every table module's methods on one object, and the sink lifecycle."""

from __future__ import annotations

from typing import Any

from wirewatch.sinks.storage.articles import ArticleStore, GroupCommit
from wirewatch.sinks.storage.ledgers import LedgerStore
from wirewatch.sinks.storage.outcomes import OutcomeStore
from wirewatch.sinks.storage.schema import SchemaStore
from wirewatch.sinks.storage.sources import SourceStateStore
from wirewatch.sinks.storage.stories import StoryStore


class Storage(SchemaStore, ArticleStore, OutcomeStore, SourceStateStore, StoryStore, LedgerStore):
    """The storage interface; ``open_storage(url)`` picks the backend."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._adds = GroupCommit(self._write_articles)

    # -- Sink lifecycle -------------------------------------------------------------------------

    async def add(self, item: dict[str, Any], *, stored_by: str | None = None) -> str:
        """Write-through: the article is committed when this returns (see the package docstring),
        together with those added meanwhile (``GroupCommit``); "inserted" or "updated".
        ``stored_by``: the stage whose link outcome ``stored`` is written in the same transaction."""
        return await self._adds.add(self._prepare_article(item, stored_by))

    async def flush(self) -> None:
        """Nothing is buffered: every ``add`` has committed before returning."""
