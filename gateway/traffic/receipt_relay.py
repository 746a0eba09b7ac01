"""Receipts and mobile-originated messages from the SMSC back to the right ESME.

A receipt is mapped by (route, upstream id) to the gateway id and account, rewritten
(``receipted_message_id`` and the text's ``id:``), filtered by the ESME's
registered_delivery, and sent to a receiver bind of that account. The SMSC's deliver_sm is
acknowledged only once the ESME acknowledged the receipt or it sits on disk, so a receipt
is not lost between the two. A receipt that arrives before its submit_sm_resp waits a
little for the mapping; with no receiver bound it waits durably, text blanked.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import sqlite_utils
import structlog

from smpp_adapters.constants import (
    ESM_CLASS_TYPE_MASK,
    REGISTERED_DELIVERY_ALWAYS,
    REGISTERED_DELIVERY_ON_FAILURE,
    CommandStatus,
    MessageState,
    Tag,
)
from smpp_adapters.pdu import Pdu, decode, encode, tlv_cstr
from smpp_adapters.receipts import is_failure, parse_receipt_text, rewrite_receipt
from smpp_adapters.transport import SmppConnection

from ..clock import Clock
from ..counters import TrafficStats
from ..store import CommitCallback, SqliteWriter
from .id_map import IdMap, MappedMessage

if TYPE_CHECKING:
    from .esme_binds import EsmeBind, EsmeBinds
    from .upstream import UpstreamPool

log = structlog.get_logger("otpgate.receipts")

# Waiting receipts are read from disk this many at a time.
_PENDING_BATCH = 500
_RECEIPT_TYPES = (0x04, 0x08, 0x10, 0x20)  # SMSC receipt, SME ack, manual ack, intermediate
_FAILED_STATES = frozenset(
    {
        MessageState.EXPIRED,
        MessageState.DELETED,
        MessageState.UNDELIVERABLE,
        MessageState.REJECTED,
        MessageState.UNKNOWN,
    }
)


def create_tables(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE IF NOT EXISTS pending_receipts (
            id INTEGER PRIMARY KEY, account TEXT NOT NULL, gateway_id TEXT NOT NULL,
            pdu BLOB NOT NULL, created_at REAL NOT NULL)"""
    )
    db.table("pending_receipts").create_index(["account"], if_not_exists=True)
    # Receipts for a message another node of the cluster may own, while that node was down:
    # taken from the SMSC, kept until the owner is back (or the receipts' retention ends).
    db.execute(
        """CREATE TABLE IF NOT EXISTS orphan_receipts (
            id INTEGER PRIMARY KEY, route TEXT NOT NULL, upstream_id TEXT NOT NULL,
            pdu BLOB NOT NULL, created_at REAL NOT NULL)"""
    )


def wanted(registered_delivery: int, failed: bool) -> bool:
    """registered_delivery 1: every final receipt; 2: failures only; 0: none."""
    if registered_delivery == REGISTERED_DELIVERY_ALWAYS:
        return True
    return registered_delivery == REGISTERED_DELIVERY_ON_FAILURE and failed


def receipt_failed(pdu: Pdu) -> bool:
    state = pdu.tlv_int(Tag.MESSAGE_STATE)
    if state is not None:
        return state in _FAILED_STATES
    fields = parse_receipt_text(bytes(pdu.params.get("short_message", b"")))  # type: ignore[arg-type]
    return fields is not None and is_failure(fields.stat)


def rewrite_for_esme(pdu: Pdu, gateway_id: str, *, blank_text: bool) -> Pdu:
    """The receipt as the ESME must see it: our id in the TLV and in the text."""
    short_message = bytes(pdu.params.get("short_message", b""))  # type: ignore[arg-type]
    if short_message:
        short_message = rewrite_receipt(short_message, message_id=gateway_id, blank_text=blank_text)
    tlvs = [
        (t, v)
        for t, v in pdu.tlvs
        if t != Tag.RECEIPTED_MESSAGE_ID and not (blank_text and t == Tag.MESSAGE_PAYLOAD)
    ]
    tlvs.append((Tag.RECEIPTED_MESSAGE_ID, tlv_cstr(gateway_id)))
    return pdu.with_message(short_message, tlvs)


