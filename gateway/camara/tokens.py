"""OAuth2 client credentials for the CAMARA endpoints, as CAMARA clients expect; the scopes.

The client id is a tenant API key's visible id, the client secret the key itself; tokens
are opaque, short-lived and held in memory only (a restart asks clients for a new one,
which they do on any 401).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

# The scopes of the official documents (SIM Swap v2.1, SIM swap subscriptions v0.3, Call
# Forwarding Signal v0.4); ``sim-swap`` is the API-wide scope either SIM Swap operation takes.
SIM_SWAP_SCOPE = "sim-swap"
CHECK_SCOPE = "sim-swap:check"
RETRIEVE_DATE_SCOPE = "sim-swap:retrieve-date"
SUBSCRIBE_SCOPE = (
    "sim-swap-subscriptions:org.camaraproject.sim-swap-subscriptions.v0.swapped:create"
)
READ_SUBSCRIPTIONS_SCOPE = "sim-swap-subscriptions:read"
DELETE_SUBSCRIPTIONS_SCOPE = "sim-swap-subscriptions:delete"
UNCONDITIONAL_SCOPE = "call-forwarding-signal:unconditional-call-forwardings:read"
CALL_FORWARDINGS_SCOPE = "call-forwarding-signal:call-forwardings:read"
SCOPES = frozenset(
    {
        SIM_SWAP_SCOPE,
        CHECK_SCOPE,
        RETRIEVE_DATE_SCOPE,
        SUBSCRIBE_SCOPE,
        READ_SUBSCRIPTIONS_SCOPE,
        DELETE_SUBSCRIPTIONS_SCOPE,
        UNCONDITIONAL_SCOPE,
        CALL_FORWARDINGS_SCOPE,
    }
)


@dataclass(frozen=True, slots=True)
class Token:
    tenant: str
    scopes: frozenset[str]
    expires_at: float
    # The subscriber a 3-legged token was issued for (a JWT of the operator's authorization
    # server); client credentials name none.
    phone_number: str | None = None


class TokenIssuer:
    def __init__(self, lifetime_s: float = 3600.0) -> None:
        self.lifetime_s = lifetime_s
        self._tokens: dict[str, Token] = {}

    def issue(self, tenant: str, scopes: frozenset[str], now: float) -> tuple[str, Token]:
        self._forget_expired(now)
        value = secrets.token_urlsafe(32)
        token = Token(tenant, scopes, now + self.lifetime_s)
        self._tokens[value] = token
        return value, token

    def check(self, value: str, now: float) -> Token | None:
        token = self._tokens.get(value)
        if token is None or token.expires_at <= now:
            return None
        return token

    def _forget_expired(self, now: float) -> None:
        if len(self._tokens) > 10_000:
            self._tokens = {v: t for v, t in self._tokens.items() if t.expires_at > now}
