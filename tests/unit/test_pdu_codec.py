"""The SMPP 3.4 codec: every PDU type round trips, TLVs pass byte for byte, bad input gets its status."""

from __future__ import annotations

import struct

import pytest

from smpp_adapters.constants import HEADER_BYTES, CommandId, MessageState, Tag
from smpp_adapters.constants import CommandStatus as S
from smpp_adapters.errors import PduError
from smpp_adapters.pdu import (
    LAYOUTS,
    Pdu,
    decode,
    encode,
    encode_with_sequence,
    tlv_cstr,
    tlv_uint,
)

C = CommandId
VENDOR_TLV = (0x1401, b"\xde\xad\x00\xbe\xef")  # opaque to us, must come back as it went
EMPTY_VENDOR_TLV = (0x14FF, b"")

_BIND = {
    "system_id": "bank_otp",
    "password": "s3cret!",
    "system_type": "OTP",
    "interface_version": 0x34,
    "addr_ton": 1,
    "addr_npi": 1,
    "address_range": "^4477",
}
_SUBMIT = {
    "service_type": "CMT",
    "source_addr_ton": 5,
    "source_addr_npi": 0,
    "source_addr": "MyBank",
    "dest_addr_ton": 1,
    "dest_addr_npi": 1,
    "destination_addr": "447700900123",
    "esm_class": 0,
    "protocol_id": 0,
    "priority_flag": 1,
    "schedule_delivery_time": "",
    "validity_period": "000000001000000R",
    "registered_delivery": 1,
    "replace_if_present_flag": 0,
    "data_coding": 0,
    "sm_default_msg_id": 0,
    "short_message": b"Your MyBank code is 482913. Never share it.",
}
_RECEIPT_TEXT = (
    b"id:1234567890 sub:001 dlvrd:001 submit date:2403091405 done date:2403091407 "
    b"stat:DELIVRD err:000 text:Your MyBank code"
)
_DELIVER = {
    **_SUBMIT,
    "service_type": "",
    "source_addr_ton": 1,
    "source_addr_npi": 1,
    "source_addr": "447700900123",
    "dest_addr_ton": 5,
    "dest_addr_npi": 0,
    "destination_addr": "MyBank",
    "esm_class": 0x04,
    "priority_flag": 0,
    "validity_period": "",
    "registered_delivery": 0,
    "short_message": _RECEIPT_TEXT,
}
_DATA_SM = {
    "service_type": "WAP",
    "source_addr_ton": 5,
    "source_addr_npi": 0,
    "source_addr": "MyBank",
    "dest_addr_ton": 1,
    "dest_addr_npi": 1,
    "destination_addr": "447700900123",
    "esm_class": 0,
    "registered_delivery": 1,
    "data_coding": 8,
}

