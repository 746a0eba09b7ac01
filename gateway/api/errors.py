"""Every API error answers JSON ``{"status", "code", "message"}``, CAMARA's shape, everywhere."""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import web
from aiohttp.typedefs import Middleware

log = structlog.get_logger("otpgate.api")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# What the tenant listener's middleware learns about the caller.
TENANT = web.RequestKey("tenant", str)
CAMARA_BODY = web.RequestKey("camara_body", dict)

_CODES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    422: "UNPROCESSABLE_ENTITY",
    429: "TOO_MANY_REQUESTS",
    503: "UNAVAILABLE",
}


# No request body of otpgate's APIs nests deeper than a few levels; deeper ones are refused
# before anything walks them (a deep enough body would exhaust Python's recursion).
MAX_JSON_DEPTH = 32


class BadJson(ValueError):
    """The body is not JSON, or nests deeper than ``MAX_JSON_DEPTH``; the message says which."""


def parse_json(raw: bytes) -> Any:
    """The decoded body; BadJson with the reason when it is not acceptable JSON."""
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadJson(f"body: not JSON ({error})") from None
    except RecursionError:
        raise BadJson(f"body: nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as error:
        # Python refuses integers of more than 4,300 digits; no field here takes one.
        raise BadJson(f"body: a number out of range ({error})") from None
    # Walked level by level without recursion: only containers are visited, each once.
    level = [value] if type(value) in _CONTAINERS else []
    depth = 0
    while level:
        depth += 1
        if depth > MAX_JSON_DEPTH:
            raise BadJson(f"body: nested deeper than {MAX_JSON_DEPTH} levels")
        level = [
            child
            for container in level
            for child in (container.values() if type(container) is dict else container)
            if type(child) in _CONTAINERS
        ]
    return value


_CONTAINERS = (dict, list)


def error_response(status: int, message: str, code: str | None = None) -> web.Response:
    return web.json_response(
        {"status": status, "code": code or _CODES.get(status, "INTERNAL"), "message": message},
        status=status,
    )


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return error_response(error.status, error.reason or "error")
    except Exception:
        log.exception("api_unhandled_error", path=request.path)
        return error_response(500, "internal error", "INTERNAL")


def bearer_auth(key: str | None, open_paths: frozenset[str]) -> Middleware:
    """Require ``Authorization: Bearer <key>`` except on ``open_paths``."""
    expected = f"Bearer {key}".encode() if key else None

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in open_paths:
            return await handler(request)
        given = request.headers.get("Authorization", "").encode()
        if expected is None or not hmac.compare_digest(given, expected):
            return error_response(401, "missing or wrong bearer key")
        return await handler(request)

    return authenticate
