"""Mutated PDUs over real TCP connections to a running gateway, a few per connection.

Each connection sends its bytes (after a valid bind, most of the time, so the inputs reach
the bound states), half-closes, and reads until the gateway closes: the end of a connection
is a condition to wait for, not a pause. What the gateway wrote back must be valid PDUs.
"""

from __future__ import annotations

import asyncio
import random
import struct
from collections import Counter
from dataclasses import dataclass, field

from smpp_adapters.constants import CommandId, CommandStatus
from smpp_adapters.pdu import Pdu, encode

from .pdu_corpus import bind_transceiver
from .pdu_mutations import PduMutator
from .session_fuzz import check_output

# A connection the gateway has not closed this long after our half-close is a finding.
CLOSE_TIMEOUT_S = 15.0


def _enquire_link(sequence_number: int) -> bytes:
    pdu = Pdu(CommandId.ENQUIRE_LINK, {})
    pdu.sequence_number = sequence_number
    return encode(pdu)


@dataclass
class TcpFuzzReport:
    connections: int = 0
    pdus: int = 0
    bytes_back: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


class TcpFuzzer:
    """Builds each connection's bytes from the mutator and sends them to ``port``."""

    def __init__(self, port: int, mutator: PduMutator, rng: random.Random) -> None:
        self.port = port
        self.mutator = mutator
        self.rng = rng
        self.report = TcpFuzzReport()

    def payload(self, count: int) -> bytes:
        rng = self.rng
        parts = []
        if rng.random() < 0.05:
            parts.append(bind_transceiver(2))  # pipelined behind the first, or alone
        for _ in range(count):
            parts.append(self.mutator.mutate())
            if rng.random() < 0.2:
                parts.append(_enquire_link(rng.randint(1, 0x7FFFFFFF)))
        return b"".join(parts)

    async def connection(self, count: int) -> None:
        payload = self.payload(count)
        report = self.report
        report.connections += 1
        report.pdus += count
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError as error:
            report.failures.append(f"connect refused: {error}")
            return
        # Most connections bind first and wait for the answer: PDUs sent behind an unanswered
        # bind meet the session still open, and the bound states would go untested.
        if self.rng.random() < 0.7 and not await self._bind(reader, writer):
            report.failures.append("a valid bind was not answered (ESME_ROK or max_binds)")
            writer.close()
            return
        try:
            writer.write(payload)
            await writer.drain()
            writer.write_eof()
        except (ConnectionError, OSError):
            report.outcomes["closed while we wrote"] += 1  # a fatal framing error: fine
        try:
            answer = await asyncio.wait_for(reader.read(), CLOSE_TIMEOUT_S)
        except TimeoutError:
            report.failures.append(f"connection not closed after EOF: {payload.hex()}")
            return
        except (ConnectionError, OSError):
            report.outcomes["reset"] += 1
            return
        finally:
            writer.close()
        report.outcomes["closed"] += 1
        report.bytes_back += len(answer)
        problem = check_output(answer)
        if problem is not None:
            report.failures.append(f"{problem} (input {payload.hex()})")

    async def _bind(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Bind and read the answer: True when it is ESME_ROK, or ESME_RBINDFAIL because the
        parallel connections took the account's max_binds (the gateway then closes)."""
        writer.write(bind_transceiver())
        try:
            header = await asyncio.wait_for(reader.readexactly(16), CLOSE_TIMEOUT_S)
            length, command_id, status, _ = struct.unpack(">IIII", header)
            await asyncio.wait_for(reader.readexactly(length - 16), CLOSE_TIMEOUT_S)
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            return False
        if command_id != CommandId.BIND_TRANSCEIVER_RESP:
            return False
        if status == CommandStatus.ESME_RBINDFAIL:
            self.report.outcomes["max_binds"] += 1
            return True
        self.report.outcomes["bound first"] += 1
        return status == CommandStatus.ESME_ROK

    async def run(self, total: int, per_connection: int, parallel: int, between) -> None:
        """``total`` PDUs in connections of up to ``per_connection``, ``parallel`` at a time;
        ``between()`` runs after every wave (liveness and memory checks)."""
        sent = 0
        while sent < total:
            wave = []
            for _ in range(parallel):
                count = min(per_connection, total - sent)
                if count <= 0:
                    break
                wave.append(self.connection(count))
                sent += count
            await asyncio.gather(*wave)
            await between()