# One realistic instance of every PDU the codec knows, with the TLVs it would carry.
SAMPLES: dict[int, Pdu] = {
    C.GENERIC_NACK: Pdu(C.GENERIC_NACK, command_status=S.ESME_RINVCMDID, sequence_number=7),
    C.BIND_RECEIVER: Pdu(C.BIND_RECEIVER, _BIND, sequence_number=1),
    C.BIND_TRANSMITTER: Pdu(C.BIND_TRANSMITTER, {**_BIND, "address_range": ""}, sequence_number=1),
    C.BIND_TRANSCEIVER: Pdu(C.BIND_TRANSCEIVER, _BIND, sequence_number=0x7FFFFFFF),
    C.BIND_RECEIVER_RESP: Pdu(
        C.BIND_RECEIVER_RESP,
        {"system_id": "SMSC01"},
        [(Tag.SC_INTERFACE_VERSION, b"\x34")],
        sequence_number=1,
    ),
    C.BIND_TRANSMITTER_RESP: Pdu(
        C.BIND_TRANSMITTER_RESP, {"system_id": "SMSC01"}, sequence_number=1
    ),
    C.BIND_TRANSCEIVER_RESP: Pdu(
        C.BIND_TRANSCEIVER_RESP,
        {"system_id": "SMSC01"},
        [(Tag.SC_INTERFACE_VERSION, b"\x34"), VENDOR_TLV],
        sequence_number=1,
    ),
    C.OUTBIND: Pdu(C.OUTBIND, {"system_id": "SMSC01", "password": "pw"}, sequence_number=3),
    C.UNBIND: Pdu(C.UNBIND, sequence_number=99),
    C.UNBIND_RESP: Pdu(C.UNBIND_RESP, sequence_number=99),
    C.ENQUIRE_LINK: Pdu(C.ENQUIRE_LINK, sequence_number=12),
    C.ENQUIRE_LINK_RESP: Pdu(C.ENQUIRE_LINK_RESP, sequence_number=12),
    C.SUBMIT_SM: Pdu(
        C.SUBMIT_SM,
        _SUBMIT,
        [
            (Tag.USER_MESSAGE_REFERENCE, tlv_uint(42, 2)),
            (Tag.SAR_MSG_REF_NUM, tlv_uint(0x1234, 2)),
            (Tag.SAR_TOTAL_SEGMENTS, tlv_uint(2, 1)),
            (Tag.SAR_SEGMENT_SEQNUM, tlv_uint(1, 1)),
            VENDOR_TLV,
        ],
        sequence_number=2,
    ),
    C.SUBMIT_SM_RESP: Pdu(C.SUBMIT_SM_RESP, {"message_id": "1234567890"}, sequence_number=2),
    C.DELIVER_SM: Pdu(
        C.DELIVER_SM,
        _DELIVER,
        [
            (Tag.RECEIPTED_MESSAGE_ID, tlv_cstr("1234567890")),
            (Tag.MESSAGE_STATE, tlv_uint(MessageState.DELIVERED, 1)),
            (Tag.NETWORK_ERROR_CODE, b"\x03\x00\x00"),
        ],
        sequence_number=5,
    ),
    C.DELIVER_SM_RESP: Pdu(C.DELIVER_SM_RESP, {"message_id": ""}, sequence_number=5),
    C.DATA_SM: Pdu(
        C.DATA_SM,
        _DATA_SM,
        [(Tag.MESSAGE_PAYLOAD, "Votre code: 482913 ✓".encode("utf-16-be")), VENDOR_TLV],
        sequence_number=8,
    ),
    C.DATA_SM_RESP: Pdu(
        C.DATA_SM_RESP,
        {"message_id": "ab-77"},
        [(Tag.ADDITIONAL_STATUS_INFO_TEXT, tlv_cstr("queued"))],
        sequence_number=8,
    ),
    C.QUERY_SM: Pdu(
        C.QUERY_SM,
        {
            "message_id": "1234567890",
            "source_addr_ton": 5,
            "source_addr_npi": 0,
            "source_addr": "MyBank",
        },
        sequence_number=9,
    ),
    C.QUERY_SM_RESP: Pdu(
        C.QUERY_SM_RESP,
        {
            "message_id": "1234567890",
            "final_date": "240309140701000+",
            "message_state": MessageState.DELIVERED,
            "error_code": 0,
        },
        sequence_number=9,
    ),
    C.CANCEL_SM: Pdu(
        C.CANCEL_SM,
        {
            "service_type": "",
            "message_id": "1234567890",
            "source_addr_ton": 5,
            "source_addr_npi": 0,
            "source_addr": "MyBank",
            "dest_addr_ton": 1,
            "dest_addr_npi": 1,
            "destination_addr": "447700900123",
        },
        sequence_number=10,
    ),
    C.CANCEL_SM_RESP: Pdu(C.CANCEL_SM_RESP, sequence_number=10),
    C.ALERT_NOTIFICATION: Pdu(
        C.ALERT_NOTIFICATION,
        {
            "source_addr_ton": 1,
            "source_addr_npi": 1,
            "source_addr": "447700900123",
            "esme_addr_ton": 5,
            "esme_addr_npi": 0,
            "esme_addr": "MyBank",
        },
        [(Tag.MS_AVAILABILITY_STATUS, b"\x00")],
        sequence_number=11,
    ),
}


