"""The gateway as a process: a receipt finds its way after a SIGKILL, and every line it
writes is one JSON object, whoever wrote it (otpgate, aiohttp, asyncio)."""

from __future__ import annotations

import asyncio
import json
import struct

import pytest

from smpp_adapters.client import BindFailed

from .esme import AsyncEsme
from .harness import PASSWORD, running_simulator, until
from .process import GatewayProcess

pytestmark = pytest.mark.asyncio


async def test_a_receipt_finds_its_esme_after_the_gateway_was_killed(tmp_path):
    # The SMSC's receipts come 1.5 s after each submit: well after the gateway is gone.
    async with running_simulator(receipt_delay_s=1.5) as sim:
        gateway = GatewayProcess(tmp_path, sim.port)
        await gateway.start()
        try:
            esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD)
            answers = await asyncio.gather(
                *[esme.submit(destination=f"4474001231{n:02d}") for n in range(20)]
            )
            ids = {str(a.params["message_id"]) for a in answers}
            assert all(a.command_status == 0 for a in answers) and len(ids) == 20
            gateway.kill()  # right after the last submit_sm_resp
            esme.close()
            await gateway.start()
            esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD)
            assert await esme.wait_for(lambda: len(esme.receipts) >= 20, 20)
            receipted = {
                bytes(r.params["short_message"]).split(b" ")[0][3:].decode() for r in esme.receipts
            }
            assert ids <= receipted
            esme.close()
        finally:
            gateway.stop()


async def test_every_line_of_the_process_is_json(tmp_path):
    async with running_simulator() as sim:
        gateway = GatewayProcess(tmp_path, sim.port)
        await gateway.start()
        try:
            # aiohttp's own error: a request line it cannot parse.
            reader, writer = await asyncio.open_connection("127.0.0.1", gateway.api_port)
            writer.write(b"NOT A REQUEST\x00\r\n\r\n")
            await writer.drain()
            await reader.read()
            writer.close()
            # A malformed PDU, and a bind refused.
            esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD)
            esme.connection.transport.write(struct.pack(">IIII", 16, 0x0BADC0DE, 0, 7))
            assert await until(lambda: gateway.logged("esme_pdu_rejected"))
            esme.close()
            with pytest.raises(BindFailed):
                await AsyncEsme.bind(gateway.smpp_port, "bank", "wrong")
        finally:
            gateway.stop()
        lines = [line for line in gateway.log_path.read_text().splitlines() if line.strip()]
        events = [json.loads(line)["event"] for line in lines]  # raises on any other line
        assert "gateway_started" in events and "esme_pdu_rejected" in events
        assert "esme_bind_refused" in events
