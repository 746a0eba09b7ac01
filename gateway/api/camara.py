"""CAMARA-compatible endpoints on the tenant listener: SIM Swap v2, Call Forwarding Signal v0.4.

Answers come from the same risk index as the message path. Guards, in order: a valid
OAuth2 token with the endpoint's scope (401/403), a tenant the operator allows (403), the
tenant's quota (429), a well-formed number (400), a number the tenant has a relation with
(403: the gateway is no look-up oracle for the operator's subscribers). Every query is
audited with the number pseudonymised.
"""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import web

from ..camara.tokens import SCOPES, SUBSCRIBE_SCOPE
from ..logs import pseudonym
from ..webhooks.risk_events import CAMARA_SWAPPED
from ..webhooks.ssrf import UnsafeTarget, resolve_and_vet
from .errors import CAMARA_BODY, BadJson, error_response, parse_json

if TYPE_CHECKING:
    from policies.facts import RiskFacts

    from ..camara.tokens import Token
    from ..parts import CamaraParts

log = structlog.get_logger("otpgate.camara")

_E164 = re.compile(r"\+[1-9][0-9]{4,14}")
Answer = Callable[[web.Request, str, str], Awaitable[web.Response]]


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


class _Quota:
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


def add_camara_routes(app: web.Application, gateway: CamaraParts) -> None:
    quota = _Quota()

    async def token(request: web.Request) -> web.Response:
        form: dict[str, Any] = {}
        if request.content_type.startswith("application/x-www-form-urlencoded"):
            try:
                form = dict(await request.post())
            except web.HTTPRequestEntityTooLarge:
                return _oauth_error(413, "invalid_request", "the form is too large")
        client_id, secret = form.get("client_id"), form.get("client_secret")
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                decoded = base64.b64decode(header[6:].encode("ascii"), validate=True)
                client_id, _, secret = decoded.decode().partition(":")
            except (ValueError, UnicodeError):  # binascii.Error is a ValueError
                return _oauth_error(401, "invalid_client", "malformed Basic credentials")
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", "only client_credentials")
        secret = str(secret or "")
        tenant = gateway.api_keys.tenant_for(secret)
        # The client id is the key's whole visible id, never a part of it.
        key_id = gateway.api_keys.id_of(secret) or ""
        if tenant is None or not hmac.compare_digest(key_id, str(client_id or "")):
            return _oauth_error(401, "invalid_client", "unknown client or wrong secret")
        config = gateway.tenants.tenants.get(tenant)
        if config is None or not config.camara:
            return _oauth_error(400, "unauthorized_client", "the operator has not enabled CAMARA")
        asked = frozenset(str(form.get("scope", "")).split()) or SCOPES
        granted = asked & SCOPES
        if not granted:
            return _oauth_error(400, "invalid_scope", f"scopes: {' '.join(sorted(SCOPES))}")
        value, issued = gateway.camara_tokens.issue(tenant, granted, gateway.clock.now())
        return web.json_response(
            {
                "access_token": value,
                "token_type": "Bearer",
                "expires_in": int(issued.expires_at - gateway.clock.now()),
                "scope": " ".join(sorted(granted)),
            },
            headers={"Cache-Control": "no-store"},
        )

    def guarded(
        scope: str, answer: Answer, *, number_in_config: bool = False
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            now = gateway.clock.now()
            header = request.headers.get("Authorization", "")
            issued = (
                gateway.camara_tokens.check(header[7:], now)
                if header.startswith("Bearer ")
                else None
            )
            if issued is None:
                return error_response(401, "missing, invalid or expired access token")
            if scope not in issued.scopes:
                return error_response(403, f"the token lacks the scope {scope}")
            tenant = gateway.tenants.tenants.get(issued.tenant)
            if tenant is None or not tenant.camara:
                return error_response(403, "the operator has not enabled CAMARA for this client")
            if not quota.take(tenant.name, tenant.camara_quota_per_minute, now):
                return error_response(429, "quota exceeded; try again in the next minute")
            try:
                body = parse_json(await request.read() or b"{}")
            except BadJson as error:
                return error_response(400, str(error), "INVALID_ARGUMENT")
            if number_in_config and isinstance(body, dict):
                config = body.get("config")
                detail = config.get("subscriptionDetail") if isinstance(config, dict) else None
                number = detail.get("phoneNumber") if isinstance(detail, dict) else None
            else:
                number = body.get("phoneNumber") if isinstance(body, dict) else None
            if not isinstance(number, str) or not _E164.fullmatch(number):
                return error_response(
                    400, "phoneNumber: E.164 with a leading +", "INVALID_ARGUMENT"
                )
            related = gateway.relations.related(
                tenant.name, int(number[1:]), now, tenant.relation_days * 86400
            )
            if not related:
                response = error_response(
                    403, "phoneNumber: no relation with this client", "PERMISSION_DENIED"
                )
            else:
                request[CAMARA_BODY] = body
                response = await answer(request, tenant.name, number)
            gateway.stats.camara[(request.path, response.status)] += 1
            log.info(
                "camara_query",
                tenant=tenant.name,
                endpoint=request.path,
                subscriber=pseudonym(number),
                status=response.status,
            )
            gateway.durable.write(
                "INSERT INTO camara_audit VALUES (?, ?, ?, ?, ?)",
                (now, tenant.name, request.path, pseudonym(number), response.status),
            )
            return response

        return handler

    def facts(number: str) -> RiskFacts:
        return gateway.risk_index.facts(number, gateway.clock.now())

    async def check(request: web.Request, tenant: str, number: str) -> web.Response:
        max_age = request[CAMARA_BODY].get("maxAge", 240)
        limit = gateway.camara_config.max_age_h
        if not isinstance(max_age, int) or isinstance(max_age, bool) or not 1 <= max_age <= limit:
            return error_response(400, f"maxAge: hours from 1 to {limit}", "OUT_OF_RANGE")
        age = facts(number).sim_swap_age_s
        return web.json_response({"swapped": age is not None and age < max_age * 3600})

    async def retrieve_date(request: web.Request, tenant: str, number: str) -> web.Response:
        age = facts(number).sim_swap_age_s
        if age is None:
            return web.json_response(
                {"latestSimChange": None, "monitoredPeriod": gateway.camara_config.monitored_days}
            )
        moment = datetime.fromtimestamp(gateway.clock.now() - age, UTC)
        return web.json_response(
            {"latestSimChange": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")}
        )

    async def unconditional(request: web.Request, tenant: str, number: str) -> web.Response:
        return web.json_response({"active": facts(number).cf_unconditional_active})

    async def call_forwardings(request: web.Request, tenant: str, number: str) -> web.Response:
        # The index follows unconditional forwarding only (the one that steals voice calls).
        active = facts(number).cf_unconditional_active
        return web.json_response(["unconditional"] if active else ["inactive"])

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
        return web.json_response(_subscription(hook), status=201)

    async def list_subscriptions(request: web.Request) -> web.Response:
        issued = _token(request)
        if issued is None or SUBSCRIBE_SCOPE not in issued.scopes:
            return error_response(401, "missing, invalid or expired access token")
        hooks = gateway.subscriptions.of_tenant(issued.tenant, camara=True)
        return web.json_response([_subscription(h) for h in hooks])

    async def delete_subscription(request: web.Request) -> web.Response:
        issued = _token(request)
        if issued is None or SUBSCRIBE_SCOPE not in issued.scopes:
            return error_response(401, "missing, invalid or expired access token")
        hook = gateway.subscriptions.by_id.get(request.match_info["subscription_id"])
        if hook is None or hook.tenant != issued.tenant or hook.phone_number is None:
            return error_response(404, "no such subscription")
        await gateway.subscriptions.delete(hook)
        return web.Response(status=204)

    def _token(request: web.Request) -> Token | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        return gateway.camara_tokens.check(header[7:], gateway.clock.now())

    base = "/sim-swap-subscriptions/v0.3/subscriptions"
    app.router.add_post(base, guarded(SUBSCRIBE_SCOPE, subscribe, number_in_config=True))
    app.router.add_get(base, list_subscriptions)
    app.router.add_delete(base + "/{subscription_id}", delete_subscription)
    app.router.add_post("/oauth2/token", token)
    app.router.add_post("/sim-swap/v2/check", guarded("sim-swap:check", check))
    app.router.add_post(
        "/sim-swap/v2/retrieve-date", guarded("sim-swap:retrieve-date", retrieve_date)
    )
    app.router.add_post(
        "/call-forwarding-signal/v0.4/unconditional-call-forwardings",
        guarded("call-forwarding-signal:unconditional-call-forwardings:read", unconditional),
    )
    app.router.add_post(
        "/call-forwarding-signal/v0.4/call-forwardings",
        guarded("call-forwarding-signal:call-forwardings:read", call_forwardings),
    )


def _subscription(hook: Any) -> dict[str, Any]:
    return {
        "id": hook.id,
        "protocol": "HTTP",
        "sink": hook.url,
        "types": list(hook.event_types),
        "config": {"subscriptionDetail": {"phoneNumber": hook.phone_number}},
        "startsAt": datetime.fromtimestamp(hook.created_at, UTC).isoformat(),
        "status": "ACTIVE" if hook.enabled else "INACTIVE",
    }


def create_tables(db: Any) -> None:
    db.execute(
        """CREATE TABLE IF NOT EXISTS camara_audit (
            at REAL NOT NULL, tenant TEXT NOT NULL, endpoint TEXT NOT NULL,
            number TEXT NOT NULL, status INTEGER NOT NULL)"""
    )
