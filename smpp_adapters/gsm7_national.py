"""National language shift tables of 3GPP TS 23.038 annex A (UDH IEI 0x24 and 0x25).

A locking shift table replaces the default alphabet for the whole message; a single shift
table replaces the extension table (what follows an escape). Tables are data: a 128-character
string indexed by septet, or a dict of the positions a single shift table defines. Turkish
(language 1) has both; Spanish (2) has a single shift table. Other language ids decode
with the default tables (the Indian scripts' tables are not here yet).
"""

from __future__ import annotations

from .gsm7 import DEFAULT_ALPHABET, ESCAPE, EXTENSION, decode_septets


def _locking(changes: dict[int, str]) -> str:
    table = list(DEFAULT_ALPHABET)
    for septet, char in changes.items():
        table[septet] = char
    return "".join(table)


# A.3.1 Turkish locking shift: the default alphabet with Turkish letters in place of others.
TURKISH_LOCKING = _locking(
    {
        0x04: "€",
        0x07: "ı",
        0x0B: "Ğ",
        0x0C: "ğ",
        0x1C: "Ş",
        0x1D: "ş",
        0x40: "İ",
        0x60: "ç",
    }
)

# What every single shift table keeps of the default extension table (all but the euro,
# which each language places itself).
_BASE_EXTENSION = {septet: char for septet, char in EXTENSION.items() if char != "€"}
# A.2.1 Turkish single shift.
TURKISH_SINGLE = _BASE_EXTENSION | {
    0x47: "Ğ",
    0x49: "İ",
    0x53: "Ş",
    0x63: "ç",
    0x65: "€",
    0x67: "ğ",
    0x69: "ı",
    0x73: "ş",
}
# A.2.2 Spanish single shift.
SPANISH_SINGLE = _BASE_EXTENSION | {
    0x09: "ç",
    0x41: "Á",
    0x49: "Í",
    0x4F: "Ó",
    0x55: "Ú",
    0x61: "á",
    0x65: "€",
    0x69: "í",
    0x6F: "ó",
    0x75: "ú",
}
LOCKING: dict[int, str] = {1: TURKISH_LOCKING}
SINGLE: dict[int, dict[int, str]] = {1: TURKISH_SINGLE, 2: SPANISH_SINGLE}
_TRANSLATIONS: dict[int, dict[int, str]] = {
    language: {i: c for i, c in enumerate(table) if i != ESCAPE}
    for language, table in LOCKING.items()
}


def decode_national(septets: bytes, locking: int | None, single: int | None) -> str:
    """Unpacked septets to text with the given national tables; unknown ids use the default."""
    return decode_septets(
        septets,
        alphabet=LOCKING.get(locking or 0, DEFAULT_ALPHABET),
        extension=SINGLE.get(single or 0),
        translation=_TRANSLATIONS.get(locking or 0),
    )
