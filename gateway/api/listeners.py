"""An HTTP API served on its own listener: the operator API and the tenant API each get one."""

from __future__ import annotations

from aiohttp import web


async def serve_http(runner: web.AppRunner, host: str, port: int) -> int:
    """The runner's application listening on ``host:port``; the port it got (0: any free one).
    The caller holds the runner before this starts, so that stopping cleans it up even when
    the listener failed to start."""
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return int(runner.addresses[0][1])
