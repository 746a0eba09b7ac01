"""The SMSC-facing side: open a TCP connection and bind as an ESME."""

from __future__ import annotations

import asyncio
import ssl as ssl_module

from .constants import INTERFACE_VERSION_34, CommandId, CommandStatus, status_name
from .errors import SmppError
from .pdu import Pdu
from .session import Session, SessionConfig
from .session_rules import Role
from .transport import ConnectionHandler, SmppConnection

BIND_COMMAND = {
    "trx": CommandId.BIND_TRANSCEIVER,
    "tx": CommandId.BIND_TRANSMITTER,
    "rx": CommandId.BIND_RECEIVER,
}


class BindFailed(SmppError):
    """The SMSC refused the bind, did not answer it, or could not be reached."""

    def __init__(self, message: str, command_status: int | None = None) -> None:
        super().__init__(message)
        self.command_status = command_status


async def open_bind(
    host: str,
    port: int,
    handler: ConnectionHandler,
    *,
    mode: str,
    system_id: str,
    password: str,
    system_type: str = "",
    config: SessionConfig | None = None,
    connect_timeout_s: float = 5.0,
    ssl: ssl_module.SSLContext | None = None,
    interface_version: int = INTERFACE_VERSION_34,
    local_addr: tuple[str, int] | None = None,
) -> SmppConnection:
    """Connect and bind (``mode`` is ``trx``, ``tx`` or ``rx``); return the bound connection."""
    loop = asyncio.get_running_loop()
    session_config = config or SessionConfig()
    try:
        _, connection = await asyncio.wait_for(
            loop.create_connection(
                lambda: SmppConnection(
                    Session(Role.ESME, session_config, now=loop.time()), handler
                ),
                host,
                port,
                ssl=ssl,
                local_addr=local_addr,
            ),
            connect_timeout_s,
        )
    except (TimeoutError, OSError) as error:
        raise BindFailed(f"cannot connect to {host}:{port}: {error}") from error
    bind = Pdu(
        BIND_COMMAND[mode],
        {
            "system_id": system_id,
            "password": password,
            "system_type": system_type,
            "interface_version": interface_version,
        },
    )
    response = await connection.request(bind)
    if response is None:
        connection.abort()
        raise BindFailed(f"{host}:{port} did not answer the bind")
    if response.command_status != CommandStatus.ESME_ROK:
        connection.close("bind refused")
        raise BindFailed(
            f"{host}:{port} refused the bind: {status_name(response.command_status)}",
            response.command_status,
        )
    return connection
