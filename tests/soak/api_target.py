"""The gateway the API fuzz aims at: a process with a CAMARA tenant, its keys, a token, holds.

Real ids and a real relation (the tenant sent to the numbers) let generated requests get past
look-ups and permission checks into the handlers' own code.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from ..integration.esme import AsyncEsme
from ..integration.harness import HOLD_AFTER_SWAP, OPERATOR_KEY, PASSWORD
from ..integration.process import GatewayProcess
from .api_answers import OAUTH_PATH
from .memory import RssTracker
from .pdu_corpus import OTP
from .smsc_thread import simulator_in_thread

# The quota would turn most CAMARA calls into 429s before they reach the handlers.
TENANT_TOML = """
[[tenants]]
name = "paybank"
camara = true
camara_quota_per_minute = 100000000
"""
POLICY = HOLD_AFTER_SWAP
RELATED = [f"+4474200000{i:02d}" for i in range(1, 11)]
_CAMARA_PREFIXES = ("/sim-swap", "/call-forwarding")


@dataclass
class ApiTarget:
    process: GatewayProcess
    tenant_key: str
    access_token: str
    hold_ids: list[str]
    rss: RssTracker = field(default_factory=RssTracker)

    def base_url(self, listener: str) -> str:
        port = self.process.api_port if listener == "operator" else self.process.tenant_port
        return f"http://127.0.0.1:{port}"

    def headers(self, listener: str, path: str) -> dict[str, str]:
        if listener == "operator":
            return {"Authorization": f"Bearer {OPERATOR_KEY}"}
        if path == OAUTH_PATH:
            basic = base64.b64encode(f"{self.tenant_key[:13]}:{self.tenant_key}".encode())
            return {"Authorization": f"Basic {basic.decode()}"}
        if path.startswith(_CAMARA_PREFIXES):
            return {"Authorization": f"Bearer {self.access_token}"}
        return {"Authorization": f"Bearer {self.tenant_key}"}

    def sample_memory(self) -> None:
        assert self.process.process is not None
        self.rss.sample(self.process.process.pid)

    def alive(self) -> bool:
        return self.process.process is not None and self.process.process.poll() is None


@contextmanager
def running_api_target(directory: Path) -> Iterator[ApiTarget]:
    """The gateway process, prepared; its SMSC simulator on a thread (the callers block)."""
    policy = directory / "policy.toml"
    policy.write_text(POLICY)
    extra = TENANT_TOML + f'\n[policy]\nfile = "{policy}"\n'
    with simulator_in_thread() as simulator:
        process = GatewayProcess(directory, simulator.port, extra)
        asyncio.run(process.start())
        try:
            yield asyncio.run(prepare(process))
        finally:
            process.stop()


async def prepare(process: GatewayProcess) -> ApiTarget:
    """A tenant key and token, swapped numbers the tenant sent OTPs to, and their holds."""
    status, body = await process.api("POST", "/v1/tenants/paybank/keys")
    assert status == 201, body
    key = body["key"]
    occurred = datetime.fromtimestamp(datetime.now(UTC).timestamp() - 60, UTC).isoformat()
    swaps = [{"kind": "sim_swap", "msisdn": n, "occurred_at": occurred} for n in RELATED]
    status, body = await process.api("POST", "/v1/signals", swaps)
    assert status == 200, body
    esme = await AsyncEsme.bind(process.smpp_port, "bank", PASSWORD)
    try:
        ids = []
        for number in RELATED:
            response = await esme.submit(destination=number[1:], text=OTP)
            assert response is not None and response.command_status == 0
            ids.append(str(response.params["message_id"]))
    finally:
        esme.close()
    return ApiTarget(process, key, await _token(process, key), ids)


async def _token(process: GatewayProcess, key: str) -> str:
    basic = base64.b64encode(f"{key[:13]}:{key}".encode()).decode()
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{process.tenant_port}{OAUTH_PATH}",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        ) as response,
    ):
        body: Any = await response.json()
    assert response.status == 200, body
    return str(body["access_token"])
