"""One way in for every signal, whatever carried it: validate, index, commit, then answer.

The MQTT feed and ``POST /v1/signals`` both hand decoded JSON to ``SignalIngest.submit``.
The index takes each valid signal at once (the message path sees it within the same loop
turn) and the signal with its number's new state is queued for the store; the caller's
callback runs only after the commit, so an MQTT acknowledgement or an HTTP 200 means the
signal survives a crash.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog

from ..clock import Clock
from .feed_health import FeedHealth
from .model import Signal, SignalRejected, parse_signal
from .risk_index import RiskIndex, Summary
from .store import SignalRow, SignalStore, StateRow, signal_row, state_row

log = structlog.get_logger("otpgate.signals")

ACCEPTED, DUPLICATE, REJECTED, FAILED = "accepted", "duplicate", "rejected", "failed"


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str  # accepted | duplicate | rejected | failed (the store did not commit)
    reason: str | None = None
    event_id: str | None = None

    def to_json(self) -> dict[str, str]:
        out = {"status": self.status}
        if self.event_id is not None:
            out["event_id"] = self.event_id
        if self.reason is not None:
            out["reason"] = self.reason
        return out


OnDone = Callable[[list[Outcome]], None]
_ACCEPTED, _DUPLICATE = Outcome(ACCEPTED), Outcome(DUPLICATE)


@dataclass(frozen=True, slots=True)
class RiskChange:
    """A change a payment platform may want to hear of: ``risk.<kind>`` for one number."""

    kind: str  # sim_swap | call_forwarding | routing_anomaly
    msisdn_key: int
    at: float  # when it occurred
    reason: str | None = None
    source: str | None = None  # "peer:<name>" when another operator's CAMARA API told it


def what_changed(key: int, before: Summary | None, after: Summary | None) -> list[RiskChange]:
    """New facts between two summaries (swap_at, reason, cfu_active, cfu_changed_at, anomalies)."""
    if after is None:
        return []
    old = before or (None, None, False, None, ())
    changes = []
    if after[0] is not None and after[0] != old[0]:
        changes.append(RiskChange("sim_swap", key, after[0], after[1]))
    if after[2] and after[3] is not None and after[3] != old[3]:
        changes.append(RiskChange("call_forwarding", key, after[3], "cfu"))
    newest = after[4][0] if after[4] else None
    if newest is not None and newest not in old[4]:
        changes.append(RiskChange("routing_anomaly", key, newest[0], newest[1]))
    return changes


class SignalIngest:
    def __init__(
        self,
        index: RiskIndex,
        store: SignalStore,
        health: FeedHealth,
        clock: Clock,
        *,
        default_region: str | None,
        on_risk_change: Callable[[list[RiskChange]], None] | None = None,
    ) -> None:
        self.index = index
        self.store = store
        self.health = health
        self.clock = clock
        self.default_region = default_region
        # Told, after the commit, of every new SIM change, forwarding change or anomaly.
        # Told of numbers whose risk changed (the risk.* webhooks and CAMARA's events).
        self.on_risk_change = on_risk_change

    def submit(
        self, items: Sequence[object], feed: str, on_done: OnDone, *, event_ids: bool = True
    ) -> None:
        """Validate and index ``items`` (decoded JSON), then call ``on_done`` after the commit.

        ``on_done`` gets one outcome per item, in order. Nothing raises for bad input. With
        ``event_ids=False`` an accepted or duplicate outcome does not name its event_id
        (the MQTT feed only acknowledges: no object per signal just to be dropped).
        """
        now = self.clock.now()
        counters = self.health.counters(feed)
        counters.received += len(items)
        outcomes: list[Outcome | None] = []
        rows: list[SignalRow] = []
        changed: dict[int, None] = {}
        risk_changes: list[RiskChange] = []
        newest: Signal | None = None
        index, region = self.index, self.default_region
        watching = self.on_risk_change is not None
        for item in items:
            try:
                signal = parse_signal(item, default_region=region)
            except SignalRejected as rejected:
                outcomes.append(Outcome(REJECTED, rejected.reason))
                continue
            outcomes.append(None)
            rows.append(signal_row(signal, now, signal.source or feed))
            key = int(signal.msisdn)
            before = index.summary(key) if watching else None
            if index.apply(signal):
                changed[key] = None
                if watching:
                    risk_changes.extend(what_changed(key, before, index.summary(key)))
            if newest is None or signal.occurred_at > newest.occurred_at:
                newest = signal
        refused = len(items) - len(rows)
        if refused:
            counters.rejected += refused
            log.warning("signals_rejected", feed=feed, count=refused)
        if not rows:
            on_done([o for o in outcomes if o is not None])
            return
        states: list[StateRow] = []
        for key in changed:
            blob = self.index.state_of(key)
            if blob is not None:
                states.append(state_row(key, blob))

        def committed(fresh: list[bool] | None, error: Exception | None) -> None:
            if fresh is None:
                log.error("signal_store_failed", feed=feed, error=str(error), count=len(rows))
                results = [Outcome(FAILED, "the signal store did not commit")] * len(rows)
            elif event_ids:
                results = [
                    Outcome(ACCEPTED if new else DUPLICATE, None, row[0])
                    for new, row in zip(fresh, rows, strict=True)
                ]
            else:
                results = [_ACCEPTED if new else _DUPLICATE for new in fresh]
            if fresh is not None:
                accepted = sum(fresh)
                counters.accepted += accepted
                if risk_changes and self.on_risk_change is not None:
                    self.on_risk_change(risk_changes)
                counters.duplicate += len(fresh) - accepted
                if accepted and newest is not None:
                    counters.last_at = now
                    counters.last_lag_s = max(0.0, now - newest.occurred_at)
            if refused:  # the rejected keep their places
                merged = iter(results)
                results = [o if o is not None else next(merged) for o in outcomes]
            on_done(results)

        self.store.append(rows, states, committed)

    async def ingest(self, items: Sequence[object], feed: str) -> list[Outcome]:
        """``submit`` for a coroutine: the outcomes once committed."""
        future: asyncio.Future[list[Outcome]] = asyncio.get_running_loop().create_future()
        self.submit(items, feed, future.set_result)
        return await future
