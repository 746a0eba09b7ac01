"""The gateway as a real process (``python -m gateway.cli run``), for crash and restart tests."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

from .harness import _HASH, OPERATOR_KEY, free_port

ROOT = Path(__file__).parents[2]


class GatewayProcess:
    """One gateway process with a config file in ``directory``; start, kill -9, start again."""

    def __init__(
        self, directory: Path, upstream_port: int, extra_toml: str = "", node_id: str = "node-1"
    ) -> None:
        self.directory = directory
        self.smpp_port = free_port()
        self.api_port = free_port()
        self.tenant_port = free_port()
        self.config_path = directory / "gateway.toml"
        self.log_path = directory / "gateway.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.config_path.write_text(
            f"""
[node]
id = "{node_id}"
data_dir = "{directory / "data"}"

[smpp.listen]
host = "127.0.0.1"
port = {self.smpp_port}

[[smpp.accounts]]
system_id = "bank"
password_hash = "{_HASH}"
tenant = "paybank"

[smpp.upstream]
host = "127.0.0.1"
port = {upstream_port}
system_id = "gw"
password_env = "OTPGATE_TEST_UPSTREAM_PASSWORD"
reconnect_min_s = 0.05
reconnect_max_s = 0.5

[api]
host = "127.0.0.1"
port = {self.api_port}
tenant_port = {self.tenant_port}
operator_key_env = "OTPGATE_TEST_OPERATOR_KEY"

[holds]
key_env = "OTPGATE_TEST_HOLD_KEY"
{extra_toml}
"""
        )

    async def start(self, timeout_s: float = 20.0) -> None:
        env = {
            **os.environ,
            "OTPGATE_TEST_UPSTREAM_PASSWORD": "x",
            "OTPGATE_TEST_OPERATOR_KEY": OPERATOR_KEY,
            "OTPGATE_TEST_HOLD_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        }
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "run", "--config", str(self.config_path)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gateway exited: {self.log_path.read_text()[-2000:]}")
            try:
                status, _ = await self.api("GET", "/readyz")
                if status == 200:
                    return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise TimeoutError(f"gateway not ready: {self.log_path.read_text()[-2000:]}")

    def logged(self, event: str, **fields: Any) -> bool:
        """The process wrote a log line for ``event`` (with these field values) by now."""
        for line in self.log_path.read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:  # a line still being written
                continue
            if record.get("event") == event and all(record.get(k) == v for k, v in fields.items()):
                return True
        return False

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a power cut of the process."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    async def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        url = f"http://127.0.0.1:{self.api_port}{path}"
        headers = {"Authorization": f"Bearer {OPERATOR_KEY}"}
        timeout = aiohttp.ClientTimeout(total=10)
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.request(method, url, json=body, headers=headers) as response,
        ):
            return response.status, await response.json()

    async def all_holds(self, query: str = "") -> list[dict[str, Any]]:
        holds: list[dict[str, Any]] = []
        after = ""
        while True:
            _, page = await self.api("GET", f"/v1/holds?limit=500{query}{after}")
            holds += page["holds"]
            if "next" not in page:
                return holds
            after = f"&after={page['next']}"
