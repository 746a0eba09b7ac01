"""Holds on the live path: held at once, released once, cancelled, expired, queried, with receipts."""

from __future__ import annotations

import asyncio
import glob
from dataclasses import replace
from datetime import UTC, datetime

import aiohttp
import pytest

from gateway.config import HoldsConfig
from gateway.signals.model import parse_signal
from smpp_adapters.constants import CommandId, CommandStatus, Tag
from smpp_adapters.pdu import Pdu, decode
from smpp_adapters.smpp_time import relative_time

from .esme import AsyncEsme, SmpplibEsme
from .harness import (
    OPERATOR_KEY,
    PASSWORD,
    ShiftedClock,
    gateway_config,
    route,
    running_gateway,
    running_simulator,
    until,
    until_async,
)

pytestmark = pytest.mark.asyncio

SWAPPED = "447400123123"
CLEAN = "447400999888"
CODE = b"482913"
OTP = b"Your PayBank verification code is " + CODE + b". Never share it."
AUTH = {"Authorization": f"Bearer {OPERATOR_KEY}"}


def policy_file(tmp_path, ttl: str = "10m", on_expiry: str = "drop"):
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "holds.toml"
    path.write_text(
        f"""
[[rules]]
name = "hold-after-swap"
when = {{ is_otp = true, sim_swap_age_lt = "1d" }}
action = "hold"
ttl = "{ttl}"
on_expiry = "{on_expiry}"
notify = ["otp.held"]
[[rules]]
name = "rest"
action = "deliver"
"""
    )
    return path


def config(tmp_path, port, **policy):
    base = gateway_config(tmp_path, (route("main", port),))
    return replace(base, policy_file=policy_file(tmp_path, **policy))


def swap(gateway, number: str = SWAPPED) -> None:
    occurred = datetime.fromtimestamp(gateway.clock.now() - 60, UTC).isoformat()
    signal = {"kind": "sim_swap", "msisdn": "+" + number, "occurred_at": occurred}
    gateway.risk_index.apply(parse_signal(signal, default_region=None))


async def api(gateway, method: str, path: str, body=None):
    url = f"http://127.0.0.1:{gateway.api_port}{path}"
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, url, json=body, headers=AUTH) as response,
    ):
        return response.status, await response.json()


def message_id(response: Pdu) -> str:
    return str(response.params["message_id"])


def in_state(gateway, hold_id: str, *states: str):
    """An async predicate: the hold's state is one of ``states``."""

    async def check() -> bool:
        _, body = await api(gateway, "GET", f"/v1/holds/{hold_id}")
        return body.get("state") in states

    return check


async def test_held_through_smpplib_then_released_once_with_the_real_receipt(tmp_path):
    async with (
        running_simulator(keep_records=True) as sim,
        running_gateway(config(tmp_path, sim.port)) as gw,
    ):
        swap(gw)
        esme = SmpplibEsme("127.0.0.1", gw.smpp_port, "bank", PASSWORD)
        await asyncio.to_thread(esme.bind)
        esme.start_reading()
        try:
            await asyncio.to_thread(esme.submit, SWAPPED, OTP)
            await asyncio.to_thread(esme.submit, CLEAN, OTP)
            assert await asyncio.to_thread(esme.wait, lambda: len(esme.responses) == 2)
            assert [r.status for r in esme.responses] == [0, 0]
            # The clean one, submitted second on the one upstream bind, has arrived.
            assert await until(lambda: sim.records and gw.holds.open)
            assert [r.destination_addr for r in sim.records] == [CLEAN]  # the held one waits

            status, listing = await api(gw, "GET", "/v1/holds?state=held")
            assert status == 200 and len(listing["holds"]) == 1
            held_id = listing["holds"][0]["id"]
            assert held_id in {r.message_id.decode() for r in esme.responses}
            assert CODE.decode() not in str(listing)

            status, released = await api(
                gw, "POST", f"/v1/holds/{held_id}/release", {"reason": "customer verified"}
            )
            assert status == 200 and released["state"] in ("releasing", "released")
            assert await asyncio.to_thread(esme.wait, lambda: len(esme.receipts) == 2)
            receipt_ids = sorted(r.receipted_message_id.decode() for r in esme.receipts)
            assert held_id in receipt_ids
            assert sorted(r.destination_addr for r in sim.records) == sorted([CLEAN, SWAPPED])

            status, again = await api(gw, "POST", f"/v1/holds/{held_id}/release")
            assert status == 409 and again["state"] == "released"
            # Time must pass to show the refused release sends nothing; a send reaches the
            # simulator in a few ms.
            await asyncio.sleep(0.1)
            assert len(sim.records) == 2  # sent once
            status, shown = await api(gw, "GET", f"/v1/holds/{held_id}")
            assert [h["state"] for h in shown["history"]] == ["held", "releasing", "released"]
            assert shown["history"][1]["why"] == "customer verified"
            assert CODE.decode() not in str(shown)
        finally:
            await asyncio.to_thread(esme.close)


