"""Retention of signal data: location updates 48 h, other signals 30 days, current state kept.

Location data lives in two places: the log rows (deleted) and the places kept inside each
number's packed state (trimmed, found through the ``oldest_place`` column). Nothing else is
touched: IMSIs seen and call-forwarding state are the current state, kept while the number
is tracked.
"""

from __future__ import annotations

import structlog

from ..config import RetentionConfig
from .risk_index import RiskIndex
from .store import PurgeReport, SignalStore, StateRow, state_row

log = structlog.get_logger("otpgate.signals")


async def purge_signals(
    index: RiskIndex, store: SignalStore, retention: RetentionConfig, now: float
) -> PurgeReport:
    location_before = now - retention.location_h * 3600
    trimmed: list[StateRow] = []
    for key in await store.keys_with_places_before(location_before):
        blob = index.drop_places_before(key, location_before)
        if blob is not None:
            trimmed.append(state_row(key, blob))
    report = await store.purge(
        location_before=location_before,
        others_before=now - retention.signals_days * 86400,
        states=trimmed,
    )
    log.info(
        "signals_purged",
        location_updates=report.location_updates,
        other_signals=report.other_signals,
        states_trimmed=report.states_trimmed,
    )
    return report
