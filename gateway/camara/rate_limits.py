"""Request budgets of the CAMARA endpoints as token buckets: per client, and server-wide.

A calendar-minute window let a client spend its quota at 12:00:59 and again at 12:01:00, and
made a test of "the 9th request is refused" pass or fail by when in the minute it ran. A
bucket holds at most ``burst`` requests and regains ``rate_per_s`` each second: no edge to
straddle, and the wait until the next request may pass is known (``Retry-After``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..token_bucket import TokenBucket


@dataclass(frozen=True, slots=True)
class Limited:
    """A refused request: CAMARA's 429 code, and whole seconds for ``Retry-After``."""

    code: str
    message: str
    retry_after_s: int


class RateLimits:
    """Each client's business quota (QUOTA_EXCEEDED) and the server's capacity
    (TOO_MANY_REQUESTS). A request is counted against both only when both let it pass, so
    one refused by the server does not spend the client's quota."""

    def __init__(self, server_rate_per_s: float | None = None, server_burst: int = 1) -> None:
        self._server = (
            None
            if server_rate_per_s is None
            else TokenBucket(server_rate_per_s, float(server_burst), -math.inf)
        )
        self._clients: dict[str, TokenBucket] = {}

    def take(self, client: str, per_minute: int, now: float) -> Limited | None:
        bucket = self._clients.get(client)
        if bucket is None or bucket.burst != per_minute:  # new, or its quota was changed
            bucket = self._clients[client] = TokenBucket(per_minute / 60.0, per_minute, now)
        wait = bucket.wait_s(now)
        if wait:
            return Limited("QUOTA_EXCEEDED", "this client's quota is used up", _seconds(wait))
        server = self._server
        if server is not None:
            wait = server.wait_s(now)
            if wait:
                return Limited(
                    "TOO_MANY_REQUESTS", "the server is at its request limit", _seconds(wait)
                )
            server.take()
        bucket.take()
        return None


def _seconds(wait_s: float) -> int:
    return max(1, math.ceil(wait_s))
