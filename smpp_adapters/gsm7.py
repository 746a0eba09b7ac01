"""The GSM 7-bit default alphabet and its extension table (3GPP TS 23.038 6.2.1), by table look-up."""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_ALPHABET = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}
ESCAPE = 0x1B
# Septet value -> character, for bytes.decode-free translation of unpacked septets.
_TABLE = {i: c for i, c in enumerate(DEFAULT_ALPHABET)}
_ENCODE = {c: i for i, c in enumerate(DEFAULT_ALPHABET) if i != ESCAPE}
_ENCODE_EXTENSION = {c: i for i, c in EXTENSION.items()}


def decode_septets(
    septets: bytes,
    *,
    alphabet: str = DEFAULT_ALPHABET,
    extension: Mapping[int, str] | None = None,
    translation: Mapping[int, str] | None = None,
) -> str:
    """Unpacked septets (one per octet) to text; unknown values become U+FFFD.

    ``alphabet`` (128 characters), ``extension`` and the matching ``translation`` (for
    ``str.translate``) are a national language's tables; the default ones otherwise.
    """
    if ESCAPE not in septets:
        return septets.decode("latin-1").translate(translation or _TRANSLATE)
    table = EXTENSION if extension is None else extension
    out, escaped = [], False
    for value in septets:
        if escaped:
            out.append(table.get(value, alphabet[value & 0x7F]))
            escaped = False
        elif value == ESCAPE:
            escaped = True
        else:
            out.append(alphabet[value] if value < 128 else "\ufffd")
    return "".join(out)


_TRANSLATE = str.maketrans(
    {chr(i): c for i, c in _TABLE.items()} | {chr(i): "\ufffd" for i in range(128, 256)}
)


def unpack(data: bytes, fill_bits: int = 0) -> bytes:
    """7-bit packed octets to septets, skipping ``fill_bits`` leading bits (after a UDH)."""
    value = int.from_bytes(data, "little") >> fill_bits
    bits = len(data) * 8 - fill_bits
    count = bits // 7
    septets = bytes((value >> (7 * i)) & 0x7F for i in range(count))
    if count and bits == count * 7 and septets[-1] == 0:
        # Exactly one septet of padding bits, left zero by the sender (TS 23.038 6.1.2.3.1
        # asks for CR there); it is padding, not an '@'.
        return septets[:-1]
    return septets


def encode_septets(text: str) -> bytes:
    """Text to unpacked septets (characters outside the alphabet become '?')."""
    out = bytearray()
    for char in text:
        if char in _ENCODE:
            out.append(_ENCODE[char])
        elif char in _ENCODE_EXTENSION:
            out += bytes((ESCAPE, _ENCODE_EXTENSION[char]))
        else:
            out.append(_ENCODE["?"])
    return bytes(out)


def pack(septets: bytes, fill_bits: int = 0) -> bytes:
    value = 0
    for i, septet in enumerate(septets):
        value |= (septet & 0x7F) << (7 * i)
    value <<= fill_bits
    bits = len(septets) * 7 + fill_bits
    return value.to_bytes((bits + 7) // 8, "little")
