"""The console's last hour: counters sampled into a ring, turned into rates per interval."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.counters import Histogram, TrafficStats
from gateway.history import History


@dataclass
class Clock:
    at: float = 1_800_000_000.0

    def now(self) -> float:
        return self.at


def test_rates_per_interval_from_the_counters() -> None:
    stats, latency, clock = TrafficStats(), Histogram(), Clock()
    history = History(stats, latency, clock, every_s=10, keep_s=3600)
    history.sample()
    stats.submits_in["bank"] += 100
    stats.decisions[("hold-after-swap", "hold", False)] += 5
    stats.decisions[("rest", "deliver", False)] += 95
    stats.decisions[("watch", "hold", True)] += 7  # shadow: not a decision taken
    latency.observe(0.2)
    latency.observe(0.4)
    clock.at += 10
    history.sample()
    clock.at += 10
    history.sample()  # a quiet interval
    series = history.series()
    assert series["at"] == [clock.at - 10, clock.at]
    assert series["submits_per_s"] == [10.0, 0.0]
    assert series["holds_per_s"] == [0.5, 0.0]
    assert series["decisions_per_s"] == {"hold-after-swap": [0.5, 0.0], "rest": [9.5, 0.0]}
    assert series["webhook_latency_s"] == [0.3, None]


def test_only_the_last_hour_is_kept() -> None:
    stats, clock = TrafficStats(), Clock()
    history = History(stats, Histogram(), clock, every_s=10, keep_s=60)
    for _ in range(20):
        history.sample()
        clock.at += 10
    assert len(history.series()["at"]) == 6  # 7 samples, 6 intervals
