"""Structured mutations of valid PDUs: what a broken or hostile SMPP peer can put on the wire.

Each mutator takes the bytes of one PDU and a ``random.Random`` and returns new bytes. They
aim at the codec's decisions (framing by command_length, the command table, C-Octet String
limits, sm_length, the TLV stream) rather than at random noise, which a header check would
refuse before anything interesting runs. ``mutate`` chains one to three of them and, half the
time, repairs command_length afterwards so the damage reaches the body decoder.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Sequence

from smpp_adapters.constants import RESPONSE_BIT, CommandId

from .pdu_corpus import tlv

Mutator = Callable[[bytes, random.Random], bytes]
_HEADER = struct.Struct(">IIII")
_KNOWN_IDS = [int(c) for c in CommandId]
_ODD_IDS = [0, 0x7FFFFFFF, 0xFFFFFFFF, 0x0BADC0DE, 0x80000102, 0x00000104, 0x80000021]


def with_length(data: bytes, length: int | None = None) -> bytes:
    """``data`` with command_length set to ``length`` (default: its true length)."""
    if len(data) < 4:
        return data
    value = len(data) if length is None else length & 0xFFFFFFFF
    return value.to_bytes(4, "big") + data[4:]


def flip_bits(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        position = rng.randrange(len(out) * 8)
        out[position // 8] ^= 1 << (position % 8)
    return bytes(out)


def bad_command_length(data: bytes, rng: random.Random) -> bytes:
    true = len(data)
    length = rng.choice(
        [0, 1, 15, 16, true - 1, true + 1, true + 4096, 65536, 65537, 0x7FFFFFFF, 0xFFFFFFFF]
    )
    return with_length(data, length if rng.random() < 0.8 else rng.getrandbits(32))


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))]


def extend(data: bytes, rng: random.Random) -> bytes:
    tail = rng.choice([b"\x00", b"\xff" * 4, rng.randbytes(rng.randint(1, 300))])
    return data + tail


def change_command_id(data: bytes, rng: random.Random) -> bytes:
    if len(data) < 8:
        return data
    command_id = int.from_bytes(data[4:8], "big")
    choice = rng.random()
    if choice < 0.3:
        new = (command_id + rng.choice([-1, 1])) & 0xFFFFFFFF  # a neighbour
    elif choice < 0.5:
        new = command_id ^ RESPONSE_BIT  # request <-> response
    elif choice < 0.8:
        new = rng.choice(_KNOWN_IDS)  # a valid id over the wrong body
    else:
        new = rng.choice(_ODD_IDS) if rng.random() < 0.5 else rng.getrandbits(32)
    return data[:4] + new.to_bytes(4, "big") + data[8:]


def change_header_numbers(data: bytes, rng: random.Random) -> bytes:
    """command_status and sequence_number at their edges (0, 2^31-1, 2^32-1, vendor codes)."""
    if len(data) < 16:
        return data
    status = rng.choice([0, 0x58, 0x400, 0xFFFFFFFF, rng.getrandbits(32)])
    sequence = rng.choice([0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF])
    return data[:8] + struct.pack(">II", status, sequence) + data[16:]


def _nuls(data: bytes) -> list[int]:
    return [i for i in range(16, len(data)) if data[i] == 0]


def unterminated_cstring(data: bytes, rng: random.Random) -> bytes:
    """Replace a NUL of the body by a printable octet: a C-Octet String runs into the next field."""
    nuls = _nuls(data)
    if not nuls:
        return data
    i = rng.choice(nuls)
    return data[:i] + bytes((rng.choice(b"A9+\xff"),)) + data[i + 1 :]


def overlong_cstring(data: bytes, rng: random.Random) -> bytes:
    """Grow a C-Octet String past its limit (up to 80 octets: every limit is 65 or less)."""
    nuls = _nuls(data)
    if not nuls:
        return data
    i = rng.choice(nuls)
    filler = rng.choice([b"9", b"A", b"\xe9", b"%"]) * rng.randint(1, 80)
    return data[:i] + filler + data[i:]


def bad_sm_length(data: bytes, rng: random.Random) -> bytes:
    """Change one body octet to an sm_length-like value (0, 140, 254, 255) at a random place."""
    if len(data) <= 16:
        return data
    i = rng.randrange(16, len(data))
    return data[:i] + bytes((rng.choice([0, 1, 140, 160, 254, 255]),)) + data[i + 1 :]


def garble_tlvs(data: bytes, rng: random.Random) -> bytes:
    """Append TLVs that lie about their length, repeat a tag, or stop inside a header."""
    choice = rng.random()
    if choice < 0.25:
        tail = struct.pack(">HH", rng.getrandbits(16), rng.choice([1, 100, 0xFFFF])) + b"x"
    elif choice < 0.45:
        tail = struct.pack(">H", 0x0424)  # a TLV header cut after its tag
    elif choice < 0.65:
        tag = rng.choice([0x0204, 0x020C, 0x020E, 0x020F, 0x0424, 0x001E, 0x0427, 0x0019])
        value = rng.randbytes(rng.choice([0, 1, 2, 3, 255, 300]))
        tail = tlv(tag, value) * rng.randint(1, 3)  # duplicates, with values of odd sizes
    elif choice < 0.85:
        tail = tlv(0x0424, rng.randbytes(rng.randint(0, 4000)))  # a big message_payload
    else:
        tail = tlv(rng.getrandbits(16), b"") * rng.randint(1, 50)
    return data + tail


def splice_with(others: Sequence[bytes]) -> Mutator:
    """A mutator joining the head of this PDU to the tail of another seed."""

    def splice(data: bytes, rng: random.Random) -> bytes:
        other = rng.choice(others)
        return data[: rng.randrange(len(data) + 1)] + other[rng.randrange(len(other) + 1) :]

    return splice


def mutators(seeds: Sequence[bytes]) -> list[Mutator]:
    return [
        flip_bits,
        bad_command_length,
        truncate,
        extend,
        change_command_id,
        change_header_numbers,
        unterminated_cstring,
        overlong_cstring,
        bad_sm_length,
        garble_tlvs,
        splice_with(seeds),
    ]


class PduMutator:
    """Mutated PDUs from the seeds, reproducible from one ``random.Random``."""

    def __init__(self, seeds: Sequence[bytes], rng: random.Random) -> None:
        self.seeds = list(seeds)
        self.rng = rng
        self.mutators = mutators(self.seeds)

    def mutate(self) -> bytes:
        rng = self.rng
        data = rng.choice(self.seeds)
        for mutator in rng.sample(self.mutators, rng.randint(1, 3)):
            if not data:
                break  # truncated to nothing: an empty read is all there is left to try
            data = mutator(data, rng)
        # Half the time the length is made true again: the body decoder gets the damage,
        # instead of the framing refusing every input at the first four octets.
        if rng.random() < 0.5:
            data = with_length(data)
        return data
