"""The User Data Header of a short message (TS 23.040 9.2.3.24): concatenation and language shifts."""

from __future__ import annotations

from dataclasses import dataclass


class UdhError(ValueError):
    """The UDH announced by esm_class runs past the message."""


@dataclass(frozen=True, slots=True)
class Concatenation:
    reference: int
    total: int
    seqnum: int


@dataclass(frozen=True, slots=True)
class Udh:
    length: int  # octets, the UDHL octet included
    concatenation: Concatenation | None = None
    single_shift: int | None = None  # IEI 0x24, national language single shift table
    locking_shift: int | None = None  # IEI 0x25, national language locking shift table
    other: tuple[tuple[int, bytes], ...] = ()


def parse_udh(data: bytes) -> Udh:
    """Parse the UDH at the start of ``data`` (the short message of a UDHI message)."""
    if not data:
        raise UdhError("UDHI set but the message is empty")
    length = data[0] + 1
    if length > len(data):
        raise UdhError(f"UDH of {length} octets in a message of {len(data)}")
    pos, concatenation, single, locking, other = 1, None, None, None, []
    while pos < length:
        if pos + 2 > length:
            raise UdhError("truncated information element")
        iei, size = data[pos], data[pos + 1]
        value = data[pos + 2 : pos + 2 + size]
        if pos + 2 + size > length:
            raise UdhError(f"information element 0x{iei:02x} runs past the UDH")
        if iei == 0x00 and size == 3:
            concatenation = Concatenation(value[0], value[1], value[2])
        elif iei == 0x08 and size == 4:
            concatenation = Concatenation(int.from_bytes(value[:2], "big"), value[2], value[3])
        elif iei == 0x24 and size == 1:
            single = value[0]
        elif iei == 0x25 and size == 1:
            locking = value[0]
        else:
            other.append((iei, bytes(value)))
        pos += 2 + size
    return Udh(length, concatenation, single, locking, tuple(other))
