"""Cross-decoding with smpplib, an SMPP implementation nobody here wrote: its bytes through our
decoder, our bytes through its parser, the same field values on both sides.

smpplib quirks met here (worked with, not asserted around):
- ``make_pdu(..., sequence=N)`` ignores N (its ``_set_vars`` only fills attributes that are
  None, and ``sequence`` reads the client's counter); the sequence is set afterwards.
- it parses C-Octet Strings to ``bytes`` and integers to ``int``.
- it raises on a TLV tag it does not know, or with ``allow_unknown_opt_params=True`` drops
  it: vendor TLVs do not survive smpplib (they do survive our codec, see test_pdu_codec).
"""

from __future__ import annotations

from typing import Any

import pytest
import smpplib.command
import smpplib.exceptions
from smpplib import smpp

from smpp_adapters.constants import CommandId, CommandStatus, MessageState, Tag
from smpp_adapters.pdu import Pdu, decode, encode, tlv_cstr, tlv_uint


class _Sequence:
    """The little of an smpplib client that its PDUs need: a sequence counter."""

    def __init__(self) -> None:
        self.sequence = 0

    def next_sequence(self) -> int:
        self.sequence += 1
        return self.sequence


def _make(command: str, sequence: int = 1, status: int = 0, **fields: Any) -> bytes:
    pdu = smpp.make_pdu(command, client=_Sequence(), **fields)
    pdu.sequence = sequence
    pdu.status = status
    return pdu.generate()


def _parse(data: bytes, **options: Any) -> smpplib.command.Command:
    return smpp.parse_pdu(data, client=_Sequence(), **options)


_ADDRESSES = {
    "source_addr_ton": 5,
    "source_addr_npi": 0,
    "source_addr": "OTPBANK",
    "dest_addr_ton": 1,
    "dest_addr_npi": 1,
    "destination_addr": "447700900123",
}
_SUBMIT = {
    "service_type": "CMT",
    **_ADDRESSES,
    "esm_class": 0,
    "protocol_id": 0,
    "priority_flag": 1,
    "schedule_delivery_time": "",
    "validity_period": "000001000000000R",
    "registered_delivery": 1,
    "replace_if_present_flag": 0,
    "data_coding": 0,
    "sm_default_msg_id": 0,
    "short_message": b"Your code is 482913",
}


def _text_fields(params: dict[str, Any]) -> dict[str, Any]:
    """Our parameter values in smpplib's parsed types (C-Octet Strings as bytes)."""
    return {k: v.encode("latin-1") if isinstance(v, str) else v for k, v in params.items()}


def _assert_smpplib_fields(parsed: smpplib.command.Command, params: dict[str, Any]) -> None:
    for name, value in _text_fields(params).items():
        assert getattr(parsed, name) == value, name


# -- smpplib encodes, we decode ----------------------------------------------------------------


def test_bind_transceiver_from_smpplib() -> None:
    data = _make(
        "bind_transceiver",
        sequence=1,
        system_id="bank_otp",
        password="s3cret",
        system_type="OTP",
        addr_ton=1,
        addr_npi=1,
        address_range="^4477",
    )
    pdu = decode(data)
    assert (pdu.command_id, pdu.sequence_number) == (CommandId.BIND_TRANSCEIVER, 1)
    assert pdu.params == {
        "system_id": "bank_otp",
        "password": "s3cret",
        "system_type": "OTP",
        "interface_version": 0x34,
        "addr_ton": 1,
        "addr_npi": 1,
        "address_range": "^4477",
    }
    assert encode(decode(data)) == data


def test_submit_sm_without_tlvs_from_smpplib() -> None:
    data = _make("submit_sm", sequence=2, **_SUBMIT)
    pdu = decode(data)
    assert (pdu.command_id, pdu.sequence_number) == (CommandId.SUBMIT_SM, 2)
    assert pdu.params == _SUBMIT
    assert pdu.tlvs == ()
    # Two implementations of one specification write the same octets.
    assert encode(Pdu(CommandId.SUBMIT_SM, _SUBMIT, sequence_number=2)) == data


