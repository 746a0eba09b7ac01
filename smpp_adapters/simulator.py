"""The built-in SMSC simulator for demos, tests and benchmarks: binds, message ids, receipts, faults.

Built for speed on one core: every PDU is handled in a callback (no task per message),
submit_sm_resp are packed by hand, and receipts and delayed responses wait in FIFO lines
released in batches by one re-armed timer each; SmppConnection coalesces the writes.
It is a test peer, not an SMSC: messages are "delivered" by a dice roll after a delay.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import signal
import struct
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Generic, NamedTuple, TypeVar

from . import events as ev
from .constants import (
    CommandId,
    CommandStatus,
    MessageState,
    Tag,
)
from .pdu import Pdu, Tlv
from .receipts import build_receipt_pdu, receipt_date
from .server import start_server
from .session import SessionConfig
from .transport import SmppConnection

_HEADER = struct.Struct(">IIII")
_SUBMIT_SM_RESP = int(CommandId.SUBMIT_SM_RESP)
_DATA_SM_RESP = int(CommandId.DATA_SM_RESP)
_MODE_OF = {
    CommandId.BIND_TRANSMITTER: "tx",
    CommandId.BIND_RECEIVER: "rx",
    CommandId.BIND_TRANSCEIVER: "trx",
}
# ESME_RSYSERR is what SMSCs answer for a passing fault (ESMEs retry it); ESME_RX_P_APPN is
# the specification's "permanent application error" (ESMEs must not retry it).
ERROR_STATUS_OF_KIND = {
    "temporary": CommandStatus.ESME_RSYSERR,
    "permanent": CommandStatus.ESME_RX_P_APPN,
}
_TICK_S = 0.002  # the shortest gap between two releases of a delay line: batches, not drips
_RECEIPT_TEXT_BYTES = 20


@dataclass(frozen=True)
class SimulatorConfig:
    """What the simulator listens on, whom it accepts, and which faults it plays."""

    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port, ``start()`` returns it
    accounts: Mapping[str, str] | None = None  # system_id -> password; None accepts anyone
    system_id: str = "otpgate-sim"  # ours, in bind responses
    receipt_delay_s: float = 0.05
    receipt_failure_rate: float = 0.0  # fraction of messages that end UNDELIV
    receipt_text: bool = True  # copy the first 20 octets into text:, as Appendix B says
    error_rate: float = 0.0  # fraction of submits answered with the error status
    error_kind: str = "temporary"  # or "permanent"; see ERROR_STATUS_OF_KIND
    error_status: int | None = None  # overrides error_kind
    throttle_rate: float = 0.0  # fraction answered ESME_RTHROTTLED
    response_delay_s: float = 0.0
    drop_every: int = 0  # close the connection on every Nth submit of it (unanswered); 0: never
    receipt_before_response: bool = False  # the receipt leaves before the submit_sm_resp
    record_path: str | Path | None = None  # JSON Lines of every submit_sm / data_sm received
    keep_records: bool = False  # the same records in memory, raw PDU bytes included
    seed: int | None = None  # for the fault dice; ids stay unique whatever the seed
    window: int = 1000  # our outstanding deliver_sm per bind, and the ESME's submits
    # Receipts and MO kept per system_id while none of its receivers is bound; the oldest go
    # first. A bound but slow receiver is not limited: its backlog is the ESME's to drain.
    max_pending_receipts: int = 100_000
    max_tracked_messages: int = 1_000_000  # for query_sm / cancel_sm
    enquire_link_interval_s: float | None = 30.0
    response_timeout_s: float = 10.0

    def __post_init__(self) -> None:
        for name in ("receipt_failure_rate", "error_rate", "throttle_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.error_kind not in ERROR_STATUS_OF_KIND:
            raise ValueError(f"error_kind must be one of {sorted(ERROR_STATUS_OF_KIND)}")
        if self.drop_every < 0 or self.window < 1:
            raise ValueError("drop_every must be >= 0 and window >= 1")


class BindRecord(NamedTuple):
    system_id: str
    mode: str  # "tx", "rx" or "trx"
    interface_version: int


@dataclass(slots=True)
class SubmitRecord:
    """One submit_sm or data_sm as it reached the simulator, and what it answered."""

    system_id: str
    bind_mode: str
    command: str  # "submit_sm" or "data_sm"
    sequence_number: int
    source_addr: str
    destination_addr: str
    esm_class: int
    data_coding: int
    registered_delivery: int
    short_message: bytes
    tlvs: tuple[Tlv, ...]
    message_id: str | None  # None when it was refused or the connection dropped on it
    command_status: int | None  # None: dropped, never answered
    received_at: float  # seconds since the epoch
    raw: bytes = b""

    def to_json(self) -> dict[str, Any]:
        return {
            "system_id": self.system_id,
            "bind_mode": self.bind_mode,
            "command": self.command,
            "sequence_number": self.sequence_number,
            "source_addr": self.source_addr,
            "destination_addr": self.destination_addr,
            "esm_class": self.esm_class,
            "data_coding": self.data_coding,
            "registered_delivery": self.registered_delivery,
            "short_message_hex": self.short_message.hex(),
            "tlvs": [[tag, value.hex()] for tag, value in self.tlvs],
            "message_id": self.message_id,
            "command_status": self.command_status,
            "time": datetime.fromtimestamp(self.received_at, UTC).isoformat(
                timespec="milliseconds"
            ),
        }


@dataclass(slots=True)
class _Message:
    """What the simulator remembers of one accepted message: enough for its receipt and queries."""

    message_id: str
    system_id: str
    source_addr: str
    source_addr_ton: int
    source_addr_npi: int
    destination_addr: str
    dest_addr_ton: int
    dest_addr_npi: int
    registered_delivery: int  # bits 0-1 only
    text: bytes  # the first 20 octets, for the receipt's text:
    submit_date: str
    due: float  # loop time of the final state (and of the receipt)
    failed: bool
    cancelled: bool = False

    def state(self, now: float) -> MessageState:
        if self.cancelled:
            return MessageState.DELETED
        if now < self.due:
            return MessageState.ENROUTE
        return MessageState.UNDELIVERABLE if self.failed else MessageState.DELIVERED


class _Bind:
    """Per-connection state, kept in ``SmppConnection.context``."""

    __slots__ = ("inflight", "mode", "submits", "system_id")

    def __init__(self, system_id: str, mode: str) -> None:
        self.system_id = system_id
        self.mode = mode
        self.submits = 0
        # sequence_number -> what a deliver_sm carried, to send again if it is not answered.
        self.inflight: dict[int, _Message | Pdu] = {}


T = TypeVar("T")


class _DelayLine(Generic[T]):
    """Items due a fixed delay after they were pushed, released in batches by one timer.

    The delay is the same for every item, so arrival order is due order and a deque suffices.
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop, delay_s: float, release: Callable[[list[T]], None]
    ) -> None:
        self._loop = loop
        self._delay_s = delay_s
        self._release = release
        self._items: deque[tuple[float, T]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    def push(self, item: T, now: float) -> None:
        due = now + self._delay_s
        self._items.append((due, item))
        if self._timer is None:
            self._timer = self._loop.call_at(due, self._fire)

    def _fire(self) -> None:
        self._timer = None
        now = self._loop.time()
        items = self._items
        batch = []
        while items and items[0][0] <= now:
            batch.append(items.popleft()[1])
        if items:
            self._timer = self._loop.call_at(max(items[0][0], now + _TICK_S), self._fire)
        if batch:
            self._release(batch)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._items.clear()


class SmscSimulator:
    """An SMSC on one TCP port; also the ConnectionHandler of every connection it accepts."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        cfg = self.config
        # Counters, for tests and the operator's curiosity.
        self.submitted = 0  # submit_sm and data_sm received on a live connection
        self.accepted = 0
        self.refused = 0  # answered with an error or ESME_RTHROTTLED
        self.dropped = 0  # connections closed by drop_every
        self.receipts_sent = 0
        self.receipts_acked = 0
        self.receipts_discarded = 0  # queue full while no receiver was bound
        self.deliveries_refused = 0  # deliver_sm answered with an error: not sent again
        self.mo_sent = 0
        self.binds: list[BindRecord] = []
        self.bind_failures = 0
        self.records: list[SubmitRecord] = []
        self.port: int | None = None
        self._random = random.Random(cfg.seed)
        self._error_status = int(
            cfg.error_status
            if cfg.error_status is not None
            else ERROR_STATUS_OF_KIND[cfg.error_kind]
        )
        self._faulty = bool(cfg.error_rate or cfg.throttle_rate)
        self._recording = cfg.keep_records or cfg.record_path is not None
        # Ids are unique across restarts: a random 32-bit prefix, then a counter.
        self._id_prefix = f"{secrets.randbits(32):08x}"
        self._id_counter = 0
        self._messages: dict[str, _Message] = {}
        self._receivers: dict[str, list[SmppConnection]] = {}
        self._next_receiver: dict[str, int] = {}
        self._ready: dict[str, deque[_Message | Pdu]] = {}
        self._connections: set[SmppConnection] = set()
        self._server: asyncio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._receipt_line: _DelayLine[_Message] | None = None
        self._response_line: _DelayLine[tuple[SmppConnection, bytes]] | None = None
        self._record_file: IO[str] | None = None
        self._record_flush_scheduled = False
        self._minute = -1
        self._minute_date = ""

    # -- life ------------------------------------------------------------------------------

    async def start(self) -> int:
        """Listen; return the port (the chosen one when the config says 0)."""
        cfg = self.config
        loop = self._loop = asyncio.get_running_loop()
        self._receipt_line = _DelayLine(loop, cfg.receipt_delay_s, self._receipts_due)
        self._response_line = _DelayLine(loop, cfg.response_delay_s, self._responses_due)
        if cfg.record_path is not None:
            self._record_file = open(cfg.record_path, "a", encoding="utf-8")  # noqa: SIM115
        session_config = SessionConfig(
            window=cfg.window,
            incoming_window=cfg.window,
            response_timeout_s=cfg.response_timeout_s,
            enquire_link_interval_s=cfg.enquire_link_interval_s,
            inactivity_timeout_s=None,
        )
        self._server = await start_server(self, cfg.host, cfg.port, config=session_config)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        """Stop listening, close every connection, flush the record file."""
        if self._server is not None:
            self._server.close()
        for line in (self._receipt_line, self._response_line):
            if line is not None:
                line.cancel()
        connections = list(self._connections)
        for connection in connections:
            connection.close("simulator stopped")
        if connections:
            waits = [asyncio.ensure_future(c.closed.wait()) for c in connections]
            _, pending = await asyncio.wait(waits, timeout=2.0)
            for future in pending:
                future.cancel()
            for connection in connections:
                connection.abort()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        if self._record_file is not None:
            self._record_file.close()
            self._record_file = None

    # -- ConnectionHandler -----------------------------------------------------------------

    def on_event(self, connection: SmppConnection, event: ev.Event) -> None:
        kind = type(event)
        if kind is ev.SubmitSmReceived or kind is ev.DataSmReceived:
            self._on_submit(connection, event.pdu)  # type: ignore[attr-defined]
        elif kind is ev.ResponseReceived:
            self._on_response(connection, event.pdu)  # type: ignore[attr-defined]
        elif kind is ev.BindRequested:
            self._on_bind(connection, event.pdu)  # type: ignore[attr-defined]
        elif kind is ev.QuerySmReceived:
            self._on_query(connection, event.pdu)  # type: ignore[attr-defined]
        elif kind is ev.CancelSmReceived:
            self._on_cancel(connection, event.pdu)  # type: ignore[attr-defined]
        elif kind is ev.ResponseTimedOut or kind is ev.RequestAbandoned:
            self._deliver_again(connection, event.sequence_number)  # type: ignore[attr-defined]
        elif kind is ev.ConnectionMade:
            self._connections.add(connection)
        elif kind is ev.SessionEnded:
            self._forget(connection)

    def _on_bind(self, connection: SmppConnection, pdu: Pdu) -> None:
        system_id = str(pdu["system_id"])
        accounts = self.config.accounts
        status = CommandStatus.ESME_ROK
        if accounts is not None:
            if system_id not in accounts:
                status = CommandStatus.ESME_RINVSYSID
            elif accounts[system_id] != pdu["password"]:
                status = CommandStatus.ESME_RINVPASWD
        if status != CommandStatus.ESME_ROK:
            self.bind_failures += 1
            connection.send_response(pdu, status, {"system_id": self.config.system_id})
            return
        mode = _MODE_OF[CommandId(pdu.command_id)]
        interface_version = int(pdu["interface_version"])
        # The session leaves the TLV out for an ESME that bound as version 3.3.
        connection.send_response(
            pdu,
            CommandStatus.ESME_ROK,
            {"system_id": self.config.system_id},
            [(Tag.SC_INTERFACE_VERSION, b"\x34")],
        )
        connection.context = _Bind(system_id, mode)
        self.binds.append(BindRecord(system_id, mode, interface_version))
        if mode != "tx":
            self._receivers.setdefault(system_id, []).append(connection)
            self._pump(system_id)

    def _forget(self, connection: SmppConnection) -> None:
        self._connections.discard(connection)
        bind = connection.context
        if isinstance(bind, _Bind) and bind.mode != "tx":
            receivers = self._receivers.get(bind.system_id, [])
            if connection in receivers:
                receivers.remove(connection)

    # -- messages from ESMEs ---------------------------------------------------------------

    def _on_submit(self, connection: SmppConnection, pdu: Pdu) -> None:
        if connection.session.ended:
            return  # left over from a burst that arrived with a dropped connection
        bind: _Bind = connection.context  # type: ignore[assignment]
        cfg = self.config
        self.submitted += 1
        bind.submits += 1
        if cfg.drop_every and bind.submits % cfg.drop_every == 0:
            self.dropped += 1
            if self._recording:
                self._record(bind, pdu, None, None)
            connection.close("drop_every")
            return
        status = 0
        if self._faulty:
            roll = self._random.random()
            if roll < cfg.throttle_rate:
                status = CommandStatus.ESME_RTHROTTLED
            elif roll < cfg.throttle_rate + cfg.error_rate:
                status = self._error_status
        response_id = _SUBMIT_SM_RESP if pdu.command_id == CommandId.SUBMIT_SM else _DATA_SM_RESP
        if status:
            self.refused += 1
            if self._recording:
                self._record(bind, pdu, None, status)
            self._respond(
                connection, _HEADER.pack(17, response_id, status, pdu.sequence_number) + b"\0"
            )
            return
        self.accepted += 1
        message_id = self._new_message(bind, pdu)
        if self._recording:
            self._record(bind, pdu, message_id, 0)
        data = message_id.encode() + b"\0"
        self._respond(
            connection, _HEADER.pack(16 + len(data), response_id, 0, pdu.sequence_number) + data
        )

    def _new_message(self, bind: _Bind, pdu: Pdu) -> str:
        """Assign an id, remember the message, and line up its receipt."""
        cfg = self.config
        self._id_counter += 1
        message_id = f"{self._id_prefix}{self._id_counter:08x}"
        params = pdu.params
        text = b""
        if cfg.receipt_text:
            text = bytes(params.get("short_message") or pdu.tlv(Tag.MESSAGE_PAYLOAD) or b"")  # type: ignore[arg-type]
        now = self._loop.time()  # type: ignore[union-attr]
        message = _Message(
            message_id,
            bind.system_id,
            params["source_addr"],  # type: ignore[arg-type]
            params["source_addr_ton"],  # type: ignore[arg-type]
            params["source_addr_npi"],  # type: ignore[arg-type]
            params["destination_addr"],  # type: ignore[arg-type]
            params["dest_addr_ton"],  # type: ignore[arg-type]
            params["dest_addr_npi"],  # type: ignore[arg-type]
            params["registered_delivery"] & 0x03,  # type: ignore[operator]
            text[:_RECEIPT_TEXT_BYTES],
            self._date_now(),
            now if cfg.receipt_before_response else now + cfg.receipt_delay_s,
            bool(cfg.receipt_failure_rate) and self._random.random() < cfg.receipt_failure_rate,
        )
        messages = self._messages
        messages[message_id] = message
        if len(messages) > cfg.max_tracked_messages:
            # Forget the oldest tenth at once: popping a dict's head one by one is quadratic.
            keep = list(messages.items())[-int(cfg.max_tracked_messages * 0.9) :]
            self._messages = dict(keep)
        if message.registered_delivery:
            if cfg.receipt_before_response:
                self._receipts_due([message])
            else:
                self._receipt_line.push(message, now)  # type: ignore[union-attr]
        return message_id

    def _respond(self, connection: SmppConnection, data: bytes) -> None:
        if self.config.response_delay_s:
            self._response_line.push((connection, data), self._loop.time())  # type: ignore[union-attr]
        else:
            connection.send_raw_response(data)

    def _responses_due(self, batch: list[tuple[SmppConnection, bytes]]) -> None:
        for connection, data in batch:
            connection.send_raw_response(data)

    def _on_query(self, connection: SmppConnection, pdu: Pdu) -> None:
        message = self._messages.get(str(pdu["message_id"]))
        if message is None:
            connection.send_response(pdu, CommandStatus.ESME_RQUERYFAIL)
            return
        state = message.state(self._loop.time())  # type: ignore[union-attr]
        final = state != MessageState.ENROUTE
        connection.send_response(
            pdu,
            CommandStatus.ESME_ROK,
            {
                "message_id": message.message_id,
                # SMPP absolute time, UTC: YYMMDDhhmmss, tenths, quarter hours from UTC, sign.
                "final_date": datetime.now(UTC).strftime("%y%m%d%H%M%S") + "000+" if final else "",
                "message_state": int(state),
                "error_code": 1 if state == MessageState.UNDELIVERABLE else 0,
            },
        )

    def _on_cancel(self, connection: SmppConnection, pdu: Pdu) -> None:
        message = self._messages.get(str(pdu["message_id"]))
        if message is None:
            connection.send_response(pdu, CommandStatus.ESME_RINVMSGID)
            return
        if message.state(self._loop.time()) != MessageState.ENROUTE:  # type: ignore[union-attr]
            connection.send_response(pdu, CommandStatus.ESME_RCANCELFAIL)
            return
        # Its receipt, if one is lined up, goes out at the usual time saying DELETED.
        message.cancelled = True
        connection.send_response(pdu, CommandStatus.ESME_ROK)

    def _record(self, bind: _Bind, pdu: Pdu, message_id: str | None, status: int | None) -> None:
        params = pdu.params
        record = SubmitRecord(
            system_id=bind.system_id,
            bind_mode=bind.mode,
            command="submit_sm" if pdu.command_id == CommandId.SUBMIT_SM else "data_sm",
            sequence_number=pdu.sequence_number,
            source_addr=str(params["source_addr"]),
            destination_addr=str(params["destination_addr"]),
            esm_class=int(params["esm_class"]),
            data_coding=int(params["data_coding"]),
            registered_delivery=int(params["registered_delivery"]),
            short_message=bytes(params.get("short_message", b"")),  # type: ignore[arg-type]
            tlvs=pdu.tlvs,
            message_id=message_id,
            command_status=status,
            received_at=time.time(),
            raw=bytes(pdu.raw or b""),
        )
        if self.config.keep_records:
            self.records.append(record)
        if self._record_file is not None:
            self._record_file.write(json.dumps(record.to_json()) + "\n")
            if not self._record_flush_scheduled:
                # One flush per pass of the loop: readers see the lines soon, writes stay batched.
                self._record_flush_scheduled = True
                self._loop.call_soon(self._flush_records)  # type: ignore[union-attr]

    def _flush_records(self) -> None:
        self._record_flush_scheduled = False
        if self._record_file is not None:
            self._record_file.flush()

    # -- messages to ESMEs -----------------------------------------------------------------

    def send_mo(
        self,
        system_id: str,
        source_addr: str,
        destination_addr: str,
        text: str | bytes,
        *,
        data_coding: int | None = None,
        source_addr_ton: int = 1,
        source_addr_npi: int = 1,
        dest_addr_ton: int = 0,
        dest_addr_npi: int = 0,
        tlvs: tuple[Tlv, ...] = (),
    ) -> None:
        """Push a mobile-originated deliver_sm to a receiver of ``system_id`` (queued until one binds).

        A str goes out as IA5 (data_coding 1) when it is ASCII and as UCS-2 (8) otherwise;
        bytes go as given, under ``data_coding`` (default 0). Call it on the simulator's loop.
        """
        if isinstance(text, str):
            ascii_only = text.isascii()
            payload = text.encode("ascii" if ascii_only else "utf-16-be")
            coding = data_coding if data_coding is not None else (1 if ascii_only else 8)
        else:
            payload, coding = text, data_coding or 0
        pdu = Pdu(
            CommandId.DELIVER_SM,
            {
                "source_addr_ton": source_addr_ton,
                "source_addr_npi": source_addr_npi,
                "source_addr": source_addr,
                "dest_addr_ton": dest_addr_ton,
                "dest_addr_npi": dest_addr_npi,
                "destination_addr": destination_addr,
                "data_coding": coding,
                "short_message": payload,
            },
            tlvs,
        )
        self._enqueue(system_id, pdu)
        self._pump(system_id)

    def receipts_waiting(self) -> int:
        """Receipts due but not yet sent: no receiver of their system_id had room."""
        return sum(len(ready) for ready in self._ready.values())

    def _receipts_due(self, batch: list[_Message]) -> None:
        touched = set()
        for message in batch:
            # registered_delivery 2: failures only (a cancelled message ended DELETED).
            if message.registered_delivery == 1 or (
                message.registered_delivery == 2 and (message.failed or message.cancelled)
            ):
                self._enqueue(message.system_id, message)
                touched.add(message.system_id)
        for system_id in touched:
            self._pump(system_id)

    def _enqueue(self, system_id: str, item: _Message | Pdu, *, front: bool = False) -> None:
        ready = self._ready.get(system_id)
        if ready is None:
            ready = self._ready[system_id] = deque()
        if len(ready) >= self.config.max_pending_receipts and not self._receivers.get(system_id):
            ready.popleft()
            self.receipts_discarded += 1
        if front:
            ready.appendleft(item)
        else:
            ready.append(item)

    def _pump(self, system_id: str) -> None:
        """Send what is ready for ``system_id``, round-robin over its receivers with room."""
        ready = self._ready.get(system_id)
        receivers = self._receivers.get(system_id)
        if not ready or not receivers:
            return
        count = len(receivers)
        index = self._next_receiver.get(system_id, 0)
        misses = 0
        while ready and misses < count:
            connection = receivers[index % count]
            index += 1
            if not connection.session.can_send or connection.transport is None:
                misses += 1
                continue
            misses = 0
            item = ready.popleft()
            if type(item) is Pdu:
                pdu = item
                self.mo_sent += 1
            else:
                pdu = self._receipt_pdu(item)  # type: ignore[arg-type]
                self.receipts_sent += 1
            sequence_number = connection.send_request(pdu)
            connection.context.inflight[sequence_number] = item  # type: ignore[attr-defined]
        self._next_receiver[system_id] = index % count

    def _receipt_pdu(self, message: _Message) -> Pdu:
        state = message.state(self._loop.time())  # type: ignore[union-attr]
        return build_receipt_pdu(
            message_id=message.message_id,
            # The receipt comes from the handset and goes to the original sender.
            source_addr=message.destination_addr,
            source_addr_ton=message.dest_addr_ton,
            source_addr_npi=message.dest_addr_npi,
            destination_addr=message.source_addr,
            dest_addr_ton=message.source_addr_ton,
            dest_addr_npi=message.source_addr_npi,
            stat=state,
            submit_date=message.submit_date,
            done_date=self._date_now(),
            err=1 if state == MessageState.UNDELIVERABLE else 0,
            text=message.text,
        )

    def _on_response(self, connection: SmppConnection, pdu: Pdu) -> None:
        bind = connection.context
        if not isinstance(bind, _Bind):
            return
        item = bind.inflight.pop(pdu.sequence_number, None)
        if item is None:
            return
        if pdu.command_status == CommandStatus.ESME_ROK:
            if type(item) is not Pdu:
                self.receipts_acked += 1
        else:
            self.deliveries_refused += 1
        ready = self._ready.get(bind.system_id)
        if ready:
            self._pump(bind.system_id)

    def _deliver_again(self, connection: SmppConnection, sequence_number: int) -> None:
        """A deliver_sm lost with its connection or never answered: line it up again."""
        bind = connection.context
        if not isinstance(bind, _Bind):
            return
        item = bind.inflight.pop(sequence_number, None)
        if item is None:
            return
        if type(item) is Pdu:
            self.mo_sent -= 1
        else:
            self.receipts_sent -= 1
        self._enqueue(bind.system_id, item, front=True)
        self._pump(bind.system_id)

    def _date_now(self) -> str:
        """YYMMDDhhmm of now (UTC), formatted once a minute."""
        now = time.time()
        minute = int(now // 60)
        if minute != self._minute:
            self._minute = minute
            self._minute_date = receipt_date(datetime.fromtimestamp(minute * 60, UTC))
        return self._minute_date

    def pending_receipts(self, system_id: str) -> int:
        """Receipts and MO messages waiting for a receiver of ``system_id``."""
        return len(self._ready.get(system_id, ()))


# -- otpgate smsc-sim ------------------------------------------------------------------------


def _account(value: str) -> tuple[str, str]:
    system_id, sep, password = value.partition(":")
    if not sep or not system_id:
        raise argparse.ArgumentTypeError("expected SYSTEM_ID:PASSWORD")
    return system_id, password


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="otpgate smsc-sim", description="Run the built-in SMPP 3.4 SMSC simulator."
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1")
    add("--port", type=int, default=2776, help="0 picks a free port")
    add("--receipt-delay", type=float, default=0.05, metavar="SECONDS")
    add("--receipt-failure-rate", type=float, default=0.0, metavar="FRACTION")
    add("--error-rate", type=float, default=0.0, metavar="FRACTION")
    add("--error-kind", choices=sorted(ERROR_STATUS_OF_KIND), default="temporary")
    add("--throttle-rate", type=float, default=0.0, metavar="FRACTION")
    add("--response-delay", type=float, default=0.0, metavar="SECONDS")
    add("--drop-every", type=int, default=0, metavar="N", help="close a connection every N submits")
    add("--receipt-before-response", action="store_true")
    add("--record", metavar="FILE", help="append every submit_sm received as JSON Lines")
    add(
        "--account",
        type=_account,
        action="append",
        metavar="SYSTEM_ID:PASSWORD",
        help="accept only these accounts (repeatable); without it any bind is accepted",
    )
    add("--window", type=int, default=1000)
    add("--seed", type=int)
    add(
        "--loop",
        choices=("auto", "asyncio", "uvloop"),
        default="auto",
        help="event loop (auto: uvloop when installed)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """``otpgate smsc-sim``: listen until SIGINT or SIGTERM."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        config = SimulatorConfig(
            host=args.host,
            port=args.port,
            accounts=dict(args.account) if args.account else None,
            receipt_delay_s=args.receipt_delay,
            receipt_failure_rate=args.receipt_failure_rate,
            error_rate=args.error_rate,
            error_kind=args.error_kind,
            throttle_rate=args.throttle_rate,
            response_delay_s=args.response_delay,
            drop_every=args.drop_every,
            receipt_before_response=args.receipt_before_response,
            record_path=args.record,
            window=args.window,
            seed=args.seed,
        )
    except ValueError as error:
        parser.error(str(error))
    runner: Callable[[Any], Any] = asyncio.run
    if args.loop != "asyncio":
        try:
            import uvloop

            runner = uvloop.run
        except ImportError:
            if args.loop == "uvloop":
                parser.error("uvloop is not installed (pip install 'otpgate[speed]')")
    runner(_serve(config))
    return 0


async def _serve(config: SimulatorConfig) -> None:
    simulator = SmscSimulator(config)
    port = await simulator.start()
    accounts = ", ".join(sorted(config.accounts)) if config.accounts else "any system_id"
    print(f"otpgate smsc-sim listening on {config.host}:{port} (accepting {accounts})", flush=True)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopped.set)
    try:
        await stopped.wait()
    finally:
        await simulator.stop()


__all__ = [
    "ERROR_STATUS_OF_KIND",
    "BindRecord",
    "SimulatorConfig",
    "SmscSimulator",
    "SubmitRecord",
    "main",
]
