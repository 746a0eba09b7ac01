"""Who is calling a CAMARA endpoint, and may they: token, scope, tenant, rate limits.

In this order, as Commonalities ask: no valid token is 401 UNAUTHENTICATED; a valid token
without any of the operation's scopes, or a tenant the operator has not enabled, is
403 PERMISSION_DENIED; past the tenant's quota 429 QUOTA_EXCEEDED, past the server's own
limit 429 TOO_MANY_REQUESTS, both with ``Retry-After``. A token is either one issued by
``/oauth2/token`` (opaque) or, with ``[camara.jwt]``, a JWT of the operator's
authorization server (three dot-separated parts), which may name the phone number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from ..camara.jwt_tokens import Rejected
from ..camara.rate_limits import RateLimits
from ..camara.tokens import Token
from .errors import error_response

if TYPE_CHECKING:
    from ..config_tenants import TenantConfig
    from ..parts import CamaraParts


@dataclass(frozen=True, slots=True)
class Caller:
    token: Token
    tenant: TenantConfig


async def authorize(
    gateway: CamaraParts, limits: RateLimits, request: web.Request, scopes: frozenset[str]
) -> Caller | web.Response:
    """The caller, or the error answer; ``scopes``: any one of them grants the operation."""
    now = gateway.clock.now()
    header = request.headers.get("Authorization", "")
    value = header[7:] if header.startswith("Bearer ") else ""
    if gateway.camara_jwt is not None and value.count(".") == 2:
        verified = await gateway.camara_jwt.verify(value)
        if isinstance(verified, Rejected):
            # The reason, never the token: a bearer token in a log is a credential leaked.
            return error_response(verified.status, verified.message)
        token: Token | None = verified
    else:
        token = gateway.camara_tokens.check(value, now) if value else None
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
