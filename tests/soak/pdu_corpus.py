"""Valid encoded PDUs of every command the codec knows: the seeds the PDU fuzz mutates.

Each is built through the codec itself (``encode``), so a seed is valid by construction and
a mutation is the only thing wrong with a fuzz input.
"""

from __future__ import annotations

import struct

from smpp_adapters.constants import CommandId, CommandStatus, Tag
from smpp_adapters.pdu import Pdu, encode, tlv_uint
from smpp_adapters.receipts import build_receipt_pdu

PASSWORD = "secret1"  # the integration harness's password for account "bank"
OTP = b"Your PayBank verification code is 482913. Never share it."


def _bind(command_id: int, system_id: str = "bank", password: str = PASSWORD) -> Pdu:
    return Pdu(
        command_id,
        {
            "system_id": system_id,
            "password": password,
            "system_type": "",
            "interface_version": 0x34,
            "addr_ton": 0,
            "addr_npi": 0,
            "address_range": "",
        },
    )


def bind_transceiver(sequence_number: int = 1) -> bytes:
    """A valid bind of the test account: what opens a fuzz connection in the bound state."""
    pdu = _bind(CommandId.BIND_TRANSCEIVER)
    pdu.sequence_number = sequence_number
    return encode(pdu)


def _submit(short_message: bytes, esm_class: int = 0, tlvs: tuple = ()) -> Pdu:
    return Pdu(
        CommandId.SUBMIT_SM,
        {
            "source_addr_ton": 5,
            "source_addr": "TestBank",
            "dest_addr_ton": 1,
            "dest_addr_npi": 1,
            "destination_addr": "447410000001",
            "esm_class": esm_class,
            "registered_delivery": 1,
            "short_message": short_message,
        },
        tlvs,
    )


def _udh(reference: int, total: int, seqnum: int) -> bytes:
    return bytes((5, 0, 3, reference, total, seqnum))


def _requests() -> list[Pdu]:
    receipt = build_receipt_pdu(
        message_id="383802246917279744",
        source_addr="447410000001",
        destination_addr="TestBank",
        stat="DELIVRD",
        submit_date="2611250215",
        done_date="2611250216",
        text=b"Your statement",
        network_error_code=b"\x03\x00\x00",
    )
    sar = (
        (Tag.SAR_MSG_REF_NUM, tlv_uint(7, 2)),
        (Tag.SAR_TOTAL_SEGMENTS, tlv_uint(2, 1)),
        (Tag.SAR_SEGMENT_SEQNUM, tlv_uint(1, 1)),
    )
    return [
        _bind(CommandId.BIND_TRANSMITTER),
        _bind(CommandId.BIND_RECEIVER),
        _bind(CommandId.BIND_TRANSCEIVER),
        Pdu(CommandId.OUTBIND, {"system_id": "bank", "password": PASSWORD}),
        Pdu(CommandId.UNBIND, {}),
        Pdu(CommandId.ENQUIRE_LINK, {}),
        _submit(b"Your statement is ready"),
        _submit(OTP, tlvs=((Tag.USER_MESSAGE_REFERENCE, tlv_uint(42, 2)),)),
        _submit(_udh(7, 2, 1) + b"Dear customer, your code ", esm_class=0x40),
        _submit(b"is 482913", tlvs=sar),
        _submit(b"", tlvs=((Tag.MESSAGE_PAYLOAD, OTP), (0x1400, b"vendor"))),
        receipt,
        Pdu(
            CommandId.DATA_SM,
            {
                "source_addr_ton": 5,
                "source_addr": "TestBank",
                "dest_addr_ton": 1,
                "dest_addr_npi": 1,
                "destination_addr": "447410000001",
                "registered_delivery": 1,
            },
            ((Tag.MESSAGE_PAYLOAD, OTP), (Tag.PAYLOAD_TYPE, tlv_uint(0, 1))),
        ),
        Pdu(CommandId.QUERY_SM, {"message_id": "383802246917279744", "source_addr": "TestBank"}),
        Pdu(
            CommandId.CANCEL_SM,
            {
                "message_id": "383802246917279744",
                "source_addr": "TestBank",
                "destination_addr": "447410000001",
            },
        ),
        Pdu(
            CommandId.ALERT_NOTIFICATION,
            {"source_addr": "447410000001", "esme_addr": "TestBank"},
            ((Tag.MS_AVAILABILITY_STATUS, tlv_uint(0, 1)),),
        ),
    ]


def _responses() -> list[Pdu]:
    message_id = {"message_id": "383802246917279744"}
    failed = CommandStatus.ESME_RTHROTTLED
    return [
        Pdu(CommandId.GENERIC_NACK, {}, command_status=CommandStatus.ESME_RINVCMDID),
        *(
            Pdu(c, {"system_id": "otpgate"}, ((Tag.SC_INTERFACE_VERSION, b"\x34"),))
            for c in (
                CommandId.BIND_TRANSMITTER_RESP,
                CommandId.BIND_RECEIVER_RESP,
                CommandId.BIND_TRANSCEIVER_RESP,
            )
        ),
        Pdu(CommandId.UNBIND_RESP, {}),
        Pdu(CommandId.ENQUIRE_LINK_RESP, {}),
        Pdu(CommandId.SUBMIT_SM_RESP, message_id),
        Pdu(CommandId.SUBMIT_SM_RESP, {}, command_status=failed),  # a failed one has no body
        Pdu(CommandId.DELIVER_SM_RESP, {"message_id": ""}),
        Pdu(CommandId.DATA_SM_RESP, message_id, ((Tag.DELIVERY_FAILURE_REASON, b"\x00"),)),
        Pdu(
            CommandId.QUERY_SM_RESP,
            {**message_id, "final_date": "", "message_state": 1, "error_code": 0},
        ),
        Pdu(CommandId.CANCEL_SM_RESP, {}),
    ]


def _unknown_commands() -> list[bytes]:
    """Commands outside the codec's table (replace_sm, submit_multi, a vendor id): framed,
    with plausible bodies, so the fuzz reaches the "unsupported command" path with them."""
    body = b"\x00383802246917279744\x00\x05\x00TestBank\x00" + b"\x00" * 8 + b"\x05hello"
    out = []
    for command_id in (CommandId.REPLACE_SM, CommandId.SUBMIT_MULTI, 0x00010001, 0x0BADC0DE):
        out.append(struct.pack(">IIII", 16 + len(body), command_id, 0, 1) + body)
    return out


def seeds() -> list[bytes]:
    """Every seed, encoded with sequence numbers 1, 2, 3, ... in list order."""
    out = []
    for number, pdu in enumerate([*_requests(), *_responses()], start=1):
        pdu.sequence_number = number
        out.append(encode(pdu))
    return out + _unknown_commands()


def tlv(tag: int, value: bytes) -> bytes:
    return struct.pack(">HH", tag, len(value)) + value


__all__ = ["OTP", "PASSWORD", "bind_transceiver", "seeds", "tlv"]
