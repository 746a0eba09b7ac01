"""Every route the two listeners serve is in their OpenAPI document, and nothing more: a
client generated from the document reaches everything, and nothing it calls is missing."""

from __future__ import annotations

from aiohttp import web

from gateway.api.console import CONSOLE_PATHS
from gateway.api.openapi import operator_document, tenant_document

from .harness import gateway_config, route, running_gateway, running_simulator

# Served for people and tools rather than for clients: the document itself, the console.
_NOT_DOCUMENTED = {("get", "/openapi.json"), ("get", "/console")} | {
    ("get", path) for path in CONSOLE_PATHS
}


def _served(runner: web.AppRunner | None) -> set[tuple[str, str]]:
    assert runner is not None and isinstance(runner.app, web.Application)
    return {
        (r.method.lower(), r.resource.canonical)
        for r in runner.app.router.routes()
        if r.resource is not None and r.method not in ("HEAD", "*")
    } - _NOT_DOCUMENTED


def _documented(document: dict) -> set[tuple[str, str]]:
    return {(method, path) for path, ops in document["paths"].items() for method in ops}


async def test_every_served_route_is_documented_and_every_documented_one_served(tmp_path):
    async with (
        running_simulator() as sim,
        running_gateway(gateway_config(tmp_path, (route("main", sim.port),))) as gw,
    ):
        assert _served(gw._api_runner) == _documented(operator_document())
        assert _served(gw._tenant_runner) == _documented(tenant_document())
