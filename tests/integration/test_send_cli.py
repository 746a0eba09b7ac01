"""``otpgate send`` against a running gateway process: what it prints and its exit status for
a delivered message, a held OTP, a refused submit, wrong credentials and a bad number —
never a traceback, never smpplib's own noise."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from .harness import HOLD_AFTER_SWAP, PASSWORD, running_simulator
from .process import GatewayProcess

# A sender refused, before the usual holding rules.
POLICY = (
    """
[[rules]]
name = "refuse-test-sender"
when = { source_addr = "REFUSEME" }
action = "reject"
"""
    + HOLD_AFTER_SWAP
)
SWAPPED = "+447420000123"


async def _send(port: int, *args: str, password: str = PASSWORD) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.cli",
        "send",
        "--port",
        str(port),
        "--system-id",
        "bank",
        "--password",
        password,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def _clean(err: str) -> None:
    assert "Traceback" not in err and "was not closed" not in err and "Unhandled" not in err, err


@pytest.fixture
async def gateway(tmp_path: Path):
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    async with running_simulator() as simulator:
        process = GatewayProcess(tmp_path, simulator.port, f'\n[policy]\nfile = "{policy}"\n')
        await process.start()
        try:
            yield process
        finally:
            process.stop()


async def test_a_delivered_message_exits_0_with_its_receipt(gateway) -> None:
    code, out, err = await _send(gateway.smpp_port, "--to", "+447700900001", "--text", "Hello")
    _clean(err)
    answer = json.loads(out)
    assert (code, answer["outcome"], answer["receipt"]) == (0, "delivered", "DELIVRD")
    assert answer["status_name"] == "ESME_ROK" and answer["message_id"]


async def test_a_held_otp_exits_4_saying_no_receipt_came_within_the_timeout(gateway) -> None:
    swapped_at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    swap = {"kind": "sim_swap", "msisdn": SWAPPED, "occurred_at": swapped_at}
    assert (await gateway.api("POST", "/v1/signals", swap))[0] == 200
    code, out, err = await _send(
        gateway.smpp_port,
        "--to",
        SWAPPED,
        "--text",
        "Your verification code is 482913. Do not share it.",
        "--timeout",
        "1.5",
    )
    _clean(err)
    answer = json.loads(out)
    assert (code, answer["outcome"], answer["status"]) == (4, "accepted_no_receipt", 0)
    assert "held" in answer["note"] and "482913" not in out
    status, holds = await gateway.api("GET", "/v1/holds?state=held")
    assert status == 200 and [h["id"] for h in holds["holds"]] == [answer["message_id"]]


async def test_a_refused_submit_exits_1_naming_the_status(gateway) -> None:
    code, out, err = await _send(
        gateway.smpp_port, "--to", "+447700900002", "--text", "Hi", "--from", "REFUSEME"
    )
    _clean(err)
    answer = json.loads(out)
    assert (code, answer["outcome"], answer["status_name"]) == (1, "refused", "ESME_RX_R_APPN")


async def test_a_wrong_password_exits_3_with_the_bind_status(gateway) -> None:
    code, out, err = await _send(
        gateway.smpp_port, "--to", "+447700900003", "--text", "Hi", password="wrong"
    )
    _clean(err)
    assert (code, out) == (3, "")
    assert "bind refused: ESME_RINVPASWD" in err


async def test_nothing_listening_exits_3(tmp_path: Path) -> None:
    from .harness import free_port

    code, _out, err = await _send(free_port(), "--to", "+447700900003", "--text", "Hi")
    _clean(err)
    assert code == 3 and "cannot reach" in err


@pytest.mark.parametrize("number", ["notanumber", "+12", "+4477009000011234567", "44 7700"])
async def test_a_destination_that_is_not_e164_exits_2(number: str) -> None:
    code, out, err = await _send(2775, "--to", number, "--text", "Hi")
    assert (code, out) == (2, "") and "is not a phone number" in err
