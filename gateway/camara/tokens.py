"""OAuth2 client credentials for the CAMARA endpoints, as CAMARA clients expect.

The client id is a tenant API key's visible id, the client secret the key itself; tokens
are opaque, short-lived and held in memory only (a restart asks clients for a new one,
which they do on any 401).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

SUBSCRIBE_SCOPE = (
    "sim-swap-subscriptions:org.camaraproject.sim-swap-subscriptions.v0.swapped:create"
)
SCOPES = frozenset(
    {
        SUBSCRIBE_SCOPE,
        "sim-swap:check",
        "sim-swap:retrieve-date",
        "call-forwarding-signal:unconditional-call-forwardings:read",
        "call-forwarding-signal:call-forwardings:read",
    }
)


@dataclass(frozen=True, slots=True)
class Token:
    tenant: str
    scopes: frozenset[str]
    expires_at: float


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
