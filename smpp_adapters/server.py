"""The ESME-facing listener: one SmppConnection in the SMSC role per accepted TCP connection.

``Admission`` caps the connections, in all and per peer address, so that a flood of idle
connections cannot use up the process's file descriptors: past a cap a new connection is
closed at once, before any session exists, and counted.
"""

from __future__ import annotations

import asyncio
import ssl as ssl_module
from collections import Counter
from dataclasses import dataclass, field

from .session import Session, SessionConfig
from .session_rules import Role
from .transport import ConnectionHandler, OutputLimits, SmppConnection


@dataclass
class Admission:
    """Counts open connections per address and refuses those over the caps."""

    max_connections: int = 5000
    max_per_address: int = 200
    open: int = 0
    refused: int = 0
    per_address: Counter[str] = field(default_factory=Counter)

    def admit(self, peer: tuple[str, int] | None) -> bool:
        address = peer[0] if peer else "?"
        if self.open >= self.max_connections or self.per_address[address] >= self.max_per_address:
            self.refused += 1
            return False
        self.open += 1
        self.per_address[address] += 1
        return True

    def release(self, peer: tuple[str, int] | None) -> None:
        address = peer[0] if peer else "?"
        self.open -= 1
        self.per_address[address] -= 1
        if self.per_address[address] <= 0:
            del self.per_address[address]


async def start_server(
    handler: ConnectionHandler,
    host: str,
    port: int,
    *,
    config: SessionConfig | None = None,
    ssl: ssl_module.SSLContext | None = None,
    admission: Admission | None = None,
    output: OutputLimits | None = None,
) -> asyncio.Server:
    """Listen for ESMEs; ``handler`` receives every event of every admitted connection."""
    loop = asyncio.get_running_loop()
    session_config = config or SessionConfig()

    def accept() -> SmppConnection:
        return SmppConnection(
            Session(Role.SMSC, session_config, now=loop.time()), handler, output, admission
        )

    return await loop.create_server(accept, host, port, ssl=ssl, reuse_address=True)
