"""Golden PDUs written by hand from the SMPP 3.4 specification: decode reads them, encode writes them.

Each PDU is spelled out field by field: the 16-octet header (command_length, command_id,
command_status, sequence_number; section 3.2), then the mandatory parameters in the order
of section 4, then TLVs (tag, length, value; section 3.2.4). Integers are big-endian hex,
C-Octet Strings are ASCII literals with their NUL.
"""

from __future__ import annotations

import pytest

from smpp_adapters.constants import CommandId, CommandStatus, MessageState, Tag
from smpp_adapters.pdu import Pdu, decode, encode


def h(hex_octets: str) -> bytes:
    return bytes.fromhex(hex_octets)


# 4.1.1 bind_transmitter
BIND_TRANSMITTER = b"".join(
    [
        h("0000002F"),  # command_length 47
        h("00000002"),  # command_id bind_transmitter
        h("00000000"),  # command_status (unused in a request)
        h("00000001"),  # sequence_number 1
        b"SMPP3TEST\0",  # system_id
        b"secret08\0",  # password (8 octets, the maximum)
        b"SUBMIT1\0",  # system_type
        h("34"),  # interface_version 3.4
        h("01"),  # addr_ton international
        h("01"),  # addr_npi ISDN (E.164)
        b"\0",  # address_range (empty)
    ]
)

# 4.1.6 bind_transceiver_resp with the sc_interface_version TLV (5.3.2.25)
BIND_TRANSCEIVER_RESP = b"".join(
    [
        h("0000001C"),  # command_length 28
        h("80000009"),  # command_id bind_transceiver_resp
        h("00000000"),  # command_status ESME_ROK
        h("00000001"),  # sequence_number 1
        b"SMSC01\0",  # system_id
        h("0210"),  # tag sc_interface_version
        h("0001"),  # length 1
        h("34"),  # value: SMPP 3.4
    ]
)

# 4.4.1 submit_sm, with user_message_reference (5.3.2.17) and a vendor TLV (0x1400-0x3FFF)
SUBMIT_SM = b"".join(
    [
        h("00000052"),  # command_length 82
        h("00000004"),  # command_id submit_sm
        h("00000000"),  # command_status
        h("00000002"),  # sequence_number 2
        b"\0",  # service_type (default)
        h("05"),  # source_addr_ton alphanumeric
        h("00"),  # source_addr_npi unknown
        b"OTPBANK\0",  # source_addr
        h("01"),  # dest_addr_ton international
        h("01"),  # dest_addr_npi ISDN
        b"447700900123\0",  # destination_addr
        h("00"),  # esm_class default
        h("00"),  # protocol_id
        h("00"),  # priority_flag
        b"\0",  # schedule_delivery_time (immediate)
        b"\0",  # validity_period (SMSC default)
        h("01"),  # registered_delivery: receipt on success and failure
        h("00"),  # replace_if_present_flag
        h("00"),  # data_coding SMSC default alphabet
        h("00"),  # sm_default_msg_id
        h("11"),  # sm_length 17
        b"Your code is 4821",  # short_message
        h("0204"),  # tag user_message_reference
        h("0002"),  # length 2
        h("002A"),  # value 42
        h("1401"),  # tag: vendor specific
        h("0003"),  # length 3
        h("0A0B0C"),  # value, opaque
    ]
)

# 4.4.2 submit_sm_resp
SUBMIT_SM_RESP = b"".join(
    [
        h("0000001B"),  # command_length 27
        h("80000004"),  # command_id submit_sm_resp
        h("00000000"),  # command_status ESME_ROK
        h("00000002"),  # sequence_number 2
        b"1234567890\0",  # message_id
    ]
)

# 4.6.1 deliver_sm carrying a delivery receipt (esm_class 0x04, Appendix B text) with
# receipted_message_id (5.3.2.12) and message_state (5.3.2.35)
RECEIPT_TEXT = (
    b"id:1234567890 sub:001 dlvrd:001 submit date:2403091405 done date:2403091407 "
    b"stat:DELIVRD err:000 text:Your code is"
)  # 114 octets
DELIVER_SM_RECEIPT = b"".join(
    [
        h("000000BA"),  # command_length 186
        h("00000005"),  # command_id deliver_sm
        h("00000000"),  # command_status
        h("00000007"),  # sequence_number 7
        b"\0",  # service_type
        h("01"),  # source_addr_ton international
        h("01"),  # source_addr_npi ISDN
        b"447700900123\0",  # source_addr: the handset that received the message
        h("05"),  # dest_addr_ton alphanumeric
        h("00"),  # dest_addr_npi
        b"OTPBANK\0",  # destination_addr: the original sender
        h("04"),  # esm_class: SMSC delivery receipt
        h("00"),  # protocol_id
        h("00"),  # priority_flag
        b"\0",  # schedule_delivery_time (must be NULL in deliver_sm)
        b"\0",  # validity_period (must be NULL in deliver_sm)
        h("00"),  # registered_delivery
        h("00"),  # replace_if_present_flag
        h("00"),  # data_coding
        h("00"),  # sm_default_msg_id
        h("72"),  # sm_length 114
        RECEIPT_TEXT,  # short_message
        h("001E"),  # tag receipted_message_id
        h("000B"),  # length 11
        b"1234567890\0",  # value, a C-Octet String
        h("0427"),  # tag message_state
        h("0001"),  # length 1
        h("02"),  # value DELIVERED
    ]
)