def test_submit_sm_with_tlvs_from_smpplib() -> None:
    data = _make(
        "submit_sm",
        sequence=3,
        **{**_SUBMIT, "esm_class": 0x40, "short_message": b"\x05\x00\x03\x7f\x02\x01part one"},
        user_message_reference=42,
        sar_msg_ref_num=0x1234,
        sar_total_segments=2,
        sar_segment_seqnum=1,
    )
    pdu = decode(data)
    assert pdu["esm_class"] == 0x40
    assert pdu["short_message"] == b"\x05\x00\x03\x7f\x02\x01part one"
    assert pdu.tlv_int(Tag.USER_MESSAGE_REFERENCE) == 42
    assert pdu.tlv(Tag.USER_MESSAGE_REFERENCE) == b"\x00\x2a"
    assert pdu.tlv_int(Tag.SAR_MSG_REF_NUM) == 0x1234
    assert pdu.tlv(Tag.SAR_MSG_REF_NUM) == b"\x12\x34"
    assert pdu.tlv(Tag.SAR_TOTAL_SEGMENTS) == b"\x02"
    assert pdu.tlv(Tag.SAR_SEGMENT_SEQNUM) == b"\x01"
    assert len(pdu.tlvs) == 4
    assert encode(pdu) == data


def test_submit_sm_with_message_payload_from_smpplib() -> None:
    payload = "Votre code: 482913".encode("utf-16-be")
    data = _make(
        "submit_sm", sequence=4, **{**_SUBMIT, "short_message": b""}, message_payload=payload
    )
    pdu = decode(data)
    assert pdu["short_message"] == b""
    assert pdu.tlv(Tag.MESSAGE_PAYLOAD) == payload
    assert encode(pdu) == data


def test_submit_sm_resp_from_smpplib() -> None:
    data = _make("submit_sm_resp", sequence=2, message_id="1234567890")
    pdu = decode(data)
    assert (pdu.command_id, pdu.command_status, pdu.sequence_number) == (
        CommandId.SUBMIT_SM_RESP,
        0,
        2,
    )
    assert pdu["message_id"] == "1234567890"
    assert encode(pdu) == data


def test_failed_submit_sm_resp_from_smpplib() -> None:
    data = _make("submit_sm_resp", sequence=2, status=CommandStatus.ESME_RTHROTTLED, message_id="")
    pdu = decode(data)
    assert pdu.command_status == CommandStatus.ESME_RTHROTTLED
    assert pdu.get("message_id", "") == ""
    assert encode(pdu) == data


def test_deliver_sm_receipt_from_smpplib() -> None:
    text = b"id:1234567890 sub:001 dlvrd:001 submit date:2403091405 done date:2403091407 stat:DELIVRD err:000 text:"
    data = _make(
        "deliver_sm",
        sequence=7,
        source_addr_ton=1,
        source_addr_npi=1,
        source_addr="447700900123",
        dest_addr_ton=5,
        destination_addr="OTPBANK",
        esm_class=0x04,
        short_message=text,
        receipted_message_id="1234567890",
        message_state=MessageState.DELIVERED,
    )
    pdu = decode(data)
    assert pdu.command_id == CommandId.DELIVER_SM
    assert pdu["esm_class"] == 0x04
    assert pdu["source_addr"] == "447700900123"
    assert pdu["destination_addr"] == "OTPBANK"
    assert pdu["short_message"] == text
    assert pdu.tlv_cstr(Tag.RECEIPTED_MESSAGE_ID) == "1234567890"
    assert pdu.tlv(Tag.RECEIPTED_MESSAGE_ID) == b"1234567890\0"
    assert pdu.tlv_int(Tag.MESSAGE_STATE) == MessageState.DELIVERED
    assert encode(pdu) == data


@pytest.mark.parametrize(
    ("command", "command_id"),
    [
        ("enquire_link", CommandId.ENQUIRE_LINK),
        ("enquire_link_resp", CommandId.ENQUIRE_LINK_RESP),
        ("unbind", CommandId.UNBIND),
        ("unbind_resp", CommandId.UNBIND_RESP),
    ],
)
def test_header_only_pdus_from_smpplib(command: str, command_id: int) -> None:
    data = _make(command, sequence=0x10203)
    pdu = decode(data)
    assert (pdu.command_id, pdu.command_status, pdu.sequence_number) == (command_id, 0, 0x10203)
    assert pdu.params == {}
    assert encode(pdu) == data


