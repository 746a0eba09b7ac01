"""A token bucket per peer: ``rate_per_s`` calls a second on average, ``burst`` at once.

Peers sell their APIs with a contracted rate; past it they answer 429, which would cost a
message its whole wait. Here the excess fails at once, and the policy decides.
"""

from __future__ import annotations


class TokenBucket:
    def __init__(self, rate_per_s: float, burst: int) -> None:
        self.rate_per_s = rate_per_s
        self.burst = float(burst)
        self._tokens = float(burst)
        self._at: float | None = None

    def take(self, now: float) -> bool:
        if self._at is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate_per_s)
        self._at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True
