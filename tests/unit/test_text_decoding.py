"""Text decoding by data_coding and UDH (3GPP TS 23.038 / 23.040)."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from smpp_adapters import gsm7
from smpp_adapters.text_decoding import (
    DecodeOptions,
    charset_of,
    decode_concatenated,
    decode_short_message,
)
from smpp_adapters.udh import UdhError, parse_udh

PACKED = DecodeOptions(gsm7_packed=True)
EXTENDED = "Code {1234} costs €5 [ok] ~^|\\"


def test_gsm7_unpacked_with_extension_characters() -> None:
    assert decode_short_message(gsm7.encode_septets(EXTENDED), 0, udhi=False).text == EXTENDED


def test_gsm7_packed_with_extension_characters() -> None:
    packed = gsm7.pack(gsm7.encode_septets(EXTENDED))
    assert decode_short_message(packed, 0, udhi=False, options=PACKED).text == EXTENDED


def test_gsm7_packed_after_a_udh_skips_the_fill_bit() -> None:
    udh = bytes.fromhex("050003070201")  # 6 octets = 48 bits: 1 fill bit to the next septet
    body = gsm7.pack(gsm7.encode_septets("Your code is 482913"), fill_bits=1)
    decoded = decode_short_message(udh + body, 0, udhi=True, options=PACKED)
    assert decoded.text == "Your code is 482913"
    assert decoded.udh is not None and decoded.udh.concatenation.total == 2


def test_ucs2_emoji_split_across_parts() -> None:
    data = "验证码 771203 😀".encode("utf-16-be")
    first, second = data[:-2], data[-2:]  # the surrogate pair is cut in two
    parts = [
        (bytes.fromhex("0500034a0201") + first, True),
        (bytes.fromhex("0500034a0202") + second, True),
    ]
    assert decode_concatenated(parts, 0x08) == "验证码 771203 😀"


@pytest.mark.parametrize(
    ("data_coding", "charset", "flash"),
    [
        (0x00, "gsm7", False),
        (0x01, "ia5", False),
        (0x03, "latin1", False),
        (0x08, "ucs2", False),
        (0x04, "binary", False),
        (0x02, "binary", False),
        (0x10, "gsm7", True),
        (0x18, "ucs2", True),
        (0xF0, "gsm7", True),
        (0xF4, "binary", True),
        (0xF1, "gsm7", False),
        (0x20, "compressed", False),
    ],
)
def test_coding_groups(data_coding: int, charset: str, flash: bool) -> None:
    assert charset_of(data_coding) == (charset, flash)


def test_binary_stays_undecoded_and_latin1_decodes() -> None:
    assert decode_short_message(b"\x00\xff\x10", 0x04, udhi=False).text is None
    assert (
        decode_short_message("Código 4829".encode("latin-1"), 0x03, udhi=False).text
        == "Código 4829"
    )


def test_default_alphabet_option() -> None:
    assert (
        decode_short_message(
            b"caf\xe9", 0, udhi=False, options=DecodeOptions(default_alphabet="latin1")
        ).text
        == "café"
    )


def test_udh_parsing() -> None:
    udh = parse_udh(bytes.fromhex("0c0804abcd0302240101250101") + b"x")
    assert (udh.concatenation.reference, udh.concatenation.total, udh.concatenation.seqnum) == (
        0xABCD,
        3,
        2,
    )
    assert (udh.single_shift, udh.locking_shift, udh.length) == (1, 1, 13)
    with pytest.raises(UdhError):
        parse_udh(bytes.fromhex("0a0003"))


@given(
    st.text(
        alphabet=gsm7.DEFAULT_ALPHABET.replace("\x1b", "") + "".join(gsm7.EXTENSION.values()),
        max_size=160,
    )
)
def test_gsm7_round_trip(text: str) -> None:
    septets = gsm7.encode_septets(text)
    assert gsm7.decode_septets(septets) == text
    # 8n septets ending in '@' (septet 0) pack exactly like 8n-1 septets and their padding:
    # without a length the two cannot be told apart (TS 23.038 6.1.2.3.1 pads with CR).
    assume(not (len(septets) % 8 == 0 and septets and septets[-1] == 0))
    assert gsm7.decode_septets(gsm7.unpack(gsm7.pack(septets))[: len(septets)]) == text


@given(st.binary(max_size=200), st.integers(0, 255), st.booleans())
def test_garbage_never_raises_but_udh_error(data: bytes, data_coding: int, udhi: bool) -> None:
    try:
        decode_short_message(data, data_coding, udhi=udhi, options=PACKED)
    except UdhError:
        assert udhi
