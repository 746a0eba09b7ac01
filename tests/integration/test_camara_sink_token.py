"""A CAMARA SIM swap subscription whose sink took a bearer token ends when that token
lapses: ``subscription-ends`` with ``ACCESS_TOKEN_EXPIRED``, sent without the lapsed token,
and no ``swapped`` after it."""

from __future__ import annotations

import pytest

from .harness import ShiftedClock, running_gateway, running_simulator, until, until_async
from .test_camara import QUIET, setup
from .test_camara_conformance import SUBSCRIPTIONS, send
from .test_camara_subscriptions import ENDS_TYPE, SWAPPED_TYPE, config, events, iso, swap
from .test_webhooks import Receiver

pytestmark = pytest.mark.asyncio

SINK_TOKEN = "sink-token-lapsing-7d1e"


async def test_a_lapsed_sink_token_ends_the_subscription(tmp_path) -> None:
    receiver = Receiver()
    await receiver.start()
    clock = ShiftedClock()
    try:
        async with (
            running_simulator() as sim,
            running_gateway(config(tmp_path, sim.port), clock=clock) as gw,
        ):
            auth = {"Authorization": f"Bearer {await setup(gw)}"}
            body = {
                "protocol": "HTTP",
                "sink": receiver.url,
                "types": [SWAPPED_TYPE],
                "config": {"subscriptionDetail": {"phoneNumber": QUIET}},
                "sinkCredential": {
                    "credentialType": "ACCESSTOKEN",
                    "accessToken": SINK_TOKEN,
                    "accessTokenType": "bearer",
                    "accessTokenExpiresUtc": iso(gw.clock.now() + 60),
                },
            }
            status, _, created = await send(gw.tenant_api_port, "POST", SUBSCRIPTIONS, body, auth)
            assert status == 201, created
            sub_id = created["subscriptionId"]
            await swap(gw, QUIET, 30)  # while the token is good: swapped, with the token
            assert await until(lambda: len(events(receiver, sub_id)) == 1)
            headers, first, _ = events(receiver, sub_id)[0]
            assert first["type"] == SWAPPED_TYPE
            assert headers.get("Authorization") == f"Bearer {SINK_TOKEN}"

            clock.advance(61)
            assert await until(lambda: len(events(receiver, sub_id)) == 2, timeout_s=15)
            headers, last, _ = events(receiver, sub_id)[1]
            assert (last["type"], last["data"]["terminationReason"]) == (
                ENDS_TYPE,
                "ACCESS_TOKEN_EXPIRED",
            )
            assert "Authorization" not in headers  # the lapsed token is not sent
            await swap(gw, QUIET, 1)  # after the end: nobody is told

            async def gone() -> bool:
                status, _, _ = await send(
                    gw.tenant_api_port, "GET", f"{SUBSCRIPTIONS}/{sub_id}", None, auth
                )
                return status == 404

            assert await until_async(gone, timeout_s=15)  # dropped once its end was delivered
            assert len(events(receiver, sub_id)) == 2
    finally:
        await receiver.stop()
