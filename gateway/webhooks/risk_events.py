"""``risk.*`` events: a tenant hears of a SIM change, a forwarding or a routing anomaly on a
number it has a relation with (sent to recently, or registered), and of no other number.

The signal is committed in the signal store; its events are then written to the outbox
(another database, so not the same transaction: a crash in between loses the event, never
the signal) before an MQTT signal is acknowledged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..camara.subscription_events import swapped_writers
from ..signals.ingest import RiskChange
from ..times import rfc3339

if TYPE_CHECKING:
    from ..parts import RiskEventParts

_ADVICE = (
    "Unconditional call forwarding is now active on this number: do not fall back to a voice "
    "call to deliver or confirm a code."
)


def risk_event_data(change: RiskChange) -> dict[str, Any]:
    data: dict[str, Any] = {
        "msisdn": f"+{change.msisdn_key}",
        "occurred_at": rfc3339(change.at),
    }
    if change.kind == "sim_swap":
        data["reason"] = change.reason
    elif change.kind == "call_forwarding":
        data.update(service="cfu", active=True, advice=_ADVICE)
    else:
        data["reason"] = change.reason
    if change.source is not None:
        data["source"] = change.source
    return data


def camara_swapped(gateway: RiskEventParts, change: RiskChange, now: float) -> list[Any]:
    """The CAMARA SIM swap subscription events, for subscriptions on this very number."""
    number = f"+{change.msisdn_key}"
    writers: list[Any] = []
    for tenant in gateway.tenants.tenants.values():
        writers += swapped_writers(
            gateway.outbox,
            gateway.subscriptions,
            gateway.subscription_terms,
            tenant.name,
            number,
            change.at,
            now,
        )
    return writers


def risk_event_writer(gateway: RiskEventParts) -> Callable[[list[RiskChange]], None]:
    def on_changes(changes: list[RiskChange]) -> None:
        now = gateway.clock.now()
        writers = []
        for change in changes:
            if change.kind == "sim_swap":
                writers += camara_swapped(gateway, change, now)
            for tenant in gateway.tenants.tenants.values():
                window = tenant.relation_days * 86400
                if not gateway.relations.related(tenant.name, change.msisdn_key, now, window):
                    continue
                writer = gateway.outbox.rows_for(
                    f"risk.{change.kind}",
                    tenant.name,
                    f"msisdn:{change.msisdn_key}",
                    functools.partial(risk_event_data, change),
                    now,
                )
                if writer is not None:
                    writers.append(writer)
        if not writers:
            return

        def write(conn: Any) -> None:
            for writer in writers:
                writer(conn)

        gateway.durable.write_fn(write, lambda error: gateway.dispatcher.kick())

    return on_changes
