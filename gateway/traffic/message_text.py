"""The text of a submit_sm as the classifier needs it, and whether it is one part of several."""

from __future__ import annotations

from smpp_adapters.constants import ESM_CLASS_UDHI, Tag
from smpp_adapters.pdu import Pdu
from smpp_adapters.text_decoding import DecodeOptions, decode_concatenated, decode_short_message
from smpp_adapters.udh import Concatenation, UdhError, parse_udh

from ..config import AccountConfig

_OPTIONS: dict[tuple[str, bool], DecodeOptions] = {}


def decode_options(account: AccountConfig) -> DecodeOptions:
    key = (account.default_alphabet, account.gsm7_packed)
    options = _OPTIONS.get(key)
    if options is None:
        options = _OPTIONS[key] = DecodeOptions(account.default_alphabet, account.gsm7_packed)
    return options


def part_of(pdu: Pdu) -> Concatenation | None:
    """Where the message sits in a concatenated message, or None when it is whole.

    Reads only the UDH or the SAR TLVs, never the text: the decision decodes the text later,
    and only when a rule needs to know whether it is an OTP. A malformed UDH makes the
    message whole (its text then reads as undecodable).
    """
    params = pdu.params
    concatenation = None
    if int(params.get("esm_class", 0)) & ESM_CLASS_UDHI:
        short_message, _ = body_of(pdu)
        try:
            concatenation = parse_udh(short_message).concatenation
        except UdhError:
            return None
    if concatenation is None and pdu.tlvs:
        total = pdu.tlv_int(Tag.SAR_TOTAL_SEGMENTS)
        if total is not None:
            concatenation = Concatenation(
                pdu.tlv_int(Tag.SAR_MSG_REF_NUM) or 0,
                total,
                pdu.tlv_int(Tag.SAR_SEGMENT_SEQNUM) or 0,
            )
    if concatenation is not None and (
        concatenation.total <= 1 or not 1 <= concatenation.seqnum <= concatenation.total
    ):
        return None  # not a usable part: judged alone
    return concatenation


def text_of(pdu: Pdu, account: AccountConfig) -> str | None:
    """The decoded text of one whole message, or None when its UDH is malformed."""
    short_message, udhi = body_of(pdu)
    try:
        return decode_short_message(
            short_message,
            int(pdu.params.get("data_coding", 0)),
            udhi=udhi,
            options=decode_options(account),
        ).text
    except UdhError:
        return None


def body_of(pdu: Pdu) -> tuple[bytes, bool]:
    """(the octets that carry the text, whether they start with a UDH)."""
    params = pdu.params
    payload = pdu.tlv(Tag.MESSAGE_PAYLOAD) if pdu.tlvs else None
    short_message = payload if payload is not None else params.get("short_message", b"")
    udhi = bool(int(params.get("esm_class", 0)) & ESM_CLASS_UDHI)
    return bytes(short_message), udhi  # type: ignore[arg-type]


def text_of_parts(pdus: list[Pdu], account: AccountConfig) -> str | None:
    """The text of a concatenated message, parts in order (a character split between two
    parts decodes whole)."""
    if not pdus:
        return None
    data_coding = int(pdus[0].params.get("data_coding", 0))
    try:
        return decode_concatenated([body_of(p) for p in pdus], data_coding, decode_options(account))
    except UdhError:
        return None
