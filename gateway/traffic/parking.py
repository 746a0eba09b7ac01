"""Parts of concatenated messages, parked on disk until the message is whole.

Forwarding part 1 before the others arrive would leak the code (handsets show partial
messages), so each part is sealed and committed, acknowledged with ESME_ROK and its own
gateway id (an ESME with a window of one sends the next part only then), and kept until
the last part arrives or ``timeout_s`` passes. Then the whole message is handed to the
pipeline once; the rows go when the pipeline says the parts are forwarded or held.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlite_utils
import structlog

from smpp_adapters.constants import CommandStatus
from smpp_adapters.pdu import Pdu, decode, encode
from smpp_adapters.udh import Concatenation

from ..clock import Clock
from ..holds.sealing import Sealer
from ..store import SqliteWriter
from .reassembly import PartsGroup, PartsKey, Reassembler

if TYPE_CHECKING:
    from .esme_binds import EsmeBind

log = structlog.get_logger("otpgate.parking")


def create_tables(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE IF NOT EXISTS parked_parts (
            gateway_id TEXT PRIMARY KEY,
            account TEXT NOT NULL,
            source_addr TEXT NOT NULL,
            destination_addr TEXT NOT NULL,
            reference INTEGER NOT NULL,
            total INTEGER NOT NULL,
            seqnum INTEGER NOT NULL,
            created_at REAL NOT NULL,
            sealed BLOB NOT NULL
        )"""
    )


@dataclass(frozen=True, slots=True)
class ParkedPart:
    gateway_id: str
    account: str
    pdu: Pdu
    created_at: float


@dataclass(frozen=True, slots=True)
class WholeMessage:
    account: str
    parts: tuple[ParkedPart, ...]  # in seqnum order; fewer than ``total`` after a timeout
    total: int

    @property
    def complete(self) -> bool:
        return len(self.parts) == self.total


class Parking:
    def __init__(
        self,
        writer: SqliteWriter,
        sealer: Sealer,
        clock: Clock,
        on_whole: Callable[[WholeMessage], None],
        *,
        timeout_s: float = 5.0,
    ) -> None:
        self.writer = writer
        self.sealer = sealer
        self.clock = clock
        self.on_whole = on_whole
        self.reassembler = Reassembler(timeout_s)
        self._timer: asyncio.TimerHandle | None = None

    def park(self, bind: EsmeBind, pdu: Pdu, concatenation: Concatenation, gateway_id: str) -> None:
        """Commit the part, then answer ESME_ROK with ``gateway_id``; whole messages go on."""
        now = self.clock.now()
        account = bind.account.system_id
        source = str(pdu.params.get("source_addr", ""))
        destination = str(pdu.params.get("destination_addr", ""))
        sealed = self.sealer.seal(pdu.raw or encode(pdu), gateway_id.encode())
        row = (
            gateway_id,
            account,
            source,
            destination,
            concatenation.reference,
            concatenation.total,
            concatenation.seqnum,
            now,
            sealed,
        )

        def committed(error: Exception | None) -> None:
            if error is not None:
                log.error("part_not_parked", account=account, error=str(error))
                bind.connection.send_response(pdu, CommandStatus.ESME_RSYSERR)
                return
            bind.connection.send_response(pdu, CommandStatus.ESME_ROK, {"message_id": gateway_id})
            self._add(row[:7], ParkedPart(gateway_id, account, pdu, now), now)

        self.writer.write(
            "INSERT OR REPLACE INTO parked_parts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            row,
            committed,
        )

    def _add(self, row: tuple[Any, ...], part: ParkedPart, now: float) -> None:
        _, account, source, destination, reference, total, seqnum = row
        key: PartsKey = (account, source, destination, reference, total)
        group = self.reassembler.add(key, seqnum, part, now)
        if group is not None:
            self._hand_over(group)
        self._arm()

    def _hand_over(self, group: PartsGroup) -> None:
        parts = tuple(group.bodies)
        whole = WholeMessage(parts[0].account, parts, group.total)
        try:
            self.on_whole(whole)
        except Exception:  # the parts stay on disk; the next start hands them over again
            log.exception("whole_message_failed", account=whole.account)

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        deadline = self.reassembler.next_deadline()
        self._timer = None
        if deadline is not None:
            delay = max(0.0, deadline - self.clock.now())
            self._timer = asyncio.get_running_loop().call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        for group in self.reassembler.expired(self.clock.now()):
            log.info("parts_timed_out", parts=len(group.parts), total=group.total)
            self._hand_over(group)
        self._arm()

    def done(self, parts: tuple[ParkedPart, ...] | list[ParkedPart]) -> None:
        """The parts are forwarded, held or answered: forget them."""
        self.writer.write_many(
            "DELETE FROM parked_parts WHERE gateway_id = ?", [(p.gateway_id,) for p in parts]
        )

    async def recover(self) -> int:
        """Parts parked before a stop or a crash wait their timeout again, then go on."""

        def read(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return conn.execute(
                "SELECT gateway_id, account, source_addr, destination_addr, reference, total,"
                " seqnum, created_at, sealed FROM parked_parts ORDER BY created_at"
            ).fetchall()

        rows = await self.writer.call(read)
        now = self.clock.now()
        for row in rows:
            pdu = decode(self.sealer.open(row[8], row[0].encode()))
            self._add(row[:7], ParkedPart(row[0], row[1], pdu, row[7]), now)
        return len(rows)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