def _header(length: int, command_id: int, status: int = 0, sequence: int = 1) -> bytes:
    return struct.pack(">IIII", length, command_id, status, sequence)


def _pdu_bytes(command_id: int, body: bytes, status: int = 0, sequence: int = 1) -> bytes:
    return _header(HEADER_BYTES + len(body), command_id, status, sequence) + body


def _status_of(data: bytes) -> PduError:
    with pytest.raises(PduError) as caught:
        decode(data)
    return caught.value


# -- round trips -----------------------------------------------------------------------------


def test_every_layout_has_a_sample() -> None:
    assert set(SAMPLES) == set(LAYOUTS)


@pytest.mark.parametrize("command_id", list(SAMPLES), ids=lambda c: C(c).name.lower())
def test_round_trip(command_id: int) -> None:
    pdu = SAMPLES[command_id]
    data = encode(pdu)
    decoded = decode(data)
    assert decoded == pdu
    assert decoded.raw == data
    assert encode(decoded) == data
    assert struct.unpack(">IIII", data[:16]) == (
        len(data),
        command_id,
        pdu.command_status,
        pdu.sequence_number,
    )


@pytest.mark.parametrize("command_id", list(SAMPLES), ids=lambda c: C(c).name.lower())
def test_decoded_fields_read_back(command_id: int) -> None:
    pdu = SAMPLES[command_id]
    decoded = decode(encode(pdu))
    for name, value in pdu.params.items():
        assert decoded[name] == value, name
    assert decoded.tlvs == pdu.tlvs


def test_vendor_tlvs_carried_byte_for_byte_in_order() -> None:
    tlvs = [
        (0x1400, b"\x01"),
        (Tag.USER_MESSAGE_REFERENCE, b"\x00\x2a"),
        VENDOR_TLV,
        EMPTY_VENDOR_TLV,
        (0x3FFF, bytes(range(256))),
        VENDOR_TLV,  # a repeated tag stays repeated
    ]
    data = encode(Pdu(C.SUBMIT_SM, _SUBMIT, tlvs, sequence_number=4))
    tail = b"".join(struct.pack(">HH", t, len(v)) + v for t, v in tlvs)
    assert data.endswith(tail)
    decoded = decode(data)
    assert decoded.tlvs == tuple(tlvs)
    assert decoded.tlv(0x1401) == VENDOR_TLV[1]
    assert decoded.tlv(0x14FF) == b""
    assert encode(decoded) == data


def test_known_tlvs_read_as_values() -> None:
    receipt = decode(encode(SAMPLES[C.DELIVER_SM]))
    assert receipt.tlv_cstr(Tag.RECEIPTED_MESSAGE_ID) == "1234567890"
    assert receipt.tlv_int(Tag.MESSAGE_STATE) == MessageState.DELIVERED
    assert receipt.tlv(Tag.NETWORK_ERROR_CODE) == b"\x03\x00\x00"
    assert receipt.tlv(Tag.SAR_MSG_REF_NUM) is None
    submit = decode(encode(SAMPLES[C.SUBMIT_SM]))
    assert submit.tlv_int(Tag.USER_MESSAGE_REFERENCE) == 42
    assert submit.tlv_int(Tag.SAR_MSG_REF_NUM) == 0x1234
    assert submit.tlv_int(Tag.SAR_TOTAL_SEGMENTS) == 2


def test_edge_values_round_trip() -> None:
    longest = {
        **_SUBMIT,
        "service_type": "x" * 5,
        "source_addr": "1" * 20,
        "destination_addr": "2" * 20,
        "schedule_delivery_time": "240309140701000+",
        "validity_period": "240310140701000+",
        "short_message": bytes(range(254)),
        "esm_class": 0xFF,
        "data_coding": 0xFF,
    }
    for params in (longest, {**_SUBMIT, "short_message": b""}):
        pdu = Pdu(C.SUBMIT_SM, params, sequence_number=0xFFFFFFFF)
        data = encode(pdu)
        assert decode(data) == pdu
        assert encode(decode(data)) == data


_RESPONSES_WITH_BODY = [c for c in LAYOUTS if c & 0x80000000 and LAYOUTS[c]]


