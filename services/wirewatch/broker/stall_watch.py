"""A partition that stopped being read while messages wait in it is sought back and read again.

The runtime's promise is that every message on an assigned partition is taken, done and committed.
Twice in CI a worker broke it after a rebalance: a partition it kept stayed assigned, not paused,
with its flow running and its stage window empty, yet faust read nothing more from it while the
partition held messages past the committed offset (the state dump, ops/dump.py, showed it). The
cause sits somewhere in faust's and aiokafka's fetch state across the rebalance and is not found
yet; whatever it is, the symptom is plain to see from outside, and the remedy is safe: seek the
partition to its committed offset, as faust does after every rebalance. Everything after that
offset is read again; what was already done is redone by idempotent sinks, as after a crash.

``StallWatch.check`` is the pure decision, one call per look (every few seconds): a partition is
*stalled* when, for ``after`` seconds together,
- messages wait in it (its end offset is past the next offset faust will read),
- nothing of it is in flight or waiting in this worker (no stage window holds a message of it,
  no stream queue holds one, aiokafka holds no fetched records of it that faust will take), and
- faust's read offset for it has not moved,
while no stage is paused for a dependency and the consumer is not in a rebalance (then nothing is
read anyway, and that is not a stall). Reading alone makes progress within a fetch wait (1.5 s),
so ``after`` (``kafka.stall_reseek_after``, 30 s by default) leaves a wide margin; a false alarm
costs only redone work.

faust's mark that a partition's stream buffer is full does not count as holding it: a full buffer
holds messages in its stream queue, and those count; a mark with nothing queued for the whole wait
is stale. (mode's queue lifts the mark from a later get, through a callback it keeps; a queue
cleared under it, as flow control does at a rebalance, may leave a mark that no get lifts, while
faust leaves the marked partition out of its fetches.) The re-seek lifts such a mark.

Each re-seek is logged with the partition's state and counted (``wirewatch_partition_reseeks_total``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .faust_consumer import aiokafka_of, fetched_records, partition_state

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class View:
    """One assigned partition, as this worker sees it at one look."""

    end: int | None  # the partition's end offset (the next offset to be written), None if unknown
    next_read: int | None  # the next offset faust will hand out: its read offset + 1, else the committed one
    held: int  # messages of it in stage windows, stream queues, or fetched and not yet handed out


class StallWatch:
    def __init__(self, after: float) -> None:
        self.after = after
        self._since: dict[Any, tuple[float, int | None]] = {}  # partition -> (idle since, next_read then)

    def check(self, views: Mapping[Any, View], now: float, quiet: bool) -> list[Any]:
        """The partitions stalled for ``after`` seconds as of ``now``. ``quiet``: no rebalance in
        progress and no stage paused (else nothing counts, and every clock starts again)."""
        stalled: list[Any] = []
        if not quiet:
            self._since.clear()
            return stalled
        for tp in list(self._since):
            if tp not in views:
                del self._since[tp]
        for tp, v in views.items():
            waiting = v.end is not None and v.end > (v.next_read or 0)
            if not waiting or v.held:
                self._since.pop(tp, None)
                continue
            since = self._since.get(tp)
            if since is None or since[1] != v.next_read:  # idle from now, or it has read meanwhile
                self._since[tp] = (now, v.next_read)
            elif now - since[0] >= self.after:
                stalled.append(tp)
                self._since.pop(tp)  # sought back: its clock starts again
        return stalled


def views(app: Any) -> dict[Any, View]:
    """Every assigned partition of the stages' topics, read from faust's and aiokafka's state (their
    private attributes, pinned in pyproject.toml; what cannot be read leaves a partition out)."""
    consumer = app.consumer
    aio = aiokafka_of(consumer)
    if aio is None:
        return {}
    topics = {t.get_topic_name() for t in getattr(app, "wirewatch_topics", {}).values()}
    flows = list(getattr(app, "wirewatch_flows", {}).values())
    channels = getattr(app.topics, "_tp_index", {})
    fetched = fetched_records(aio)
    read, committed = consumer._read_offset, consumer._committed_offset
    active = consumer._active_partitions  # None: faust takes every assigned partition's records
    out: dict[Any, View] = {}
    for tp in consumer.assignment():
        if tp.topic not in topics:
            continue
        try:
            end = aio.highwater(tp)
        except Exception:  # noqa: BLE001 - not fetched yet: its end is unknown
            end = None
        r, c = read.get(tp), committed.get(tp)
        queued = sum(q.qsize() for ch in channels.get(tp, ()) if (q := getattr(ch, "_queue", None)) is not None)
        # Fetched records wait for faust only where it takes them (aiokafka fetches every assigned
        # partition, faust asks for its active ones).
        waiting = tp in fetched and (active is None or tp in active)
        held = sum(len(f._trackers.get(tp, ())) for f in flows) + queued + waiting
        out[tp] = View(end, r + 1 if r is not None else c, held)
    return out


def quiet(app: Any, paused: Mapping[str, str]) -> bool:
    """No rebalance under way, the consumer's flow running, and no stage paused for a dependency."""
    consumer = app.consumer
    return (
        not getattr(app, "rebalancing", False)
        and app.flow_control.is_active()
        and getattr(consumer, "flow_active", True)
        and not paused
    )


async def reseek(app: Any, tp: Any, view: View) -> int:
    """Seek `tp` back to its committed offset (0 if none: the earliest), lifting a stale mark of a
    full buffer (nothing of it is held: `view.held` is 0) that keeps faust from fetching it;
    returns the offset."""
    offset = app.consumer._committed_offset.get(tp) or 0
    log.warning(
        "partition %s[%d] read nothing for a while with messages waiting (end %s, next to read %s; %s): "
        "seeking it back to its committed offset %d to read it again",
        tp.topic,
        tp.partition,
        view.end,
        view.next_read,
        _fetch_state(app.consumer, tp),
        offset,
        extra={"reason": "partition_reseek"},
    )
    if tp in app.consumer._buffered_partitions:
        app.consumer.on_buffer_drop(tp)  # faust's own way back into its fetches
    await app.consumer.seek(tp, offset)
    return offset


def _fetch_state(consumer: Any, tp: Any) -> str:
    """What faust and aiokafka hold for `tp`, for the log line of a re-seek (the bug's evidence)."""
    try:
        active = consumer._active_partitions
        return (
            f"faust: {'fetched' if active is None or tp in active else 'not fetched'}"
            f"{', paused' if tp in consumer._paused_partitions else ''}"
            f"{', buffer full' if tp in consumer._buffered_partitions else ''}, flow "
            f"{'on' if consumer.flow_active else 'off'}; aiokafka: {partition_state(aiokafka_of(consumer), tp)}"
        )
    except Exception as e:  # noqa: BLE001 - faust or aiokafka moved: say so, seek anyway
        return f"state unreadable: {type(e).__name__}"
