"""The asyncio adapter over a Session: read, feed, drain events, write once per burst.

One ``asyncio.Protocol`` per connection. Callbacks, not tasks, carry the hot path: a
request's answer reaches the callable registered under its sequence number. Writes are
coalesced: everything queued during one pass of the event loop leaves in one ``write``.

A peer that does not read cannot make the process buffer without end: past a quarter of
``OutputLimits.max_bytes`` the connection stops reading the peer's requests (so it stops
making answers), and a peer still over the limit, or paused longer than ``stall_s``, is
disconnected.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from . import events as ev
from .errors import LocalProtocolError
from .pdu import ParamValue, Pdu, Tlv
from .session import Session

# Called with the response, or None when it timed out or the connection ended first.
ResponseCallback = Callable[[Pdu | None], None]


@dataclass(frozen=True, slots=True)
class OutputLimits:
    """How much a connection may buffer for a peer that reads slowly, and for how long."""

    max_bytes: int = 1024 * 1024
    stall_s: float = 30.0


class ConnectionGate(Protocol):
    """Admits or refuses a new connection by its peer address (see server.Admission)."""

    def admit(self, peer: tuple[str, int] | None) -> bool: ...

    def release(self, peer: tuple[str, int] | None) -> None: ...


class ConnectionHandler(Protocol):
    """What the owner of a connection implements: every session event, in order."""

    def on_event(self, connection: SmppConnection, event: ev.Event) -> None: ...


class SmppConnection(asyncio.Protocol):
    """One SMPP connection: a Session driven by an asyncio transport."""

    def __init__(
        self,
        session: Session,
        handler: ConnectionHandler,
        output: OutputLimits | None = None,
        gate: ConnectionGate | None = None,
    ) -> None:
        self.session = session
        self.handler = handler
        self.output = output or OutputLimits()
        self._gate = gate
        self._admitted = False
        self._refused = False
        self._stall: asyncio.TimerHandle | None = None
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.peer: tuple[str, int] | None = None
        self.closed = asyncio.Event()
        self.write_paused = False
        # Anything the owner wants to keep with the connection (account, route, ...).
        self.context: object = None
        self._waiting: dict[int, ResponseCallback] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._flush_scheduled = False

    # -- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        self.peer = (peer[0], peer[1]) if peer else None
        if self._gate is not None:
            if not self._gate.admit(self.peer):
                # Over a connection limit: no session, no handler event.
                self._refused = True
                transport.abort()  # type: ignore[attr-defined]
                return
            self._admitted = True
        self.transport = transport  # type: ignore[assignment]
        high = self.output.max_bytes // 4
        transport.set_write_buffer_limits(high=high, low=high // 2)  # type: ignore[attr-defined]
        self.handler.on_event(self, ev.ConnectionMade(self.peer))
        self._arm_timer()

    def data_received(self, data: bytes) -> None:
        self.session.receive_data(data, self.loop.time())
        self._drain()
        self.flush()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._refused:
            self.closed.set()
            return
        if self._admitted and self._gate is not None:
            self._gate.release(self.peer)
            self._admitted = False
        self.session.connection_lost()
        self._drain()
        for timer in (self._timer, self._stall):
            if timer is not None:
                timer.cancel()
        self._timer = self._stall = None
        self.transport = None
        self.closed.set()

    def pause_writing(self) -> None:
        """The peer reads slower than we write: stop reading its requests until it catches up."""
        self.write_paused = True
        if self.transport is not None:
            self.transport.pause_reading()
            self._stall = self.loop.call_later(self.output.stall_s, self._stalled)

    def resume_writing(self) -> None:
        self.write_paused = False
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def _stalled(self) -> None:
        self._stall = None
        self._drop_slow_reader(f"no reading for {self.output.stall_s:g} s")

    def _drop_slow_reader(self, why: str) -> None:
        if self.transport is None:
            return
        self.session.close(f"slow reader: {why}")
        self._drain()
        self.transport.abort()

    # -- owner's interface -----------------------------------------------------------------

    def send_request(self, pdu: Pdu, callback: ResponseCallback | None = None) -> int:
        """Send a request; ``callback`` gets its answer. Raises LocalProtocolError when it cannot."""
        if self.transport is None:
            raise LocalProtocolError("connection is closed")
        sequence_number = self.session.send_request(pdu, self.loop.time())
        if callback is not None:
            self._waiting[sequence_number] = callback
        if not self._flush_scheduled:  # _schedule_flush, inline: twice per message
            self._flush_scheduled = True
            self.loop.call_soon(self.flush)
        return sequence_number

    async def request(self, pdu: Pdu) -> Pdu | None:
        """Send a request and wait for its answer (None on timeout or disconnection)."""
        future: asyncio.Future[Pdu | None] = self.loop.create_future()

        def resolve(response: Pdu | None) -> None:
            if not future.done():
                future.set_result(response)

        self.send_request(pdu, resolve)
        return await future

    def send_response(
        self,
        request: Pdu,
        command_status: int = 0,
        params: dict[str, ParamValue] | None = None,
        tlvs: tuple[Tlv, ...] | list[Tlv] = (),
    ) -> None:
        if self.transport is None:
            return  # the peer left; its answer has nowhere to go
        self.session.send_response(request, command_status, params, tlvs)
        self._schedule_flush()

    def send_message_id_response(
        self,
        request: Pdu,
        command_status: int,
        message_id: str | None,
        tlvs: tuple[Tlv, ...] | list[Tlv] = (),
    ) -> None:
        """Answer a submit_sm, deliver_sm or data_sm (see Session.send_message_id_response)."""
        if self.transport is None:
            return  # the peer left; its answer has nowhere to go
        self.session.send_message_id_response(request, command_status, message_id, tlvs)
        if not self._flush_scheduled:  # _schedule_flush, inline: twice per message
            self._flush_scheduled = True
            self.loop.call_soon(self.flush)

    def send_raw_response(self, data: bytes) -> None:
        if self.transport is None:
            return
        self.session.send_raw_response(data)
        self._schedule_flush()

    def flush(self) -> None:
        """Write whatever the session queued, close if it ended, and re-arm the timer."""
        self._flush_scheduled = False
        transport = self.transport
        if transport is None:
            return
        data = self.session.data_to_send()
        if data:
            transport.write(data)
            if transport.get_write_buffer_size() > self.output.max_bytes:
                self._drop_slow_reader(f"over {self.output.max_bytes} bytes buffered")
                return
        if self.session.ended:
            transport.close()
            return
        self._arm_timer()

    def close(self, reason: str = "closed") -> None:
        """End the session and close the connection after what is queued is written."""
        self.session.close(reason)
        self._drain()
        self.flush()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    @property
    def is_open(self) -> bool:
        return self.transport is not None and not self.session.ended

    # -- inside ----------------------------------------------------------------------------

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self.flush)

    def _drain(self) -> None:
        events = self.session.pending_events
        handler = self.handler
        waiting = self._waiting
        while events:
            event = events.popleft()
            kind = type(event)
            if kind is ev.ResponseReceived:
                callback = waiting.pop(event.pdu.sequence_number, None)  # type: ignore[attr-defined]
                if callback is not None:
                    callback(event.pdu)  # type: ignore[attr-defined]
                    continue
            elif kind is ev.ResponseTimedOut or kind is ev.RequestAbandoned:
                callback = waiting.pop(event.sequence_number, None)  # type: ignore[attr-defined]
                if callback is not None:
                    callback(None)
            handler.on_event(self, event)

    def _arm_timer(self) -> None:
        deadline = self.session.get_timer()
        if deadline is None:
            return
        if self._timer is not None:
            if self._timer_at is not None and self._timer_at <= deadline:
                return  # an earlier wake-up is already set; it will re-arm
            self._timer.cancel()
        self._timer_at = deadline
        self._timer = self.loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        self.session.handle_timer(self.loop.time())
        self._drain()
        self.flush()