# 4.11.1 enquire_link
ENQUIRE_LINK = b"".join(
    [
        h("00000010"),  # command_length 16: header only
        h("00000015"),  # command_id enquire_link
        h("00000000"),  # command_status
        h("0000000A"),  # sequence_number 10
    ]
)

# 4.2.2 unbind_resp
UNBIND_RESP = b"".join(
    [
        h("00000010"),  # command_length 16
        h("80000006"),  # command_id unbind_resp
        h("00000000"),  # command_status ESME_ROK
        h("0000000B"),  # sequence_number 11
    ]
)

# 4.3.1 generic_nack
GENERIC_NACK = b"".join(
    [
        h("00000010"),  # command_length 16
        h("80000000"),  # command_id generic_nack
        h("00000003"),  # command_status ESME_RINVCMDID
        h("0000000C"),  # sequence_number 12
    ]
)

# 4.8.2 query_sm_resp
QUERY_SM_RESP = b"".join(
    [
        h("0000002E"),  # command_length 46
        h("80000003"),  # command_id query_sm_resp
        h("00000000"),  # command_status ESME_ROK
        h("0000000D"),  # sequence_number 13
        b"1234567890\0",  # message_id
        b"240309140701000+\0",  # final_date, absolute time format (7.1.1)
        h("02"),  # message_state DELIVERED
        h("00"),  # error_code
    ]
)

# 4.9.1 cancel_sm
CANCEL_SM = b"".join(
    [
        h("00000035"),  # command_length 53
        h("00000008"),  # command_id cancel_sm
        h("00000000"),  # command_status
        h("0000000E"),  # sequence_number 14
        b"\0",  # service_type
        b"1234567890\0",  # message_id
        h("05"),  # source_addr_ton alphanumeric
        h("00"),  # source_addr_npi
        b"OTPBANK\0",  # source_addr
        h("01"),  # dest_addr_ton international
        h("01"),  # dest_addr_npi ISDN
        b"447700900123\0",  # destination_addr
    ]
)

# 4.7.1 data_sm with the text in message_payload (5.3.2.32)
DATA_SM = b"".join(
    [
        h("00000042"),  # command_length 66
        h("00000103"),  # command_id data_sm
        h("00000000"),  # command_status
        h("0000000F"),  # sequence_number 15
        b"\0",  # service_type
        h("05"),  # source_addr_ton alphanumeric
        h("00"),  # source_addr_npi
        b"OTPBANK\0",  # source_addr
        h("01"),  # dest_addr_ton international
        h("01"),  # dest_addr_npi ISDN
        b"447700900123\0",  # destination_addr
        h("00"),  # esm_class
        h("01"),  # registered_delivery
        h("00"),  # data_coding
        h("0424"),  # tag message_payload
        h("0011"),  # length 17
        b"Your code is 4821",  # value
    ]
)

_SUBMIT_PARAMS = {
    "service_type": "",
    "source_addr_ton": 5,
    "source_addr_npi": 0,
    "source_addr": "OTPBANK",
    "dest_addr_ton": 1,
    "dest_addr_npi": 1,
    "destination_addr": "447700900123",
    "esm_class": 0,
    "protocol_id": 0,
    "priority_flag": 0,
    "schedule_delivery_time": "",
    "validity_period": "",
    "registered_delivery": 1,
    "replace_if_present_flag": 0,
    "data_coding": 0,
    "sm_default_msg_id": 0,
    "short_message": b"Your code is 4821",
}

