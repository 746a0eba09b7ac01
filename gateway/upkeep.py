"""The node's periodic upkeep: tenant relations to disk, CAMARA subscriptions swept, long-lived
objects moved out of the collector's sight, the signal feeds' health to the log."""

from __future__ import annotations

import asyncio
import gc

import structlog

from .camara.relations import Relations
from .camara.subscription_events import expire_and_sweep
from .camara.subscription_terms import SubscriptionTerms
from .clock import Clock
from .signals.feed_health import FeedHealth
from .store import SqliteWriter
from .webhooks.outbox import Outbox
from .webhooks.subscriptions import Subscriptions

log = structlog.get_logger("otpgate")
_TICK_S = 5.0
# Long-lived objects are frozen every tick: a full collection stops the event loop for as
# long as it walks what was made since the last freeze (every 5 s, 5-26 ms at 1,000 holds/s,
# where every 30 s took 64-84 ms and pushed the traffic's p99). What that leaks, the hourly
# unfreeze takes.
_UNFREEZE_EVERY_TICKS = 720  # an hour
_HEALTH_EVERY_TICKS = 12  # a minute


async def upkeep_forever(
    relations: Relations,
    outbox: Outbox,
    subscriptions: Subscriptions,
    subscription_terms: SubscriptionTerms,
    durable: SqliteWriter,
    clock: Clock,
    feed_health: FeedHealth,
) -> None:
    """Every 5 s: the tenant relations to disk, the subscription sweep and long-lived objects
    frozen; every minute: feed health to the log."""
    ticks = 0
    while True:
        await asyncio.sleep(_TICK_S)
        relations.flush()
        try:
            await expire_and_sweep(
                outbox,
                subscriptions,
                subscription_terms,
                durable,
                clock.now(),
            )
        except Exception:  # the store failing now must not stop the flushes
            log.exception("camara_subscription_sweep_failed")
        ticks += 1
        collect_long_lived(unfreeze=ticks % _UNFREEZE_EVERY_TICKS == 0)
        if ticks % _HEALTH_EVERY_TICKS == 0:
            health = feed_health.to_json(clock.now())
            level = log.warning if health["outage"] else log.info
            level("signal_feed_health", **health)


def collect_long_lived(*, unfreeze: bool) -> None:
    """Collect what is garbage now, then move the survivors out of the collector's sight.

    Open holds and new subscribers live long: frozen, full collections stay as cheap as at
    start instead of walking every hold. But a cycle frozen while alive (an ESME bind that
    was open then, and closed since) is never collected; ``unfreeze`` (once an hour) brings
    everything back for one full collection, which takes such cycles with it.
    """
    if unfreeze:
        gc.unfreeze()
    gc.collect()
    gc.freeze()
