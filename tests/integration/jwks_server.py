"""An authorization server's JWKS on loopback, and tokens signed by its keys (joserfc)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

ISSUER = "https://as.operator.example"
AUDIENCE = "https://otpgate.operator.example"
CLIENT_ID = "as-client-paybank"


class Jwks:
    """The JWKS document served, switched by the test (rotation, outage); fetches counted."""

    def __init__(self, *keys: Any) -> None:
        self.keys = list(keys) or [RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})]
        self.down = False
        self.fetches = 0
        self.url = ""

    @property
    def key(self) -> Any:
        return self.keys[0]

    async def serve(self, request: web.Request) -> web.Response:
        self.fetches += 1
        if self.down:
            return web.Response(status=503)
        return web.json_response({"keys": [k.as_dict(private=False) for k in self.keys]})

    def token(self, key: Any = None, *, now: float | None = None, **claims: Any) -> str:
        """A token the authorization server would issue: 5 minutes, every CAMARA scope."""
        key = key or self.key
        alg = "ES256" if isinstance(key, ECKey) else "RS256"
        at = time.time() if now is None else now
        body = {"iss": ISSUER, "aud": AUDIENCE, "iat": int(at), "exp": int(at) + 300,
                "client_id": CLIENT_ID, "scope": "openid sim-swap call-forwarding-signal:"
                "unconditional-call-forwardings:read call-forwarding-signal:call-forwardings:read"
                " sim-swap-subscriptions:read"}  # fmt: skip
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode({"alg": alg, "kid": key.kid}, body, key, algorithms=[alg])


@asynccontextmanager
async def running_jwks(jwks: Jwks) -> AsyncIterator[Jwks]:
    app = web.Application()
    app.router.add_get("/jwks", jwks.serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    jwks.url = f"http://127.0.0.1:{port}/jwks"
    try:
        yield jwks
    finally:
        await runner.cleanup()
