"""Test ESMEs: smpplib's blocking Client (a stack nobody here wrote) driven from a thread."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import smpplib.client
import smpplib.consts
import smpplib.exceptions


@dataclass
class SmpplibEsme:
    """A transceiver (or transmitter) bound with smpplib, collecting responses and receipts."""

    host: str
    port: int
    system_id: str
    password: str
    mode: str = "trx"
    responses: list[Any] = field(default_factory=list)
    receipts: list[Any] = field(default_factory=list)
    delivered: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.client = smpplib.client.Client(
            self.host, self.port, timeout=10, allow_unknown_opt_params=True
        )
        self.client.set_message_sent_handler(lambda pdu: self.responses.append(pdu))
        self.client.set_message_received_handler(lambda pdu: self._on_deliver(pdu))
        self._lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self._stop = threading.Event()

    def _on_deliver(self, pdu: Any) -> None:
        (self.receipts if pdu.esm_class & 0x04 else self.delivered).append(pdu)

    def bind(self) -> None:
        self.client.connect()
        getattr(
            self.client,
            {"trx": "bind_transceiver", "tx": "bind_transmitter", "rx": "bind_receiver"}[self.mode],
        )(system_id=self.system_id, password=self.password)

    def start_reading(self) -> None:
        """Read PDUs (responses, receipts) on a thread until close()."""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                self.client.read_once()
            except smpplib.exceptions.PDUError as error:
                self.responses.append(error)
            except Exception:  # the connection closed under the reader: nothing more to read
                return

    def submit(self, destination: str, text: bytes, **params: Any) -> None:
        params.setdefault("source_addr", "TestBank")
        params.setdefault("source_addr_ton", smpplib.consts.SMPP_TON_ALNUM)
        params.setdefault("dest_addr_ton", smpplib.consts.SMPP_TON_INTL)
        params.setdefault("registered_delivery", 1)
        with self._lock:
            self.client.send_message(destination_addr=destination, short_message=text, **params)

    def wait(self, predicate: Any, timeout_s: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.01)
        return predicate()

    def close(self) -> None:
        self._stop.set()
        try:
            self.client.unbind()
        except Exception:  # the peer may already be gone; closing is all that is left
            pass
        try:
            self.client.disconnect()
        except Exception:
            pass
        if self._reader is not None:
            self._reader.join(2)


class AsyncEsme:
    """Our own ESME on the project's asyncio transport: precise control for protocol tests."""

    def __init__(self) -> None:
        import asyncio

        self.receipts: list[Any] = []
        self.delivered: list[Any] = []
        self.rejected: list[Any] = []
        self.ended: list[str] = []
        self.arrived = asyncio.Event()
        self.connection: Any = None
        self.answer_delivers = True

    @classmethod
    async def bind(
        cls,
        port: int,
        system_id: str,
        password: str,
        *,
        mode: str = "trx",
        interface_version: int = 0x34,
        window: int = 100,
        source: str | None = None,
    ) -> AsyncEsme:
        from smpp_adapters.client import open_bind
        from smpp_adapters.session import SessionConfig

        esme = cls()
        esme.connection = await open_bind(
            "127.0.0.1",
            port,
            esme,
            mode=mode,
            system_id=system_id,
            password=password,
            interface_version=interface_version,
            local_addr=(source, 0) if source else None,
            config=SessionConfig(
                window=window,
                response_timeout_s=15,
                enquire_link_interval_s=None,
                inactivity_timeout_s=None,
            ),
        )
        return esme

    def on_event(self, connection: Any, event: Any) -> None:
        from smpp_adapters import events as ev

        if isinstance(event, ev.DeliverSmReceived):
            pdu = event.pdu
            (self.receipts if pdu.params["esm_class"] & 0x04 else self.delivered).append(pdu)
            if self.answer_delivers:
                connection.send_response(pdu)
            self.arrived.set()
        elif isinstance(event, ev.PduRejected):
            self.rejected.append(event.error)
        elif isinstance(event, ev.SessionEnded):
            self.ended.append(event.reason)
            self.arrived.set()

    async def submit(
        self, destination: str = "447400123123", text: bytes = b"hello", **params: Any
    ) -> Any:
        from smpp_adapters.constants import CommandId
        from smpp_adapters.pdu import Pdu

        fields = {
            "source_addr": "TestBank",
            "source_addr_ton": 5,
            "dest_addr_ton": 1,
            "dest_addr_npi": 1,
            "destination_addr": destination,
            "short_message": text,
            "registered_delivery": 1,
        }
        tlvs = params.pop("tlvs", ())
        fields.update(params)
        return await self.connection.request(Pdu(CommandId.SUBMIT_SM, fields, tlvs))

    async def wait_for(self, predicate: Any, timeout_s: float = 10.0) -> bool:
        import asyncio

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), min(remaining, 0.1))
            except TimeoutError:
                pass
        return True

    def close(self) -> None:
        if self.connection is not None:
            self.connection.abort()