@pytest.mark.parametrize("command_id", _RESPONSES_WITH_BODY, ids=lambda c: C(c).name.lower())
def test_error_response_with_empty_body_round_trips(command_id: int) -> None:
    # SMPP 3.4 section 4.4.2 and friends: a failed response's body is not returned.
    data = _header(16, command_id, S.ESME_RSUBMITFAIL, 31)
    decoded = decode(data)
    assert decoded.command_status == S.ESME_RSUBMITFAIL
    assert decoded.sequence_number == 31
    assert decoded.tlvs == ()
    assert encode(decoded) == data


@pytest.mark.parametrize("command_id", _RESPONSES_WITH_BODY, ids=lambda c: C(c).name.lower())
def test_error_response_with_a_body_round_trips(command_id: int) -> None:
    # Many SMSCs send the body anyway (an empty message_id): that must come back too.
    data = encode(Pdu(command_id, command_status=S.ESME_RTHROTTLED, sequence_number=31))
    assert len(data) > 16
    decoded = decode(data)
    assert decoded.command_status == S.ESME_RTHROTTLED
    assert encode(decoded) == data


def test_successful_response_with_empty_body_round_trips() -> None:
    # Seen from lax SMSCs: submit_sm_resp, status 0, no message_id at all.
    data = _header(16, C.SUBMIT_SM_RESP, 0, 5)
    assert encode(decode(data)) == data


# -- encode_with_sequence ------------------------------------------------------------------------


@pytest.mark.parametrize("command_id", list(SAMPLES), ids=lambda c: C(c).name.lower())
def test_encode_with_sequence_patches_only_the_sequence_number(command_id: int) -> None:
    original = encode(SAMPLES[command_id])
    decoded = decode(original)
    patched = encode_with_sequence(decoded, 0x01020304)
    assert len(patched) == len(original)
    assert patched[:12] == original[:12]
    assert patched[12:16] == b"\x01\x02\x03\x04"
    assert patched[16:] == original[16:]
    assert decoded.raw == original


@pytest.mark.parametrize("command_id", list(SAMPLES), ids=lambda c: C(c).name.lower())
def test_encode_with_sequence_of_a_built_pdu(command_id: int) -> None:
    pdu = SAMPLES[command_id].evolve()
    before = pdu.sequence_number
    original = encode(pdu)
    patched = encode_with_sequence(pdu, 0x7FFFFFFE)
    assert patched[:12] == original[:12]
    assert patched[12:16] == (0x7FFFFFFE).to_bytes(4, "big")
    assert patched[16:] == original[16:]
    # A Pdu is to be treated as immutable: encoding it must not change it.
    assert pdu.sequence_number == before


def test_encode_with_sequence_of_an_evolved_pdu_reencodes() -> None:
    decoded = decode(encode(SAMPLES[C.SUBMIT_SM]))
    changed = decoded.evolve(destination_addr="447700900999")
    data = encode_with_sequence(changed, 77)
    assert decode(data)["destination_addr"] == "447700900999"
    assert decode(data).sequence_number == 77
    assert decode(data).tlvs == decoded.tlvs


# -- malformed input -----------------------------------------------------------------------------


@pytest.mark.parametrize("length", [0, 1, 15])
def test_shorter_than_a_header_is_fatal(length: int) -> None:
    error = _status_of(bytes(length))
    assert error.command_status == S.ESME_RINVCMDLEN
    assert error.fatal


@pytest.mark.parametrize("command_length", [0, 5, 15, 17, 0x7FFFFFFF, 0xFFFFFFFF])
def test_command_length_that_does_not_frame_the_pdu_is_fatal(command_length: int) -> None:
    # Below 16 or not the length of what is there (an above-maximum length never frames a
    # whole PDU: the Session's framer refuses it before buffering, see test_session).
    data = _header(command_length, C.ENQUIRE_LINK, 0, 3)
    error = _status_of(data)
    assert error.command_status == S.ESME_RINVCMDLEN
    assert error.fatal
    assert error.command_id == C.ENQUIRE_LINK
    assert error.sequence_number == 3


