"""The operator console's files under ``/console/``: static, served without a key (the page
asks for it and sends it with every API call), with a policy that lets the page load
nothing but itself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

CONSOLE = Path(__file__).resolve().parent.parent / "console"
_FILES = {
    "/console/": ("index.html", "text/html"),
    "/console/console.js": ("console.js", "text/javascript"),
    "/console/console.css": ("console.css", "text/css"),
}
CONSOLE_PATHS = frozenset(_FILES)
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def add_console_routes(app: web.Application) -> None:
    # Read once at start: the files are part of the release, not configuration.
    bodies = {path: (CONSOLE / name).read_bytes() for path, (name, _) in _FILES.items()}

    def serve(path: str, content_type: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            return web.Response(body=bodies[path], content_type=content_type, headers=_HEADERS)

        return handler

    for path, (_, content_type) in _FILES.items():
        app.router.add_get(path, serve(path, content_type))
    app.router.add_get("/console", _to_console)


async def _to_console(request: web.Request) -> web.Response:
    raise web.HTTPFound("/console/")
