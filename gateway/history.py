"""The last hour of the gateway's traffic, for the console's charts: the counters sampled
every ``every_s`` seconds into a ring kept in memory (an hour at 10 s is 360 small tuples),
turned into rates per interval when asked. Nothing is written anywhere; a restart starts
an empty hour."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from .clock import Clock
from .counters import Histogram, TrafficStats


@dataclass(frozen=True, slots=True)
class _Sample:
    at: float
    submits: int
    decisions: dict[str, int]  # rule -> decisions so far (shadow matches left out)
    holds: int
    webhook_count: int
    webhook_seconds: float


class History:
    def __init__(
        self,
        stats: TrafficStats,
        webhook_latency: Histogram,
        clock: Clock,
        *,
        every_s: float = 10.0,
        keep_s: float = 3600.0,
    ) -> None:
        self.stats = stats
        self.webhook_latency = webhook_latency
        self.clock = clock
        self.every_s = every_s
        self._samples: deque[_Sample] = deque(maxlen=int(keep_s / every_s) + 1)

    def sample(self) -> None:
        decisions: dict[str, int] = {}
        holds = 0
        for (rule, decision, shadow), n in self.stats.decisions.items():
            if shadow:
                continue
            decisions[rule] = decisions.get(rule, 0) + n
            if decision == "hold":
                holds += n
        latency = self.webhook_latency
        self._samples.append(
            _Sample(
                self.clock.now(),
                sum(self.stats.submits_in.values()),
                decisions,
                holds,
                sum(latency.counts),
                latency.total,
            )
        )

    def series(self) -> dict[str, Any]:
        """Per interval between samples: its end time, submits/s, holds/s, decisions/s by
        rule, and the mean webhook latency (null where no webhook was sent)."""
        samples = list(self._samples)
        out: dict[str, Any] = {
            "every_s": self.every_s,
            "at": [],
            "submits_per_s": [],
            "holds_per_s": [],
            "decisions_per_s": {},
            "webhook_latency_s": [],
        }
        rules = sorted({rule for s in samples for rule in s.decisions})
        for rule in rules:
            out["decisions_per_s"][rule] = []
        for before, after in pairwise(samples):
            span = max(after.at - before.at, 1e-9)
            out["at"].append(after.at)
            out["submits_per_s"].append(_rate(before.submits, after.submits, span))
            out["holds_per_s"].append(_rate(before.holds, after.holds, span))
            for rule in rules:
                out["decisions_per_s"][rule].append(
                    _rate(before.decisions.get(rule, 0), after.decisions.get(rule, 0), span)
                )
            sent = after.webhook_count - before.webhook_count
            out["webhook_latency_s"].append(
                round((after.webhook_seconds - before.webhook_seconds) / sent, 4) if sent else None
            )
        return out

    async def run(self) -> None:
        """Sample for ever, every ``every_s`` seconds (a task the gateway cancels at stop)."""
        while True:
            self.sample()
            await asyncio.sleep(self.every_s)


def _rate(before: float, after: float, span: float) -> float:
    return round((after - before) / span, 3)
