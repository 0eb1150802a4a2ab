"""Stand-ins for what faust hands an agent: an event with a value, a key, its partition and
offset, and ``ack()``, which records the offset in a list the test reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Msg:
    tp: str
    offset: int


@dataclass
class Event:
    value: Any
    message: Msg
    acks: list = field(default_factory=list)
    key: Any = None

    def ack(self) -> bool:
        self.acks.append(self.message.offset)
        return True
