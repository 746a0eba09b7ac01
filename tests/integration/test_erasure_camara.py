"""Erasure of a number that a payment platform subscribed to through CAMARA: the
subscription goes with the number, from memory and from every file, and later swaps of the
number notify nobody."""

from __future__ import annotations

import pytest

from .harness import OPERATOR_KEY, running_gateway, running_simulator, until
from .test_camara import QUIET, setup
from .test_camara_conformance import SUBSCRIPTIONS, send
from .test_camara_subscriptions import SWAPPED_TYPE, config, swap
from .test_webhooks import Receiver, call, stored_forms

pytestmark = pytest.mark.asyncio


async def test_erasure_ends_the_camara_subscriptions_to_the_number(tmp_path) -> None:
    receiver = Receiver()
    await receiver.start()
    receiver.answers = [503] * 50  # the sink is down: the swap's event stays queued
    try:
        async with (
            running_simulator() as sim,
            running_gateway(config(tmp_path, sim.port)) as gw,
        ):
            auth = {"Authorization": f"Bearer {await setup(gw)}"}
            body = {
                "protocol": "HTTP",
                "sink": receiver.url,
                "types": [SWAPPED_TYPE],
                "config": {"subscriptionDetail": {"phoneNumber": QUIET}},
            }
            status, _, created = await send(gw.tenant_api_port, "POST", SUBSCRIPTIONS, body, auth)
            assert status == 201, created
            sub_id = created["subscriptionId"]
            await swap(gw, QUIET, 60)
            assert await until(lambda: receiver.requests)  # tried, refused, queued again

            status, answer = await call(
                gw.api_port, "POST", "/v1/erasure", OPERATOR_KEY, {"msisdn": QUIET}
            )
            assert status == 200, answer
            assert answer["removed"]["camara_subscriptions"] == 1

            status, _, read = await send(
                gw.tenant_api_port, "GET", f"{SUBSCRIPTIONS}/{sub_id}", None, auth
            )
            assert (status, read["code"]) == (404, "NOT_FOUND")
            status, _, listed = await send(gw.tenant_api_port, "GET", SUBSCRIPTIONS, None, auth)
            assert (status, listed) == (200, [])
            assert sub_id not in gw.subscription_terms.by_id

            files = [path for path in tmp_path.rglob("*") if path.is_file()]
            for path in files:
                data = path.read_bytes()
                for form in stored_forms(QUIET[1:]):
                    assert form not in data, (path, form)
                assert sub_id.encode() not in data, path
    finally:
        await receiver.stop()