# (golden bytes, the PDU they stand for)
GOLDEN: dict[str, tuple[bytes, Pdu]] = {
    "bind_transmitter": (
        BIND_TRANSMITTER,
        Pdu(
            CommandId.BIND_TRANSMITTER,
            {
                "system_id": "SMPP3TEST",
                "password": "secret08",
                "system_type": "SUBMIT1",
                "interface_version": 0x34,
                "addr_ton": 1,
                "addr_npi": 1,
                "address_range": "",
            },
            sequence_number=1,
        ),
    ),
    "bind_transceiver_resp": (
        BIND_TRANSCEIVER_RESP,
        Pdu(
            CommandId.BIND_TRANSCEIVER_RESP,
            {"system_id": "SMSC01"},
            [(Tag.SC_INTERFACE_VERSION, b"\x34")],
            sequence_number=1,
        ),
    ),
    "submit_sm": (
        SUBMIT_SM,
        Pdu(
            CommandId.SUBMIT_SM,
            _SUBMIT_PARAMS,
            [(Tag.USER_MESSAGE_REFERENCE, b"\x00\x2a"), (0x1401, b"\x0a\x0b\x0c")],
            sequence_number=2,
        ),
    ),
    "submit_sm_resp": (
        SUBMIT_SM_RESP,
        Pdu(CommandId.SUBMIT_SM_RESP, {"message_id": "1234567890"}, sequence_number=2),
    ),
    "deliver_sm_receipt": (
        DELIVER_SM_RECEIPT,
        Pdu(
            CommandId.DELIVER_SM,
            {
                **_SUBMIT_PARAMS,
                "source_addr_ton": 1,
                "source_addr_npi": 1,
                "source_addr": "447700900123",
                "dest_addr_ton": 5,
                "dest_addr_npi": 0,
                "destination_addr": "OTPBANK",
                "esm_class": 0x04,
                "registered_delivery": 0,
                "short_message": RECEIPT_TEXT,
            },
            [(Tag.RECEIPTED_MESSAGE_ID, b"1234567890\0"), (Tag.MESSAGE_STATE, b"\x02")],
            sequence_number=7,
        ),
    ),
    "enquire_link": (ENQUIRE_LINK, Pdu(CommandId.ENQUIRE_LINK, sequence_number=10)),
    "unbind_resp": (UNBIND_RESP, Pdu(CommandId.UNBIND_RESP, sequence_number=11)),
    "generic_nack": (
        GENERIC_NACK,
        Pdu(
            CommandId.GENERIC_NACK,
            command_status=CommandStatus.ESME_RINVCMDID,
            sequence_number=12,
        ),
    ),
    "query_sm_resp": (
        QUERY_SM_RESP,
        Pdu(
            CommandId.QUERY_SM_RESP,
            {
                "message_id": "1234567890",
                "final_date": "240309140701000+",
                "message_state": MessageState.DELIVERED,
                "error_code": 0,
            },
            sequence_number=13,
        ),
    ),
    "cancel_sm": (
        CANCEL_SM,
        Pdu(
            CommandId.CANCEL_SM,
            {
                "service_type": "",
                "message_id": "1234567890",
                "source_addr_ton": 5,
                "source_addr_npi": 0,
                "source_addr": "OTPBANK",
                "dest_addr_ton": 1,
                "dest_addr_npi": 1,
                "destination_addr": "447700900123",
            },
            sequence_number=14,
        ),
    ),
    "data_sm": (
        DATA_SM,
        Pdu(
            CommandId.DATA_SM,
            {
                "service_type": "",
                "source_addr_ton": 5,
                "source_addr_npi": 0,
                "source_addr": "OTPBANK",
                "dest_addr_ton": 1,
                "dest_addr_npi": 1,
                "destination_addr": "447700900123",
                "esm_class": 0,
                "registered_delivery": 1,
                "data_coding": 0,
            },
            [(Tag.MESSAGE_PAYLOAD, b"Your code is 4821")],
            sequence_number=15,
        ),
    ),
}


@pytest.mark.parametrize("name", list(GOLDEN))
def test_golden_command_length_is_the_length(name: str) -> None:
    data, _ = GOLDEN[name]
    assert int.from_bytes(data[:4], "big") == len(data)


@pytest.mark.parametrize("name", list(GOLDEN))
def test_decode_golden(name: str) -> None:
    data, expected = GOLDEN[name]
    pdu = decode(data)
    assert pdu.command_id == expected.command_id
    assert pdu.command_status == expected.command_status
    assert pdu.sequence_number == expected.sequence_number
    assert pdu.params == expected.params
    assert pdu.tlvs == expected.tlvs
    assert pdu == expected


@pytest.mark.parametrize("name", list(GOLDEN))
def test_encode_golden(name: str) -> None:
    data, pdu = GOLDEN[name]
    assert encode(pdu) == data
    assert encode(decode(data)) == data


def test_golden_fields_read_by_name() -> None:
    bind = decode(BIND_TRANSMITTER)
    assert (bind["system_id"], bind["password"], bind["interface_version"]) == (
        "SMPP3TEST",
        "secret08",
        0x34,
    )
    assert decode(BIND_TRANSCEIVER_RESP).tlv_int(Tag.SC_INTERFACE_VERSION) == 0x34
    submit = decode(SUBMIT_SM)
    assert submit["destination_addr"] == "447700900123"
    assert submit["short_message"] == b"Your code is 4821"
    assert submit.tlv_int(Tag.USER_MESSAGE_REFERENCE) == 42
    assert submit.tlv(0x1401) == b"\x0a\x0b\x0c"
    receipt = decode(DELIVER_SM_RECEIPT)
    assert receipt["esm_class"] == 0x04
    assert receipt.tlv_cstr(Tag.RECEIPTED_MESSAGE_ID) == "1234567890"
    assert receipt.tlv_int(Tag.MESSAGE_STATE) == MessageState.DELIVERED
    assert decode(GENERIC_NACK).command_status == CommandStatus.ESME_RINVCMDID
    assert decode(QUERY_SM_RESP)["message_state"] == MessageState.DELIVERED
    assert decode(DATA_SM).tlv(Tag.MESSAGE_PAYLOAD) == b"Your code is 4821"
