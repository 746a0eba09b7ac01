"""The first run as README's "Five minutes with it" tells it: ``otpgate run`` on its embedded
defaults, then send, swap, send again (held), list the hold as the demo tenant and release
it — every step through the commands and listeners a new user has.

The embedded defaults listen on fixed ports (2775, 8080, 8081): the process is started
once for the story, and the port-in-use case holds one of them itself."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

OTP = "Your PayBank code is 482913"
NUMBER = "+447400123123"


@dataclass
class FirstRun:
    process: subprocess.Popen[str]
    banner: str
    env: dict[str, str]
    tenant_key: str
    tenant_api: str


def _otpgate(run: FirstRun, *args: str) -> tuple[int, str, str]:
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        env=run.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, result.stdout, result.stderr


def _tenant(run: FirstRun, method: str, path: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        run.tenant_api + path,
        method=method,
        headers={"Authorization": f"Bearer {run.tenant_key}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirstRun]:
    directory = tmp_path_factory.mktemp("first-run")
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "run"],
        cwd=directory,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while not lines or "/release" not in lines[-1]:
            assert time.monotonic() < deadline and process.poll() is None, "".join(lines)
            lines.append(process.stdout.readline())
        banner = "".join(lines)
        exports = re.search(r"export OTPGATE_PASSWORD=(\S+) OTPGATE_OPERATOR_KEY=(\S+)", banner)
        tenant = re.search(r"tenant API\s+(http://\S+)\s+tenant demo-bank, key (\S+)", banner)
        assert exports and tenant, banner
        env = dict(
            os.environ,
            OTPGATE_PASSWORD=exports.group(1),
            OTPGATE_OPERATOR_KEY=exports.group(2),
        )
        yield FirstRun(process, banner, env, tenant.group(2), tenant.group(1))
    finally:
        process.terminate()
        process.wait(30)


def test_the_banner_names_every_listener_and_the_demo_tenant(first_run: FirstRun) -> None:
    banner = first_run.banner
    assert "SMPP          127.0.0.1:2775  system_id=demo" in banner
    assert "operator API  http://127.0.0.1:8080" in banner
    assert "tenant API    http://127.0.0.1:8081  tenant demo-bank" in banner


def test_five_minutes_send_swap_hold_release(first_run: FirstRun) -> None:
    code, out, err = _otpgate(first_run, "send", "--to", NUMBER, "--text", OTP)
    assert (code, json.loads(out)["outcome"]) == (0, "delivered"), err
    code, out, err = _otpgate(first_run, "signal", "sim-swap", NUMBER)
    assert (code, json.loads(out)["status"]) == (0, "accepted"), err
    code, out, err = _otpgate(first_run, "send", "--to", NUMBER, "--text", OTP, "--timeout", "1.5")
    held = json.loads(out)
    assert (code, held["outcome"]) == (4, "accepted_no_receipt"), err
    status, listing = _tenant(first_run, "GET", "/v1/holds?state=held")
    assert status == 200
    assert [(h["id"], h["tenant"], h["rule"]) for h in listing["holds"]] == [
        (held["message_id"], "demo-bank", "hold-after-sim-swap")
    ]
    status, released = _tenant(first_run, "POST", f"/v1/holds/{held['message_id']}/release")
    assert (status, released["state"]) == (200, "releasing")
    deadline = time.monotonic() + 10
    while _tenant(first_run, "GET", f"/v1/holds/{held['message_id']}")[1]["state"] != "released":
        assert time.monotonic() < deadline, "the released hold never reached the SMSC"
        time.sleep(0.05)


def test_a_signal_the_gateway_refuses_exits_1_with_the_reason(first_run: FirstRun) -> None:
    code, out, err = _otpgate(first_run, "signal", "sim-swap", "+12")
    assert (code, out) == (1, "") and "msisdn" in err


def test_port_in_use_fails_before_printing_any_credential(tmp_path: Path, first_run) -> None:
    # The first run holds 2775, 8080 and 8081: a second one cannot listen.
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "run"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "password=" not in result.stdout and "Bearer" not in result.stdout
    assert "address already in use" in result.stderr.lower() or "errno 98" in result.stderr
