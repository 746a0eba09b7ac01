"""A SIM swap subscription request checked without I/O, with the codes CAMARA asks for.

The subject (``config.subscriptionDetail.phoneNumber``) is checked by ``requests``; this
module checks the rest. Only what otpgate can honour is accepted: HTTP delivery, the one
event type, and a sink credential that is a bearer access token (a plain password or a
refresh token would have to be kept and used in ways this gateway does not).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .requests import Refusal
from .subscription_terms import SWAPPED


@dataclass(frozen=True, slots=True)
class SubscriptionRequest:
    sink: str
    expires_at: float | None
    max_events: int | None
    sink_token: str | None
    sink_token_expires_at: float | None


def _instant(value: Any) -> float | None:
    """An RFC 3339 date-time with its offset, as epoch seconds; None if it is not one."""
    if not isinstance(value, str) or "T" not in value.upper():
        return None
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return None
    return None if moment.tzinfo is None else moment.timestamp()


def _bad(message: str, code: str = "INVALID_ARGUMENT") -> Refusal:
    return Refusal(400, code, message)


def _credential(value: Any, now: float) -> tuple[str, float] | Refusal:
    if not isinstance(value, dict):
        return _bad("sinkCredential: an object", "INVALID_CREDENTIAL")
    if value.get("credentialType") != "ACCESSTOKEN":
        return _bad("sinkCredential.credentialType: only ACCESSTOKEN", "INVALID_CREDENTIAL")
    if value.get("accessTokenType") != "bearer":
        return _bad("sinkCredential.accessTokenType: only bearer", "INVALID_TOKEN")
    token = value.get("accessToken")
    # Sent in a header: anything a header cannot carry is refused here, not at delivery.
    if not isinstance(token, str) or not token or not token.isascii() or not token.isprintable():
        return _bad("sinkCredential.accessToken: a non-empty token", "INVALID_CREDENTIAL")
    expires = _instant(value.get("accessTokenExpiresUtc"))
    if expires is None or expires <= now:
        return _bad(
            "sinkCredential.accessTokenExpiresUtc: a date-time in the future", "INVALID_CREDENTIAL"
        )
    return token, expires


def subscription_request(body: dict[str, Any], now: float) -> SubscriptionRequest | Refusal:
    protocol = body.get("protocol")
    if protocol is None:
        return _bad("protocol: required")
    if protocol != "HTTP":
        return _bad("protocol: only HTTP", "INVALID_PROTOCOL")
    sink = body.get("sink")
    if not isinstance(sink, str) or not sink:
        return _bad("sink: a URL is required")
    if body.get("types") != [SWAPPED]:
        return _bad(f"types: [{SWAPPED!r}]")
    config = body["config"]  # an object: the subject's check looked at it first
    expires_at = None
    if "subscriptionExpireTime" in config:
        expires_at = _instant(config["subscriptionExpireTime"])
        if expires_at is None:
            return _bad("config.subscriptionExpireTime: an RFC 3339 date-time with its offset")
        if expires_at <= now:
            return _bad("config.subscriptionExpireTime: in the past")
    max_events = config.get("subscriptionMaxEvents")
    if max_events is not None and (
        not isinstance(max_events, int) or isinstance(max_events, bool) or max_events < 1
    ):
        return _bad("config.subscriptionMaxEvents: an integer from 1")
    token = token_expires = None
    if "sinkCredential" in body:
        credential = _credential(body["sinkCredential"], now)
        if isinstance(credential, Refusal):
            return credential
        token, token_expires = credential
    return SubscriptionRequest(sink, expires_at, max_events, token, token_expires)
