"""Delivery receipt texts of SMPP 3.4 Appendix B: golden strings, real-world variants, rewriting."""

from __future__ import annotations

from datetime import datetime

import pytest

from smpp_adapters.constants import ESM_CLASS_DELIVERY_RECEIPT, CommandId, MessageState, Tag
from smpp_adapters.pdu import decode, encode
from smpp_adapters.receipts import (
    STAT_OF_STATE,
    ReceiptFields,
    build_receipt_pdu,
    format_receipt_text,
    is_failure,
    parse_receipt_text,
    rewrite_receipt,
    stat_for_state,
    state_for_stat,
)

SUBMITTED = datetime(2024, 3, 9, 14, 5, 59)
DONE = datetime(2024, 3, 9, 14, 7, 1)
GOLDEN = (
    b"id:0123456789 sub:001 dlvrd:001 submit date:2403091405 done date:2403091407 "
    b"stat:DELIVRD err:000 text:Your code is 4821"
)


def test_format_golden() -> None:
    text = format_receipt_text(
        "0123456789",
        stat="DELIVRD",
        submit_date=SUBMITTED,
        done_date=DONE,
        text=b"Your code is 4821",
    )
    assert text == GOLDEN


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"stat": "UNDELIV", "err": 34},
            b"id:7f00a1b2c3d4 sub:001 dlvrd:000 submit date:2403091405 done date:2403091407 "
            b"stat:UNDELIV err:034 text:",
        ),
        (
            {"stat": MessageState.EXPIRED, "sub": 2, "dlvrd": 1},
            b"id:7f00a1b2c3d4 sub:002 dlvrd:001 submit date:2403091405 done date:2403091407 "
            b"stat:EXPIRED err:000 text:",
        ),
        (
            {"stat": "rejectd", "text": b"0123456789abcdefghijKLMNOP"},
            b"id:7f00a1b2c3d4 sub:001 dlvrd:000 submit date:2403091405 done date:2403091407 "
            b"stat:REJECTD err:000 text:0123456789abcdefghij",
        ),
        (
            {"stat": "DELIVRD", "submit_date": "2403091405", "done_date": "2403091407"},
            b"id:7f00a1b2c3d4 sub:001 dlvrd:001 submit date:2403091405 done date:2403091407 "
            b"stat:DELIVRD err:000 text:",
        ),
    ],
)
def test_format_variants(kwargs: dict, expected: bytes) -> None:
    kwargs.setdefault("submit_date", SUBMITTED)
    kwargs.setdefault("done_date", DONE)
    assert format_receipt_text("7f00a1b2c3d4", **kwargs) == expected


def test_parse_golden() -> None:
    assert parse_receipt_text(GOLDEN) == ReceiptFields(
        message_id="0123456789",
        stat="DELIVRD",
        sub="001",
        dlvrd="001",
        submit_date="2403091405",
        done_date="2403091407",
        err="000",
        text=b"Your code is 4821",
    )