async def test_cancel_sends_a_rejectd_receipt_and_nothing_upstream(tmp_path):
    async with (
        running_simulator(keep_records=True) as sim,
        running_gateway(config(tmp_path, sim.port)) as gw,
    ):
        swap(gw)
        esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
        response = await esme.submit(destination=SWAPPED, text=OTP)
        held_id = message_id(response)
        status, body = await api(gw, "POST", f"/v1/holds/{held_id}/cancel")
        assert status == 200 and body["state"] == "cancelled"
        assert await esme.wait_for(lambda: esme.receipts)
        receipt = esme.receipts[0]
        assert receipt.tlv_cstr(Tag.RECEIPTED_MESSAGE_ID) == held_id
        assert receipt.tlv_int(Tag.MESSAGE_STATE) == 8  # REJECTED
        text = bytes(receipt.params["short_message"])
        assert b"stat:REJECTD" in text and text.endswith(b"text:")
        assert sim.records == []
        status, again = await api(gw, "POST", f"/v1/holds/{held_id}/release")
        assert (status, again["state"]) == (409, "cancelled")
        esme.close()


async def test_cancel_sm_and_query_sm_from_the_esme(tmp_path):
    async with (
        running_simulator(keep_records=True) as sim,
        running_gateway(config(tmp_path, sim.port)) as gw,
    ):
        swap(gw)
        esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
        held_id = message_id(await esme.submit(destination=SWAPPED, text=OTP))
        query = Pdu(CommandId.QUERY_SM, {"message_id": held_id, "source_addr": "TestBank"})
        answer = await esme.connection.request(query)
        assert answer.command_status == 0 and answer.params["message_state"] == 1  # ENROUTE

        cancel = Pdu(
            CommandId.CANCEL_SM,
            {"message_id": held_id, "source_addr": "TestBank", "destination_addr": SWAPPED},
        )
        answer = await esme.connection.request(cancel)
        assert answer.command_status == 0
        assert await esme.wait_for(lambda: esme.receipts)
        assert b"stat:REJECTD" in bytes(esme.receipts[0].params["short_message"])
        answer = await esme.connection.request(cancel)
        assert answer.command_status == CommandStatus.ESME_RCANCELFAIL
        assert sim.records == []
        esme.close()


