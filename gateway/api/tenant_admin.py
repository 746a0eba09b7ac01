"""The operator's view of the tenants: each with its accounts, keys and webhook endpoints,
an endpoint's recent deliveries, and a dead letter sent again.

What a tenant sees of itself on its own listener, the operator sees for all of them; never
an endpoint's signing secret, a key, or an event's body."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .errors import error_response

if TYPE_CHECKING:
    from ..parts import OperatorParts

_RECENT = 50  # deliveries shown per endpoint


def add_tenant_admin_routes(app: web.Application, gateway: OperatorParts) -> None:
    webhooks = gateway.webhooks

    def tenant_of(request: web.Request) -> str:
        name = request.match_info["tenant"]
        if name not in gateway.tenants.tenants:
            raise web.HTTPNotFound(reason=f"no tenant {name!r}")
        return name

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
        text = request.match_info["delivery_id"]
        if not (text.isascii() and text.isdigit() and len(text) <= 18):
            return error_response(404, "no such delivery")
        if not await webhooks.dispatcher.replay(int(text), tenant):
            return error_response(404, "no such delivery")
        return web.json_response({"replayed": int(text)}, status=202)

    app.router.add_get("/v1/tenants", list_tenants)
    app.router.add_get("/v1/tenants/{tenant}/webhooks", tenant_webhooks)
    app.router.add_post("/v1/tenants/{tenant}/deliveries/{delivery_id}/replay", replay)