def test_generic_nack_from_smpplib() -> None:
    data = _make("generic_nack", sequence=9, status=CommandStatus.ESME_RINVCMDID)
    pdu = decode(data)
    assert (pdu.command_id, pdu.command_status, pdu.sequence_number) == (
        CommandId.GENERIC_NACK,
        CommandStatus.ESME_RINVCMDID,
        9,
    )
    assert encode(pdu) == data


def test_query_sm_from_smpplib() -> None:
    data = _make(
        "query_sm", sequence=13, message_id="1234567890", source_addr_ton=5, source_addr="OTPBANK"
    )
    pdu = decode(data)
    assert pdu.params == {
        "message_id": "1234567890",
        "source_addr_ton": 5,
        "source_addr_npi": 0,
        "source_addr": "OTPBANK",
    }
    assert encode(pdu) == data


# -- we encode, smpplib parses -----------------------------------------------------------------


def test_bind_transceiver_to_smpplib() -> None:
    params = {
        "system_id": "bank_otp",
        "password": "s3cret",
        "system_type": "OTP",
        "interface_version": 0x34,
        "addr_ton": 1,
        "addr_npi": 1,
        "address_range": "^4477",
    }
    parsed = _parse(encode(Pdu(CommandId.BIND_TRANSCEIVER, params, sequence_number=1)))
    assert (parsed.command, parsed.sequence, parsed.status) == ("bind_transceiver", 1, 0)
    _assert_smpplib_fields(parsed, params)


def test_bind_transceiver_resp_to_smpplib() -> None:
    data = encode(
        Pdu(
            CommandId.BIND_TRANSCEIVER_RESP,
            {"system_id": "SMSC01"},
            [(Tag.SC_INTERFACE_VERSION, b"\x34")],
            sequence_number=1,
        )
    )
    parsed = _parse(data)
    assert parsed.command == "bind_transceiver_resp"
    assert parsed.system_id == b"SMSC01"
    assert parsed.sc_interface_version == 0x34


def test_submit_sm_without_tlvs_to_smpplib() -> None:
    parsed = _parse(encode(Pdu(CommandId.SUBMIT_SM, _SUBMIT, sequence_number=2)))
    assert (parsed.command, parsed.sequence) == ("submit_sm", 2)
    _assert_smpplib_fields(parsed, _SUBMIT)
    assert parsed.sm_length == len(_SUBMIT["short_message"])
    assert parsed.user_message_reference is None


def test_submit_sm_with_tlvs_to_smpplib() -> None:
    tlvs = [
        (Tag.USER_MESSAGE_REFERENCE, tlv_uint(42, 2)),
        (Tag.SAR_MSG_REF_NUM, tlv_uint(0x1234, 2)),
        (Tag.SAR_TOTAL_SEGMENTS, tlv_uint(3, 1)),
        (Tag.SAR_SEGMENT_SEQNUM, tlv_uint(2, 1)),
    ]
    parsed = _parse(encode(Pdu(CommandId.SUBMIT_SM, _SUBMIT, tlvs, sequence_number=3)))
    _assert_smpplib_fields(parsed, _SUBMIT)
    assert parsed.user_message_reference == 42
    assert parsed.sar_msg_ref_num == 0x1234
    assert parsed.sar_total_segments == 3
    assert parsed.sar_segment_seqnum == 2


def test_submit_sm_with_a_vendor_tlv_to_smpplib() -> None:
    tlvs = [(Tag.USER_MESSAGE_REFERENCE, tlv_uint(42, 2)), (0x1401, b"\xde\xad\xbe\xef")]
    data = encode(Pdu(CommandId.SUBMIT_SM, _SUBMIT, tlvs, sequence_number=3))
    # smpplib's gap: a TLV it does not know is an error, or with the option it is dropped.
    with pytest.raises(smpplib.exceptions.UnknownCommandError):
        _parse(data)
    parsed = _parse(data, allow_unknown_opt_params=True)
    _assert_smpplib_fields(parsed, _SUBMIT)
    assert parsed.user_message_reference == 42
    # Ours keeps it.
    assert decode(data).tlv(0x1401) == b"\xde\xad\xbe\xef"


