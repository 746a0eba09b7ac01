"""Upstream SMSC binds: one pool per (route, credentials), with failover, reconnect and a bounded queue.

A pool keeps its binds up (``trx``, or a ``tx``+``rx`` pair for SMSCs without
transceivers), walking the route's host list on failure with exponential backoff and
jitter. ``submit`` puts a PDU on a bind with room in its window, or in a short queue
behind the windows; when no bind is up or the queue is full it refuses at once, so the
ESME hears ESME_RTHROTTLED instead of waiting for something that cannot be carried.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from smpp_adapters import events as ev
from smpp_adapters.client import BindFailed, open_bind
from smpp_adapters.constants import RESPONSE_BIT, CommandStatus
from smpp_adapters.errors import LocalProtocolError
from smpp_adapters.pdu import Pdu
from smpp_adapters.session import SessionConfig
from smpp_adapters.transport import ResponseCallback, SmppConnection

from ..config import RouteConfig

log = structlog.get_logger("otpgate.upstream")

# (pool, connection, deliver_sm or data_sm): receipts and mobile-originated messages.
DeliverHandler = Callable[["UpstreamPool", SmppConnection, Pdu], None]


@dataclass(frozen=True, slots=True)
class Credentials:
    system_id: str
    password: str
    system_type: str = ""


def throttled_response(request: Pdu) -> Pdu:
    """The answer for a request that was never sent upstream."""
    return Pdu(
        request.command_id | RESPONSE_BIT,
        {},
        command_status=CommandStatus.ESME_RTHROTTLED,
        sequence_number=request.sequence_number,
        raw=b"",
    )


class UpstreamPool:
    """The binds of one route under one set of credentials."""

    def __init__(
        self,
        route: RouteConfig,
        credentials: Credentials,
        hosts: tuple[tuple[str, int], ...],
        on_deliver: DeliverHandler,
    ) -> None:
        self.route = route
        self.name = route.name
        self.credentials = credentials
        self.hosts = hosts
        self.on_deliver = on_deliver
        self.session_config = SessionConfig(
            window=route.window,
            incoming_window=10_000,
            response_timeout_s=route.response_timeout_s,
            enquire_link_interval_s=route.enquire_link_interval_s,
            inactivity_timeout_s=max(
                route.enquire_link_interval_s * 3, route.response_timeout_s * 2
            ),
        )
        self._transmitters: list[SmppConnection] = []
        self._receivers: list[SmppConnection] = []
        self._queue: deque[tuple[Pdu, ResponseCallback, float]] = deque()
        self._next = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._expiry: asyncio.TimerHandle | None = None
        self.bound_changed = asyncio.Event()

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return bool(self._tasks)

    def start(self) -> None:
        modes = (
            ["trx"] * self.route.binds
            if self.route.bind_mode == "trx"
            else ["tx", "rx"] * self.route.binds
        )
        self._tasks = [
            asyncio.create_task(
                self._keep_bound(mode, slot), name=f"upstream:{self.name}:{mode}{slot}"
            )
            for slot, mode in enumerate(modes)
        ]

    async def stop(self, drain_s: float = 5.0) -> None:
        """Unbind every connection once its outstanding requests are answered (or drain_s passes)."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + drain_s
        while self.in_flight and loop.time() < deadline:
            await asyncio.sleep(0.02)
        for connection in self._transmitters + self._receivers:
            connection.session.unbind(loop.time())
            connection.flush()
        for connection in self._transmitters + self._receivers:
            try:
                await asyncio.wait_for(connection.closed.wait(), 2.0)
            except TimeoutError:
                connection.abort()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._fail_queue()

    @property
    def in_flight(self) -> bool:
        """Whether a request sent on one of the binds still waits for its answer."""
        return any(c.session.outstanding for c in self._transmitters)

    @property
    def outstanding(self) -> int:
        """Requests sent on the binds that still wait for their answers."""
        return sum(c.session.outstanding for c in self._transmitters)

    @property
    def can_transmit(self) -> bool:
        return bool(self._transmitters)

    @property
    def bound_count(self) -> int:
        return len(self._transmitters) + sum(
            1 for c in self._receivers if c not in self._transmitters
        )

    async def _keep_bound(self, mode: str, slot: int) -> None:
        delay = self.route.reconnect_min_s
        host_index = slot % len(self.hosts)
        while not self._stopping:
            host, port = self.hosts[host_index]
            try:
                connection = await open_bind(
                    host,
                    port,
                    self,
                    mode=mode,
                    system_id=self.credentials.system_id,
                    password=self.credentials.password,
                    system_type=self.credentials.system_type,
                    config=self.session_config,
                )
            except BindFailed as error:
                log.warning(
                    "upstream_bind_failed",
                    route=self.name,
                    host=f"{host}:{port}",
                    mode=mode,
                    error=str(error),
                )
                host_index = (host_index + 1) % len(self.hosts)  # fail over to the next host
                await asyncio.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, self.route.reconnect_max_s)
                continue
            delay = self.route.reconnect_min_s
            log.info(
                "upstream_bound",
                route=self.name,
                host=f"{host}:{port}",
                mode=mode,
                system_id=self.credentials.system_id,
            )
            self._add(connection, mode)
            try:
                await connection.closed.wait()
            finally:
                self._remove(connection)
            if not self._stopping:
                log.warning(
                    "upstream_connection_lost", route=self.name, host=f"{host}:{port}", mode=mode
                )
                await asyncio.sleep(self.route.reconnect_min_s * random.uniform(0.5, 1.5))

    def _add(self, connection: SmppConnection, mode: str) -> None:
        if mode in ("trx", "tx"):
            self._transmitters.append(connection)
        if mode in ("trx", "rx"):
            self._receivers.append(connection)
        self.bound_changed.set()
        self._pump()

    def _remove(self, connection: SmppConnection) -> None:
        if connection in self._transmitters:
            self._transmitters.remove(connection)
        if connection in self._receivers:
            self._receivers.remove(connection)
        self.bound_changed.set()
        if not self._transmitters:
            self._fail_queue()

    # -- submitting ------------------------------------------------------------------------

    def submit(self, pdu: Pdu, callback: ResponseCallback) -> bool:
        """Send (or queue) a request; False when it cannot be carried now."""
        transmitters = self._transmitters
        if not transmitters:
            return False
        if not self._queue:
            count = len(transmitters)
            for _ in range(count):
                self._next = (self._next + 1) % count
                connection = transmitters[self._next]
                if connection.session.can_send:
                    connection.send_request(pdu, self._on_answer(callback))
                    return True
        if len(self._queue) >= self.route.queue:
            return False
        loop = asyncio.get_running_loop()
        self._queue.append((pdu, callback, loop.time()))
        if self._expiry is None:
            self._expiry = loop.call_later(1.0, self._expire_queue)
        return True

    def _on_answer(self, callback: ResponseCallback) -> ResponseCallback:
        def answered(response: Pdu | None) -> None:
            callback(response)
            if self._queue:
                self._pump()

        return answered

    def _pump(self) -> None:
        queue = self._queue
        for connection in self._transmitters:
            while queue and connection.session.can_send:
                pdu, callback, _ = queue.popleft()
                try:
                    connection.send_request(pdu, self._on_answer(callback))
                except LocalProtocolError:
                    queue.appendleft((pdu, callback, 0.0))
                    break

    def _expire_queue(self) -> None:
        self._expiry = None
        loop = asyncio.get_running_loop()
        cutoff = loop.time() - self.route.response_timeout_s
        queue = self._queue
        while queue and queue[0][2] < cutoff:
            pdu, callback, _ = queue.popleft()
            callback(throttled_response(pdu))
        if queue:
            self._expiry = loop.call_later(1.0, self._expire_queue)

    def _fail_queue(self) -> None:
        while self._queue:
            pdu, callback, _ = self._queue.popleft()
            callback(throttled_response(pdu))

    def send_query(self, pdu: Pdu, callback: ResponseCallback) -> bool:
        """query_sm / cancel_sm: any transmitter with room; never queued."""
        for connection in self._transmitters:
            if connection.session.can_send:
                connection.send_request(pdu, callback)
                return True
        return False

    # -- what the SMSC sends us ------------------------------------------------------------

    def on_event(self, connection: SmppConnection, event: ev.Event) -> None:
        kind = type(event)
        if kind is ev.DeliverSmReceived or kind is ev.DataSmReceived:
            self.on_deliver(self, connection, event.pdu)  # type: ignore[attr-defined]
        elif kind is ev.PduRejected:
            log.warning("upstream_pdu_rejected", route=self.name, error=str(event.error))  # type: ignore[attr-defined]
        elif kind is ev.SessionEnded:
            log.info("upstream_session_ended", route=self.name, reason=event.reason)  # type: ignore[attr-defined]
