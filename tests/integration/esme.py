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
        self.client = smpplib.client.Client(self.host, self.port, timeout=10, allow_unknown_opt_params=True)
        self.client.set_message_sent_handler(self.responses.append)
        self.client.set_message_received_handler(self._on_deliver)
        self._lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self._stop = threading.Event()

    def _on_deliver(self, pdu: Any) -> None:
        (self.receipts if pdu.esm_class & 0x04 else self.delivered).append(pdu)

    def bind(self) -> None:
        self.client.connect()
        getattr(self.client, {"trx": "bind_transceiver", "tx": "bind_transmitter", "rx": "bind_receiver"}[self.mode])(
            system_id=self.system_id, password=self.password
        )

    def start_reading(self) -> None:
        """Read PDUs (responses, receipts) on a thread until close()."""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                self.client.read_once()
            except (OSError, smpplib.exceptions.ConnectionError, AttributeError):
                return
            except smpplib.exceptions.PDUError as error:
                self.responses.append(error)

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
