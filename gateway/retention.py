"""The purge job: every data class kept exactly as long as ``[retention]`` says, then gone.

Signals and location data (``signals/retention.py``), the receipt id mapping, holds in a
final state with their history, delivered and dead-lettered webhook events, and the
audits. Open holds, pending webhooks and each number's current risk state are never purged.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import TYPE_CHECKING

import structlog

from .signals.retention import purge_signals

if TYPE_CHECKING:
    from .parts import RetentionParts

log = structlog.get_logger("otpgate.retention")


async def purge_all(gateway: RetentionParts, now: float) -> dict[str, int]:
    retention = gateway.retention_config
    signals = await purge_signals(gateway.risk_index, gateway.signal_store, retention, now)
    gateway.id_map.purge(now - retention.message_map_h * 3600)
    holds_before = now - retention.holds_days * 86400
    webhooks_before = now - retention.webhook_days * 86400
    audit_before = now - retention.audit_days * 86400
    receipts_before = now - retention.pending_receipts_h * 3600

    def durable(conn: sqlite3.Connection) -> dict[str, int]:
        old = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM holds WHERE state IN ('released', 'cancelled', 'expired', 'failed')"
                " AND updated_at < ?",
                (holds_before,),
            )
        ]
        conn.executemany("DELETE FROM hold_events WHERE hold_id = ?", [(i,) for i in old])
        conn.executemany("DELETE FROM holds WHERE id = ?", [(i,) for i in old])
        rows = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM outbox WHERE state != 'pending' AND created_at < ?",
                (webhooks_before,),
            )
        ]
        conn.executemany("DELETE FROM delivery_attempts WHERE outbox_id = ?", [(i,) for i in rows])
        conn.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in rows])
        camara = conn.execute("DELETE FROM camara_audit WHERE at < ?", (audit_before,)).rowcount
        receipts = sum(
            conn.execute(f"DELETE FROM {table} WHERE created_at < ?", (receipts_before,)).rowcount
            for table in ("pending_receipts", "orphan_receipts")
        )
        return {
            "holds": len(old),
            "webhook_events": len(rows),
            "camara_audit": camara,
            "pending_receipts": receipts,
        }

    report = await gateway.durable.call(durable)
    report["decision_audit"] = await gateway.audit.purge(audit_before)
    report["location_updates"] = signals.location_updates
    report["other_signals"] = signals.other_signals
    log.info("purged", **report)
    return report


async def purge_forever(gateway: RetentionParts) -> None:
    """Purge a minute after start (not in the busy start itself), then every
    ``purge_interval_s``; a failure is logged and retried."""
    interval = gateway.retention_config.purge_interval_s
    await asyncio.sleep(min(60.0, interval))
    while True:
        try:
            await purge_all(gateway, gateway.clock.now())
        except Exception as error:  # the next round tries again; the gateway keeps serving
            log.error("purge_failed", error=str(error))
        await asyncio.sleep(interval)