@pytest.mark.parametrize(
    "command_id",
    [
        0x00000000,
        0x00000099,
        0x0000000A,
        0x00010200,
        0x80000099,
        C.REPLACE_SM,  # documented: the gateway does not speak replace_sm
        C.SUBMIT_MULTI,  # nor submit_multi
        C.REPLACE_SM_RESP,
        C.SUBMIT_MULTI_RESP,
    ],
)
def test_unsupported_command_id(command_id: int) -> None:
    body = b"\x00" * 30
    error = _status_of(_pdu_bytes(command_id, body, sequence=55))
    assert error.command_status == S.ESME_RINVCMDID
    assert not error.fatal
    assert (error.command_id, error.sequence_number) == (command_id, 55)


def test_replace_sm_and_submit_multi_are_not_in_the_table() -> None:
    assert C.REPLACE_SM not in LAYOUTS
    assert C.SUBMIT_MULTI not in LAYOUTS


# submit_sm's mandatory parameters written out by hand (SMPP 3.4 section 4.4.1).
_SUBMIT_FIELDS: list[tuple[str, bytes]] = [
    ("service_type", b"CMT\0"),
    ("source_addr_ton", b"\x05"),
    ("source_addr_npi", b"\x00"),
    ("source_addr", b"MyBank\0"),
    ("dest_addr_ton", b"\x01"),
    ("dest_addr_npi", b"\x01"),
    ("destination_addr", b"447700900123\0"),
    ("esm_class", b"\x00"),
    ("protocol_id", b"\x00"),
    ("priority_flag", b"\x00"),
    ("schedule_delivery_time", b"240309140701000+\0"),
    ("validity_period", b"000001000000000R\0"),
    ("registered_delivery", b"\x01"),
    ("replace_if_present_flag", b"\x00"),
    ("data_coding", b"\x00"),
    ("sm_default_msg_id", b"\x00"),
    ("sm_length", b"\x05"),
    ("short_message", b"hello"),
]


def _submit_body(**replace: bytes) -> bytes:
    return b"".join(replace.get(name, value) for name, value in _SUBMIT_FIELDS)


def _submit_cut_inside(field: str) -> bytes:
    """A submit_sm whose body ends in the middle of ``field``, its NUL never written."""
    body = b""
    for name, value in _SUBMIT_FIELDS:
        if name == field:
            return body + value[:-1]
        body += value
    raise AssertionError(field)


def test_hand_written_submit_sm_decodes() -> None:
    pdu = decode(_pdu_bytes(C.SUBMIT_SM, _submit_body()))
    assert pdu["source_addr"] == "MyBank"
    assert pdu["schedule_delivery_time"] == "240309140701000+"
    assert pdu["short_message"] == b"hello"


C_STRING_STATUS = {
    "service_type": S.ESME_RINVSERTYP,
    "source_addr": S.ESME_RINVSRCADR,
    "destination_addr": S.ESME_RINVDSTADR,
    "schedule_delivery_time": S.ESME_RINVSCHED,
    "validity_period": S.ESME_RINVEXPIRY,
}


@pytest.mark.parametrize(("field", "status"), list(C_STRING_STATUS.items()))
def test_unterminated_c_string_gets_the_fields_status(field: str, status: int) -> None:
    error = _status_of(_pdu_bytes(C.SUBMIT_SM, _submit_cut_inside(field), sequence=21))
    assert error.command_status == status
    assert not error.fatal
    assert (error.command_id, error.sequence_number) == (C.SUBMIT_SM, 21)


@pytest.mark.parametrize(
    ("field", "too_long", "status"),
    [
        ("service_type", b"ABCDEF\0", S.ESME_RINVSERTYP),  # 6 + NUL > 6
        ("source_addr", b"1" * 21 + b"\0", S.ESME_RINVSRCADR),  # 21 + NUL > 21
        ("destination_addr", b"2" * 21 + b"\0", S.ESME_RINVDSTADR),
        ("schedule_delivery_time", b"240309140701000+0\0", S.ESME_RINVSCHED),
        ("validity_period", b"000001000000000R0\0", S.ESME_RINVEXPIRY),
    ],
)
def test_c_string_longer_than_the_spec_allows(field: str, too_long: bytes, status: int) -> None:
    error = _status_of(_pdu_bytes(C.SUBMIT_SM, _submit_body(**{field: too_long})))
    assert error.command_status == status
    assert not error.fatal


