"""The operator API: health and the state of binds (later issues add signals, holds, tenants)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from aiohttp import web

from policies.policy_file import PolicyError

from ..config_reader import ConfigError
from ..metrics import registry_for, render
from .console import CONSOLE_PATHS, add_console_routes
from .errors import bearer_auth, error_response, json_errors
from .holds import add_hold_routes
from .openapi import operator_document
from .policy import add_policy_routes
from .signals import add_signal_routes
from .tenant_admin import add_tenant_admin_routes

if TYPE_CHECKING:
    from ..parts import OperatorParts

# The console's files carry no data: the page asks for the key and sends it with each call.
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/openapi.json", "/console", *CONSOLE_PATHS})


def build_operator_app(gateway: OperatorParts) -> web.Application:
    app = web.Application(
        middlewares=[json_errors, bearer_auth(gateway.api_config.operator_key, OPEN_PATHS)],
        client_max_size=16 * 1024 * 1024,  # a batch of 10,000 signals
    )

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def readyz(request: web.Request) -> web.Response:
        upstream = {name: pool.can_transmit for (name, _), pool in gateway.router.pools.items()}
        signals_fresh = not gateway.feed_health.outage(gateway.clock.now())
        stores = {
            "otpgate": gateway.durable.alive,
            "signals": gateway.signal_store.writer.alive,
            "message-map": gateway.id_map.writer.alive,
        }
        ready = any(upstream.values()) and signals_fresh and all(stores.values())
        details: dict[str, object] = {
            "ready": ready,
            "upstream": upstream,
            "signals_fresh": signals_fresh,
            "stores_writable": stores,
        }
        if gateway.peers is not None:
            # Details only: a peer down is the policy's on_lookup_failure, not unreadiness.
            details["peers"] = gateway.peers.health()
        if gateway.camara_jwt is not None:
            # Details only too: without the keys JWTs answer 401, client credentials still work.
            details["camara_jwt"] = gateway.camara_jwt.verifier.health(gateway.clock.now())
        return web.json_response(details, status=200 if ready else 503)

    async def status(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "node": gateway.node_id,
                # Counted in memory: the console's overview reads it every 2 s.
                "holds_open": dict(Counter(r.state for r in gateway.holds.holds.open.values())),
                "esme_binds": {
                    a: [b.mode for b in gateway.binds.binds_of(a)]
                    for a in gateway.binds.accounts.accounts
                },
                "upstream": [
                    {
                        "route": pool.name,
                        "system_id": pool.credentials.system_id,
                        "binds": pool.bound_count,
                    }
                    for pool in gateway.router.pools.values()
                ],
            }
        )

    async def peers(request: web.Request) -> web.Response:
        # The console's peers panel; none configured (or no policy to ask for): empty.
        health = gateway.peers.health() if gateway.peers is not None else {}
        return web.json_response(
            {"peers": [{"name": name, **state} for name, state in sorted(health.items())]}
        )

    async def reload_policy(request: web.Request) -> web.Response:
        try:
            policy = gateway.reload_policy()
        except PolicyError as error:
            return error_response(422, str(error), "INVALID_POLICY")
        return web.json_response(
            {
                "policy": policy.name,
                "source": policy.source,
                "rules": [r.name for r in policy.rules],
            }
        )

    registry = registry_for(gateway.metrics)

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(body=render(registry), content_type="text/plain", charset="utf-8")

    app.router.add_get("/metrics", metrics)
    document = operator_document()

    async def openapi(request: web.Request) -> web.Response:
        return web.json_response(document)

    app.router.add_get("/openapi.json", openapi)
    app.router.add_get("/healthz", healthz)

    async def reload_config(request: web.Request) -> web.Response:
        try:
            summary = await gateway.reload_config()
        except (ConfigError, PolicyError) as error:
            return error_response(422, str(error), "INVALID_CONFIG")
        return web.json_response(summary)

    app.router.add_post("/v1/policy/reload", reload_policy)
    app.router.add_post("/v1/config/reload", reload_config)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/v1/status", status)
    app.router.add_get("/v1/peers", peers)
    add_signal_routes(app, gateway.signals)
    add_hold_routes(app, gateway.holds, lambda request: None, "/v1")
    add_console_routes(app)
    add_policy_routes(app, gateway.policy)
    add_tenant_admin_routes(app, gateway)

    async def history(request: web.Request) -> web.Response:
        return web.json_response(gateway.history.series())

    app.router.add_get("/v1/history", history)
    return app
