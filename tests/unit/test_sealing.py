"""Encryption at rest: round trip, rotation, tampering and wrong rows refused."""

from __future__ import annotations

import pytest

from gateway.holds.sealing import Sealer, SealError, new_key, parse_key


def test_round_trip_hides_the_plaintext() -> None:
    sealer = Sealer([parse_key(new_key())])
    blob = sealer.seal(b"Your code is 482913", b"hold:1")
    assert b"482913" not in blob
    assert sealer.open(blob, b"hold:1") == b"Your code is 482913"


def test_rotation_opens_old_blobs_and_seals_under_the_new_key() -> None:
    old, new = parse_key(new_key()), parse_key(new_key())
    before = Sealer([old]).seal(b"part", b"ctx")
    rotated = Sealer([new, old])
    assert rotated.open(before, b"ctx") == b"part"
    assert rotated.needs_reseal(before)
    assert not rotated.needs_reseal(rotated.seal(b"part", b"ctx"))
    with pytest.raises(SealError, match="not in the ring"):
        Sealer([new]).open(before, b"ctx")


@pytest.mark.parametrize(
    "mutate", [lambda b: b[:-1] + bytes([b[-1] ^ 1]), lambda b: b[:20], lambda b: b"\x02" + b[1:]]
)
def test_tampered_blobs_are_refused(mutate) -> None:
    sealer = Sealer([parse_key(new_key())])
    with pytest.raises(SealError):
        sealer.open(mutate(sealer.seal(b"secret", b"ctx")), b"ctx")


def test_a_blob_does_not_open_in_another_row() -> None:
    sealer = Sealer([parse_key(new_key())])
    with pytest.raises(SealError, match="wrong row"):
        sealer.open(sealer.seal(b"secret", b"hold:1"), b"hold:2")


@pytest.mark.parametrize("text", ["", "short", "A" * 40, "zz" * 32])
def test_bad_keys_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_key(text)


def test_hex_keys_are_accepted() -> None:
    assert len(parse_key("ab" * 32)) == 32
