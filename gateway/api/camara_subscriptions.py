"""CAMARA SIM swap subscriptions v0.3: create, list, read and delete a tenant's subscriptions.

A subscription is a webhook endpoint of the tenant bound to one phone number, with the
terms of ``camara.subscription_terms``; the notifications are built in
``camara.subscription_events``. A tenant sees and deletes only its own: another tenant's
id answers 404, exactly like an unknown or ended one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..camara.requests import Refusal
from ..camara.subscription_events import DELETED, end_writer
from ..camara.subscription_request import subscription_request
from ..camara.subscription_terms import SWAPPED, Terms
from ..camara.tokens import DELETE_SUBSCRIPTIONS_SCOPE, READ_SUBSCRIPTIONS_SCOPE, SUBSCRIBE_SCOPE
from ..times import rfc3339, rfc3339_or_none
from ..webhooks.ssrf import UnsafeTarget, resolve_and_vet
from .camara_auth import Caller, authorize
from .errors import CAMARA_BODY, error_response

if TYPE_CHECKING:
    from ..camara.rate_limits import RateLimits
    from ..parts import CamaraParts
    from ..webhooks.subscriptions import Webhook

BASE = "/sim-swap-subscriptions/v0.3/subscriptions"


def add_subscription_routes(
    app: web.Application,
    gateway: CamaraParts,
    limits: RateLimits,
    guarded: Callable[..., Callable[[web.Request], Awaitable[web.Response]]],
) -> None:
    async def subscribe(request: web.Request, tenant: str, number: str) -> web.Response:
        now = gateway.clock.now()
        asked = subscription_request(request[CAMARA_BODY], now)
        if isinstance(asked, Refusal):
            return error_response(asked.status, asked.message, asked.code)
        config = gateway.webhooks_config
        try:
            await resolve_and_vet(
                asked.sink,
                allow_http_hosts=config.allow_http_hosts,
                allow_networks=config.allow_networks,
            )
        except UnsafeTarget as error:
            return error_response(400, f"sink: {error}", "INVALID_SINK")
        hook = await gateway.subscriptions.create(
            tenant, asked.sink, (SWAPPED,), "CAMARA SIM swap subscription", now,
            phone_number=number,
        )  # fmt: skip
        terms = Terms(hook.id, asked.expires_at, asked.max_events, 0, asked.sink_token,
                      asked.sink_token_expires_at)  # fmt: skip
        await gateway.subscription_terms.save(terms)
        return web.json_response(subscription_json(hook, terms), status=201)

    def own(request: web.Request, caller: Caller) -> Webhook | None:
        """The caller's live subscription named in the path; None answers 404. A token that
        names a number sees only that number's subscriptions, as it could create only those."""
        hook = gateway.subscriptions.by_id.get(request.match_info["subscriptionId"])
        if hook is None or hook.tenant != caller.tenant.name or hook.phone_number is None:
            return None
        if caller.token.phone_number not in (None, hook.phone_number):
            return None
        if gateway.subscription_terms.get(hook.id).ended is not None:
            return None
        return hook

    async def list_subscriptions(request: web.Request) -> web.Response:
        caller = await authorize(gateway, limits, request, frozenset({READ_SUBSCRIPTIONS_SCOPE}))
        if isinstance(caller, web.Response):
            return caller
        terms = gateway.subscription_terms
        hooks = gateway.subscriptions.of_tenant(caller.tenant.name, camara=True)
        number = caller.token.phone_number
        return web.json_response(
            [
                subscription_json(h, terms.get(h.id))
                for h in hooks
                if terms.get(h.id).ended is None and number in (None, h.phone_number)
            ]
        )

    async def named(request: web.Request, scope: str) -> Webhook | web.Response:
        """The caller's live subscription named in the path, or the answer refusing it."""
        caller = await authorize(gateway, limits, request, frozenset({scope}))
        if isinstance(caller, web.Response):
            return caller
        hook = own(request, caller)
        if hook is None:
            return error_response(404, "no such subscription", "NOT_FOUND")
        return hook

    async def get_subscription(request: web.Request) -> web.Response:
        hook = await named(request, READ_SUBSCRIPTIONS_SCOPE)
        if isinstance(hook, web.Response):
            return hook
        return web.json_response(subscription_json(hook, gateway.subscription_terms.get(hook.id)))

    async def delete_subscription(request: web.Request) -> web.Response:
        hook = await named(request, DELETE_SUBSCRIPTIONS_SCOPE)
        if isinstance(hook, web.Response):
            return hook
        # Ended now, told by a last notification; the endpoint goes once that has left.
        now = gateway.clock.now()
        await gateway.durable.call(
            end_writer(gateway.outbox, gateway.subscription_terms, hook, DELETED, now)
        )
        gateway.dispatcher.kick()
        return web.Response(status=204)

    by_id = BASE + "/{subscriptionId}"
    app.router.add_post(
        BASE, guarded(frozenset({SUBSCRIBE_SCOPE}), subscribe, in_subscription=True)
    )
    app.router.add_get(BASE, list_subscriptions)
    app.router.add_get(by_id, get_subscription)
    app.router.add_delete(by_id, delete_subscription)


def subscription_json(hook: Webhook, terms: Terms) -> dict[str, Any]:
    config: dict[str, Any] = {"subscriptionDetail": {"phoneNumber": hook.phone_number}}
    if terms.expires_at is not None:
        config["subscriptionExpireTime"] = rfc3339(terms.expires_at)
    if terms.max_events is not None:
        config["subscriptionMaxEvents"] = terms.max_events
    answer: dict[str, Any] = {
        # ``id`` is the documents' name; ``subscriptionId`` the one events and clients use.
        "id": hook.id,
        "subscriptionId": hook.id,
        "protocol": "HTTP",
        "sink": hook.url,
        "types": list(hook.event_types),
        "config": config,
        "startsAt": rfc3339(hook.created_at),
        "status": "ACTIVE" if hook.enabled else "INACTIVE",
    }
    expires = rfc3339_or_none(terms.expires_at)
    if expires is not None:
        answer["expiresAt"] = expires
    return answer
