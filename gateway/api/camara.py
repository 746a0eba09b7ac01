"""CAMARA-compatible endpoints on the tenant listener: SIM Swap v2, Call Forwarding Signal v0.4.

Answers come from the same risk index as the message path. Guards, in order: the caller
(``camara_auth``: token, scope, tenant, rate limits), a body that names its subject
(``camara.requests``: 422 MISSING_IDENTIFIER without one, 400 for a malformed one), a number
of the operator's ranges (``camara.ranges``: 404 IDENTIFIER_NOT_FOUND, 422
SERVICE_NOT_APPLICABLE), a number the tenant has a relation with (403: the gateway is no
look-up oracle for the operator's subscribers) unless the operator lets the tenant ask about
all of them (``camara_all_subscribers``: another operator, a contracted aggregator). Every
query is audited with the number pseudonymised.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import web

from ..camara.ranges import NumberRanges
from ..camara.requests import Refusal, max_age, phone_number
from ..camara.tokens import (
    CALL_FORWARDINGS_SCOPE,
    CHECK_SCOPE,
    RETRIEVE_DATE_SCOPE,
    SCOPES,
    SIM_SWAP_SCOPE,
    UNCONDITIONAL_SCOPE,
)
from ..logs import pseudonym
from .camara_auth import authorize, rate_limits
from .camara_subscriptions import add_subscription_routes
from .errors import CAMARA_BODY, BadJson, error_response, parse_json

if TYPE_CHECKING:
    from policies.facts import RiskFacts

    from ..camara.rate_limits import RateLimits
    from ..parts import CamaraParts

log = structlog.get_logger("otpgate.camara")

Answer = Callable[[web.Request, str, str], Awaitable[web.Response]]
Route = Callable[[web.Request], Awaitable[web.Response]]
Guard = Callable[..., Route]

# The index's call forwarding services in Call Forwarding Signal v0.4's words.
FORWARDING_VALUES = {
    "cfu": "unconditional",
    "cfb": "conditional_busy",
    "cfnrc": "conditional_not_reachable",
    "cfnry": "conditional_no_answer",
}


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


def refused(refusal: Refusal) -> web.Response:
    return error_response(refusal.status, refusal.message, refusal.code)


def make_guard(gateway: CamaraParts, limits: RateLimits) -> Guard:
    """Wraps an answer about one number in the checks every such operation shares."""
    config = gateway.camara_config
    ranges = NumberRanges(config.own_ranges, config.not_applicable_ranges)

    def guarded(scopes: frozenset[str], answer: Answer, *, in_subscription: bool = False) -> Route:
        async def handler(request: web.Request) -> web.Response:
            caller = await authorize(gateway, limits, request, scopes)
            if isinstance(caller, web.Response):
                return caller
            tenant = caller.tenant
            raw = await request.read()
            if not raw:
                # The body is required by every document, even when it may be "{}": a request
                # without one is malformed (400), where "{}" lacks the subject (422).
                return error_response(400, "body: a JSON object is required", "INVALID_ARGUMENT")
            try:
                body = parse_json(raw)
            except BadJson as error:
                return error_response(400, str(error), "INVALID_ARGUMENT")
            number = phone_number(
                body, in_subscription=in_subscription, token_number=caller.token.phone_number
            )
            if isinstance(number, Refusal):
                return refused(number)
            now = gateway.clock.now()
            outside = ranges.refusal(number)
            if outside is not None:
                response = refused(outside)
            elif not tenant.camara_all_subscribers and not gateway.relations.related(
                tenant.name, int(number[1:]), now, tenant.relation_days * 86400
            ):
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

    return guarded


def add_camara_routes(app: web.Application, gateway: CamaraParts) -> None:
    limits = rate_limits(gateway)
    guarded = make_guard(gateway, limits)

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

    def facts(number: str) -> RiskFacts:
        return gateway.risk_index.facts(number, gateway.clock.now())

    async def check(request: web.Request, tenant: str, number: str) -> web.Response:
        hours = max_age(request[CAMARA_BODY], gateway.camara_config.max_age_h)
        if isinstance(hours, Refusal):
            return refused(hours)
        age = facts(number).sim_swap_age_s
        return web.json_response({"swapped": age is not None and age < hours * 3600})

    async def retrieve_date(request: web.Request, tenant: str, number: str) -> web.Response:
        age = facts(number).sim_swap_age_s
        monitored_days = gateway.camara_config.monitored_days
        # The index may remember a change older than the period the operator advertises;
        # the API says nothing is told about that time, so it is not told here either.
        if age is None or age > monitored_days * 86400:
            return web.json_response({"latestSimChange": None, "monitoredPeriod": monitored_days})
        moment = datetime.fromtimestamp(gateway.clock.now() - age, UTC)
        return web.json_response(
            {"latestSimChange": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")}
        )

    async def unconditional(request: web.Request, tenant: str, number: str) -> web.Response:
        return web.json_response({"active": facts(number).cf_unconditional_active})

    async def call_forwardings(request: web.Request, tenant: str, number: str) -> web.Response:
        services = gateway.risk_index.forwarding(number)
        return web.json_response([FORWARDING_VALUES[s] for s in services] or ["inactive"])

    app.router.add_post("/oauth2/token", token)
    sim_swap = "/sim-swap/v2"
    app.router.add_post(
        f"{sim_swap}/check", guarded(frozenset({CHECK_SCOPE, SIM_SWAP_SCOPE}), check)
    )
    app.router.add_post(
        f"{sim_swap}/retrieve-date",
        guarded(frozenset({RETRIEVE_DATE_SCOPE, SIM_SWAP_SCOPE}), retrieve_date),
    )
    forwarding = "/call-forwarding-signal/v0.4"
    app.router.add_post(
        f"{forwarding}/unconditional-call-forwardings",
        guarded(frozenset({UNCONDITIONAL_SCOPE}), unconditional),
    )
    app.router.add_post(
        f"{forwarding}/call-forwardings",
        guarded(frozenset({CALL_FORWARDINGS_SCOPE}), call_forwardings),
    )
    add_subscription_routes(app, gateway, limits, guarded)


def create_tables(db: Any) -> None:
    db.execute(
        """CREATE TABLE IF NOT EXISTS camara_audit (
            at REAL NOT NULL, tenant TEXT NOT NULL, endpoint TEXT NOT NULL,
            number TEXT NOT NULL, status INTEGER NOT NULL)"""
    )
