"""What one node owes the others of its cluster: it answers their commands about its holds,
records each command's id before it runs, and offers them the receipts it cannot place."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

import sqlite_utils
import structlog

from .api.holds import hold_json
from .clock import Clock
from .cluster import ClusterBus, NodeUnavailable
from .holds.book import HoldBook, HoldConflict, HoldNotFound
from .holds.store import HoldQuery
from .store import SqliteWriter, StoreError
from .traffic.receipt_relay import ReceiptRelay

log = structlog.get_logger("otpgate")
_KEPT_RECEIPTS_EVERY_S = 5.0


def create_tables(db: sqlite_utils.Database) -> None:
    # Ids of the cluster commands this node carried out: a replay, even after a restart,
    # is dropped (see cluster.py).
    db.execute("CREATE TABLE IF NOT EXISTS cluster_commands (id TEXT PRIMARY KEY, expires_at REAL)")


class ClusterDuties:
    """The handlers the cluster bus calls, and the loop that hands kept receipts back."""

    def __init__(
        self,
        relay: ReceiptRelay,
        holds: HoldBook,
        durable: SqliteWriter,
        clock: Clock,
        *,
        pending_receipts_keep_s: float,
    ) -> None:
        self.relay = relay
        self.holds = holds
        self.durable = durable
        self.clock = clock
        self.pending_receipts_keep_s = pending_receipts_keep_s

    async def remember_command(self, command_id: str, expires: float) -> bool:
        """Record a cluster command's id on disk before it runs; False when it ran before."""

        def record(conn: sqlite3.Connection) -> bool:
            conn.execute("DELETE FROM cluster_commands WHERE expires_at < ?", (time.time() - 600,))
            try:
                conn.execute("INSERT INTO cluster_commands VALUES (?, ?)", (command_id, expires))
            except sqlite3.IntegrityError:
                return False
            return True

        return await self.durable.call(record)

    async def carry_out(self, op: str, args: dict[str, Any]) -> tuple[int, Any]:
        """Another node asks about a hold of this node (or for this node's listing), or
        offers a receipt for one of this node's messages."""
        if op == "receipt":
            relayed = await self.relay.relay_for_peer(
                str(args.get("route")),
                str(args.get("upstream_id")),
                bytes.fromhex(str(args.get("pdu"))),
            )
            return (200 if relayed else 404), None
        tenant = args.get("tenant")
        if op == "list":
            query = HoldQuery(
                state=args.get("state"),
                account=args.get("account"),
                tenant=tenant,
                destination=args.get("destination"),
                since=args.get("since"),
                until=args.get("until"),
                limit=int(args.get("limit", 100)),
            )
            return 200, [hold_json(r, "/v1/holds") for r in await self.holds.store.find(query)]
        hold_id = str(args.get("id", ""))
        record = await self.holds.store.get(hold_id, with_history=True)
        if record is None or (tenant is not None and record.tenant != tenant):
            return 404, None
        if op == "get":
            return 200, hold_json(record, "/v1/holds")
        if op not in ("release", "cancel"):
            return 400, {"status": 400, "code": "INVALID_ARGUMENT", "message": f"op {op!r}"}
        act = self.holds.release if op == "release" else self.holds.cancel
        try:
            done = await act(hold_id, str(args.get("actor", "operator")), str(args.get("why", "")))
        except HoldNotFound:
            return 404, None
        except HoldConflict as conflict:
            state = conflict.record.state
            return 409, {
                "status": 409,
                "code": "CONFLICT",
                "message": f"hold is {state}",
                "state": state,
            }
        return 200, hold_json(done, "/v1/holds")

    async def offer_kept_receipts(self) -> None:
        """Receipts kept for a node that was down go to it once it is back."""
        while True:
            await asyncio.sleep(_KEPT_RECEIPTS_EVERY_S)
            try:
                await self.relay.offer_kept(self.clock.now() - self.pending_receipts_keep_s)
            except StoreError as error:
                log.error("kept_receipts_not_offered", error=str(error))


async def offer_receipt(bus: ClusterBus, route: str, upstream_id: str, data: bytes) -> str:
    """Offer a receipt nobody here expects to the other nodes: "relayed" once one relayed
    it, "unreachable" when one that may own it did not answer, else "not_found"."""
    args = {"route": route, "upstream_id": upstream_id, "pdu": data.hex()}
    answer = "not_found"
    for peer in bus.peers:
        try:
            status, _ = await bus.ask(peer, "receipt", args)
        except NodeUnavailable:
            answer = "unreachable"
            continue
        if status == 200:
            return "relayed"
    return answer
