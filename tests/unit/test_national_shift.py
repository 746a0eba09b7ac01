"""National language shift tables (TS 23.038 annex A) selected by UDH IEIs 0x24 and 0x25."""

from __future__ import annotations

from smpp_adapters import gsm7
from smpp_adapters.gsm7_national import SPANISH_SINGLE, TURKISH_LOCKING, TURKISH_SINGLE
from smpp_adapters.text_decoding import DecodeOptions, decode_concatenated, decode_short_message

TURKISH = "Şifreniz: 482913. Güvenliğiniz için ışık € İstanbul ş ç"


def encode_turkish(text: str) -> bytes:
    """Our own encoder for the test: locking table first, then the single shift."""
    locking = {c: i for i, c in enumerate(TURKISH_LOCKING) if i != gsm7.ESCAPE}
    single = {c: i for i, c in TURKISH_SINGLE.items()}
    out = bytearray()
    for char in text:
        if char in locking:
            out.append(locking[char])
        else:
            out += bytes((gsm7.ESCAPE, single[char]))
    return bytes(out)


def udh(*ies: tuple[int, int]) -> bytes:
    body = b"".join(bytes((iei, 1, value)) for iei, value in ies)
    return bytes((len(body),)) + body


def test_turkish_locking_and_single_shift_unpacked() -> None:
    septets = encode_turkish(TURKISH)
    message = udh((0x25, 1), (0x24, 1)) + septets
    decoded = decode_short_message(message, 0, udhi=True)
    assert decoded.text == TURKISH
    assert (decoded.udh.locking_shift, decoded.udh.single_shift) == (1, 1)


def test_turkish_packed_with_fill_bits_after_the_udh() -> None:
    # A locking shift IE alone: a 4-octet UDH, so 3 fill bits before the first septet.
    header = udh((0x25, 1))
    septets = encode_turkish("Şifre 482913 ışık İ ç ğ")
    packed = _pack_after(header, septets)
    decoded = decode_short_message(
        packed, 0, udhi=True, options=DecodeOptions("gsm7", gsm7_packed=True)
    )
    assert decoded.text == "Şifre 482913 ışık İ ç ğ"


def _pack_after(header: bytes, septets: bytes) -> bytes:
    """Pack septets after a UDH: fill bits so the first septet starts on a septet boundary."""
    fill = (7 - (len(header) * 8) % 7) % 7
    value = 0
    for index, septet in enumerate(septets):
        value |= septet << (fill + 7 * index)
    bits = fill + 7 * len(septets)
    return header + value.to_bytes((bits + 7) // 8, "little")


def test_turkish_packed_with_both_shifts() -> None:
    # Both shift IEs make a 7-octet UDH, which ends on a septet boundary (no fill bits).
    header = udh((0x25, 1), (0x24, 1))
    text = "Tek kullanımlık şifreniz: 482913. Ücret 1€. İyi günler, ĞŞ ç"
    decoded = decode_short_message(
        _pack_after(header, encode_turkish(text)),
        0,
        udhi=True,
        options=DecodeOptions("gsm7", gsm7_packed=True),
    )
    assert decoded.text == text


def test_turkish_payload_longer_than_256_septets_packed() -> None:
    # message_payload carries one long text: unpacked in blocks of 256 septets.
    text = ("Şifreniz 482913, işlem ücreti 2€ (ığüşöç). " * 8)[:300]
    septets = encode_turkish(text)
    assert len(septets) > 256
    header = udh((0x25, 1), (0x24, 1))
    decoded = decode_short_message(
        _pack_after(header, septets), 0, udhi=True, options=DecodeOptions("gsm7", gsm7_packed=True)
    )
    assert decoded.text == text


def test_two_escapes_read_as_a_space() -> None:
    # TS 23.038: 0x1B after an escape is reserved for another extension table, shown as a space.
    septets = encode_turkish("ş") + bytes((gsm7.ESCAPE, gsm7.ESCAPE)) + encode_turkish("ğ")
    assert decode_short_message(udh((0x25, 1), (0x24, 1)) + septets, 0, udhi=True).text == "ş ğ"


def test_spanish_single_shift() -> None:
    single = {c: i for i, c in SPANISH_SINGLE.items()}
    text = "Código: 4829 válido"
    septets = b"".join(
        bytes((gsm7.ESCAPE, single[c])) if c in "óá" else gsm7.encode_septets(c) for c in text
    )
    assert decode_short_message(udh((0x24, 2)) + septets, 0, udhi=True).text == text


def test_unknown_language_falls_back_to_the_default_tables() -> None:
    septets = gsm7.encode_septets("Code 1234 {ok}")
    assert decode_short_message(udh((0x25, 14), (0x24, 14)) + septets, 0, udhi=True).text == (
        "Code 1234 {ok}"
    )


def test_concatenated_turkish_keeps_its_tables_across_parts() -> None:
    septets = encode_turkish(TURKISH)
    head = bytes((0x00, 0x03, 0x07, 0x02))  # concatenation ref 7, 2 parts
    shifts = bytes((0x25, 1, 1, 0x24, 1, 1))
    first = bytes((len(head + shifts) + 2,)) + head + b"\x01" + shifts + septets[:20]
    second = bytes((len(head + shifts) + 2,)) + head + b"\x02" + shifts + septets[20:]
    # The UDH length octet above counts the seqnum octet; rebuild it exactly.
    first = bytes((len(first) - 1 - 20,)) + first[1:]
    second = bytes((len(second) - 1 - len(septets[20:]),)) + second[1:]
    assert decode_concatenated([(first, True), (second, True)], 0) == TURKISH
