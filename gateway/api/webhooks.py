"""Webhook endpoints of a tenant: create, list, change, delete, test, rotate, deliveries, replay."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web

from ..webhooks.events import EVENT_TYPES
from ..webhooks.ssrf import UnsafeTarget, resolve_and_vet
from .errors import TENANT, BadJson, error_response, parse_json

if TYPE_CHECKING:
    from ..parts import WebhookParts
    from ..webhooks.subscriptions import Webhook


def delivery_row_id(request: web.Request) -> int | None:
    """The path's ``delivery_id`` as an outbox row id; None when it cannot name one (row
    ids are SQLite integers: digits, and no more than 18 of them)."""
    text = request.match_info["delivery_id"]
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


class _Invalid(Exception):
    pass


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = parse_json(await request.read() or b"{}")
    except BadJson as error:
        raise _Invalid(str(error)) from None
    if not isinstance(body, dict):
        raise _Invalid("body: expected a JSON object")
    return body


def add_webhook_routes(app: web.Application, gateway: WebhookParts) -> None:
    subscriptions = gateway.subscriptions
    config = gateway.webhooks_config

    async def vet_url(url: Any) -> str:
        if not isinstance(url, str) or not url:
            raise _Invalid("url: required, an https URL")
        try:
            await resolve_and_vet(
                url,
                allow_http_hosts=config.allow_http_hosts,
                allow_networks=config.allow_networks,
            )
        except UnsafeTarget as error:
            raise _Invalid(f"url: {error}") from None
        if urlsplit(url).fragment:
            raise _Invalid("url: no fragment")
        return url

    def event_types(value: Any) -> tuple[str, ...]:
        if value is None:
            return EVENT_TYPES
        if not isinstance(value, list) or not value or not all(v in EVENT_TYPES for v in value):
            raise _Invalid(f"event_types: a non-empty list of {', '.join(EVENT_TYPES)}")
        return tuple(dict.fromkeys(value))

    def own(request: web.Request) -> Webhook:
        webhook = subscriptions.by_id.get(request.match_info["webhook_id"])
        if webhook is None or webhook.tenant != request[TENANT]:
            raise web.HTTPNotFound(reason="no such webhook")
        return webhook

    async def create(request: web.Request) -> web.Response:
        try:
            body = await _body(request)
            url = await vet_url(body.get("url"))
            types = event_types(body.get("event_types"))
            description = str(body.get("description", ""))[:200]
        except _Invalid as error:
            return error_response(422, str(error))
        webhook = await subscriptions.create(
            request[TENANT], url, types, description, gateway.clock.now()
        )
        # The secret is shown here, once; it never appears in any other answer.
        return web.json_response({**webhook.to_json(), "secret": webhook.secret}, status=201)

    async def list_all(request: web.Request) -> web.Response:
        hooks = subscriptions.of_tenant(request[TENANT])
        return web.json_response({"webhooks": [w.to_json() for w in hooks]})

    async def show(request: web.Request) -> web.Response:
        return web.json_response(own(request).to_json())

    async def change(request: web.Request) -> web.Response:
        webhook = own(request)
        try:
            body = await _body(request)
            changes: dict[str, Any] = {}
            if "url" in body:
                changes["url"] = await vet_url(body["url"])
            if "event_types" in body:
                changes["event_types"] = event_types(body["event_types"])
            if "description" in body:
                changes["description"] = str(body["description"])[:200]
            if "enabled" in body:
                if not isinstance(body["enabled"], bool):
                    raise _Invalid("enabled: expected true or false")
                changes["enabled"] = body["enabled"]
                changes["disabled_reason"] = None if body["enabled"] else "disabled by the tenant"
        except _Invalid as error:
            return error_response(422, str(error))
        webhook = await subscriptions.save(replace(webhook, **changes))
        if webhook.enabled:
            gateway.dispatcher.kick()
        return web.json_response(webhook.to_json())

    async def delete(request: web.Request) -> web.Response:
        await subscriptions.delete(own(request))
        return web.Response(status=204)

    async def rotate(request: web.Request) -> web.Response:
        overlap = config.rotation_overlap_h * 3600
        webhook = await subscriptions.rotate(own(request), gateway.clock.now(), overlap)
        return web.json_response({**webhook.to_json(), "secret": webhook.secret})

    async def test(request: web.Request) -> web.Response:
        webhook = own(request)
        if not webhook.enabled:
            return error_response(409, "the webhook is disabled")
        await gateway.durable.call(gateway.outbox.test_row(webhook, gateway.clock.now()))
        gateway.dispatcher.kick()
        return web.json_response({"queued": True}, status=202)

    async def deliveries(request: web.Request) -> web.Response:
        webhook = own(request)
        rows = await gateway.dispatcher.deliveries(webhook.id)
        return web.json_response({"deliveries": rows})

    async def replay(request: web.Request) -> web.Response:
        row_id = delivery_row_id(request)
        if row_id is None or not await gateway.dispatcher.replay(row_id, request[TENANT]):
            raise web.HTTPNotFound(reason="no such delivery")
        return web.json_response({"replayed": row_id}, status=202)

    app.router.add_post("/v1/webhooks", create)
    app.router.add_get("/v1/webhooks", list_all)
    app.router.add_get("/v1/webhooks/{webhook_id}", show)
    app.router.add_patch("/v1/webhooks/{webhook_id}", change)
    app.router.add_delete("/v1/webhooks/{webhook_id}", delete)
    app.router.add_post("/v1/webhooks/{webhook_id}/test", test)
    app.router.add_post("/v1/webhooks/{webhook_id}/rotate-secret", rotate)
    app.router.add_get("/v1/webhooks/{webhook_id}/deliveries", deliveries)
    app.router.add_post("/v1/deliveries/{delivery_id}/replay", replay)
