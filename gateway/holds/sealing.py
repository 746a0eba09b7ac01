"""Encryption at rest for kept PDUs: AES-256-GCM under a key ring that can rotate.

A sealed blob is ``version (1) | key id (4) | nonce (12) | ciphertext+tag``. The key id is
the first four bytes of the key's SHA-256, so after a rotation blobs sealed under an older
key still open while the old key stays in the ring. The associated data binds a blob to
its row (its id), so a blob copied to another row does not open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = 1
_HEADER = 1 + 4 + 12


class SealError(ValueError):
    """A blob did not open: wrong key, tampered, or not a sealed blob."""


def parse_key(text: str) -> bytes:
    """A 32-byte key from its base64 (or hex) text form."""
    text = text.strip()
    try:
        key = base64.b64decode(text, validate=True) if len(text) != 64 else bytes.fromhex(text)
    except (binascii.Error, ValueError) as error:
        raise ValueError("expected 32 bytes as base64 or 64 hex digits") from error
    if len(key) != 32:
        raise ValueError(f"expected a 32-byte key, got {len(key)} bytes")
    return key


def new_key() -> str:
    """A fresh key in the text form the configuration takes."""
    return base64.b64encode(os.urandom(32)).decode()


class Sealer:
    """Seals with the first key of the ring; opens with any of them."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("a key ring needs at least one key")
        self._ring = {hashlib.sha256(k).digest()[:4]: AESGCM(k) for k in keys}
        self._current_id = hashlib.sha256(keys[0]).digest()[:4]
        self._current = self._ring[self._current_id]

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        nonce = os.urandom(12)
        return (
            bytes((_VERSION,))
            + self._current_id
            + nonce
            + self._current.encrypt(nonce, plaintext, context)
        )

    def open(self, blob: bytes, context: bytes) -> bytes:
        if len(blob) < _HEADER + 16 or blob[0] != _VERSION:
            raise SealError("not a sealed blob")
        cipher = self._ring.get(blob[1:5])
        if cipher is None:
            raise SealError("sealed under a key that is not in the ring")
        try:
            return cipher.decrypt(blob[5:17], blob[17:], context)
        except InvalidTag as error:
            raise SealError("blob does not open under its key (tampered or wrong row)") from error

    def needs_reseal(self, blob: bytes) -> bool:
        """Whether a blob was sealed under an older key (for a re-encryption pass)."""
        return blob[1:5] != self._current_id
