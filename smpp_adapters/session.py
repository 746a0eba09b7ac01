"""The SMPP session state machine, sans I/O: bytes and a time in, events and bytes out.

It frames and decodes PDUs, answers what needs no decision (enquire_link, unbind, malformed
or misplaced PDUs, requests beyond the incoming window), numbers and tracks our requests,
and keeps three timers: response timeout, enquire_link interval and inactivity. It never
reads a clock or a socket: the owner passes ``now`` in and arms one timer at ``get_timer()``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from . import events as ev
from .constants import (
    BIND_COMMANDS,
    DEFAULT_MAX_PDU_BYTES,
    HEADER_BYTES,
    INTERFACE_VERSION_34,
    RESPONSE_BIT,
    CommandId,
    CommandStatus,
)
from .errors import LocalProtocolError, PduError
from .pdu import (
    ParamValue,
    Pdu,
    Tlv,
    decode,
    encode,
    encode_message_id_response,
    encode_with_sequence,
    read_header,
)
from .session_rules import (
    BIND_STATE_OF,
    BOUND,
    MAY_SEND_IN,
    PEER_OF,
    BindState,
    Role,
)

_REQUEST_EVENTS: dict[int, type[ev.RequestReceived]] = {
    CommandId.BIND_TRANSMITTER: ev.BindRequested,
    CommandId.BIND_RECEIVER: ev.BindRequested,
    CommandId.BIND_TRANSCEIVER: ev.BindRequested,
    CommandId.SUBMIT_SM: ev.SubmitSmReceived,
    CommandId.DELIVER_SM: ev.DeliverSmReceived,
    CommandId.DATA_SM: ev.DataSmReceived,
    CommandId.QUERY_SM: ev.QuerySmReceived,
    CommandId.CANCEL_SM: ev.CancelSmReceived,
}
# Requests the owner answers itself, under the incoming window (binds are answered too,
# but outside it).
_OWNER_ANSWERS = frozenset(int(c) for c in _REQUEST_EVENTS if c not in BIND_COMMANDS)
_MAX_SEQUENCE = 0x7FFFFFFF
_MESSAGE_ID_RESPONSES = frozenset(
    {CommandId.SUBMIT_SM_RESP, CommandId.DELIVER_SM_RESP, CommandId.DATA_SM_RESP}
)
_MESSAGE_ID_ONLY = frozenset({"message_id"})


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """Limits and timers of one session; every duration in seconds, None disables it."""

    window: int = 10
    # How many of the peer's requests may wait for our answer before we throttle.
    incoming_window: int = 100
    response_timeout_s: float = 10.0
    enquire_link_interval_s: float | None = 30.0
    inactivity_timeout_s: float | None = 120.0
    # A connection must be bound this long after it opened; enquire_link does not extend it.
    bind_timeout_s: float | None = None
    max_pdu_bytes: int = DEFAULT_MAX_PDU_BYTES


class Session:
    """One side of one SMPP connection."""

    def __init__(self, role: Role, config: SessionConfig | None = None, *, now: float = 0.0):
        self.role = role
        self.config = config or SessionConfig()
        self.window = self.config.window
        self.incoming_window = self.config.incoming_window
        self._peer_role = PEER_OF[role]
        self.state = BindState.OPEN
        self.system_id = ""  # the peer's system_id once bound (SMSC role) or ours (ESME role)
        self.peer_interface_version = INTERFACE_VERSION_34
        self._buffer = bytearray()
        self._events: deque[ev.Event] = deque()
        self._out: list[bytes] = []
        self._next_sequence = 1
        # sequence_number -> (command_id, deadline); insertion order is deadline order.
        self._outstanding: dict[int, tuple[int, float]] = {}
        self._incoming_unanswered = 0
        self._last_received = now
        self._last_sent = now
        self._opened_at = now
        self._ended = False

    @property
    def state(self) -> BindState:
        return self._state

    @state.setter
    def state(self, state: BindState) -> None:
        self._state = state
        self._peer_may_send = MAY_SEND_IN[(self._peer_role, state)]
        self._we_may_send = MAY_SEND_IN[(self.role, state)]
        self._bound = state in BOUND

    # -- reading ---------------------------------------------------------------------------

    def receive_data(self, data: bytes, now: float) -> None:
        """Feed bytes from the connection; events become available through ``next_event``."""
        if self._ended or not data:
            return
        self._last_received = now
        if self._buffer:
            self._buffer += data
            data = bytes(self._buffer)
            self._buffer.clear()
        pos, end = 0, len(data)
        max_pdu = self.config.max_pdu_bytes
        while end - pos >= HEADER_BYTES and not self._ended:
            length = int.from_bytes(data[pos : pos + 4], "big")
            if length < HEADER_BYTES or length > max_pdu:
                _, command_id, _, sequence_number = read_header(data, pos)
                self._fail_framing(
                    PduError(
                        f"command_length {length} outside {HEADER_BYTES}..{max_pdu}",
                        CommandStatus.ESME_RINVCMDLEN,
                        fatal=True,
                        command_id=command_id,
                        sequence_number=sequence_number,
                    )
                )
                return
            if end - pos < length:
                break
            self._handle_pdu(data[pos : pos + length] if pos or length != end else data, now)
            pos += length
        if pos < end and not self._ended:
            self._buffer += data[pos:]

    @property
    def pending_events(self) -> deque[ev.Event]:
        """The events not yet taken, oldest first: the adapter pops them from the left
        (one deque operation per event instead of a call to ``next_event``)."""
        return self._events

    def next_event(self) -> ev.Event | None:
        """The next event, or None when there is none for now."""
        return self._events.popleft() if self._events else None

    def events(self) -> list[ev.Event]:
        """Every pending event, oldest first."""
        drained = list(self._events)
        self._events.clear()
        return drained

    def _handle_pdu(self, data: bytes, now: float) -> None:
        try:
            pdu = decode(data)
        except PduError as error:
            self._reject(error)
            return
        command_id = pdu.command_id
        if command_id & RESPONSE_BIT:
            self._handle_response(pdu)
            return
        if command_id not in self._peer_may_send:
            status = (
                CommandStatus.ESME_RALYBND
                if command_id in BIND_COMMANDS and self.state in BOUND
                else CommandStatus.ESME_RINVBNDSTS
            )
            self._reject(
                PduError(
                    f"{CommandId(command_id).name.lower()} not allowed in state {self.state.value}",
                    status,
                    command_id=command_id,
                    sequence_number=pdu.sequence_number,
                )
            )
            return
        if command_id in _OWNER_ANSWERS:  # first: submit_sm and deliver_sm come this way
            if self._incoming_unanswered >= self.incoming_window:
                self._reject(
                    PduError(
                        "incoming window full",
                        CommandStatus.ESME_RTHROTTLED,
                        command_id=command_id,
                        sequence_number=pdu.sequence_number,
                    )
                )
                return
            self._incoming_unanswered += 1
            self._events.append(_REQUEST_EVENTS[command_id](pdu))
            return
        if command_id == CommandId.ENQUIRE_LINK:
            self._queue(Pdu(CommandId.ENQUIRE_LINK_RESP, {}, sequence_number=pdu.sequence_number))
            return
        if command_id == CommandId.UNBIND:
            self._queue(Pdu(CommandId.UNBIND_RESP, {}, sequence_number=pdu.sequence_number))
            self.state = BindState.CLOSED
            self._events.append(ev.UnbindReceived())
            self._end("unbind received")
            return
        if command_id == CommandId.ALERT_NOTIFICATION:
            self._events.append(ev.AlertNotificationReceived(pdu))
            return
        # What is left is a bind (the rules let nothing else through).
        self.peer_interface_version = int(pdu.params["interface_version"])
        self._incoming_unanswered += 1
        self._events.append(_REQUEST_EVENTS[command_id](pdu))

    def _handle_response(self, pdu: Pdu) -> None:
        entry = self._outstanding.pop(pdu.sequence_number, None)
        if entry is None:
            return  # late (already timed out) or unsolicited: nothing waits for it
        request_command_id = entry[0]
        if request_command_id == CommandId.ENQUIRE_LINK:
            return
        if pdu.command_status == CommandStatus.ESME_ROK and request_command_id in BIND_COMMANDS:
            self.state = BIND_STATE_OF[request_command_id]
            self._events.append(ev.Bound(self.system_id, self.state.value))
        elif request_command_id == CommandId.UNBIND:
            self.state = BindState.CLOSED
            self._end("unbind answered")
        self._events.append(ev.ResponseReceived(pdu, request_command_id))

    def _reject(self, error: PduError) -> None:
        """Answer a PDU we cannot take with its response (or generic_nack) carrying the status."""
        command_id = error.command_id
        if command_id & RESPONSE_BIT:
            # A malformed answer to one of our requests: fail that request, answer nothing.
            entry = self._outstanding.pop(error.sequence_number, None)
            if entry is not None:
                failed = Pdu(
                    command_id,
                    {},
                    command_status=error.command_status,
                    sequence_number=error.sequence_number,
                    raw=b"",
                )
                self._events.append(ev.ResponseReceived(failed, entry[0]))
            self._events.append(ev.PduRejected(error))
            return
        if (
            command_id | RESPONSE_BIT in _RESPONSE_LAYOUT_IDS
            and error.command_status != CommandStatus.ESME_RINVCMDID
        ):
            answer = Pdu(
                command_id | RESPONSE_BIT,
                {},
                command_status=error.command_status,
                sequence_number=error.sequence_number,
                raw=b"",
            )
        else:
            answer = Pdu(
                CommandId.GENERIC_NACK,
                {},
                command_status=error.command_status,
                sequence_number=error.sequence_number,
            )
        self._queue(answer)
        self._events.append(ev.PduRejected(error))

    def _fail_framing(self, error: PduError) -> None:
        self._queue(
            Pdu(
                CommandId.GENERIC_NACK,
                {},
                command_status=error.command_status,
                sequence_number=error.sequence_number,
            )
        )
        self._events.append(ev.PduRejected(error))
        self._end(str(error))

    # -- writing ---------------------------------------------------------------------------

    @property
    def can_send(self) -> bool:
        """Whether a request fits in the window now."""
        return len(self._outstanding) < self.window and not self._ended

    @property
    def outstanding(self) -> int:
        return len(self._outstanding)

    @property
    def bound(self) -> bool:
        return self._bound

    def send_request(self, pdu: Pdu, now: float, *, force: bool = False) -> int:
        """Queue a request under a fresh sequence number and return that number.

        Raises LocalProtocolError when the bind state forbids it or the window is full
        (``force`` lets enquire_link and unbind through a full window).
        """
        command_id = pdu.command_id
        if command_id not in self._we_may_send:
            raise LocalProtocolError(
                f"{self.role.value} may not send 0x{command_id:08x} in state {self.state.value}"
            )
        if self._ended:
            raise LocalProtocolError("session has ended")
        if len(self._outstanding) >= self.window and not force:
            raise LocalProtocolError("window full")
        sequence_number = self._next_sequence
        self._next_sequence = 1 if sequence_number >= _MAX_SEQUENCE else sequence_number + 1
        self._outstanding[sequence_number] = (command_id, now + self.config.response_timeout_s)
        if command_id in BIND_COMMANDS:
            self.system_id = str(pdu.params.get("system_id", ""))
        if self.peer_interface_version < INTERFACE_VERSION_34 and pdu.tlvs:
            pdu = pdu.without_tlvs()
        self._out.append(encode_with_sequence(pdu, sequence_number))
        self._last_sent = now
        return sequence_number

    def send_response(
        self,
        request: Pdu,
        command_status: int = CommandStatus.ESME_ROK,
        params: dict[str, ParamValue] | None = None,
        tlvs: Iterable[Tlv] = (),
    ) -> None:
        """Answer one of the peer's requests."""
        response_id = request.command_id | RESPONSE_BIT
        if response_id in _MESSAGE_ID_RESPONSES and (
            params is None or params.keys() <= _MESSAGE_ID_ONLY
        ):
            message_id = (
                params.get("message_id", "") if params else ("" if command_status == 0 else None)
            )
            self.send_message_id_response(
                request, command_status, None if message_id is None else str(message_id), tlvs
            )
            return
        pdu = Pdu(
            response_id,
            params,
            tlvs,
            command_status=command_status,
            sequence_number=request.sequence_number,
        )
        if request.command_id in BIND_COMMANDS and command_status == CommandStatus.ESME_ROK:
            if self.state is not BindState.OPEN:
                raise LocalProtocolError("session already bound")
            self.state = BIND_STATE_OF[request.command_id]
            self.system_id = str(request.params.get("system_id", ""))
            self._events.append(ev.Bound(self.system_id, self.state.value))
        if self._incoming_unanswered:
            self._incoming_unanswered -= 1
        self._queue(pdu)

    def send_message_id_response(
        self,
        request: Pdu,
        command_status: int,
        message_id: str | None,
        tlvs: Iterable[Tlv] = (),
    ) -> None:
        """Answer a submit_sm, deliver_sm or data_sm: encoded straight from the values, no
        response Pdu built (every message and every receipt is answered this way).
        ``message_id`` None leaves the body out, as SMPP 3.4 allows for a failed response."""
        if self._incoming_unanswered:
            self._incoming_unanswered -= 1
        if self._ended:
            return
        if self.peer_interface_version < INTERFACE_VERSION_34:
            tlvs = ()
        self._out.append(
            encode_message_id_response(
                request.command_id | RESPONSE_BIT,
                command_status,
                request.sequence_number,
                message_id,
                tlvs,
            )
        )

    def send_raw_response(self, data: bytes) -> None:
        """Queue an already-encoded response (hot path); the caller owns its correctness."""
        if self._incoming_unanswered:
            self._incoming_unanswered -= 1
        if not self._ended:
            self._out.append(data)

    def _queue(self, pdu: Pdu) -> None:
        if self._ended:
            return
        if self.peer_interface_version < INTERFACE_VERSION_34 and pdu.tlvs:
            pdu = pdu.without_tlvs()
        self._out.append(encode(pdu))

    def data_to_send(self) -> bytes:
        """Every byte queued for the connection since the last call."""
        if not self._out:
            return b""
        data = b"".join(self._out) if len(self._out) > 1 else self._out[0]
        self._out.clear()
        return data

    def unbind(self, now: float) -> None:
        """Start an orderly unbind; the session ends when the peer answers or times out."""
        if self.state in BOUND and not self._ended:
            self.send_request(Pdu(CommandId.UNBIND, {}), now, force=True)

    # -- time and the end ------------------------------------------------------------------

    def get_timer(self) -> float | None:
        """When ``handle_timer`` must next be called, or None."""
        if self._ended:
            return None
        deadlines = []
        if self._outstanding:
            deadlines.append(next(iter(self._outstanding.values()))[1])
        interval = self.config.enquire_link_interval_s
        if interval is not None and self._bound:
            deadlines.append(self._last_sent + interval)
        inactivity = self.config.inactivity_timeout_s
        if inactivity is not None:
            deadlines.append(self._last_received + inactivity)
        bind_timeout = self.config.bind_timeout_s
        if bind_timeout is not None and self.state is BindState.OPEN:
            deadlines.append(self._opened_at + bind_timeout)
        return min(deadlines) if deadlines else None

    def handle_timer(self, now: float) -> None:
        if self._ended:
            return
        while self._outstanding:
            sequence_number, (command_id, deadline) = next(iter(self._outstanding.items()))
            if deadline > now:
                break
            del self._outstanding[sequence_number]
            if command_id == CommandId.UNBIND:
                self._end("unbind not answered")
                return
            if command_id != CommandId.ENQUIRE_LINK:
                self._events.append(ev.ResponseTimedOut(sequence_number, command_id))
        inactivity = self.config.inactivity_timeout_s
        if inactivity is not None and now - self._last_received >= inactivity:
            self._end("inactivity timeout")
            return
        bind_timeout = self.config.bind_timeout_s
        if (
            bind_timeout is not None
            and self.state is BindState.OPEN
            and now - self._opened_at >= bind_timeout
        ):
            self._end("bind timeout")
            return
        interval = self.config.enquire_link_interval_s
        if interval is not None and self._bound and now - self._last_sent >= interval:
            self.send_request(Pdu(CommandId.ENQUIRE_LINK, {}), now, force=True)

    def connection_lost(self) -> None:
        """The transport closed: every request still waiting is abandoned."""
        for sequence_number, (command_id, _) in self._outstanding.items():
            if command_id != CommandId.ENQUIRE_LINK:
                self._events.append(ev.RequestAbandoned(sequence_number, command_id))
        self._outstanding.clear()
        self.state = BindState.CLOSED
        if not self._ended:
            self._ended = True
            self._events.append(ev.SessionEnded("connection lost"))

    def close(self, reason: str = "closed") -> None:
        """End the session from this side (after a failed bind, a shutdown, ...)."""
        self._end(reason)

    @property
    def ended(self) -> bool:
        return self._ended

    def _end(self, reason: str) -> None:
        if not self._ended:
            self._ended = True
            self.state = BindState.CLOSED
            self._events.append(ev.SessionEnded(reason))


_RESPONSE_LAYOUT_IDS = frozenset(
    c for c in CommandId if c & RESPONSE_BIT and c != CommandId.GENERIC_NACK
)