@pytest.mark.parametrize(
    ("data", "message_id", "stat", "text"),
    [
        # Upper-case keys and a hex id longer than ten characters.
        (
            b"ID:1A2B3C4D5E6F7A8B SUB:001 DLVRD:001 SUBMIT DATE:2403091405 "
            b"DONE DATE:2403091407 STAT:DELIVRD ERR:000 TEXT:hi",
            "1A2B3C4D5E6F7A8B",
            "DELIVRD",
            b"hi",
        ),
        # Mixed case, underscored date keys, seconds in the dates, no text.
        (
            b"Id:42 Sub:1 Dlvrd:0 Submit_Date:240309140559 Done_Date:240309140701 Stat:UNDELIV Err:1",
            "42",
            "UNDELIV",
            b"",
        ),
        # Only id and stat.
        (b"id:abc-def stat:EXPIRED", "abc-def", "EXPIRED", b""),
        # A long (UUID) id, a spelled-out stat, text with spaces and key-like words.
        (
            b"id:3f2504e0-4f89-11d3-9a0c-0305e82c3301 stat:DELIVERED text:id:9 stat:FAKE and more",
            "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
            "DELIVRD",
            b"id:9 stat:FAKE and more",
        ),
        # No stat at all, but a text field.
        (b"id:77 text:", "77", None, b""),
        # Spaces after the colons.
        (b"id: 99 sub: 001 stat: ACCEPTD", "99", "ACCEPTD", b""),
    ],
)
def test_parse_real_world_variants(
    data: bytes, message_id: str, stat: str | None, text: bytes
) -> None:
    fields = parse_receipt_text(data)
    assert fields is not None
    assert (fields.message_id, fields.stat, fields.text) == (message_id, stat, text)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"Your code is 123456",
        b"stat:DELIVRD err:000",  # no id
        b"Your user id:12345 is ready",  # an id alone is no receipt
        b"paid:100 stat:DELIVRD",  # "id:" inside a word is not the key
        b"id: stat:DELIVRD",  # an empty id
    ],
)
def test_parse_not_a_receipt(data: bytes) -> None:
    assert parse_receipt_text(data) is None


@pytest.mark.parametrize(
    ("data", "blank_text", "expected"),
    [
        (GOLDEN, False, GOLDEN.replace(b"id:0123456789", b"id:900000000000000001")),
        (
            GOLDEN,
            True,
            b"id:900000000000000001 sub:001 dlvrd:001 submit date:2403091405 "
            b"done date:2403091407 stat:DELIVRD err:000 text:",
        ),
        # Vendor spacing and case survive; only the id value changes.
        (
            b"ID:  abc  Stat:DELIVRD  Text:48 21 x",
            True,
            b"ID:  900000000000000001  Stat:DELIVRD  Text:",
        ),
        # Key-like words inside the text are not the id.
        (
            b"stat:DELIVRD text:id:123",
            False,
            b"stat:DELIVRD text:id:123",
        ),
        (b"stat:DELIVRD text:id:123", True, b"stat:DELIVRD text:"),
        # A trailing id with nothing after it.
        (b"stat:UNDELIV id:5", False, b"stat:UNDELIV id:900000000000000001"),
    ],
)
def test_rewrite(data: bytes, blank_text: bool, expected: bytes) -> None:
    assert rewrite_receipt(data, message_id="900000000000000001", blank_text=blank_text) == expected


def test_rewrite_keeps_non_ascii_bytes() -> None:
    data = b"id:1 stat:DELIVRD err:000 \xff\xfe text:\x00\x01secret"
    rewritten = rewrite_receipt(data, message_id="22", blank_text=True)
    assert rewritten == b"id:22 stat:DELIVRD err:000 \xff\xfe text:"


@pytest.mark.parametrize(
    ("stat", "state", "failure"),
    [
        ("DELIVRD", MessageState.DELIVERED, False),
        ("EXPIRED", MessageState.EXPIRED, True),
        ("DELETED", MessageState.DELETED, True),
        ("UNDELIV", MessageState.UNDELIVERABLE, True),
        ("ACCEPTD", MessageState.ACCEPTED, False),
        ("UNKNOWN", MessageState.UNKNOWN, True),
        ("REJECTD", MessageState.REJECTED, True),
        ("ENROUTE", MessageState.ENROUTE, False),
        ("delivered", MessageState.DELIVERED, False),
        ("FAILED", MessageState.UNKNOWN, True),
    ],
)
def test_stat_table(stat: str, state: MessageState, failure: bool) -> None:
    assert state_for_stat(stat) is state
    assert is_failure(stat) is failure


def test_stat_words_round_trip() -> None:
    assert len(STAT_OF_STATE) == len(MessageState)
    for state in MessageState:
        assert state_for_stat(stat_for_state(state)) is state
        assert len(stat_for_state(state)) == 7
    assert stat_for_state(99) == "UNKNOWN"
    assert is_failure(None) is False


