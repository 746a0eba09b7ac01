"""The operator's view of the tenants: each with its accounts, keys and webhook endpoints;
its API keys created, listed and revoked; an endpoint's recent deliveries, and a dead
letter sent again.

What a tenant sees of itself on its own listener, the operator sees for all of them; never
an endpoint's signing secret, a key, or an event's body."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .errors import error_response
from .webhooks import delivery_row_id

if TYPE_CHECKING:
    from ..parts import OperatorParts

_RECENT = 50  # deliveries shown per endpoint


def add_tenant_admin_routes(app: web.Application, gateway: OperatorParts) -> None:
    webhooks = gateway.webhooks

    def tenant_of(request: web.Request) -> str:
        name = request.match_info["tenant"]
        if name not in gateway.tenants.tenants:
            raise web.HTTPNotFound(reason=f"no tenant {name[:40]!r}")
        return name

    async def create_key(request: web.Request) -> web.Response:
        key, info = await gateway.api_keys.create(tenant_of(request), gateway.clock.now())
        # Shown once: only its digest is kept.
        return web.json_response({**info.to_json(), "key": key}, status=201)

    async def list_keys(request: web.Request) -> web.Response:
        keys = gateway.api_keys.of_tenant(tenant_of(request))
        return web.json_response({"keys": [k.to_json() for k in keys]})

    async def revoke_key(request: web.Request) -> web.Response:
        tenant = tenant_of(request)
        if not await gateway.api_keys.revoke(
            tenant, request.match_info["key_id"], gateway.clock.now()
        ):
            raise web.HTTPNotFound(reason="no such active key")
        return web.Response(status=204)

    async def list_tenants(request: web.Request) -> web.Response:
        accounts: dict[str, list[str]] = {}
        for account in gateway.binds.accounts.accounts.values():
            if account.tenant:
                accounts.setdefault(account.tenant, []).append(account.system_id)
        out: list[dict[str, Any]] = []
        for name, config in sorted(gateway.tenants.tenants.items()):
            hooks = webhooks.subscriptions.of_tenant(name)
            out.append(
                {
                    "name": name,
                    "camara": config.camara,
                    "camara_all_subscribers": config.camara_all_subscribers,
                    "accounts": sorted(accounts.get(name, [])),
                    "senders": {a: list(s) for a, s in config.senders.items()},
                    "active_keys": sum(
                        1 for k in gateway.api_keys.of_tenant(name) if k.revoked_at is None
                    ),
                    "webhooks": len(hooks),
                    "webhooks_disabled": sum(1 for w in hooks if not w.enabled),
                }
            )
        return web.json_response({"tenants": out})

    async def tenant_webhooks(request: web.Request) -> web.Response:
        tenant = tenant_of(request)
        out = []
        for hook in webhooks.subscriptions.of_tenant(tenant):
            deliveries = await webhooks.dispatcher.deliveries(hook.id, limit=_RECENT)
            states: dict[str, int] = {}
            for delivery in deliveries:
                states[delivery["state"]] = states.get(delivery["state"], 0) + 1
            out.append({**hook.to_json(), "recent_states": states, "deliveries": deliveries})
        return web.json_response({"tenant": tenant, "webhooks": out})

    async def replay(request: web.Request) -> web.Response:
        tenant = tenant_of(request)
        row_id = delivery_row_id(request)
        if row_id is None or not await webhooks.dispatcher.replay(row_id, tenant):
            return error_response(404, "no such delivery")
        return web.json_response({"replayed": row_id}, status=202)

    app.router.add_post("/v1/tenants/{tenant}/keys", create_key)
    app.router.add_get("/v1/tenants/{tenant}/keys", list_keys)
    app.router.add_delete("/v1/tenants/{tenant}/keys/{key_id}", revoke_key)
    app.router.add_get("/v1/tenants", list_tenants)
    app.router.add_get("/v1/tenants/{tenant}/webhooks", tenant_webhooks)
    app.router.add_post("/v1/tenants/{tenant}/deliveries/{delivery_id}/replay", replay)
