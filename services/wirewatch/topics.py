"""The topics wirewatch uses, and creating them before any worker subscribes.

Topics are created explicitly, with the configured partition count, before a worker starts or a
link is submitted: a consumer does not auto-create the topics it subscribes to, and a topic
auto-created by a first producer gets the broker's default partition count instead of ours.
"""

from __future__ import annotations

import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from .errors import Unavailable
from .settings import Settings

# schema name -> topic name (without prefix); one topic per payload contract.
TOPICS = {
    "link": "links",
    "article": "articles",
    "enriched": "enriched",
    "alert": "alerts",
    "filtered": "filtered",
    "deadletter": "deadletter",
}


def topic_names(settings: Settings) -> list[str]:
    return [settings.topic(name) for name in TOPICS.values()]


async def ensure_topics(bootstrap: str, names: list[str], partitions: int) -> list[str]:
    """Create the topics in `names` that do not exist yet; returns those created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        for name in missing:  # one at a time: a racing worker may create some of them first
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
        return missing
    except KafkaError as e:
        raise Unavailable("broker_unavailable", f"cannot create topics on {bootstrap}: {e!r}") from e
    finally:
        await admin.close()


def ensure_topics_sync(bootstrap: str, names: list[str], partitions: int) -> list[str]:
    """`ensure_topics` from synchronous code that must not disturb the main thread's event loop
    (faust's worker creates its own afterwards)."""
    from .boot import run_in_thread

    return run_in_thread(ensure_topics(bootstrap, names, partitions))
