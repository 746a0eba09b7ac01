"""How the signal feeds are doing: what the API, the logs and the policy's outage rule read.

A gateway that stopped hearing from the network must not pretend every number is safe: the
policy's ``on_signal_outage`` applies while ``outage(now)`` is true.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class FeedCounters:
    received: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    last_at: float | None = None  # arrival of the newest accepted signal
    last_lag_s: float | None = None  # its arrival minus its occurred_at


@dataclass(slots=True)
class FeedHealth:
    started_at: float
    max_silence_s: float | None = None
    outage_after_s: float = 60.0
    mqtt_configured: bool = False
    mqtt_connected: bool = False
    mqtt_changed_at: float = 0.0
    feeds: dict[str, FeedCounters] = field(default_factory=dict)

    def counters(self, feed: str) -> FeedCounters:
        counters = self.feeds.get(feed)
        if counters is None:
            counters = self.feeds[feed] = FeedCounters()
        return counters

    def set_mqtt_connected(self, connected: bool, now: float) -> None:
        if connected != self.mqtt_connected:
            self.mqtt_connected, self.mqtt_changed_at = connected, now

    @property
    def last_signal_at(self) -> float | None:
        times = [c.last_at for c in self.feeds.values() if c.last_at is not None]
        return max(times) if times else None

    def outage(self, now: float) -> bool:
        """The broker unreachable for ``outage_after_s``, or no signal for ``max_silence_s``."""
        if self.mqtt_configured and not self.mqtt_connected:
            since = self.mqtt_changed_at or self.started_at
            if now - since >= self.outage_after_s:
                return True
        if self.max_silence_s is not None:
            last = self.last_signal_at or self.started_at
            if now - last >= self.max_silence_s:
                return True
        return False

    def to_json(self, now: float) -> dict[str, Any]:
        last = self.last_signal_at
        return {
            "outage": self.outage(now),
            "mqtt": (
                {"configured": True, "connected": self.mqtt_connected}
                if self.mqtt_configured
                else {"configured": False}
            ),
            "last_signal_age_s": None if last is None else round(now - last, 3),
            "feeds": {
                name: {
                    "received": c.received,
                    "accepted": c.accepted,
                    "duplicate": c.duplicate,
                    "rejected": c.rejected,
                    "last_signal_age_s": None if c.last_at is None else round(now - c.last_at, 3),
                    "lag_s": None if c.last_lag_s is None else round(c.last_lag_s, 3),
                }
                for name, c in sorted(self.feeds.items())
            },
        }
