"""The risk index rebuilt at start-up from the states the signal store kept."""

from __future__ import annotations

import gc
import time

import structlog

from .risk_index import RiskIndex
from .store import SignalStore

log = structlog.get_logger("otpgate")
_PROGRESS_EVERY_S = 5.0


async def rebuild_risk_index(index: RiskIndex, store: SignalStore) -> None:
    """Every stored state loaded into ``index``, then kept out of the collector's sight."""
    started = time.perf_counter()
    total = await store.state_count()
    logged = started
    done = 0
    load_state = index.load_state
    # Streamed in chunks: the peak stays near the index's own size (issue 15).
    async for chunk in store.states():
        for key, blob in chunk:
            load_state(key, blob)
        done += len(chunk)
        del chunk
        # Minutes at tens of millions of numbers: say how far it got every few seconds.
        if time.perf_counter() - logged >= _PROGRESS_EVERY_S:
            logged = time.perf_counter()
            log.info("risk_index_rebuilding", numbers=done, of=total)
    # Everything loaded so far lives as long as the process: keep the collector off it,
    # so a full collection does not walk a million states in the middle of the traffic.
    gc.collect()
    gc.freeze()
    log.info(
        "risk_index_rebuilt",
        numbers=len(index),
        risky=index.risky_count,
        seconds=round(time.perf_counter() - started, 3),
    )
