"""Pdu.with_message splices bytes; it must give exactly what a full re-encode gives."""

from __future__ import annotations

import pytest

from smpp_adapters.constants import CommandId, Tag
from smpp_adapters.pdu import Pdu, decode, encode


@pytest.mark.parametrize("command_id", [CommandId.SUBMIT_SM, CommandId.DELIVER_SM])
@pytest.mark.parametrize("service_type", ["", "CMT"])
def test_splice_equals_reencode(command_id: int, service_type: str) -> None:
    original = Pdu(
        command_id,
        {
            "service_type": service_type,
            "source_addr": "447400123123",
            "destination_addr": "PayBank",
            "esm_class": 4,
            "schedule_delivery_time": "",
            "validity_period": "000001000000000R",
            "short_message": b"id:upstream-1 sub:001 dlvrd:001 stat:DELIVRD err:000 text:hello",
        },
        [(Tag.RECEIPTED_MESSAGE_ID, b"upstream-1\0"), (0x1402, b"vendor")],
        sequence_number=77,
    )
    decoded = decode(encode(original))
    tlvs = [(0x1402, b"vendor"), (Tag.RECEIPTED_MESSAGE_ID, b"383802246917279744\0")]
    spliced = decoded.with_message(b"id:383802246917279744 stat:DELIVRD text:", tlvs)
    rebuilt = original.evolve(short_message=b"id:383802246917279744 stat:DELIVRD text:", tlvs=tlvs)
    assert spliced.raw == encode(rebuilt)
    assert decode(spliced.raw) == rebuilt
