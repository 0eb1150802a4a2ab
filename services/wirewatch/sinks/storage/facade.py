"""``Storage``: every table module's methods on one object, and the sink lifecycle."""

from __future__ import annotations

from typing import Any

from wirewatch.sinks.storage.articles import ArticleStore
from wirewatch.sinks.storage.ledgers import LedgerStore
from wirewatch.sinks.storage.outcomes import OutcomeStore
from wirewatch.sinks.storage.schema import SchemaStore
from wirewatch.sinks.storage.sources import SourceStateStore
from wirewatch.sinks.storage.stories import StoryStore


class Storage(SchemaStore, ArticleStore, OutcomeStore, SourceStateStore, StoryStore, LedgerStore):
    """The storage interface; ``open_storage(url)`` picks the backend."""

    # -- Sink lifecycle -------------------------------------------------------------------------

    async def add(self, item: dict[str, Any], *, stored_by: str | None = None) -> str:
        """Write-through: the article is committed when this returns (see the package docstring),
        together with whatever else was added meanwhile (``GroupCommit``); "inserted" or "updated".
        ``stored_by``: the stage whose link outcome ``stored`` is written in the same transaction."""
        return await self.batched(self._article_part(item, stored_by))

    async def flush(self) -> None:
        """Nothing is buffered: every ``add`` has committed before returning."""
