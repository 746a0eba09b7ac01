"""The hold lifecycle without I/O: which state may follow which, and when each open hold
next needs attention.

Like the SMPP session, it decides and never waits: ``transition()`` is the one place a
hold's state changes, checked against ``TRANSITIONS``; ``Deadlines`` keeps each open hold's
expiry and next release attempt, and answers ``next_deadline()`` (when to wake up) and
``due(now)`` (what to do then). The hold book is the thin driver around it: one timer armed
on the next deadline, and handlers for what is due, so a test can run expiries and release
retries on a simulated clock by calling the book's ``run_due(now)``.
"""

from __future__ import annotations

import heapq
from typing import Literal

from .store import CANCELLED, EXPIRED, FAILED, HELD, RELEASED, RELEASING, HoldRecord

# held ──release──▶ releasing ──accepted──▶ released
#   │                  │  └──refused for good, validity or expiry passed──▶ failed
#   │                  └──its commit failed──▶ held
#   ├──cancel──▶ cancelled
#   └──expiry (drop)──▶ expired        (expiry with deliver goes to releasing)
TRANSITIONS: dict[str, frozenset[str]] = {
    HELD: frozenset({RELEASING, CANCELLED, EXPIRED}),
    RELEASING: frozenset({RELEASED, FAILED, HELD}),
}

Deadline = Literal["expiry", "retry"]
EXPIRY: Deadline = "expiry"
RETRY: Deadline = "retry"


class IllegalTransition(Exception):
    """A transition the table does not allow: a defect, never a request to refuse."""


def may_become(record: HoldRecord, state: str) -> bool:
    return state in TRANSITIONS.get(record.state, frozenset())


def transition(record: HoldRecord, state: str, now: float) -> None:
    """Move ``record`` to ``state`` at ``now``, or raise IllegalTransition."""
    if not may_become(record, state):
        raise IllegalTransition(f"hold {record.id}: {record.state} cannot become {state}")
    record.state, record.updated_at = state, now


class Deadlines:
    """When each open hold next needs attention: its expiry while held, its next release
    attempt while releasing. A hold has at most one deadline of each kind; setting one
    again replaces it, and a replaced or dropped entry is skipped when it comes up."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, str, Deadline]] = []
        self._current: dict[tuple[str, Deadline], float] = {}

    def __len__(self) -> int:
        return len(self._current)

    def set(self, hold_id: str, kind: Deadline, at: float) -> None:
        self._current[(hold_id, kind)] = at
        heapq.heappush(self._heap, (at, hold_id, kind))

    def drop(self, hold_id: str) -> None:
        """Forget a hold's deadlines (it reached a final state)."""
        self._current.pop((hold_id, EXPIRY), None)
        self._current.pop((hold_id, RETRY), None)

    def next_deadline(self) -> float | None:
        """When the earliest deadline falls; None when there is none."""
        heap = self._heap
        while heap and self._current.get((heap[0][1], heap[0][2])) != heap[0][0]:
            heapq.heappop(heap)  # replaced or dropped since it was set
        return heap[0][0] if heap else None

    def due(self, now: float) -> list[tuple[str, Deadline]]:
        """The (hold id, kind) whose deadline is at or before ``now``, earliest first; each
        is handed out once."""
        out: list[tuple[str, Deadline]] = []
        while (at := self.next_deadline()) is not None and at <= now:
            _, hold_id, kind = heapq.heappop(self._heap)
            del self._current[(hold_id, kind)]
            out.append((hold_id, kind))
        return out