class ReceiptRelay:
    def __init__(
        self,
        binds: EsmeBinds,
        id_map: IdMap,
        durable: SqliteWriter,
        clock: Clock,
        *,
        buffer_s: float = 30.0,
        mo_account: str | None = None,
        stats: TrafficStats | None = None,
    ) -> None:
        self.stats = stats or TrafficStats()
        self.binds = binds
        self.id_map = id_map
        self.durable = durable
        self.clock = clock
        self.buffer_s = buffer_s
        self.mo_account = mo_account
        # Receipts that came before their submit_sm_resp: (route, upstream id) -> what to do.
        self.early: dict[tuple[str, str], Callable[[MappedMessage], None]] = {}
        self._sending_pending: set[int] = set()
        self._draining: dict[str, asyncio.Task[None]] = {}
        self._drain_again: set[str] = set()
        # Per account: receipts waiting for room in a receiver's window.
        self._waiting: dict[str, deque[tuple[str, Pdu, Callable[[], None]]]] = {}
        binds.on_receiver_bound.append(self.deliver_pending)
        binds.on_receiver_bound.append(lambda bind: self._pump(bind.account.system_id))
        # A lost connection gives back its receipts in flight while the bind is still
        # registered, when no other receiver may be left to take the queue; once the bind
        # is gone, what waits in memory goes to the others or to disk.
        binds.on_receiver_gone.append(lambda bind: self._pump(bind.account.system_id))
        # Asks the other nodes of a cluster to relay a receipt no mapping here explains:
        # "relayed", "not_found" (every node said so) or "unreachable" (one did not answer).
        self.elsewhere: Callable[[str, str, bytes], Awaitable[str]] | None = None
        self._asking: set[asyncio.Task[None]] = set()

    # -- from the SMSC ---------------------------------------------------------------------

    def on_upstream_deliver(self, pool: UpstreamPool, connection: SmppConnection, pdu: Pdu) -> None:
        if int(pdu.params.get("esm_class", 0)) & ESM_CLASS_TYPE_MASK not in _RECEIPT_TYPES:
            self._relay_mobile_originated(connection, pdu)
            return
        upstream_id = pdu.tlv_cstr(Tag.RECEIPTED_MESSAGE_ID)
        if not upstream_id:
            fields = parse_receipt_text(bytes(pdu.params.get("short_message", b"")))  # type: ignore[arg-type]
            upstream_id = fields.message_id if fields else None
        if not upstream_id:
            log.warning("receipt_without_id", route=pool.name)
            connection.send_response(pdu, CommandStatus.ESME_ROK)
            return
        mapped = self.id_map.recent_by_upstream(pool.name, upstream_id)
        if mapped is not None:
            self._relay(mapped, connection, pdu)
        else:
            asyncio.get_running_loop().create_task(
                self._find_mapping(pool.name, upstream_id, connection, pdu)
            )

    async def _find_mapping(
        self, route: str, upstream_id: str, connection: SmppConnection, pdu: Pdu
    ) -> None:
        mapped = await self.id_map.by_upstream(route, upstream_id)
        if mapped is None:
            mapped = self.id_map.recent_by_upstream(route, upstream_id)  # answered meanwhile?
        if mapped is not None:
            self._relay(mapped, connection, pdu)
            return
        key = (route, upstream_id)
        self.early[key] = lambda found: self._relay(found, connection, pdu)
        loop = asyncio.get_running_loop()

        def give_up() -> None:
            if self.early.pop(key, None) is not None:
                self._unmatched(route)
                connection.send_response(pdu, CommandStatus.ESME_ROK)

        if self.elsewhere is None:
            loop.call_later(self.buffer_s, give_up)
            return
        # In a cluster the asking decides the end: relayed by another node, kept for one
        # that did not answer, or unmatched when every node said it is not theirs.
        task = loop.create_task(self._ask_elsewhere(key, connection, pdu))
        self._asking.add(task)
        task.add_done_callback(self._asking.discard)

    async def _ask_elsewhere(
        self, key: tuple[str, str], connection: SmppConnection, pdu: Pdu
    ) -> None:
        """Another node may own the message: it relays the receipt to its ESME."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.buffer_s
        data = encode(pdu)
        answer = "not_found"
        while key in self.early and loop.time() < deadline:
            answer = await self.elsewhere(key[0], key[1], data)  # type: ignore[misc]
            if answer == "relayed":
                if self.early.pop(key, None) is not None:
                    connection.send_response(pdu, CommandStatus.ESME_ROK)
                return
            await asyncio.sleep(min(0.5, max(0.0, deadline - loop.time())))
        if self.early.pop(key, None) is None:
            return  # its mapping appeared here meanwhile: relayed
        if answer == "unreachable":
            self._keep_for_owner(key[0], key[1], connection, pdu)
        else:
            self._unmatched(key[0])
            connection.send_response(pdu, CommandStatus.ESME_ROK)

    def _keep_for_owner(
        self, route: str, upstream_id: str, connection: SmppConnection, pdu: Pdu
    ) -> None:
        """A node that may own the message is down: keep the receipt on disk, then take it
        from the SMSC (answering it only after the commit), and offer it again later."""
        log.warning("receipt_kept_for_node", route=route)
        self.durable.write(
            "INSERT INTO orphan_receipts (route, upstream_id, pdu, created_at) VALUES (?, ?, ?, ?)",
            (route, upstream_id, encode(pdu), self.clock.now()),
            lambda error: connection.send_response(pdu, CommandStatus.ESME_ROK),
        )

    async def offer_kept(self, keep_until: float) -> int:
        """Offer every kept receipt to the other nodes again; drop those relayed, those no
        node claims, and those older than ``keep_until``. Returns how many are left."""
        if self.elsewhere is None:
            return 0

        def read(conn: sqlite3.Connection) -> list[tuple[int, str, str, bytes, float]]:
            return conn.execute(
                "SELECT id, route, upstream_id, pdu, created_at FROM orphan_receipts"
                " ORDER BY id LIMIT 1000"
            ).fetchall()

        left = 0
        for row_id, route, upstream_id, data, created_at in await self.durable.call(read):
            answer = await self.elsewhere(route, upstream_id, data)
            if answer == "unreachable" and created_at >= keep_until:
                left += 1
                continue
            if answer != "relayed":
                self._unmatched(route, kept_since=created_at)
            self.durable.write("DELETE FROM orphan_receipts WHERE id = ?", (row_id,))
        return left

    async def relay_for_peer(self, route: str, upstream_id: str, data: bytes) -> bool:
        """A receipt another node received for a message of ours; True once it is relayed."""
        mapped = self.id_map.recent_by_upstream(
            route, upstream_id
        ) or await self.id_map.by_upstream(route, upstream_id)
        if mapped is None:
            return False
        pdu = decode(data)
        if not wanted(mapped.registered_delivery, receipt_failed(pdu)):
            return True
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def sent() -> None:
            if not done.done():
                done.set_result(None)

        receipt = rewrite_for_esme(pdu, mapped.gateway_id, blank_text=False)
        self.send_to_esme(mapped.account, mapped.gateway_id, receipt, sent)
        await done
        return True

    def record_mapping(
        self, mapped: MappedMessage, on_commit: CommitCallback | None = None
    ) -> None:
        """Keep a message's mapping and relay the receipts that came before it. The one way a
        mapping is made: by the pipeline on an answer, and by the holds on a release."""
        self.id_map.record(mapped, on_commit)
        if self.early:
            relay = self.early.pop((mapped.route, mapped.upstream_id), None)
            if relay is not None:
                relay(mapped)

    def _unmatched(self, route: str, **fields: object) -> None:
        """A receipt no message of ours is waiting for: counted and logged (then confirmed
        to the SMSC by the caller, which keeps it no longer)."""
        self.stats.receipts["unmatched"] += 1
        log.warning("receipt_unmatched", route=route, **fields)

    def record_mapping_on_disk(self, mapped: MappedMessage) -> asyncio.Future[None]:
        """record_mapping, done once the row is committed: what a part or a hold waits for
        before its own store forgets it, so a crash in between cannot lose its receipt."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def committed(error: Exception | None) -> None:
            if error is not None:
                log.error("receipt_mapping_not_written", error=str(error))
            if not done.done():
                done.set_result(None)

        self.record_mapping(mapped, committed)
        return done

    def _relay(self, mapped: MappedMessage, upstream: SmppConnection, pdu: Pdu) -> None:
        registered_delivery = mapped.registered_delivery
        # Whether the receipt failed matters only to "failures only": not read for the rest.
        if registered_delivery != REGISTERED_DELIVERY_ALWAYS and not wanted(
            registered_delivery, receipt_failed(pdu)
        ):
            upstream.send_message_id_response(pdu, CommandStatus.ESME_ROK, "")
            return
        receipt = rewrite_for_esme(pdu, mapped.gateway_id, blank_text=False)
        self.send_to_esme(
            mapped.account,
            mapped.gateway_id,
            receipt,
            lambda: upstream.send_message_id_response(pdu, CommandStatus.ESME_ROK, ""),
        )

    def send_to_esme(
        self, account: str, gateway_id: str, receipt: Pdu, done: Callable[[], None]
    ) -> None:
        """Deliver a receipt to a receiver of the account, or keep it; then call done.

        Full windows make it wait in memory (bounded by the SMSC's own window, since the
        SMSC's deliver_sm stays unanswered meanwhile); with no receiver bound it goes to disk.
        """
        # Receipts wait in memory only while every receiver of the account has a full
        # window: each answer that frees a slot refills that bind (_refill), and a new
        # receiver is pumped as it binds. So a receipt queued behind others just waits, and
        # nobody scans full windows for each receipt and each answer.
        binds = self.binds
        waiting = self._waiting.get(account)
        if not waiting:
            bind = binds.pick_receiver(account)
            if bind is not None:
                self.stats.receipts["to_esme"] += 1
                self._send(bind, account, gateway_id, receipt, done)
                return
        if not binds.has_open_receiver(account):
            self.store(account, gateway_id, receipt, done)
            return
        self.stats.receipts["to_esme"] += 1
        if waiting is None:
            waiting = self._waiting[account] = deque()
        waiting.append((gateway_id, receipt, done))

    def _send(
        self, bind: EsmeBind, account: str, gateway_id: str, receipt: Pdu, done: Callable[[], None]
    ) -> None:
        bind.connection.send_request(
            receipt, self._esme_answered(bind, account, gateway_id, receipt, done)
        )

    def _pump(self, account: str) -> None:
        """Send queued receipts to any receiver with room (a new bind, a bind gone)."""
        waiting = self._waiting.get(account)
        while waiting:
            bind = self.binds.pick_receiver(account)
            if bind is None:
                if not self.binds.receivers_of(account):
                    while waiting:  # the last receiver left: the disk keeps them
                        self.store(account, *waiting.popleft())
                return
            self._send(bind, account, *waiting.popleft())

    def _refill(self, bind: EsmeBind, account: str) -> None:
        """An answer on ``bind`` freed a slot in its window: queued receipts take it. Only
        this bind can have gained room (full again: an earlier answer of the same read took
        the slots); a bind that ended leaves them to the others, through _pump."""
        waiting = self._waiting.get(account)
        if not waiting:
            return
        session = bind.connection.session
        if session.ended:
            self._pump(account)
            return
        while waiting and session.can_send:
            self._send(bind, account, *waiting.popleft())

    def _esme_answered(
        self,
        bind: EsmeBind,
        account: str,
        gateway_id: str,
        receipt: Pdu,
        done: Callable[[], None],
    ) -> Callable[[Pdu | None], None]:
        def answered(response: Pdu | None) -> None:
            if response is not None and response.command_status == CommandStatus.ESME_ROK:
                done()
            else:
                self.store(account, gateway_id, receipt, done)
            self._refill(bind, account)

        return answered

    def store(
        self, account: str, gateway_id: str, receipt: Pdu, done: Callable[[], None] | None = None
    ) -> None:
        """Keep a receipt until the account binds a receiver; its text is blanked on disk."""
        self.stats.receipts["stored"] += 1
        blanked = rewrite_for_esme(receipt, gateway_id, blank_text=True)
        self.durable.write(
            "INSERT INTO pending_receipts (account, gateway_id, pdu, created_at) VALUES (?, ?, ?, ?)",
            (account, gateway_id, encode(blanked), self.clock.now()),
            (lambda error: done()) if done else None,
        )

    # -- to an ESME that just bound --------------------------------------------------------

    def flush_pending(self, account: str) -> None:
        """Send what waits on disk for ``account`` now, if a receiver is bound."""
        receivers = self.binds.receivers_of(account)
        if receivers:
            self.deliver_pending(receivers[0])

    def deliver_pending(self, bind: EsmeBind) -> None:
        """Start sending the account's waiting receipts to ``bind``. One drain per account at
        a time: binds that come while it runs only ask it to look again, so an ESME binding
        in a loop cannot pile up scans of the same rows."""
        account = bind.account.system_id
        if account in self._draining:
            self._drain_again.add(account)
            return
        self._draining[account] = asyncio.get_running_loop().create_task(self._drain(account, bind))

    async def _drain(self, account: str, bind: EsmeBind) -> None:
        try:
            while True:
                self._drain_again.discard(account)
                await self._deliver_pending(bind)
                receivers = self.binds.receivers_of(account)
                if account not in self._drain_again or not receivers:
                    return
                bind = receivers[0]
        finally:
            del self._draining[account]

    async def _deliver_pending(self, bind: EsmeBind) -> None:
        account = bind.account.system_id
        after = 0
        while bind.connection.is_open:

            def read(conn: sqlite3.Connection, after: int = after) -> list[tuple[int, bytes]]:
                return conn.execute(
                    "SELECT id, pdu FROM pending_receipts WHERE account = ? AND id > ?"
                    " ORDER BY id LIMIT ?",
                    (account, after, _PENDING_BATCH),
                ).fetchall()

            rows = await self.durable.call(read)
            for row_id, data in rows:
                if row_id in self._sending_pending:
                    continue
                while not bind.connection.session.can_send and bind.connection.is_open:
                    await asyncio.sleep(0.01)
                if not bind.connection.is_open:
                    return
                self._sending_pending.add(row_id)
                bind.connection.send_request(decode(data), self._pending_answered(bind, row_id))
            if len(rows) < _PENDING_BATCH:
                return
            after = rows[-1][0]

    def _pending_answered(self, bind: EsmeBind, row_id: int) -> Callable[[Pdu | None], None]:
        def answered(response: Pdu | None) -> None:
            self._sending_pending.discard(row_id)
            if response is not None and response.command_status == CommandStatus.ESME_ROK:
                self.durable.write("DELETE FROM pending_receipts WHERE id = ?", (row_id,))
            self._refill(bind, bind.account.system_id)  # the slot it leaves

        return answered

    # -- mobile-originated -----------------------------------------------------------------

    def _relay_mobile_originated(self, upstream: SmppConnection, pdu: Pdu) -> None:
        if self.mo_account is None:
            upstream.send_response(pdu, CommandStatus.ESME_RINVDSTADR)
            return
        bind = self.binds.pick_receiver(self.mo_account)
        if bind is None:
            upstream.send_response(pdu, CommandStatus.ESME_RX_T_APPN)  # temporary: the SMSC retries
            return

        def answered(response: Pdu | None) -> None:
            status = (
                response.command_status if response is not None else CommandStatus.ESME_RX_T_APPN
            )
            upstream.send_response(pdu, status)
            self._refill(bind, bind.account.system_id)  # the slot it leaves, for receipts

        bind.connection.send_request(pdu, answered)