async def test_expiry_drop_and_expiry_deliver(tmp_path):
    async with running_simulator(keep_records=True) as sim:
        async with running_gateway(
            config(tmp_path / "drop", sim.port, ttl="1s", on_expiry="drop")
        ) as gw:
            swap(gw)
            esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
            held_id = message_id(await esme.submit(destination=SWAPPED, text=OTP))
            assert await esme.wait_for(lambda: esme.receipts, timeout_s=5)
            assert b"stat:EXPIRED" in bytes(esme.receipts[0].params["short_message"])
            assert esme.receipts[0].tlv_int(Tag.MESSAGE_STATE) == 3
            _, body = await api(gw, "GET", f"/v1/holds/{held_id}")
            assert body["state"] == "expired" and sim.records == []
            esme.close()
        async with running_gateway(
            config(tmp_path / "deliver", sim.port, ttl="1s", on_expiry="deliver")
        ) as gw:
            swap(gw)
            esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
            held_id = message_id(await esme.submit(destination=SWAPPED, text=OTP))
            assert await esme.wait_for(lambda: esme.receipts, timeout_s=5)
            assert esme.receipts[0].tlv_cstr(Tag.RECEIPTED_MESSAGE_ID) == held_id
            assert b"stat:DELIVRD" in bytes(esme.receipts[0].params["short_message"])
            assert [r.destination_addr for r in sim.records] == [SWAPPED]
            esme.close()


async def test_validity_period_ending_first_expires_the_hold_then(tmp_path):
    async with (
        running_simulator(keep_records=True) as sim,
        running_gateway(config(tmp_path, sim.port, on_expiry="deliver")) as gw,
    ):
        swap(gw)
        esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
        held_id = message_id(
            await esme.submit(destination=SWAPPED, text=OTP, validity_period=relative_time(1))
        )
        _, body = await api(gw, "GET", f"/v1/holds/{held_id}")
        assert body["on_expiry"] == "drop"
        assert await esme.wait_for(lambda: esme.receipts, timeout_s=5)
        assert b"stat:EXPIRED" in bytes(esme.receipts[0].params["short_message"])
        assert sim.records == []
        esme.close()


async def test_relative_validity_is_rebased_on_release(tmp_path):
    clock = ShiftedClock()
    async with (
        running_simulator(keep_records=True) as sim,
        running_gateway(config(tmp_path, sim.port), clock=clock) as gw,
    ):
        swap(gw)
        esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
        held_id = message_id(
            await esme.submit(destination=SWAPPED, text=OTP, validity_period=relative_time(3600))
        )
        clock.advance(2.2)  # the hold waits 2.2 s of the gateway's time
        await api(gw, "POST", f"/v1/holds/{held_id}/release")
        assert await esme.wait_for(lambda: sim.records, timeout_s=5)
        validity = str(decode(sim.records[0].raw).params["validity_period"])
        assert validity.endswith("R") and validity != relative_time(3600)
        assert validity in (relative_time(3597), relative_time(3598))
        esme.close()


async def test_release_and_cancel_racing_exactly_one_wins(tmp_path):
    async with (
        running_simulator(keep_records=True) as sim,
        running_gateway(config(tmp_path, sim.port)) as gw,
    ):
        swap(gw)
        esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
        ids = [message_id(await esme.submit(destination=SWAPPED, text=OTP)) for _ in range(10)]
        for held_id in ids:
            results = await asyncio.gather(
                api(gw, "POST", f"/v1/holds/{held_id}/release"),
                api(gw, "POST", f"/v1/holds/{held_id}/cancel"),
            )
            assert sorted(status for status, _ in results) == [200, 409]
        for held_id in ids:  # every release has gone upstream and come back
            assert await until_async(in_state(gw, held_id, "released", "cancelled"))
        _, listing = await api(gw, "GET", "/v1/holds?limit=100")
        states = [h["state"] for h in listing["holds"]]
        released = states.count("released")
        assert released + states.count("cancelled") == 10
        assert len(sim.records) == released
        esme.close()


async def test_cap_on_holds_falls_back_to_the_configured_action(tmp_path):
    async with running_simulator(keep_records=True) as sim:
        base = config(tmp_path, sim.port)
        cfg = replace(base, holds=HoldsConfig(max_per_account=2, over_limit="reject"))
        async with running_gateway(cfg) as gw:
            swap(gw)
            esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
            statuses = [
                (await esme.submit(destination=SWAPPED, text=OTP)).command_status for _ in range(3)
            ]
            assert statuses == [0, 0, CommandStatus.ESME_RX_R_APPN]
            esme.close()


