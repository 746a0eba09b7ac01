"""The counters the message path bumps (a dict increment, tens of nanoseconds) and that the
metrics collector (``metrics.py``) reads when Prometheus scrapes."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter

from prometheus_client.core import HistogramMetricFamily

_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Histogram:
    """Fixed buckets, no lock: only the event loop observes."""

    def __init__(self, buckets: tuple[float, ...] = _BUCKETS) -> None:
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(self.buckets, seconds)] += 1
        self.total += seconds

    def family(
        self,
        name: str,
        documentation: str,
        labels: list[str] | None = None,
        values: list[str] | None = None,
        family: HistogramMetricFamily | None = None,
    ) -> HistogramMetricFamily:
        family = family or HistogramMetricFamily(name, documentation, labels=labels or [])
        cumulative, running = [], 0
        for bound, count in zip((*self.buckets, float("inf")), self.counts, strict=True):
            running += count
            cumulative.append((str(bound) if bound != float("inf") else "+Inf", running))
        family.add_metric(values or [], cumulative, self.total)
        return family


class TrafficStats:
    """What the message path counts."""

    def __init__(self) -> None:
        self.submits_in: Counter[str] = Counter()
        self.responses: Counter[tuple[str, int]] = Counter()
        self.decisions: Counter[tuple[str, str, bool]] = Counter()
        # Messages decided, by what the classifier said: otp, not_otp, or skipped when no
        # rule needed to ask it (a clean number under the default policy).
        self.classified: Counter[str] = Counter()
        self.latency = Histogram()  # submit_sm in -> submit_sm_resp out, forwarded messages
        # Receipts for ESMEs: to_esme (handed to a receiver), stored (none bound), unmatched.
        self.receipts: Counter[str] = Counter()
        self.camara: Counter[tuple[str, int]] = Counter()  # (endpoint, HTTP status)
