"""Regressions the soak and fuzz runs found, each replayed from its input in regressions/.

Each defect is fixed (found_defects.py says what it was); these tests keep it fixed.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from smpp_adapters.pdu import Pdu, decode

from ..integration.esme import AsyncEsme
from ..integration.harness import HOLD_AFTER_SWAP, PASSWORD, running_simulator, until
from ..integration.process import GatewayProcess
from .api_answers import answer_problem
from .api_target import ApiTarget, running_api_target
from .found_defects import (
    BIG_INT_JSON,
    DELIVERY_ID_OVERFLOW,
    HOLD_LONG_ADDRESS,
    OAUTH_413_SHAPE,
    PARTS_RECOVERED_BEFORE_BIND,
    PENDING_RECEIPTS_BIND_CHURN,
    RECEIPT_MAPPING_RACE,
    REGRESSIONS,
    SIMULATOR_LONG_ADDRESS,
    mapped_ids,
)
from .memory import RssTracker
from .smsc_thread import simulator_in_thread

PARTS_TOML = "\n[smpp]\nreassembly_timeout_s = 1\n"
RACE_ATTEMPTS = 12


def load(name: str) -> dict[str, Any]:
    return json.loads((REGRESSIONS / name).read_text())


def submits(name: str) -> list[Pdu]:
    return [decode(bytes.fromhex(h)) for h in load(name)["submits_hex"]]


# -- the APIs: big-int-json, delivery-id-overflow, oauth-413-shape ---------------------------

API_DEFECTS = (BIG_INT_JSON, DELIVERY_ID_OVERFLOW, OAUTH_413_SHAPE)
API_CASES = [
    pytest.param(
        case,
        id=f"{defect.name}:{case['listener']}{case['path'][:40]}",
    )
    for defect in API_DEFECTS
    for case in load(defect.regression)["requests"]
]


@pytest.fixture(scope="module")
def api_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiTarget]:
    with running_api_target(tmp_path_factory.mktemp("regressions-api")) as prepared:
        yield prepared


@pytest.mark.parametrize("case", API_CASES)
def test_api_answers_hostile_input_in_the_documented_shape(api_target, case) -> None:
    path = case["path"].replace("{hold_id}", api_target.hold_ids[0])
    body = case["body"].encode()
    if "body_pad" in case:
        body += case["body_pad"]["text"].encode() * case["body_pad"]["count"]
    headers = api_target.headers(case["listener"], path)
    headers["Content-Type"] = case.get("content_type", "application/json")
    response = requests.request(
        case["method"],
        f"{api_target.base_url(case['listener'])}{path}",
        data=body,
        headers=headers,
        timeout=30,
    )
    content_type = response.headers.get("Content-Type", "")
    problem = answer_problem(case["path"], response.status_code, content_type, response.content)
    assert problem is None, problem


# -- parts-recovered-before-bind ---------------------------------------------------------------


def _log_count(gateway: GatewayProcess, event: str) -> int:
    if not gateway.log_path.exists():
        return 0
    return gateway.log_path.read_text(errors="replace").count(f'"event": "{event}"')


async def _submit_all(gateway: GatewayProcess, pdus: list[Pdu]) -> list[str]:
    esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD)
    try:
        answers = [await esme.connection.request(pdu) for pdu in pdus]
    finally:
        esme.close()
        await asyncio.wait_for(esme.connection.closed.wait(), 5)
    assert all(a is not None and a.command_status == 0 for a in answers), answers
    return [str(a.params["message_id"]) for a in answers]


async def test_parts_recovered_before_the_upstream_binds_still_reach_the_smsc(tmp_path):
    pdus = submits(PARTS_RECOVERED_BEFORE_BIND.regression)
    # An SMSC that never answers in time: part 1 leaves, the three parts stay parked.
    async with running_simulator(response_delay_s=60, keep_records=True) as slow:
        port = slow.port
        gateway = GatewayProcess(tmp_path, port, PARTS_TOML)
        await gateway.start()
        await _submit_all(gateway, pdus)
        assert await until(lambda: len(slow.records) >= 1)
        gateway.kill()
    # Restart with nothing listening upstream yet; the SMSC comes back once the parked
    # parts have been recovered (the log says so), as after a crash with a slow bind.
    recovered = _log_count(gateway, "parked_parts_recovered")
    starting = asyncio.create_task(gateway.start(timeout_s=30))
    try:
        assert await until(lambda: _log_count(gateway, "parked_parts_recovered") > recovered, 20)
        async with running_simulator(port=port, keep_records=True) as simulator:
            await starting
            esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD)
            try:
                assert await esme.wait_for(lambda: len(esme.receipts) >= len(pdus), 20)
                stats = [
                    bytes(r.params["short_message"]).split(b"stat:")[1][:7] for r in esme.receipts
                ]
            finally:
                esme.close()
                await asyncio.wait_for(esme.connection.closed.wait(), 5)
            delivered = len(simulator.records)
    finally:
        if not starting.done():
            starting.cancel()
        gateway.stop()
    assert (delivered, stats) == (len(pdus), [b"DELIVRD"] * len(pdus))


# -- receipt-mapping-race ------------------------------------------------------------------------


def _parked(database: Path, ids: list[str]) -> int:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)
    try:
        marks = ",".join("?" * len(ids))
        query = f"SELECT count(*) FROM parked_parts WHERE gateway_id IN ({marks})"
        return int(connection.execute(query, ids).fetchone()[0])
    finally:
        connection.close()


def _kill_when_unparked(gateway: GatewayProcess, ids: list[str]) -> bool:
    """Poll the durable store and SIGKILL the moment the parked rows are gone; False when
    they did not go within the deadline. Blocking on purpose: nothing may run in between."""
    durable = gateway.directory / "data" / "otpgate.sqlite"
    deadline = time.monotonic() + 10
    while _parked(durable, ids):
        if time.monotonic() > deadline:
            return False
    gateway.kill()
    return True


# A race, but a wide one (10 ms of group commit): before the fix every run lost it on attempt 0.
async def test_parked_parts_are_forgotten_only_after_their_receipt_mapping_is_on_disk(tmp_path):
    template = submits(RECEIPT_MAPPING_RACE.regression)
    # The SMSC on its own thread: it must answer the gateway while this thread polls SQLite.
    with simulator_in_thread(keep_records=True) as simulator:
        gateway = GatewayProcess(tmp_path, simulator.port, PARTS_TOML)
        message_map = gateway.directory / "data" / "message-map.sqlite"
        try:
            for attempt in range(RACE_ATTEMPTS):
                await gateway.start()
                destination = f"4474100{attempt:05d}"
                pdus = [p.evolve(destination_addr=destination) for p in template]
                ids = await _submit_all(gateway, pdus)
                assert _kill_when_unparked(gateway, ids), "the parts were never forwarded"
                unmapped = set(ids) - mapped_ids(message_map, ids)
                assert not unmapped, (
                    f"attempt {attempt}: parked rows gone, no mapping for {unmapped}"
                )
        finally:
            gateway.stop()


# -- hold-long-address and simulator-long-address ------------------------------------------------


async def test_a_held_data_sm_with_a_long_source_addr_can_be_cancelled(tmp_path):
    regression = load(HOLD_LONG_ADDRESS.regression)
    policy = tmp_path / "policy.toml"
    policy.write_text(HOLD_AFTER_SWAP)
    async with running_simulator() as simulator:
        gateway = GatewayProcess(tmp_path, simulator.port, f'\n[policy]\nfile = "{policy}"\n')
        await gateway.start()
        try:
            swap = {
                "kind": "sim_swap",
                "msisdn": regression["swapped"],
                "occurred_at": _minute_ago(),
            }
            assert (await gateway.api("POST", "/v1/signals", swap))[0] == 200
            esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD)
            try:
                answer = await esme.connection.request(submits(HOLD_LONG_ADDRESS.regression)[0])
                hold_id = str(answer.params["message_id"])
                status, body = await gateway.api("POST", f"/v1/holds/{hold_id}/cancel")
                assert (status, body.get("state")) == (200, "cancelled"), body
                assert await esme.wait_for(lambda: esme.receipts, 10)
            finally:
                esme.close()
                await asyncio.wait_for(esme.connection.closed.wait(), 5)
        finally:
            gateway.stop()


async def test_the_simulator_receipts_a_data_sm_with_a_long_source_addr():
    async with running_simulator() as simulator:
        esme = await AsyncEsme.bind(simulator.port, "any", "any")
        try:
            answer = await esme.connection.request(submits(SIMULATOR_LONG_ADDRESS.regression)[0])
            assert answer is not None and answer.command_status == 0
            # The simulator's receipts come after 10 ms here: two seconds is plenty.
            assert await esme.wait_for(lambda: esme.receipts, 2)
        finally:
            esme.close()


def _minute_ago() -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(datetime.now(UTC).timestamp() - 60, UTC).isoformat()


# -- pending-receipts-bind-churn --------------------------------------------------------------

CHURN_TOML = """
[smpp]
bind_failures_before_lockout = 1000000000
bind_failures_per_account = 1000000000
"""


async def _bind_and_leave(port: int, bind: bytes) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(bind)
    header = await reader.readexactly(16)
    await reader.readexactly(int.from_bytes(header[:4], "big") - 16)
    writer.close()
    await writer.wait_closed()


@pytest.mark.timeout(300)
async def test_bind_churn_with_receipts_pending_keeps_memory_level(tmp_path):
    regression = load(PENDING_RECEIPTS_BIND_CHURN.regression)
    bind = bytes.fromhex(regression["bind_hex"])
    rss = RssTracker()
    async with running_simulator() as simulator:
        gateway = GatewayProcess(tmp_path, simulator.port, CHURN_TOML)
        await gateway.start()
        try:
            sender = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD, mode="tx")
            window = asyncio.Semaphore(40)

            async def submit(i: int) -> None:
                async with window:
                    await sender.submit(destination=f"4474100{i:05d}", text=b"Your statement")

            await asyncio.gather(*(submit(i) for i in range(regression["pending_receipts"])))
            # Receipts for a transmitter-only account go to disk: wait until they all did.
            pending = gateway.directory / "data" / "otpgate.sqlite"
            assert await until(
                lambda: _pending_receipts(pending) >= regression["pending_receipts"], 30
            )
            rss.sample(gateway.process.pid)
            before = rss.last_mb
            for _ in range(regression["binds"] // 3):
                await asyncio.gather(*(_bind_and_leave(gateway.smpp_port, bind) for _ in range(3)))
            rss.sample(gateway.process.pid)
            sender.close()
            await asyncio.wait_for(sender.connection.closed.wait(), 5)
        finally:
            gateway.stop()
    assert rss.peak_mb - before < regression["max_growth_mb"], rss.summary()


def _pending_receipts(database: Path) -> int:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)
    try:
        return int(connection.execute("SELECT count(*) FROM pending_receipts").fetchone()[0])
    finally:
        connection.close()
