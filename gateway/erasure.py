"""A data-subject request: remove everything otpgate keeps about one MSISDN, and say what.

Open holds for the number are cancelled first (the ESME gets its REJECTD receipt, the
tenant its event, both without the number), then every row naming the number goes:
signals and the risk state, holds and their history, webhook bodies delivered or still
queued, tenant relations, CAMARA subscriptions to it, the audit rows under its pseudonym;
receipts still waiting for their ESME keep their message id and lose the number. The write-ahead logs are folded in
and truncated, so no old page keeps it either.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

import structlog

from smpp_adapters.pdu import decode, encode

from .holds.book import HoldConflict, HoldNotFound
from .logs import pseudonym

if TYPE_CHECKING:
    from .parts import ErasureParts

log = structlog.get_logger("otpgate.erasure")


def _forget_in_receipts(conn: sqlite3.Connection, digits: str) -> int:
    """Receipts waiting for their ESME (or kept for another node) keep their id and status,
    not the handset's number."""
    changed = 0
    for table in ("pending_receipts", "orphan_receipts"):
        changed += _forget_in(conn, table, digits)
    return changed


def _forget_in(conn: sqlite3.Connection, table: str, digits: str) -> int:
    changed = 0
    rows = conn.execute(
        f"SELECT id, pdu FROM {table} WHERE instr(pdu, ?) > 0", (digits.encode(),)
    ).fetchall()
    for row_id, data in rows:
        pdu = decode(data)
        if str(pdu.params.get("source_addr", "")).lstrip("+") == digits:
            pdu = pdu.evolve(source_addr="")
        if str(pdu.params.get("destination_addr", "")).lstrip("+") == digits:
            pdu = pdu.evolve(destination_addr="")
        conn.execute(f"UPDATE {table} SET pdu = ? WHERE id = ?", (encode(pdu), row_id))
        changed += 1
    return changed


async def _end_subscriptions(gateway: ErasureParts, e164: str) -> int:
    """CAMARA subscriptions to the number go with everything queued for them, without a
    ``subscription-ends`` event: it would carry the subscription of a number to forget."""
    hooks = [h for h in gateway.subscriptions.by_id.values() if h.phone_number == e164]
    if not hooks:
        return 0
    ids = [(hook.id,) for hook in hooks]

    def drop_queued(conn: sqlite3.Connection) -> None:
        conn.executemany(
            "DELETE FROM delivery_attempts WHERE outbox_id IN"
            " (SELECT id FROM outbox WHERE webhook_id = ?)",
            ids,
        )
        conn.executemany("DELETE FROM outbox WHERE webhook_id = ?", ids)

    await gateway.durable.call(drop_queued)
    for hook in hooks:
        await gateway.subscriptions.delete(hook)
        await gateway.subscription_terms.forget(hook.id)
    return len(hooks)


async def erase_subscriber(gateway: ErasureParts, e164: str) -> dict[str, int]:
    key = int(e164[1:])
    removed: dict[str, int] = {}
    cancelled = 0
    for record in [r for r in gateway.holds.open.values() if r.destination == e164]:
        try:
            await gateway.holds.cancel(
                record.id, "operator", "erasure request", forget_destination=True
            )
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
        # Any webhook body naming the number, sent or not: an event the tenant has not
        # received yet is not worth keeping the number for.
        rows = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM outbox WHERE instr(CAST(body AS BLOB), ?) > 0", (digits,)
            )
        ]
        conn.executemany("DELETE FROM delivery_attempts WHERE outbox_id = ?", [(i,) for i in rows])
        conn.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in rows])
        relations = conn.execute("DELETE FROM tenant_numbers WHERE msisdn_key = ?", (key,)).rowcount
        return {
            "holds": holds,
            "hold_events": events,
            "webhook_events": len(rows),
            "relations": relations,
            "pending_receipts": _forget_in_receipts(conn, e164[1:]),
        }

    digits = e164[1:].encode()

    # A hold made for the number a moment ago may still wait in the holds' commit window:
    # handed to the same writer now, it is written before the DELETE below, not after it.
    gateway.holds.store.flush()
    removed.update(await gateway.durable.call(durable))
    removed["camara_subscriptions"] = await _end_subscriptions(gateway, e164)
    removed["audit"] = await gateway.audit.erase(e164)
    gateway.relations.forget(key)
    if gateway.peer_cache is not None:  # what other operators told of the number
        gateway.peer_cache.forget(key)
    # The write-ahead logs still hold the pages as they were: fold them in and truncate.
    for writer in (gateway.durable, gateway.signal_store.writer, gateway.id_map.writer):
        await writer.checkpoint()
    log.info("subscriber_erased", subscriber=pseudonym(e164), **removed)
    return removed
