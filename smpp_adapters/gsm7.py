"""The GSM 7-bit default alphabet and its extension table (3GPP TS 23.038 6.2.1), by table look-up."""

from __future__ import annotations

import codecs
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
_ENCODE = {c: i for i, c in enumerate(DEFAULT_ALPHABET) if i != ESCAPE}
_ENCODE_EXTENSION = {c: i for i, c in EXTENSION.items()}
# An escaped septet is marked by setting bit 7, free since septets are below 128: one
# table then reads plain and escaped septets alike.
_ESCAPED = 0x80
_ESCAPE_MARKS = bytes(_ESCAPED if i == ESCAPE else 0 for i in range(256))


def decoding_table(alphabet: str, extension: Mapping[int, str] | None = None) -> str:
    """A language's tables as one 256-character ``codecs.charmap_decode`` table.

    Septet ``v`` reads as ``alphabet[v]``; escaped septet ``v | 0x80`` as ``extension[v]``,
    or ``alphabet[v]`` where the extension has nothing (TS 23.038 6.2.1.1); two escapes
    read as a space (reserved for another extension table). Escapes themselves are removed
    before decoding: an error handler called for each would cost more than the rest.
    """
    extension = EXTENSION if extension is None else extension
    plain = [alphabet[i] for i in range(128)]
    plain[ESCAPE] = "\ufffd"
    escaped = [extension.get(i, alphabet[i]) for i in range(128)]
    escaped[ESCAPE] = " "
    return "".join(plain + escaped)


_DEFAULT_TABLE = decoding_table(DEFAULT_ALPHABET)
_TABLES: dict[tuple[int, int], tuple[str, Mapping[int, str] | None, str]] = {}


def _table(alphabet: str, extension: Mapping[int, str] | None) -> str:
    """Built once per pair of tables; the entry keeps both alive, so their ids stay theirs."""
    if alphabet is DEFAULT_ALPHABET and extension is None:
        return _DEFAULT_TABLE
    key = (id(alphabet), id(extension))
    entry = _TABLES.get(key)
    if entry is None or entry[0] is not alphabet or entry[1] is not extension:
        if len(_TABLES) >= 64:
            _TABLES.clear()
        entry = (alphabet, extension, decoding_table(alphabet, extension))
        _TABLES[key] = entry
    return entry[2]


def decode_septets(
    septets: bytes,
    *,
    alphabet: str = DEFAULT_ALPHABET,
    extension: Mapping[int, str] | None = None,
    translation: object = None,
) -> str:
    """Unpacked septets (one per octet) to text; values over 127 become U+FFFD.

    ``alphabet`` (128 characters) and ``extension`` are a national language's tables, the
    default ones otherwise; ``translation`` may be their ``decoding_table`` (anything else
    is ignored and the table built once per pair and kept). No Python step per septet:
    escapes are marked with integer shifts, then one ``codecs.charmap_decode``.
    """
    if not (isinstance(translation, str) and len(translation) == 256):
        translation = _table(alphabet, extension)
    if not septets.isascii():
        return _decode_stepwise(septets, alphabet, extension)
    if ESCAPE in septets:
        if b"\x1b\x1b" in septets:
            return _decode_stepwise(septets, alphabet, extension)
        # Bit 7 on every septet that follows an escape, then the escapes dropped.
        marks = int.from_bytes(septets.translate(_ESCAPE_MARKS), "big") >> 8
        marked = (int.from_bytes(septets, "big") | marks).to_bytes(len(septets), "big")
        septets = marked.translate(None, b"\x1b")
    return codecs.charmap_decode(septets, "replace", translation)[0]


def _decode_stepwise(septets: bytes, alphabet: str, extension: Mapping[int, str] | None) -> str:
    """For what the marks cannot carry: values over 127 (not septets) and escaped escapes."""
    table = EXTENSION if extension is None else extension
    out, escaped = [], False
    for value in septets:
        if value >= 128:
            out.append("\ufffd")
            escaped = False
        elif escaped:
            out.append(" " if value == ESCAPE else table.get(value, alphabet[value]))
            escaped = False
        elif value == ESCAPE:
            escaped = True
        else:
            out.append(alphabet[value])
    return "".join(out)


def _spread_steps(septets: int) -> tuple[tuple[int, int], ...]:
    """Masks that move septet i of an integer from bit 7i to bit 8i, in log2(n) steps.

    Step ``shift`` moves every septet whose index has that bit set; going from the
    highest bit down, no septet ever overlaps the next one.
    """
    steps = []
    shift = 1 << (septets - 1).bit_length()
    while shift > 1:
        shift >>= 1
        done = ~((shift << 1) - 1)  # the index bits already applied
        mask = 0
        for i in range(septets):
            if i & shift:
                mask |= 0x7F << (7 * i + (i & done))
        steps.append((mask, shift))
    return tuple(steps)


_BLOCK_SEPTETS = 256  # 224 octets: a block is a whole number of octets and septets
_BLOCK_BITS = 7 * _BLOCK_SEPTETS
_SPREAD = _spread_steps(_BLOCK_SEPTETS)


def _spread(value: int) -> int:
    for mask, shift in _SPREAD:
        moved = value & mask
        value ^= moved
        value |= moved << shift
    return value


def unpack(data: bytes, fill_bits: int = 0) -> bytes:
    """7-bit packed octets to septets, skipping ``fill_bits`` leading bits (after a UDH).

    Big-integer shifts by 256 septets at a time instead of a Python step per septet.
    """
    bits = len(data) * 8 - fill_bits
    count = bits // 7
    if count <= 0:
        return b""
    value = (int.from_bytes(data, "little") >> fill_bits) & ((1 << (7 * count)) - 1)
    if count <= _BLOCK_SEPTETS:
        septets = _spread(value).to_bytes(count, "little")
    else:
        blocks = []
        for first in range(0, count, _BLOCK_SEPTETS):
            block = (value >> (7 * first)) & ((1 << _BLOCK_BITS) - 1)
            blocks.append(_spread(block).to_bytes(min(_BLOCK_SEPTETS, count - first), "little"))
        septets = b"".join(blocks)
    if bits == count * 7 and septets[-1] == 0:
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
