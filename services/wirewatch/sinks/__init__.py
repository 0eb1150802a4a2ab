"""Sinks: where items leave the pipeline (storage, alert channels), all with one lifecycle."""

from wirewatch.sinks.base import Component, Sink
from wirewatch.sinks.storage import OUTCOMES, PostgresStorage, SqliteStorage, Storage, open_storage

__all__ = [
    "OUTCOMES",
    "Component",
    "PostgresStorage",
    "Sink",
    "SqliteStorage",
    "Storage",
    "open_storage",
]
