"""Prometheus metrics at ``GET /metrics`` on the operator listener. No MSISDN or text in any label.

The message path only bumps plain counters (a dict increment, tens of nanoseconds); a
collector turns them and the live state of binds, windows, holds, feeds, outbox and writers
into metric families when Prometheus scrapes. Labels are accounts, routes, rules, statuses
and outcomes: bounded sets the operator configured.
"""

from __future__ import annotations

import platform
from collections import Counter
from collections.abc import Iterable, Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from smpp_adapters.constants import status_name

from .counters import Histogram, TrafficStats

if TYPE_CHECKING:
    from .parts import MetricsParts

__all__ = ["GatewayCollector", "Histogram", "TrafficStats", "registry_for", "render"]


class GatewayCollector(Collector):
    def __init__(self, gateway: MetricsParts) -> None:
        self.gateway = gateway

    def collect(self) -> Iterator[Metric]:
        gw = self.gateway
        stats = gw.stats
        now = gw.clock.now()

        yield _counters(
            "otpgate_submit_sm_received",
            "submit_sm and data_sm from ESMEs",
            ["account"],
            [((account,), n) for account, n in stats.submits_in.items()],
        )
        yield _counters(
            "otpgate_submit_sm_answered",
            "responses to ESMEs by status",
            ["account", "status"],
            [
                ((account, status_name(status)), n)
                for (account, status), n in stats.responses.items()
            ],
        )
        yield _counters(
            "otpgate_decisions",
            "policy decisions by rule",
            ["rule", "decision", "shadow"],
            [
                ((rule, decision, str(shadow).lower()), n)
                for (rule, decision, shadow), n in stats.decisions.items()
            ],
        )
        yield _counters(
            "otpgate_messages_classified",
            "messages decided, by the classifier's answer (skipped: no rule needed it)",
            ["result"],
            [((result,), n) for result, n in stats.classified.items()],
        )
        yield _counters(
            "otpgate_receipts",
            "receipts for ESMEs: to_esme, stored (no receiver bound), unmatched",
            ["outcome"],
            [((outcome,), n) for outcome, n in stats.receipts.items()],
        )
        yield _counters(
            "otpgate_camara_queries",
            "CAMARA calls by endpoint and answer",
            ["endpoint", "status"],
            [((endpoint, str(status)), n) for (endpoint, status), n in stats.camara.items()],
        )
        yield stats.latency.family(
            "otpgate_submit_latency_seconds", "submit_sm in to submit_sm_resp out (forwarded)"
        )

        yield _counters(
            "otpgate_holds_finished",
            "holds that reached a final state",
            ["state"],
            [((state,), n) for state, n in gw.holds.finished.items()],
        )
        holds = GaugeMetricFamily("otpgate_holds_open", "open holds by state", labels=["state"])
        by_state: Counter[str] = Counter(r.state for r in gw.holds.open.values())
        for state in ("held", "releasing"):
            holds.add_metric([state], by_state[state])
        yield holds
        yield GaugeMetricFamily(
            "otpgate_holds_limit",
            "[holds] max_total: past it a hold decision becomes over_limit",
            value=gw.holds.limits.max_total,
        )
        oldest = min((r.created_at for r in gw.holds.open.values()), default=None)
        yield GaugeMetricFamily(
            "otpgate_holds_oldest_age_seconds",
            "age of the oldest open hold",
            value=0.0 if oldest is None else now - oldest,
        )

        esme = GaugeMetricFamily("otpgate_esme_binds", "bound ESME sessions", labels=["account"])
        for account in sorted(gw.binds.accounts.accounts):
            esme.add_metric([account], len(gw.binds.binds_of(account)))
        yield esme
        upstream = GaugeMetricFamily(
            "otpgate_upstream_binds", "bound upstream sessions", labels=["route"]
        )
        window = GaugeMetricFamily(
            "otpgate_upstream_window_used", "outstanding upstream requests", labels=["route"]
        )
        for pool in gw.router.pools.values():
            upstream.add_metric([pool.name], pool.bound_count)
            window.add_metric([pool.name], pool.outstanding)
        yield upstream
        yield window

        feeds = CounterMetricFamily(
            "otpgate_signals", "signals by feed and outcome", labels=["feed", "outcome"]
        )
        lag = GaugeMetricFamily(
            "otpgate_signal_lag_seconds",
            "arrival minus occurred_at, newest signal",
            labels=["feed"],
        )
        for feed, c in sorted(gw.feed_health.feeds.items()):
            for outcome, n in (
                ("accepted", c.accepted),
                ("duplicate", c.duplicate),
                ("rejected", c.rejected),
            ):
                feeds.add_metric([feed, outcome], n)
            if c.last_lag_s is not None:
                lag.add_metric([feed], c.last_lag_s)
        yield feeds
        yield lag
        yield GaugeMetricFamily(
            "otpgate_signal_outage",
            "1 while the policy's on_signal_outage applies",
            value=float(gw.feed_health.outage(now)),
        )

        dispatcher = gw.dispatcher
        yield _counters(
            "otpgate_webhook_deliveries",
            "webhook attempts by outcome",
            ["outcome"],
            [((outcome,), n) for outcome, n in dispatcher.outcomes.items()],
        )
        yield CounterMetricFamily(
            "otpgate_webhook_dead_letters",
            "webhook events given up on after [webhooks] retry_hours",
            value=dispatcher.dead_letters,
        )
        yield dispatcher.latency.family(
            "otpgate_webhook_latency_seconds", "webhook request latency"
        )
        yield GaugeMetricFamily(
            "otpgate_outbox_in_flight",
            "webhook deliveries in flight",
            value=len(dispatcher._in_flight),
        )

        queue = GaugeMetricFamily(
            "otpgate_sqlite_queue_depth", "writes waiting", labels=["database"]
        )
        commit = GaugeMetricFamily(
            "otpgate_sqlite_last_commit_seconds",
            "duration of the last group commit",
            labels=["database"],
        )
        for name, writer in (("otpgate", gw.durable), ("signals", gw.signal_store.writer)):
            queue.add_metric([name], writer.queue_depth)
            commit.add_metric([name], writer.last_commit_s)
        # The message map commits on the loop too; its own figure covers both.
        queue.add_metric(["message-map"], gw.id_map.writer.queue_depth)
        commit.add_metric(["message-map"], gw.id_map.last_commit_s)
        yield queue
        yield commit

        peers = gw.peers
        if peers is not None:
            yield from peers.stats.families(peers.breaker_state, sorted(peers.clients))


def _counters(
    name: str,
    documentation: str,
    labels: list[str],
    rows: Iterable[tuple[tuple[str, ...], float]],
) -> CounterMetricFamily:
    """A counter family from (label values, count) rows, in label order."""
    family = CounterMetricFamily(name, documentation, labels=labels)
    for values, n in sorted(rows):
        family.add_metric(list(values), n)
    return family


def registry_for(gateway: MetricsParts) -> CollectorRegistry:
    """The gateway's metrics, with the standard process_*, python_* and GC collectors."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GatewayCollector(gateway))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    registry.register(_BuildInfo())
    return registry


class _BuildInfo(Collector):
    """otpgate_build_info{version, python} 1: which build a dashboard is looking at."""

    def __init__(self) -> None:
        try:
            release = version("otpgate")
        except PackageNotFoundError:  # a checkout that was never installed
            release = "unknown"
        self._labels = [release, platform.python_version()]

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            "otpgate_build_info", "the running build", labels=["version", "python"]
        )
        info.add_metric(self._labels, 1.0)
        yield info


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
