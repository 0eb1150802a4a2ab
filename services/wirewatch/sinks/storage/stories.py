"""Stories (stages/story.py, stages/route.py): one row per event with its state, which story each
article joined, and the candidate index (``story_keys``) that narrows matching to stories sharing a key.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from wirewatch.sinks.storage.common import StorageBase, _dumps, _strip_nul, _Tx, _utcnow
from wirewatch.stages.story_index import story_keys  # the one definition of what a story is filed under

# Candidates for story matching: the stories active since the window opened, and the one that
# already holds this article (a redelivery or a revision, however old).
SELECT_STORY_CANDIDATES = """
SELECT story_id, first_at, last_at, state FROM stories
WHERE last_at >= $1 OR story_id IN (SELECT story_id FROM story_members WHERE canonical_url = $2)
ORDER BY first_at, story_id
"""
# The same, narrowed by the candidate index: {keys} is this backend's rows of the JSON list $3.
# Stories whose window closed (last_at before $1) are candidates back to $4 when filed under a
# follow-up key ("f:...", stages/story.py): an old event in the news again joins its story. The
# follow-up keys come again on their own ({follow_up_keys}, $5), so that branch looks up those few
# in the index, not every key again.
SELECT_STORY_CANDIDATES_BY_KEYS = """
SELECT story_id, first_at, last_at, state FROM stories
WHERE (last_at >= $1 AND story_id IN (SELECT story_id FROM story_keys WHERE key IN (SELECT value FROM {keys})))
   OR (last_at >= $4 AND story_id IN (SELECT story_id FROM story_keys
                                      WHERE key IN (SELECT value FROM {follow_up_keys})))
   OR story_id IN (SELECT story_id FROM story_members WHERE canonical_url = $2)
ORDER BY first_at, story_id
"""
FOLLOW_UP = "f:"  # the prefix of a follow-up key (stages/story_index.py)
# "WHERE true": SQLite needs it to tell the upsert clause from a join of the SELECT.
INSERT_STORY_KEYS = """
INSERT INTO story_keys (key, story_id) SELECT value, $2 FROM {keys} WHERE true
ON CONFLICT (key, story_id) DO NOTHING
"""
SELECT_STORY_STATES = "SELECT story_id, state FROM stories"
UPSERT_STORY = """
INSERT INTO stories (story_id, title, first_at, last_at, state, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (story_id) DO UPDATE SET title = excluded.title, first_at = excluded.first_at,
    last_at = excluded.last_at, state = excluded.state, updated_at = excluded.updated_at
"""
UPSERT_STORY_MEMBER = """
INSERT INTO story_members (canonical_url, story_id, joined_at) VALUES ($1, $2, $3)
ON CONFLICT (canonical_url) DO UPDATE SET story_id = excluded.story_id
"""
SELECT_STORIES = "SELECT story_id, title, first_at, last_at, state FROM stories ORDER BY first_at, story_id"


class StoryStore(StorageBase):
    """assign_story, stories."""

    async def assign_story(
        self,
        canonical_url: str,
        since: datetime,
        decide: Callable[[list[dict[str, Any]]], tuple[dict[str, Any] | None, Any]],
        keys: list[str] | None = None,
        follow_up_since: datetime | None = None,
    ) -> Any:
        """Run `decide` on the candidate stories under the story lock and save what it returns.

        Candidates: rows {story_id, first_at, last_at, state} of the stories whose last article is
        at or after `since` (and, given `keys`, that are filed under one of them, or under one of
        its follow-up keys with a last article at or after `follow_up_since`), and the story
        already holding `canonical_url`. `decide` returns (story row to save or None, result); the
        saved story is filed under what its state now holds (stages/story_index.py ``story_keys``,
        which every story `keys` could match shares a key with); the result is returned once the
        row is committed. `decide` runs inside the
        transaction (on SQLite in the storage's thread): pure, nothing of the event loop's.
        """

        async def assign(tx: _Tx) -> Any:
            if self._STORY_LOCK:
                await tx.execute(self._STORY_LOCK)
            if keys is None:
                rows = await tx.fetch(SELECT_STORY_CANDIDATES, self._ts(since), canonical_url)
            else:
                rows = await tx.fetch(
                    self._keyed(self._keyed(SELECT_STORY_CANDIDATES_BY_KEYS, 3), 5, "follow_up_keys"),
                    self._ts(since),
                    canonical_url,
                    _dumps(sorted(keys)),
                    self._ts(min(since, follow_up_since or since)),
                    _dumps(sorted(k for k in keys if k.startswith(FOLLOW_UP))),
                )
            candidates = [
                {
                    "story_id": r["story_id"],
                    "first_at": self._from_ts(r["first_at"]),
                    "last_at": self._from_ts(r["last_at"]),
                    "state": self._json_in(r["state"]),
                }
                for r in rows
            ]
            save, result = decide(candidates)
            if save is not None:
                now = self._ts(_utcnow())
                await tx.execute(
                    UPSERT_STORY,
                    save["story_id"],
                    _strip_nul(save.get("title")),
                    self._ts(save["first_at"]),
                    self._ts(save["last_at"]),
                    _dumps(save["state"]),
                    now,
                )
                await tx.execute(UPSERT_STORY_MEMBER, canonical_url, save["story_id"], now)
                # Filed under what its state holds, not under the article's own keys: those that
                # only look up (every headline word as a name, a date the text names) would load
                # stories no rule can join and write index pages for nothing. Only the keys its
                # state did not give before are written (the rest are there: same transaction). The
                # state before is read again from its row: `decide` may have changed it in place.
                before = next((r["state"] for r in rows if r["story_id"] == save["story_id"]), None)
                filed = story_keys(save["state"]) - (story_keys(self._json_in(before)) if before is not None else set())
                if filed:
                    await tx.execute(self._keyed(INSERT_STORY_KEYS, 1), _dumps(sorted(filed)), save["story_id"])
            return result

        return await self._decide(assign)

    async def stories(self) -> list[dict[str, Any]]:
        """Every story: story_id, title, first_at, last_at, state (decoded), oldest first."""
        rows = await self._transact(lambda tx: tx.fetch(SELECT_STORIES), read_only=True)
        return [
            {
                **r,
                "first_at": self._from_ts(r["first_at"]),
                "last_at": self._from_ts(r["last_at"]),
                "state": self._json_in(r["state"]),
            }
            for r in rows
        ]
