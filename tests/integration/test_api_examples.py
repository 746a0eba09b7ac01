"""docs/api-examples.md works as written: every curl of its shell blocks is run, in order, by
bash against a live gateway process, and none gets a 401, a 403, a 5xx or no answer.

Only what a reader puts in themselves is replaced: the ports, the keys (the tenant key and
its id where the doc uses them to authenticate), and the webhook URL (a receiver on this
machine instead of hooks.paybank.example). Sample ids that name nothing here (a hold, a
webhook, a delivery, a key to revoke) may answer 404 and only those."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .esme import AsyncEsme
from .harness import OPERATOR_KEY, PASSWORD, running_simulator
from .process import GatewayProcess

DOC = Path(__file__).resolve().parents[2] / "docs" / "api-examples.md"
SAMPLE_IDS = ("383850309946306560", "wh_0123456789abcdef", "/deliveries/42/", "keys/otpk_3f9a1c2b")
EXTRA = """
[[tenants]]
name = "paybank"
camara = true

[webhooks]
allow_http_hosts = ["127.0.0.1"]
allow_networks = ["127.0.0.1"]
"""
# Every curl goes through this: its status and arguments are logged, its body printed.
WRAPPER = r"""
curl() {
  local out code args="$*"
  out=$(command curl -sS -w $'\n%{http_code}' "$@") || true
  code=${out##*$'\n'}
  printf '%s\t%s\n' "$code" "${args//$'\n'/ }" >> "$CURL_LOG"
  printf '%s' "${out%$'\n'*}"
}
"""


def _blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, re.DOTALL)


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
async def test_every_curl_of_the_api_examples_gets_a_documented_answer(tmp_path) -> None:
    async with running_simulator() as simulator:
        gateway = GatewayProcess(tmp_path, simulator.port, EXTRA)
        await gateway.start()
        try:
            status, created = await gateway.api("POST", "/v1/tenants/paybank/keys")
            assert status == 201
            key, key_id = created["key"], created["id"]
            # The CAMARA calls ask about +447400123123: paybank must have sent to it.
            esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD)
            await esme.submit(destination="447400123123", text=b"Your statement is ready")
            esme.close()
            script = WRAPPER + "\n".join(_blocks(DOC.read_text()))
            script = (
                script.replace("http://127.0.0.1:8080", f"http://127.0.0.1:{gateway.api_port}")
                .replace("http://127.0.0.1:8081", f"http://127.0.0.1:{gateway.tenant_port}")
                .replace("otpk_3f9a1c2b_...", key)
                .replace('-u "otpk_3f9a1c2b:', f'-u "{key_id}:')
                .replace("https://hooks.paybank.example/otpgate", "http://127.0.0.1:9/otpgate")
            )
            log = tmp_path / "curl.log"
            env = dict(os.environ, OTPGATE_OPERATOR_KEY=OPERATOR_KEY, CURL_LOG=str(log))
            result = await asyncio.to_thread(
                subprocess.run,
                ["bash", "-c", script],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
        finally:
            gateway.stop()
    assert result.returncode == 0, result.stderr
    calls = [line.split("\t", 1) for line in log.read_text().splitlines()]
    documented = sum(block.count("curl ") for block in _blocks(DOC.read_text()))
    assert len(calls) == documented, (len(calls), documented)
    wrong = [
        (code, command)
        for code, command in calls
        if code in ("000", "401", "403")
        or code.startswith("5")
        or (code == "404" and not any(sample in command for sample in SAMPLE_IDS))
    ]
    assert wrong == [], wrong
