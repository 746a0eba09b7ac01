"""A data-subject request: remove everything otpgate keeps about one MSISDN, and say what.

Open holds for the number are cancelled first (the ESME gets its REJECTD receipt, the
tenant its event), then every row naming the number goes: signals and the risk state,
holds and their history, queued webhook bodies, tenant relations, the audit rows under
its pseudonym.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

import structlog

from .holds.book import HoldConflict, HoldNotFound
from .logs import pseudonym

if TYPE_CHECKING:
    from .app import Gateway

log = structlog.get_logger("otpgate.erasure")


async def erase_subscriber(gateway: Gateway, e164: str) -> dict[str, int]:
    key = int(e164[1:])
    removed: dict[str, int] = {}
    cancelled = 0
    for record in [r for r in gateway.holds.open.values() if r.destination == e164]:
        try:
            await gateway.holds.cancel(record.id, "operator", "erasure request")
            cancelled += 1
        except (HoldConflict, HoldNotFound):
            pass  # released meanwhile: its rows go below all the same
    removed["holds_cancelled"] = cancelled
    signals, states = await gateway.signal_store.erase(key)
    removed["signals"], removed["subscriber_state"] = signals, states
    gateway.risk_index.forget(key)

    def durable(conn: sqlite3.Connection) -> dict[str, int]:
        ids = [
            row[0] for row in conn.execute("SELECT id FROM holds WHERE destination = ?", (e164,))
        ]
        events = sum(
            conn.execute("DELETE FROM hold_events WHERE hold_id = ?", (i,)).rowcount for i in ids
        )
        holds = conn.execute("DELETE FROM holds WHERE destination = ?", (e164,)).rowcount
        outbox = conn.execute(
            "DELETE FROM outbox WHERE state != 'pending' AND (CAST(body AS TEXT) LIKE ?"
            " OR CAST(body AS TEXT) LIKE ?)",
            (f'%"destination":"{e164}"%', f'%"msisdn":"{e164}"%'),
        ).rowcount
        relations = conn.execute("DELETE FROM tenant_numbers WHERE msisdn_key = ?", (key,)).rowcount
        return {
            "holds": holds,
            "hold_events": events,
            "webhook_events": outbox,
            "relations": relations,
        }

    removed.update(await gateway.durable.call(durable))
    removed["audit"] = await gateway.audit.erase(e164)
    gateway.relations.forget(key)
    # The write-ahead logs still hold the pages as they were: fold them in and truncate.
    for writer in (gateway.durable, gateway.signal_store.writer, gateway.id_map.writer):
        await writer.checkpoint()
    log.info("subscriber_erased", subscriber=pseudonym(e164), **removed)
    return removed
