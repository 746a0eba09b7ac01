"""No request gets a 500: deep JSON on every route, malformed credentials, odd field types.

Each case once made the running gateway answer 500 (or accept what it must refuse). Every
answer must be JSON in the documented shape: ``{"status", "code", "message"}``, or OAuth2's
``{"error", "error_description"}`` on /oauth2/token.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re

import aiohttp
import pytest

from .harness import OPERATOR_KEY, running_gateway, running_simulator
from .test_camara import config, key_for, post, setup, token

pytestmark = pytest.mark.asyncio

DEEP_ARRAY = b"[" * 100_000
DEEP_OBJECT = b'{"a":' * 5_000 + b"1" + b"}" * 5_000
NESTED_SIGNAL = b'{"kind": "sim_swap", "msisdn": {"x": ' + b"[" * 40 + b"1" + b"]" * 40 + b"}}"


def _routes(app) -> list[tuple[str, str]]:
    found = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or re.sub(r"\{[^}]+\}", "x", info.get("formatter", ""))
        if path and route.method not in ("HEAD", "OPTIONS", "*"):
            found.append((route.method, path))
    return found


async def _send(
    port: int, method: str, path: str, body: bytes, headers: dict
) -> tuple[int, object]:
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            method,
            f"http://127.0.0.1:{port}{path}",
            data=body,
            headers={"Content-Type": "application/json", **headers},
        ) as r,
    ):
        text = await r.text()
        return r.status, (
            json.loads(text) if text and r.content_type == "application/json" else text
        )


def _shaped(path: str, answer: object) -> bool:
    if path == "/oauth2/token":
        return isinstance(answer, dict) and "error" in answer
    return isinstance(answer, dict) and {"status", "code", "message"} <= set(answer)


async def test_deep_json_on_every_route_of_both_listeners_is_refused_not_crashed(tmp_path):
    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        tenant_key = await key_for(gw, "paybank")
        bearer = await setup(gw)
        listeners = [
            (gw.api_port, gw._api_runner.app, {"Authorization": f"Bearer {OPERATOR_KEY}"}),
            (gw.tenant_api_port, gw._tenant_runner.app, {"Authorization": f"Bearer {tenant_key}"}),
        ]
        tried = 0
        for port, app, headers in listeners:
            for method, path in _routes(app):
                if method == "GET":
                    continue
                auth = (
                    {"Authorization": f"Bearer {bearer}"}
                    if "/camara/" in path or path.startswith(("/sim-swap", "/call-forwarding"))
                    else headers
                )
                for body in (DEEP_ARRAY, DEEP_OBJECT, NESTED_SIGNAL):
                    status, answer = await _send(port, method, path, body, auth)
                    assert status < 500, (method, path, status, answer)
                    if status >= 400:
                        assert _shaped(path, answer), (method, path, answer)
                    tried += 1
        assert tried > 60  # every POST, PUT, PATCH and DELETE route of both listeners


async def test_malformed_basic_credentials_are_401_in_oauth_shape(tmp_path):
    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        reader, writer = await asyncio.open_connection("127.0.0.1", gw.tenant_api_port)
        body = b"grant_type=client_credentials"
        writer.write(
            b"POST /oauth2/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Authorization: Basic \xc3\xa9\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        raw = await reader.read()
        writer.close()
        head, _, payload = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 401")
        assert json.loads(payload)["error"] == "invalid_client"


async def test_a_client_id_that_is_only_a_prefix_of_the_key_id_gets_no_token(tmp_path):
    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        key = await key_for(gw, "paybank")
        assert (await token(gw, key))[0] == 200
        for client_id in (key[:12], key[:5], "", key[:13] + "x"):
            basic = base64.b64encode(f"{client_id}:{key}".encode()).decode()
            status, answer = await post(
                gw.tenant_api_port,
                "/oauth2/token",
                headers={"Authorization": f"Basic {basic}"},
                form={"grant_type": "client_credentials"},
            )
            assert (status, answer["error"]) == (401, "invalid_client"), client_id


async def test_a_subscription_whose_config_is_not_an_object_is_400(tmp_path):
    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        bearer = await setup(gw)
        for config_value in ("x", 7, ["a"], {"subscriptionDetail": "x"}):
            status, answer = await post(
                gw.tenant_api_port,
                "/sim-swap-subscriptions/v0.3/subscriptions",
                {
                    "protocol": "HTTP",
                    "sink": "https://example.com/hook",
                    "types": ["org.camaraproject.sim-swap-subscriptions.v0.swapped"],
                    "config": config_value,
                },
                headers={"Authorization": f"Bearer {bearer}"},
            )
            assert status == 400 and answer["code"] == "INVALID_ARGUMENT", (config_value, answer)


@pytest.mark.parametrize(
    "url",
    [
        "https://[::127.0.0.1]/hook",
        "https://[::169.254.169.254]/hook",
        "https://[::ffff:0:a9fe:a9fe]/hook",
        "https://[::ffff:127.0.0.1]/hook",
    ],
)
async def test_webhook_urls_that_embed_a_forbidden_ipv4_are_refused(tmp_path, url):
    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        key = await key_for(gw, "paybank")
        status, answer = await post(
            gw.tenant_api_port,
            "/v1/webhooks",
            {"url": url, "events": ["otp.held"]},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert 400 <= status < 500 and answer["code"], answer
