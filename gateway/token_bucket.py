"""A token bucket: ``burst`` requests at once, ``rate_per_s`` sustained; starts full.

Used for the CAMARA endpoints' budgets (per client and server-wide) and for the calls to
each peer operator's API.
"""

from __future__ import annotations

import math


class TokenBucket:
    __slots__ = ("at", "burst", "rate_per_s", "tokens")

    def __init__(self, rate_per_s: float, burst: float, now: float = -math.inf) -> None:
        self.rate_per_s, self.burst = rate_per_s, float(burst)
        self.tokens, self.at = float(burst), now

    def wait_s(self, now: float) -> float:
        """Seconds until one request may pass; 0.0 when one may now."""
        if now > self.at:  # a clock that steps back refills nothing
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate_per_s)
            self.at = now
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate_per_s

    def take(self, now: float | None = None) -> bool:
        """Spend one request: after ``wait_s`` said 0, or, given ``now``, only if one may
        pass then. True when it was spent."""
        if now is not None and self.wait_s(now):
            return False
        self.tokens -= 1.0
        return True
