"""Gateway-issued message ids: time-ordered, unique per node, at most 20 characters."""

from __future__ import annotations

import zlib
from collections.abc import Callable

# 41 bits of milliseconds since 2024-01-01 last until 2093; 10 bits of node; 12 of sequence.
_EPOCH_MS = 1_704_067_200_000
_NODE_BITS = 10
_SEQUENCE_BITS = 12
_MAX_SEQUENCE = (1 << _SEQUENCE_BITS) - 1


def node_number(node_id: str) -> int:
    """A stable 10-bit number for a node id."""
    return zlib.crc32(node_id.encode()) & ((1 << _NODE_BITS) - 1)


class MessageIdGenerator:
    """Snowflake-style ids: decimal (at most 19 digits) or lower-case hex (at most 16)."""

    def __init__(self, node: int, now_ms: Callable[[], int], fmt: str = "decimal") -> None:
        self._node_part = (node & ((1 << _NODE_BITS) - 1)) << _SEQUENCE_BITS
        self._now_ms = now_ms
        self._format = format if fmt == "hex" else None
        self._last_ms = 0
        self._sequence = 0

    def next(self, now_ms: int | None = None) -> str:
        """A fresh id; ``now_ms`` when the caller already read the clock (one read, not two)."""
        ms = (self._now_ms() if now_ms is None else now_ms) - _EPOCH_MS
        if ms <= self._last_ms:
            # Same millisecond (or the clock stepped back): count on, borrowing the next ms.
            ms = self._last_ms
            self._sequence += 1
            if self._sequence > _MAX_SEQUENCE:
                ms += 1
                self._sequence = 0
        else:
            self._sequence = 0
        self._last_ms = ms
        value = (ms << (_NODE_BITS + _SEQUENCE_BITS)) | self._node_part | self._sequence
        return str(value) if self._format is None else format(value, "x")

    def format(self, value: int) -> str:
        return str(value) if self._format is None else format(value, "x")

    def parse(self, message_id: str) -> int | None:
        """The integer behind an id this generator could have issued, or None."""
        try:
            value = int(message_id, 16 if self._format is not None else 10)
        except ValueError:
            return None
        return value if 0 <= value < 1 << 63 else None

    @staticmethod
    def first_id_at(epoch_s: float) -> int:
        """The smallest id issued at or after ``epoch_s`` on any node: ids order by time."""
        return max(0, int(epoch_s * 1000) - _EPOCH_MS) << (_NODE_BITS + _SEQUENCE_BITS)

    @staticmethod
    def issued_at(value: int) -> float:
        return ((value >> (_NODE_BITS + _SEQUENCE_BITS)) + _EPOCH_MS) / 1000
