"""The ESME-facing listener: one SmppConnection in the SMSC role per accepted TCP connection."""

from __future__ import annotations

import asyncio
import ssl as ssl_module

from .session import Session, SessionConfig
from .session_rules import Role
from .transport import ConnectionHandler, SmppConnection


async def start_server(
    handler: ConnectionHandler,
    host: str,
    port: int,
    *,
    config: SessionConfig | None = None,
    ssl: ssl_module.SSLContext | None = None,
) -> asyncio.Server:
    """Listen for ESMEs; ``handler`` receives every event of every connection."""
    loop = asyncio.get_running_loop()
    session_config = config or SessionConfig()

    def accept() -> SmppConnection:
        return SmppConnection(Session(Role.SMSC, session_config, now=loop.time()), handler)

    return await loop.create_server(accept, host, port, ssl=ssl, reuse_address=True)
