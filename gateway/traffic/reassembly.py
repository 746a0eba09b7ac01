"""Parts of concatenated messages, gathered until the last one arrives or a deadline passes.

Pure bookkeeping on a clock passed in: the live path parks parts durably and uses this to
know when a message is whole; ``otpgate simulate`` uses it on simulated time.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

# (account, source_addr, destination_addr, reference, total): DESIGN.md's key of a message.
PartsKey = tuple[Hashable, ...]


@dataclass
class PartsGroup:
    key: PartsKey
    total: int
    deadline: float
    # seqnum -> (body, meta); seqnums count from 1.
    parts: dict[int, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return len(self.parts) == self.total and all(
            n in self.parts for n in range(1, self.total + 1)
        )

    @property
    def bodies(self) -> list[Any]:
        return [self.parts[n][0] for n in sorted(self.parts)]

    @property
    def metas(self) -> list[Any]:
        return [self.parts[n][1] for n in sorted(self.parts)]


class Reassembler:
    def __init__(self, timeout_s: float = 5.0) -> None:
        self.timeout_s = timeout_s
        self._groups: dict[PartsKey, PartsGroup] = {}

    def __len__(self) -> int:
        return len(self._groups)

    def add(
        self, key: PartsKey, seqnum: int, body: Any, now: float, meta: Any = None
    ) -> PartsGroup | None:
        """Keep one part; return the whole group (and forget it) when this part completes it."""
        total = int(key[-1])  # type: ignore[call-overload]
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = PartsGroup(key, total, now + self.timeout_s)
        group.parts[seqnum] = (body, meta)  # a repeated part replaces the earlier copy
        if group.complete:
            del self._groups[key]
            return group
        return None

    def expired(self, now: float) -> list[PartsGroup]:
        """Groups whose deadline has come, oldest first; they are forgotten."""
        due = sorted(
            (g for g in self._groups.values() if g.deadline <= now), key=lambda g: g.deadline
        )
        for group in due:
            del self._groups[group.key]
        return due

    def next_deadline(self) -> float | None:
        return min((g.deadline for g in self._groups.values()), default=None)