async def test_listing_filters_and_pages(tmp_path):
    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        swap(gw)
        swap(gw, "447400123124")
        esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
        for number in [SWAPPED] * 3 + ["447400123124"] * 2:
            await esme.submit(destination=number, text=OTP)
        status, page = await api(gw, "GET", "/v1/holds?limit=2")
        assert len(page["holds"]) == 2 and "next" in page
        seen = [h["id"] for h in page["holds"]]
        while "next" in page:
            status, page = await api(gw, "GET", f"/v1/holds?limit=2&after={page['next']}")
            seen += [h["id"] for h in page["holds"]]
        assert len(seen) == len(set(seen)) == 5
        status, one = await api(gw, "GET", "/v1/holds?destination=%2B447400123124")
        assert len(one["holds"]) == 2
        status, _ = await api(gw, "GET", "/v1/holds?state=lost")
        assert status == 422
        status, _ = await api(gw, "GET", "/v1/holds/12345")
        assert status == 404
        esme.close()


async def test_the_code_is_in_no_readable_byte_of_the_sqlite_files(tmp_path):
    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        swap(gw)
        esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
        ids = [message_id(await esme.submit(destination=SWAPPED, text=OTP)) for _ in range(5)]
        await api(gw, "POST", f"/v1/holds/{ids[0]}/cancel")
        await api(gw, "POST", f"/v1/holds/{ids[1]}/release")
        assert await until_async(in_state(gw, ids[1], "released"))
        esme.close()
    files = glob.glob(str(tmp_path / "*.sqlite*"))
    assert any(f.endswith("otpgate.sqlite") for f in files)
    for name in files:
        with open(name, "rb") as handle:
            data = handle.read()
        assert CODE not in data, name
        assert b"verification code" not in data, name


async def test_export_lists_holds_without_text_or_code(tmp_path):
    import csv
    import io
    import json

    from gateway.export import export

    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        swap(gw)
        esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
        ids = [message_id(await esme.submit(destination=SWAPPED, text=OTP)) for _ in range(3)]
        await api(gw, "POST", f"/v1/holds/{ids[0]}/cancel")
        esme.close()
        out = io.StringIO()
        assert export(tmp_path, fmt="csv", out=out) == 3
        table = list(csv.DictReader(io.StringIO(out.getvalue())))
        assert sorted(r["state"] for r in table) == ["cancelled", "held", "held"]
        assert {r["id"] for r in table} == set(ids) and table[0]["rule"] == "hold-after-swap"
        lines = io.StringIO()
        assert export(tmp_path, fmt="jsonl", states=("cancelled",), out=lines) == 1
        assert json.loads(lines.getvalue())["id"] == ids[0]
        assert CODE.decode() not in out.getvalue() + lines.getvalue()


async def test_purge_removes_old_final_holds_and_keeps_open_ones(tmp_path):
    from gateway.retention import purge_all

    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        swap(gw)
        esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
        ids = [message_id(await esme.submit(destination=SWAPPED, text=OTP)) for _ in range(2)]
        await api(gw, "POST", f"/v1/holds/{ids[0]}/cancel")
        esme.close()
        soon = await purge_all(gw.retention, gw.clock.now() + 86400)
        assert soon["holds"] == 0 and soon["decision_audit"] == 0
        later = await purge_all(gw.retention, gw.clock.now() + 91 * 86400)
        assert later["holds"] == 1
        _, gone = await api(gw, "GET", f"/v1/holds/{ids[0]}")
        _, kept = await api(gw, "GET", f"/v1/holds/{ids[1]}")
        assert gone["code"] == "NOT_FOUND" and kept["state"] == "held"
        much_later = await purge_all(gw.retention, gw.clock.now() + 366 * 86400)
        assert much_later["decision_audit"] == 2
