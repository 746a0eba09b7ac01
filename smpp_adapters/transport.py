"""The asyncio adapter over a Session: read, feed, drain events, write once per burst.

One ``asyncio.Protocol`` per connection. Callbacks, not tasks, carry the hot path: a
request's answer reaches the callable registered under its sequence number. Writes are
coalesced: everything queued during one pass of the event loop leaves in one ``write``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from . import events as ev
from .errors import LocalProtocolError
from .pdu import ParamValue, Pdu, Tlv
from .session import Session

# Called with the response, or None when it timed out or the connection ended first.
ResponseCallback = Callable[[Pdu | None], None]


class ConnectionHandler(Protocol):
    """What the owner of a connection implements: every session event, in order."""

    def on_event(self, connection: SmppConnection, event: ev.Event) -> None: ...


class SmppConnection(asyncio.Protocol):
    """One SMPP connection: a Session driven by an asyncio transport."""

    def __init__(self, session: Session, handler: ConnectionHandler) -> None:
        self.session = session
        self.handler = handler
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
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.peer = (peer[0], peer[1]) if peer else None
        self.handler.on_event(self, ev.ConnectionMade(self.peer))
        self._arm_timer()

    def data_received(self, data: bytes) -> None:
        self.session.receive_data(data, self.loop.time())
        self._drain()
        self.flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self.session.connection_lost()
        self._drain()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.transport = None
        self.closed.set()

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False

    # -- owner's interface -----------------------------------------------------------------

    def send_request(self, pdu: Pdu, callback: ResponseCallback | None = None) -> int:
        """Send a request; ``callback`` gets its answer. Raises LocalProtocolError when it cannot."""
        if self.transport is None:
            raise LocalProtocolError("connection is closed")
        sequence_number = self.session.send_request(pdu, self.loop.time())
        if callback is not None:
            self._waiting[sequence_number] = callback
        self._schedule_flush()
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
        session = self.session
        handler = self.handler
        waiting = self._waiting
        while (event := session.next_event()) is not None:
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
