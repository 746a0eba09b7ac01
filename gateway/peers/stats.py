"""What the peers count (dict increments on the event loop), and their metric families.

Labels are peer names, outcomes and failure reasons: bounded sets from the configuration.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from ..counters import Histogram

_LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)


class PeerStats:
    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()  # (peer, ok | failed)
        self.failures: Counter[tuple[str, str]] = Counter()  # (peer, reason)
        self.cache_hits: Counter[str] = Counter()
        self.shared: Counter[str] = Counter()  # pulls that joined one already in flight
        self.token_fetches: Counter[tuple[str, str]] = Counter()  # (peer, ok | failed)
        self.latency: defaultdict[str, Histogram] = defaultdict(lambda: Histogram(_LATENCY_BUCKETS))

    def families(self, breaker_state: Callable[[str], str], peers: list[str]) -> Iterator[Metric]:
        calls = CounterMetricFamily(
            "otpgate_peer_calls", "pulls from peers by outcome", labels=["peer", "outcome"]
        )
        for (peer, outcome), n in sorted(self.calls.items()):
            calls.add_metric([peer, outcome], n)
        yield calls
        failures = CounterMetricFamily(
            "otpgate_peer_failures", "failed pulls by reason", labels=["peer", "reason"]
        )
        for (peer, reason), n in sorted(self.failures.items()):
            failures.add_metric([peer, reason], n)
        yield failures
        hits = CounterMetricFamily(
            "otpgate_peer_cache_hits", "decisions answered from the cache", labels=["peer"]
        )
        for peer in peers:
            hits.add_metric([peer], self.cache_hits[peer])
        yield hits
        tokens = CounterMetricFamily(
            "otpgate_peer_token_fetches", "OAuth2 token requests", labels=["peer", "outcome"]
        )
        for (peer, outcome), n in sorted(self.token_fetches.items()):
            tokens.add_metric([peer, outcome], n)
        yield tokens
        latency = HistogramMetricFamily(
            "otpgate_peer_latency_seconds", "pull latency (answered)", labels=["peer"]
        )
        for peer in peers:
            self.latency[peer].family("", "", values=[peer], family=latency)
        yield latency
        state = GaugeMetricFamily(
            "otpgate_peer_breaker_state",
            "1 for the circuit breaker's current state",
            labels=["peer", "state"],
        )
        for peer in peers:
            current = breaker_state(peer)
            for name in ("closed", "open", "half_open"):
                state.add_metric([peer, name], float(name == current))
        yield state