def test_source_addr_of_20_chars_is_accepted() -> None:
    pdu = decode(_pdu_bytes(C.SUBMIT_SM, _submit_body(source_addr=b"1" * 20 + b"\0")))
    assert pdu["source_addr"] == "1" * 20


def test_sm_length_running_past_the_end() -> None:
    body = _submit_body(sm_length=b"\x32")  # 50 announced, 5 present
    error = _status_of(_pdu_bytes(C.SUBMIT_SM, body))
    assert error.command_status == S.ESME_RINVMSGLEN
    assert not error.fatal


def test_sm_length_missing() -> None:
    body = _submit_body()[: -len(b"\x05hello")]
    assert _status_of(_pdu_bytes(C.SUBMIT_SM, body)).command_status == S.ESME_RINVMSGLEN


def test_short_message_longer_than_254_octets() -> None:
    # sm_length is 0..254 (section 5.2.21); 255 is not a short_message this codec can re-encode.
    body = _submit_body(sm_length=b"\xff", short_message=b"x" * 255)
    assert _status_of(_pdu_bytes(C.SUBMIT_SM, body)).command_status == S.ESME_RINVMSGLEN


@pytest.mark.parametrize(
    "tlvs",
    [
        struct.pack(">HH", Tag.USER_MESSAGE_REFERENCE, 10) + b"\x00\x2a",  # value runs past
        struct.pack(">HH", 0x1401, 1),  # value missing
        b"\x02\x04\x00",  # header cut after 3 octets
        b"\x02",
        struct.pack(">HH", Tag.USER_MESSAGE_REFERENCE, 2) + b"\x00\x2a" + b"\x14\x01\x00\x05ab",
    ],
)
def test_tlv_running_past_the_end(tlvs: bytes) -> None:
    error = _status_of(_pdu_bytes(C.SUBMIT_SM, _submit_body() + tlvs, sequence=8))
    assert error.command_status == S.ESME_RINVOPTPARSTREAM
    assert not error.fatal
    assert error.sequence_number == 8


def test_octets_after_a_body_that_takes_no_tlvs() -> None:
    error = _status_of(_pdu_bytes(C.ENQUIRE_LINK, b"\x00\x00\x00\x00"))
    assert error.command_status == S.ESME_RINVCMDLEN
    assert not error.fatal


def test_body_ending_before_its_integers() -> None:
    body = _submit_cut_inside("dest_addr_ton")  # ends right after source_addr's NUL
    error = _status_of(_pdu_bytes(C.SUBMIT_SM, body))
    assert error.command_status == S.ESME_RINVCMDLEN
    assert not error.fatal


def _bind_body(system_id: bytes = b"bank_otp\0", password: bytes = b"s3cret\0") -> bytes:
    return system_id + password + b"OTP\0" + b"\x34\x01\x01" + b"\0"


@pytest.mark.parametrize("command_id", [C.BIND_TRANSMITTER, C.BIND_RECEIVER, C.BIND_TRANSCEIVER])
def test_bind_field_limits(command_id: int) -> None:
    assert decode(_pdu_bytes(command_id, _bind_body(system_id=b"x" * 15 + b"\0")))["system_id"] == (
        "x" * 15
    )
    error = _status_of(_pdu_bytes(command_id, _bind_body(system_id=b"x" * 16 + b"\0")))
    assert error.command_status == S.ESME_RINVSYSID
    assert decode(_pdu_bytes(command_id, _bind_body(password=b"p" * 8 + b"\0")))["password"] == (
        "p" * 8
    )
    error = _status_of(_pdu_bytes(command_id, _bind_body(password=b"p" * 9 + b"\0")))
    assert error.command_status == S.ESME_RINVPASWD
    assert not error.fatal
