"""The ESME side's SMPP listeners, plain and TLS, under one count of connections."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass

from smpp_adapters.server import Admission, start_server
from smpp_adapters.session import SessionConfig
from smpp_adapters.transport import OutputLimits

from ..config import SmppConfig
from ..file_limit import connection_cap, raise_file_limit
from .esme_binds import EsmeBinds


@dataclass(frozen=True, slots=True)
class SmppListeners:
    """What the listeners share, and the ports they got (port 0 in the file: any free one)."""

    admission: Admission
    port: int
    tls_port: int | None


async def start_smpp_listeners(
    binds: EsmeBinds, smpp: SmppConfig, servers: list[asyncio.Server]
) -> SmppListeners:
    """Both listeners serving ``binds``; each server joins ``servers`` as soon as it listens,
    so that stopping closes it even when the next one failed to start."""
    session_config = SessionConfig(
        # Receipts queued behind full windows are refilled by their receipts' answers; an
        # enquire_link's answer frees a slot without one, harmless while a window holds many.
        window=50,
        incoming_window=100,
        response_timeout_s=10.0,
        enquire_link_interval_s=smpp.enquire_link_interval_s,
        inactivity_timeout_s=smpp.inactivity_timeout_s,
        bind_timeout_s=smpp.bind_timeout_s,
        max_pdu_bytes=smpp.max_pdu_bytes,
    )
    # One count of connections for both listeners, kept under the open-file limit.
    admission = Admission(
        connection_cap(smpp.max_connections, raise_file_limit()),
        smpp.max_connections_per_address,
    )
    output = OutputLimits(smpp.max_output_bytes, smpp.slow_reader_timeout_s)
    server = await start_server(
        binds,
        smpp.host,
        smpp.port,
        config=session_config,
        admission=admission,
        output=output,
    )
    servers.append(server)
    port = server.sockets[0].getsockname()[1]
    tls_port = None
    if smpp.tls_port is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(smpp.tls_cert_file or "", smpp.tls_key_file)
        tls_server = await start_server(
            binds,
            smpp.host,
            smpp.tls_port,
            ssl=context,
            config=session_config,
            admission=admission,
            output=output,
        )
        servers.append(tls_server)
        tls_port = tls_server.sockets[0].getsockname()[1]
    return SmppListeners(admission, port, tls_port)
