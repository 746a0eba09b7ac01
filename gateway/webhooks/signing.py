"""Standard Webhooks signatures (https://www.standardwebhooks.com), what we sign and send.

``webhook-signature`` is ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``, one per
secret, space-separated: during a secret rotation both the new and the previous secret
sign, so a receiver verifies with whichever it has.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Sequence

PREFIX = "whsec_"
# The scheme's bounds: under 24 bytes is guessable, over 64 is longer than SHA-256's block.
MIN_KEY_BYTES, MAX_KEY_BYTES = 24, 64
_NEW_KEY_BYTES = 32


def new_secret() -> str:
    """A fresh ``whsec_`` secret, shown to the tenant once and sealed at rest."""
    return PREFIX + base64.b64encode(os.urandom(_NEW_KEY_BYTES)).decode()


def _key(secret: str) -> bytes:
    # Every secret we hold came from new_secret(); one that does not parse is our own bug,
    # and signing with whatever b64decode salvages from it would fail at every receiver.
    if not secret.startswith(PREFIX):
        raise ValueError(f"a webhook secret starts with {PREFIX!r}")
    try:
        key = base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except binascii.Error:
        raise ValueError("a webhook secret is base64 after its prefix") from None
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise ValueError(
            f"a webhook secret holds {MIN_KEY_BYTES}–{MAX_KEY_BYTES} bytes, not {len(key)}"
        )
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<signature>`` of one message under one secret."""
    # The body is signed as the exact bytes sent: re-encoding it would break the signature.
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(msg_id: str, timestamp: int, body: bytes, secrets: Sequence[str]) -> dict[str, str]:
    """The headers of one webhook request, signed with every secret in ``secrets``."""
    if not secrets:
        raise ValueError("a webhook needs at least one secret to sign with")
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, msg_id, timestamp, body) for s in secrets),
        "content-type": "application/json",
    }
