"""CAMARA's ``x-correlator``: a request's tracing id, echoed on its answer, errors included.

Commonalities fix its shape; a header outside it is refused before anything else runs,
so a platform never traces a request under an id the gateway changed or dropped.
"""

from __future__ import annotations

import re

from aiohttp import web
from aiohttp.typedefs import Middleware

from ..api.errors import Handler, error_response

HEADER = "x-correlator"
# Commonalities' XCorrelator: ^[a-zA-Z0-9-_:;.\/<>{}]{0,256}$ (the '-' written escaped here).
PATTERN = re.compile(r"[a-zA-Z0-9\-_:;./<>{}]{0,256}")


def correlator_middleware(paths: tuple[str, ...]) -> Middleware:
    """Check and echo ``x-correlator`` on requests whose path starts with one of ``paths``.

    Placed outermost, so the answers other middlewares make (401, 404, 405, 500) carry it too.
    """

    @web.middleware
    async def correlate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(paths):
            return await handler(request)
        value = request.headers.get(HEADER)
        if value is None:
            return await handler(request)
        if not PATTERN.fullmatch(value):
            # Not echoed: a value outside the pattern is what the platform must fix.
            return error_response(
                400,
                "x-correlator: at most 256 of A-Z a-z 0-9 - _ : ; . / < > { }",
                "INVALID_ARGUMENT",
            )
        try:
            response = await handler(request)
        except web.HTTPException as error:
            # Only reached when no json_errors middleware is inside: keep the id anyway.
            error.headers[HEADER] = value
            raise
        response.headers[HEADER] = value
        return response

    return correlate
