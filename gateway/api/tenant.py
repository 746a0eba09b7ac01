"""The tenant API (payment platforms), on its own listener: holds, webhooks, deliveries.

Every call carries ``Authorization: Bearer <api key>``; the key names the tenant, and
every handler sees only that tenant's messages. A wrong or revoked key is 401.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ..camara.correlator import correlator_middleware
from .camara import add_camara_routes
from .errors import TENANT, Handler, error_response, json_errors
from .holds import add_hold_routes
from .openapi import tenant_document
from .webhooks import add_webhook_routes

if TYPE_CHECKING:
    from ..parts import TenantParts

OPEN_PATHS = frozenset({"/healthz", "/openapi.json"})


def tenant_auth(gateway: TenantParts) -> object:
    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in OPEN_PATHS or request.path.startswith(gateway.camara_paths):
            return await handler(request)
        header = request.headers.get("Authorization", "")
        tenant = gateway.api_keys.tenant_for(header[7:]) if header.startswith("Bearer ") else None
        if tenant is None:
            return error_response(401, "missing, wrong or revoked API key")
        request[TENANT] = tenant
        return await handler(request)

    return authenticate


def build_tenant_app(gateway: TenantParts) -> web.Application:
    # The token endpoint answers in OAuth2's shape, not CAMARA's: no x-correlator there.
    camara_apis = tuple(p for p in gateway.camara_paths if p != "/oauth2/")
    app = web.Application(
        middlewares=[correlator_middleware(camara_apis), json_errors, tenant_auth(gateway)]  # type: ignore[list-item]
    )

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    document = tenant_document()

    async def openapi(request: web.Request) -> web.Response:
        return web.json_response(document)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/openapi.json", openapi)
    add_hold_routes(app, gateway.holds, lambda request: request[TENANT], "/v1")
    add_webhook_routes(app, gateway.webhooks)
    add_camara_routes(app, gateway.camara)
    return app
