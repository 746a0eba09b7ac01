"""A circuit breaker per peer: after ``failures`` consecutive failures no call is made for
``open_s``; then one trial call decides whether calls resume or the wait starts again.

A peer that is down costs each message a fast "circuit_open" failure instead of the whole
budget, and the peer is not hammered while it recovers.
"""

from __future__ import annotations

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"


class Breaker:
    def __init__(self, failures: int, open_s: float) -> None:
        self.failures = failures
        self.open_s = open_s
        self._failed = 0
        self._open_until: float | None = None
        self._trial = False  # the half-open trial call is under way
        self.opened = 0  # times it opened, for the metrics

    def state(self, now: float) -> str:
        if self._open_until is None:
            return CLOSED
        return OPEN if now < self._open_until else HALF_OPEN

    def allow(self, now: float) -> bool:
        """May a call start now? In half-open state only one, the trial."""
        state = self.state(now)
        if state == CLOSED:
            return True
        if state == OPEN or self._trial:
            return False
        self._trial = True
        return True

    def succeeded(self) -> None:
        self._failed = 0
        self._open_until = None
        self._trial = False

    def failed(self, now: float) -> None:
        self._failed += 1
        if self._trial or self._failed >= self.failures:
            if self._open_until is None or self._trial:
                self.opened += 1
            self._open_until = now + self.open_s
            self._trial = False
