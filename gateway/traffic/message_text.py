"""The text of a submit_sm as the classifier needs it, and whether it is one part of several."""

from __future__ import annotations

from smpp_adapters.constants import ESM_CLASS_UDHI, Tag
from smpp_adapters.pdu import Pdu
from smpp_adapters.text_decoding import DecodeOptions, decode_short_message
from smpp_adapters.udh import UdhError

from ..config import AccountConfig

_OPTIONS: dict[tuple[str, bool], DecodeOptions] = {}


def decode_options(account: AccountConfig) -> DecodeOptions:
    key = (account.default_alphabet, account.gsm7_packed)
    options = _OPTIONS.get(key)
    if options is None:
        options = _OPTIONS[key] = DecodeOptions(account.default_alphabet, account.gsm7_packed)
    return options


def text_of(pdu: Pdu, account: AccountConfig) -> tuple[str | None, bool]:
    """(decoded text or None, is a part of a concatenated message)."""
    params = pdu.params
    payload = pdu.tlv(Tag.MESSAGE_PAYLOAD) if pdu.tlvs else None
    short_message = payload if payload is not None else params.get("short_message", b"")
    udhi = bool(int(params.get("esm_class", 0)) & ESM_CLASS_UDHI)  # type: ignore[call-overload]
    try:
        decoded = decode_short_message(
            short_message,  # type: ignore[arg-type]
            int(params.get("data_coding", 0)),  # type: ignore[call-overload]
            udhi=udhi,
            options=decode_options(account),
        )
    except UdhError:
        return None, False
    is_part = (
        decoded.udh is not None
        and decoded.udh.concatenation is not None
        and decoded.udh.concatenation.total > 1
    ) or (pdu.tlvs and (pdu.tlv_int(Tag.SAR_TOTAL_SEGMENTS) or 0) > 1)
    return decoded.text, bool(is_part)
