"""CAMARA SIM swap subscriptions v0.3: create, list, read and delete a tenant's subscriptions.

A subscription is a webhook endpoint of the tenant bound to one phone number; the
``swapped`` events themselves are written by ``webhooks.risk_events``. A tenant sees and
deletes only its own: another tenant's id answers 404, exactly like an unknown one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..camara.tokens import DELETE_SUBSCRIPTIONS_SCOPE, READ_SUBSCRIPTIONS_SCOPE, SUBSCRIBE_SCOPE
from ..webhooks.risk_events import CAMARA_SWAPPED
from ..webhooks.ssrf import UnsafeTarget, resolve_and_vet
from .camara_auth import Quota, authorize
from .errors import CAMARA_BODY, error_response

if TYPE_CHECKING:
    from ..parts import CamaraParts
    from ..webhooks.subscriptions import Webhook

BASE = "/sim-swap-subscriptions/v0.3/subscriptions"


def add_subscription_routes(
    app: web.Application,
    gateway: CamaraParts,
    quota: Quota,
    guarded: Callable[..., Callable[[web.Request], Awaitable[web.Response]]],
) -> None:
    async def subscribe(request: web.Request, tenant: str, number: str) -> web.Response:
        body = request[CAMARA_BODY]
        sink, types = body.get("sink"), body.get("types")
        if body.get("protocol", "HTTP") != "HTTP":
            return error_response(400, "protocol: only HTTP", "INVALID_PROTOCOL")
        if types != [CAMARA_SWAPPED]:
            return error_response(400, f"types: [{CAMARA_SWAPPED!r}]", "INVALID_ARGUMENT")
        config = gateway.webhooks_config
        try:
            await resolve_and_vet(
                str(sink),
                allow_http_hosts=config.allow_http_hosts,
                allow_networks=config.allow_networks,
            )
        except UnsafeTarget as error:
            return error_response(400, f"sink: {error}", "INVALID_SINK")
        hook = await gateway.subscriptions.create(
            tenant,
            str(sink),
            (CAMARA_SWAPPED,),
            "CAMARA SIM swap subscription",
            gateway.clock.now(),
            phone_number=number,
        )
        return web.json_response(subscription_json(hook), status=201)

    async def list_subscriptions(request: web.Request) -> web.Response:
        caller = authorize(gateway, quota, request, frozenset({READ_SUBSCRIPTIONS_SCOPE}))
        if isinstance(caller, web.Response):
            return caller
        hooks = gateway.subscriptions.of_tenant(caller.tenant.name, camara=True)
        return web.json_response([subscription_json(h) for h in hooks])

    def own(request: web.Request, tenant: str) -> Webhook | None:
        hook = gateway.subscriptions.by_id.get(request.match_info["subscriptionId"])
        if hook is None or hook.tenant != tenant or hook.phone_number is None:
            return None
        return hook

    async def delete_subscription(request: web.Request) -> web.Response:
        caller = authorize(gateway, quota, request, frozenset({DELETE_SUBSCRIPTIONS_SCOPE}))
        if isinstance(caller, web.Response):
            return caller
        hook = own(request, caller.tenant.name)
        if hook is None:
            return error_response(404, "no such subscription")
        await gateway.subscriptions.delete(hook)
        return web.Response(status=204)

    app.router.add_post(
        BASE, guarded(frozenset({SUBSCRIBE_SCOPE}), subscribe, in_subscription=True)
    )
    app.router.add_get(BASE, list_subscriptions)
    app.router.add_delete(BASE + "/{subscriptionId}", delete_subscription)


def subscription_json(hook: Webhook) -> dict[str, Any]:
    return {
        "id": hook.id,
        "protocol": "HTTP",
        "sink": hook.url,
        "types": list(hook.event_types),
        "config": {"subscriptionDetail": {"phoneNumber": hook.phone_number}},
        "startsAt": datetime.fromtimestamp(hook.created_at, UTC).isoformat(),
        "status": "ACTIVE" if hook.enabled else "INACTIVE",
    }