def test_format_parse_round_trip() -> None:
    for state in MessageState:
        text = format_receipt_text(
            "abc123", stat=state, submit_date=SUBMITTED, done_date=DONE, text=b"a b c"
        )
        fields = parse_receipt_text(text)
        assert fields is not None
        assert (fields.message_id, fields.message_state, fields.text) == ("abc123", state, b"a b c")


def test_build_receipt_pdu() -> None:
    pdu = build_receipt_pdu(
        message_id="7f00a1b2c3d4",
        source_addr="447400123123",
        destination_addr="PayBank",
        stat="UNDELIV",
        submit_date=SUBMITTED,
        done_date=DONE,
        err=11,
        source_addr_ton=1,
        source_addr_npi=1,
        dest_addr_ton=5,
        network_error_code=b"\x03\x00\x0b",
    )
    assert pdu.command_id == CommandId.DELIVER_SM
    assert pdu["esm_class"] == ESM_CLASS_DELIVERY_RECEIPT
    assert pdu["source_addr"] == "447400123123"
    assert pdu["destination_addr"] == "PayBank"
    assert pdu["short_message"] == (
        b"id:7f00a1b2c3d4 sub:001 dlvrd:000 submit date:2403091405 done date:2403091407 "
        b"stat:UNDELIV err:011 text:"
    )
    assert pdu.tlvs == (
        (Tag.RECEIPTED_MESSAGE_ID, b"7f00a1b2c3d4\x00"),
        (Tag.MESSAGE_STATE, b"\x05"),
        (Tag.NETWORK_ERROR_CODE, b"\x03\x00\x0b"),
    )
    again = decode(encode(pdu))
    assert again.tlv_cstr(Tag.RECEIPTED_MESSAGE_ID) == "7f00a1b2c3d4"
    assert again.tlv_int(Tag.MESSAGE_STATE) == MessageState.UNDELIVERABLE


def test_build_receipt_pdu_golden_bytes() -> None:
    pdu = build_receipt_pdu(
        message_id="1",
        source_addr="1",
        destination_addr="2",
        stat=MessageState.DELIVERED,
        submit_date="2403091405",
        done_date="2403091407",
    )
    text = b"id:1 sub:001 dlvrd:001 submit date:2403091405 done date:2403091407 stat:DELIVRD err:000 text:"
    body = (
        b"\x00"  # service_type
        + b"\x00\x00"
        + b"1\x00"  # source ton, npi, addr
        + b"\x00\x00"
        + b"2\x00"  # dest ton, npi, addr
        + b"\x04\x00\x00"  # esm_class receipt, protocol_id, priority_flag
        + b"\x00\x00"  # schedule_delivery_time, validity_period
        + b"\x00\x00\x00\x00"  # registered_delivery, replace_if_present, data_coding, sm_default_msg_id
        + bytes([len(text)])
        + text
        + b"\x00\x1e\x00\x02"
        + b"1\x00"  # receipted_message_id
        + b"\x04\x27\x00\x01\x02"  # message_state DELIVERED
    )
    header = (16 + len(body)).to_bytes(4, "big") + b"\x00\x00\x00\x05" + b"\x00" * 8
    assert encode(pdu) == header + body


def test_build_receipt_pdu_without_tlvs_and_explicit_state() -> None:
    pdu = build_receipt_pdu(
        message_id="9",
        source_addr="1",
        destination_addr="2",
        stat="DELIVRD",
        message_state=MessageState.ACCEPTED,
        submit_date=SUBMITTED,
        done_date=DONE,
        with_tlvs=False,
    )
    assert pdu.tlvs == ()
    pdu = build_receipt_pdu(
        message_id="9",
        source_addr="1",
        destination_addr="2",
        stat="DELIVRD",
        message_state=MessageState.ACCEPTED,
        submit_date=SUBMITTED,
        done_date=DONE,
    )
    assert pdu.tlv_int(Tag.MESSAGE_STATE) == MessageState.ACCEPTED
