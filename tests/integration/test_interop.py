"""Interoperability with Net::SMPP (Perl), an SMPP stack nobody here wrote, on both sides of the gateway."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from smpp_adapters.constants import CommandStatus, Tag

from .esme import AsyncEsme
from .harness import PASSWORD, free_port, gateway_config, route, running_gateway, running_simulator

PERL = shutil.which("perl") or "/usr/bin/perl"
PERL_DIR = Path(__file__).parent / "perl"


def _net_smpp_missing() -> bool:
    try:
        return subprocess.run([PERL, "-MNet::SMPP", "-MJSON::PP", "-e", "1"]).returncode != 0
    except OSError:
        return True


pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(
        _net_smpp_missing(), reason="Net::SMPP (Debian libnet-smpp-perl) is not installed"
    ),
]


async def test_net_smpp_esme_through_the_gateway(tmp_path):
    async with (
        running_simulator() as simulator,
        running_gateway(gateway_config(tmp_path, (route("r1", simulator.port),))) as gateway,
    ):
        process = await asyncio.create_subprocess_exec(
            PERL,
            str(PERL_DIR / "trx_submit_receipt.pl"),
            "127.0.0.1",
            str(gateway.smpp_port),
            "bank",
            PASSWORD,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, err.decode()
        result = json.loads(out)
        # The gateway's own id, in the response, the TLV and the receipt text alike.
        assert result["message_id"] == result["receipted_message_id"] == result["text_id"]
        assert result["message_id"].isdigit()
        assert simulator.submitted == 1


async def test_gateway_binds_to_a_net_smpp_smsc(tmp_path):
    port = free_port()
    smsc = await asyncio.create_subprocess_exec(
        PERL,
        str(PERL_DIR / "smsc_sink.pl"),
        str(port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert (await asyncio.wait_for(smsc.stdout.readline(), 10)).strip() == b"listening"
        async with running_gateway(
            gateway_config(tmp_path, (route("perl", port, system_id="otpgate"),))
        ) as gateway:
            assert json.loads(await asyncio.wait_for(smsc.stdout.readline(), 10)) == {
                "bind": "otpgate"
            }
            esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD)
            response = await esme.submit(destination="447700900123", text=b"hello perl")
            assert response.command_status == CommandStatus.ESME_ROK
            seen = json.loads(await asyncio.wait_for(smsc.stdout.readline(), 10))
            assert seen == {
                "message_id": "perl-1",
                "destination_addr": "447700900123",
                "short_message": "hello perl",
            }
            assert await esme.wait_for(lambda: esme.receipts)
            receipt = esme.receipts[0]
            gateway_id = response.params["message_id"]
            assert gateway_id != "perl-1"
            assert receipt.tlv_cstr(Tag.RECEIPTED_MESSAGE_ID) == gateway_id
            assert bytes(receipt.params["short_message"]).startswith(f"id:{gateway_id} ".encode())
            esme.close()
    finally:
        if smsc.returncode is None:
            smsc.kill()
        await smsc.wait()
