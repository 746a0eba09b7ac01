"""Who is calling a CAMARA endpoint, and may they: token, scope, tenant, quota.

In this order, as Commonalities ask: no valid token is 401 UNAUTHENTICATED; a valid token
without any of the operation's scopes, or a tenant the operator has not enabled, is
403 PERMISSION_DENIED; past the tenant's quota, 429.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from .errors import error_response

if TYPE_CHECKING:
    from ..camara.tokens import Token
    from ..config_tenants import TenantConfig
    from ..parts import CamaraParts


class Quota:
    """Requests per tenant per minute, a fixed window: simple, and enough to stop a sweep."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}

    def take(self, tenant: str, limit: int, now: float) -> bool:
        minute = int(now // 60)
        window, used = self._windows.get(tenant, (minute, 0))
        if window != minute:
            window, used = minute, 0
        if used >= limit:
            return False
        self._windows[tenant] = (window, used + 1)
        return True


@dataclass(frozen=True, slots=True)
class Caller:
    token: Token
    tenant: TenantConfig


def authorize(
    gateway: CamaraParts, quota: Quota, request: web.Request, scopes: frozenset[str]
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
    if not quota.take(tenant.name, tenant.camara_quota_per_minute, now):
        # The tenant's own business quota, not the server's capacity: QUOTA_EXCEEDED.
        return error_response(429, "quota exceeded; try again in the next minute", "QUOTA_EXCEEDED")
    return Caller(token, tenant)
