"""Who is calling a CAMARA endpoint, and may they: token, scope, tenant, rate limits.

In this order, as Commonalities ask: no valid token is 401 UNAUTHENTICATED; a valid token
without any of the operation's scopes, or a tenant the operator has not enabled, is
403 PERMISSION_DENIED; past the tenant's quota 429 QUOTA_EXCEEDED, past the server's own
limit 429 TOO_MANY_REQUESTS, both with ``Retry-After``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from ..camara.rate_limits import RateLimits
from .errors import error_response

if TYPE_CHECKING:
    from ..camara.tokens import Token
    from ..config_tenants import TenantConfig
    from ..parts import CamaraParts


@dataclass(frozen=True, slots=True)
class Caller:
    token: Token
    tenant: TenantConfig


def authorize(
    gateway: CamaraParts, limits: RateLimits, request: web.Request, scopes: frozenset[str]
) -> Caller | web.Response:
    """The caller, or the error answer; ``scopes``: any one of them grants the operation."""
    now = gateway.clock.now()
    header = request.headers.get("Authorization", "")
    token = gateway.camara_tokens.check(header[7:], now) if header.startswith("Bearer ") else None
    if token is None:
        return error_response(401, "missing, invalid or expired access token")
    if not scopes & token.scopes:
        wanted = " or ".join(sorted(scopes))
        return error_response(403, f"the token lacks the scope {wanted}", "PERMISSION_DENIED")
    tenant = gateway.tenants.tenants.get(token.tenant)
    if tenant is None or not tenant.camara:
        return error_response(403, "the operator has not enabled CAMARA for this client")
    limited = limits.take(tenant.name, tenant.camara_quota_per_minute, now)
    if limited is not None:
        response = error_response(429, limited.message, limited.code)
        response.headers["Retry-After"] = str(limited.retry_after_s)
        return response
    return Caller(token, tenant)


def rate_limits(gateway: CamaraParts) -> RateLimits:
    config = gateway.camara_config
    return RateLimits(config.server_rate_per_s, config.server_burst)
