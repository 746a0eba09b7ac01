"""Decode a short message by its data_coding (3GPP TS 23.038 coding groups) and UDH.

Covered: the GSM 7-bit default alphabet with its extension table, packed or unpacked (a
per-account option; data_coding 0 means the configured default alphabet), IA5, Latin-1,
UCS-2/UTF-16BE with surrogate pairs, the general and data-coding/message-class groups
(class 0 "flash" reported). 8-bit binary and compressed text stay undecoded (None).
A UDH's national language shift IEs (0x25 locking, 0x24 single) select the tables of
``gsm7_national``; a language it has no table for decodes with the default ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from . import gsm7
from .gsm7_national import decode_national
from .udh import Udh, parse_udh


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    default_alphabet: str = "gsm7"  # data_coding 0: "gsm7", "latin1" or "ia5"
    gsm7_packed: bool = False


DEFAULT_OPTIONS = DecodeOptions()


@dataclass(frozen=True, slots=True)
class DecodedText:
    text: str | None
    udh: Udh | None
    charset: str
    is_flash: bool = False


def charset_of(data_coding: int, options: DecodeOptions = DEFAULT_OPTIONS) -> tuple[str, bool]:
    """(charset, is_flash) for a data_coding: gsm7, ia5, latin1, ucs2, binary, compressed."""
    group = data_coding >> 4
    if data_coding == 0:
        return options.default_alphabet, False
    if group <= 0x3:  # general data coding, bits 5: compressed, 4: class meaningful
        if data_coding & 0x20:
            return "compressed", False
        flash = bool(data_coding & 0x10) and (data_coding & 0x03) == 0
        alphabet = (data_coding >> 2) & 0x03
        if group <= 0x0 or not data_coding & 0x10:
            return {0x01: "ia5", 0x02: "binary", 0x03: "latin1", 0x04: "binary", 0x08: "ucs2"}.get(
                data_coding & 0x0F, "binary"
            ), False
        return ("gsm7", "binary", "ucs2", "binary")[alphabet], flash
    if group in (0xC, 0xD):
        return "gsm7", False
    if group == 0xE:
        return "ucs2", False
    if group == 0xF:
        return ("binary" if data_coding & 0x04 else "gsm7"), (data_coding & 0x03) == 0
    return "binary", False


def _decode_body(
    body: bytes, charset: str, options: DecodeOptions, fill_bits: int, udh: Udh | None = None
) -> str | None:
    if charset == "gsm7":
        septets = gsm7.unpack(body, fill_bits) if options.gsm7_packed else body
        if udh is not None and (udh.locking_shift or udh.single_shift):
            return decode_national(septets, udh.locking_shift, udh.single_shift)
        return gsm7.decode_septets(septets)
    if charset == "ia5":
        return body.decode("ascii", errors="replace")
    if charset == "latin1":
        return body.decode("latin-1")
    if charset == "ucs2":
        return body.decode("utf-16-be", errors="replace")
    return None


def decode_short_message(
    short_message: bytes, data_coding: int, *, udhi: bool, options: DecodeOptions = DEFAULT_OPTIONS
) -> DecodedText:
    """Decode one message; raises UdhError only when udhi is set and the UDH is malformed."""
    charset, flash = charset_of(data_coding, options)
    udh = parse_udh(short_message) if udhi else None
    body = short_message[udh.length :] if udh else short_message
    fill = (7 - (udh.length * 8) % 7) % 7 if udh else 0
    return DecodedText(_decode_body(body, charset, options, fill, udh), udh, charset, flash)


def decode_concatenated(
    parts: Sequence[tuple[bytes, bool]], data_coding: int, options: DecodeOptions = DEFAULT_OPTIONS
) -> str | None:
    """The whole text of a concatenated message: bodies joined before decoding, so a
    surrogate pair or a GSM escape split across two parts decodes as one character."""
    charset, _ = charset_of(data_coding, options)
    if charset in ("binary", "compressed"):
        return None
    chunks = []
    first_udh = None
    for short_message, udhi in parts:
        udh = parse_udh(short_message) if udhi else None
        first_udh = first_udh or udh
        body = short_message[udh.length :] if udh else short_message
        if charset == "gsm7" and options.gsm7_packed:
            body = gsm7.unpack(body, (7 - (udh.length * 8) % 7) % 7 if udh else 0)
        chunks.append(body)
    joined = b"".join(chunks)
    return _decode_body(
        joined,
        charset,
        options if charset != "gsm7" else DecodeOptions(options.default_alphabet, False),
        0,
        first_udh,  # the shift tables of the message (every part carries the same)
    )