def test_submit_sm_resp_to_smpplib() -> None:
    data = encode(Pdu(CommandId.SUBMIT_SM_RESP, {"message_id": "1234567890"}, sequence_number=2))
    parsed = _parse(data)
    assert (parsed.command, parsed.sequence, parsed.status) == ("submit_sm_resp", 2, 0)
    assert parsed.message_id == b"1234567890"


def test_failed_submit_sm_resp_without_body_to_smpplib() -> None:
    failed = Pdu(
        CommandId.SUBMIT_SM_RESP,
        {},
        command_status=CommandStatus.ESME_RSUBMITFAIL,
        sequence_number=2,
        raw=b"",  # no parameters: no body
    )
    data = encode(failed)
    assert len(data) == 16
    parsed = _parse(data)
    assert (parsed.command, parsed.status) == ("submit_sm_resp", CommandStatus.ESME_RSUBMITFAIL)
    assert parsed.is_error()


def test_deliver_sm_receipt_to_smpplib() -> None:
    params = {
        **_SUBMIT,
        "service_type": "",
        "source_addr_ton": 1,
        "source_addr_npi": 1,
        "source_addr": "447700900123",
        "dest_addr_ton": 5,
        "dest_addr_npi": 0,
        "destination_addr": "OTPBANK",
        "esm_class": 0x04,
        "priority_flag": 0,
        "validity_period": "",
        "registered_delivery": 0,
        "short_message": b"id:1234567890 sub:001 dlvrd:001 submit date:2403091405 done date:2403091407 stat:UNDELIV err:001 text:",
    }
    tlvs = [
        (Tag.RECEIPTED_MESSAGE_ID, tlv_cstr("1234567890")),
        (Tag.MESSAGE_STATE, tlv_uint(MessageState.UNDELIVERABLE, 1)),
    ]
    parsed = _parse(encode(Pdu(CommandId.DELIVER_SM, params, tlvs, sequence_number=7)))
    assert (parsed.command, parsed.sequence) == ("deliver_sm", 7)
    _assert_smpplib_fields(parsed, params)
    assert parsed.receipted_message_id == b"1234567890"
    assert parsed.message_state == MessageState.UNDELIVERABLE


@pytest.mark.parametrize(
    ("command_id", "command"),
    [
        (CommandId.ENQUIRE_LINK, "enquire_link"),
        (CommandId.ENQUIRE_LINK_RESP, "enquire_link_resp"),
        (CommandId.UNBIND, "unbind"),
        (CommandId.UNBIND_RESP, "unbind_resp"),
    ],
)
def test_header_only_pdus_to_smpplib(command_id: int, command: str) -> None:
    parsed = _parse(encode(Pdu(command_id, sequence_number=77)))
    assert (parsed.command, parsed.sequence, parsed.status) == (command, 77, 0)


def test_generic_nack_to_smpplib() -> None:
    data = encode(
        Pdu(
            CommandId.GENERIC_NACK,
            command_status=CommandStatus.ESME_RINVCMDLEN,
            sequence_number=5,
        )
    )
    parsed = _parse(data)
    assert (parsed.command, parsed.sequence, parsed.status) == (
        "generic_nack",
        5,
        CommandStatus.ESME_RINVCMDLEN,
    )


def test_query_sm_to_smpplib() -> None:
    params = {
        "message_id": "1234567890",
        "source_addr_ton": 5,
        "source_addr_npi": 0,
        "source_addr": "OTPBANK",
    }
    parsed = _parse(encode(Pdu(CommandId.QUERY_SM, params, sequence_number=13)))
    assert (parsed.command, parsed.sequence) == ("query_sm", 13)
    _assert_smpplib_fields(parsed, params)


def test_query_sm_resp_to_smpplib() -> None:
    params = {
        "message_id": "1234567890",
        "final_date": "240309140701000+",
        "message_state": MessageState.DELIVERED,
        "error_code": 0,
    }
    parsed = _parse(encode(Pdu(CommandId.QUERY_SM_RESP, params, sequence_number=13)))
    assert parsed.command == "query_sm_resp"
    _assert_smpplib_fields(parsed, params)
