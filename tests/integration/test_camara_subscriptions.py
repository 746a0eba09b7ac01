"""CAMARA SIM swap subscriptions v0.3 against a real receiver (issue 17): read by id, the
request checks, subscription-ends on delete, on the event budget and on expiry, CloudEvents'
content type, the sink's bearer token, and the swap's own time in ``swapped``."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from jsonschema import Draft202012Validator
from standardwebhooks.webhooks import Webhook as Verifier

from gateway.api.openapi import tenant_document
from gateway.config_tenants import TenantConfig, WebhooksConfig

from .harness import OPERATOR_KEY, ShiftedClock, running_gateway, running_simulator, until
from .test_camara import QUIET, SWAPPED, key_for, setup, token
from .test_camara import config as quota_config
from .test_camara_conformance import SUBSCRIPTIONS, send
from .test_openapi_answers import _valid
from .test_webhooks import Receiver

pytestmark = pytest.mark.asyncio

SWAPPED_TYPE = "org.camaraproject.sim-swap-subscriptions.v0.swapped"
ENDS_TYPE = "org.camaraproject.sim-swap-subscriptions.v0.subscription-ends"
SINK_TOKEN = "sink-token-5f2c"


def config(tmp_path: Any, port: int) -> Any:
    base = quota_config(tmp_path, port)
    return replace(
        base,
        tenants=(
            TenantConfig("paybank", camara=True, camara_quota_per_minute=10_000),
            *base.tenants[1:],
            TenantConfig("rival", camara=True),
        ),
        webhooks=WebhooksConfig(
            allow_http_hosts=frozenset({"127.0.0.1"}),
            allow_networks=(ipaddress.ip_network("127.0.0.1/32"),),
        ),
    )


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


async def swap(gw: Any, number: str, seconds_ago: float) -> float:
    occurred = gw.clock.now() - seconds_ago
    signal = {"kind": "sim_swap", "msisdn": number, "occurred_at": iso(occurred)}
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{gw.api_port}/v1/signals",
            json=signal,
            headers={"Authorization": f"Bearer {OPERATOR_KEY}"},
        ) as r,
    ):
        answer = await r.json()
        assert answer.get("status") == "accepted", answer
    return occurred


def events(receiver: Receiver, subscription_id: str) -> list[tuple[dict[str, str], dict, bytes]]:
    out = []
    for headers, raw in receiver.requests:
        event = json.loads(raw)
        if event["data"].get("subscriptionId") == subscription_id:
            out.append((headers, event, raw))
    return out


def moment(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def test_subscription_lifecycle_and_notifications(tmp_path) -> None:
    receiver = Receiver()
    await receiver.start()
    clock = ShiftedClock()
    try:
        async with (
            running_simulator() as sim,
            running_gateway(config(tmp_path, sim.port), clock=clock) as gw,
        ):
            auth = {"Authorization": f"Bearer {await setup(gw)}"}
            port = gw.tenant_api_port
            body = {
                "protocol": "HTTP",
                "sink": receiver.url,
                "types": [SWAPPED_TYPE],
                "config": {
                    "subscriptionDetail": {"phoneNumber": QUIET},
                    "subscriptionMaxEvents": 2,
                },
                "sinkCredential": {
                    "credentialType": "ACCESSTOKEN",
                    "accessToken": SINK_TOKEN,
                    "accessTokenType": "bearer",
                    "accessTokenExpiresUtc": iso(gw.clock.now() + 86400),
                },
            }
            status, _, created = await send(port, "POST", SUBSCRIPTIONS, body, auth)
            assert status == 201, created
            sub_id = created["subscriptionId"]
            assert created["id"] == sub_id and "sinkCredential" not in created
            assert created["config"]["subscriptionMaxEvents"] == 2
            assert SINK_TOKEN not in json.dumps(created)

            # GET by id: the caller's own, 404 for an unknown id and for another tenant.
            status, _, read = await send(port, "GET", f"{SUBSCRIPTIONS}/{sub_id}", None, auth)
            assert (status, read) == (200, created)
            document = tenant_document()
            _valid(document, "post", SUBSCRIPTIONS, 201, created)
            _valid(document, "get", SUBSCRIPTIONS + "/{subscriptionId}", 200, read)
            _valid(document, "get", SUBSCRIPTIONS, 200, [read])
            status, _, answer = await send(port, "GET", f"{SUBSCRIPTIONS}/wh_unknown", None, auth)
            assert (status, answer["code"]) == (404, "NOT_FOUND")
            _valid(document, "get", SUBSCRIPTIONS + "/{subscriptionId}", 404, answer)
            _, rival = await token(gw, await key_for(gw, "rival"))
            rival_auth = {"Authorization": f"Bearer {rival['access_token']}"}
            for method in ("GET", "DELETE"):
                status, _, answer = await send(
                    port, method, f"{SUBSCRIPTIONS}/{sub_id}", None, rival_auth
                )
                assert (status, answer["code"]) == (404, "NOT_FOUND"), method
            status, _, listed = await send(port, "GET", SUBSCRIPTIONS, None, rival_auth)
            assert (status, listed) == (200, [])

            # Two swaps spend the budget: two swapped events, then subscription-ends.
            first = await swap(gw, QUIET, 600)
            second = await swap(gw, QUIET, 300)
            assert await until(lambda: len(events(receiver, sub_id)) >= 3)
            got = events(receiver, sub_id)
            assert [e["type"] for _, e, _ in got] == [SWAPPED_TYPE, SWAPPED_TYPE, ENDS_TYPE]
            # ``time`` is when the SIM changed, not when the gateway heard of it.
            assert [moment(e["time"]) for _, e, _ in got[:2]] == pytest.approx(
                [first, second], abs=0.01
            )
            assert got[2][1]["data"]["terminationReason"] == "MAX_EVENTS_REACHED"
            secret = gw.subscriptions.by_id[sub_id].secret
            notification = document["paths"][SUBSCRIPTIONS]["post"]["callbacks"]["notifications"]
            content = notification["{$request.body#/sink}"]["post"]["requestBody"]["content"]
            event_schema = {**content["application/cloudevents+json"]["schema"],
                            "components": document["components"]}  # fmt: skip
            for headers, event, raw in got:
                assert list(Draft202012Validator(event_schema).iter_errors(event)) == []
                assert headers["Content-Type"] == "application/cloudevents+json"
                assert headers["Authorization"] == f"Bearer {SINK_TOKEN}"
                assert event["specversion"] == "1.0" and event["data"]["phoneNumber"] == QUIET
                Verifier(secret).verify(raw, headers)
            status, _, answer = await send(port, "GET", f"{SUBSCRIPTIONS}/{sub_id}", None, auth)
            assert status == 404  # ended
            # A third swap reaches nobody; the ended endpoint is dropped once nothing is pending.
            await swap(gw, QUIET, 100)
            assert await until(lambda: sub_id not in gw.subscriptions.by_id, timeout_s=15)
            assert len(events(receiver, sub_id)) == 3

            # DELETE: 204, then subscription-ends SUBSCRIPTION_DELETED; gone from reads.
            plain = {**body, "config": {"subscriptionDetail": {"phoneNumber": SWAPPED}}}
            del plain["sinkCredential"]
            status, _, created = await send(port, "POST", SUBSCRIPTIONS, plain, auth)
            assert status == 201 and "expiresAt" not in created
            deleted_id = created["subscriptionId"]
            status, _, _ = await send(port, "DELETE", f"{SUBSCRIPTIONS}/{deleted_id}", None, auth)
            assert status == 204
            assert await until(lambda: len(events(receiver, deleted_id)) == 1)
            headers, event, _ = events(receiver, deleted_id)[0]
            assert event["type"] == ENDS_TYPE
            assert event["data"]["terminationReason"] == "SUBSCRIPTION_DELETED"
            assert "Authorization" not in headers  # no sink credential was given
            status, _, _ = await send(port, "GET", f"{SUBSCRIPTIONS}/{deleted_id}", None, auth)
            assert status == 404
            status, _, _ = await send(port, "DELETE", f"{SUBSCRIPTIONS}/{deleted_id}", None, auth)
            assert status == 404
            status, _, listed = await send(port, "GET", SUBSCRIPTIONS, None, auth)
            assert deleted_id not in [s["id"] for s in listed]

            # Expiry: subscription-ends SUBSCRIPTION_EXPIRED once the time has passed.
            expiring = {**plain, "config": {**plain["config"],
                                            "subscriptionExpireTime": iso(gw.clock.now() + 60)}}  # fmt: skip
            status, _, created = await send(port, "POST", SUBSCRIPTIONS, expiring, auth)
            assert status == 201 and created["expiresAt"].startswith(iso(gw.clock.now() + 60)[:16])
            expiring_id = created["subscriptionId"]
            clock.advance(61)
            assert await until(lambda: len(events(receiver, expiring_id)) == 1, timeout_s=15)
            event = events(receiver, expiring_id)[0][1]
            assert (event["type"], event["data"]["terminationReason"]) == (
                ENDS_TYPE,
                "SUBSCRIPTION_EXPIRED",
            )
    finally:
        await receiver.stop()


async def test_requests_that_must_fail(tmp_path) -> None:
    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        auth = {"Authorization": f"Bearer {await setup(gw)}"}
        now = gw.clock.now()
        good = {
            "protocol": "HTTP",
            "sink": "http://127.0.0.1:9/hook",
            "types": [SWAPPED_TYPE],
            "config": {"subscriptionDetail": {"phoneNumber": QUIET}},
        }
        bearer = {"credentialType": "ACCESSTOKEN", "accessToken": "t", "accessTokenType": "bearer",
                  "accessTokenExpiresUtc": iso(now + 3600)}  # fmt: skip
        without_protocol = {k: v for k, v in good.items() if k != "protocol"}
        cases: list[tuple[dict, str]] = [
            (without_protocol, "INVALID_ARGUMENT"),
            ({**good, "protocol": "MQTT3"}, "INVALID_PROTOCOL"),
            ({k: v for k, v in good.items() if k != "sink"}, "INVALID_ARGUMENT"),
            ({**good, "types": ["org.camaraproject.other"]}, "INVALID_ARGUMENT"),
            (
                {
                    **good,
                    "sinkCredential": {"credentialType": "PLAIN", "identifier": "u", "secret": "p"},
                },
                "INVALID_CREDENTIAL",
            ),
            (
                {**good, "sinkCredential": {**bearer, "credentialType": "REFRESHTOKEN"}},
                "INVALID_CREDENTIAL",
            ),
            ({**good, "sinkCredential": {**bearer, "accessTokenType": "mac"}}, "INVALID_TOKEN"),
            (
                {**good, "sinkCredential": {**bearer, "accessTokenExpiresUtc": iso(now - 1)}},
                "INVALID_CREDENTIAL",
            ),
            (
                {**good, "config": {**good["config"], "subscriptionExpireTime": iso(now - 60)}},
                "INVALID_ARGUMENT",
            ),
            (
                {**good, "config": {**good["config"], "subscriptionExpireTime": "tomorrow"}},
                "INVALID_ARGUMENT",
            ),
            (
                {**good, "config": {**good["config"], "subscriptionMaxEvents": 0}},
                "INVALID_ARGUMENT",
            ),
            (
                {**good, "config": {**good["config"], "subscriptionMaxEvents": "2"}},
                "INVALID_ARGUMENT",
            ),
        ]
        for body, code in cases:
            status, _, answer = await send(gw.tenant_api_port, "POST", SUBSCRIPTIONS, body, auth)
            assert (status, answer["code"]) == (400, code), body
        assert gw.subscriptions.of_tenant("paybank", camara=True) == []
