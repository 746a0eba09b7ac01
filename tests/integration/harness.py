"""Helpers for integration tests: a real SMSC simulator and a real gateway on loopback, port 0."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from gateway.accounts import hash_password
from gateway.app import Gateway
from gateway.clock import Clock
from gateway.config import AccountConfig, ApiConfig, Config, RouteConfig, SmppConfig
from smpp_adapters.simulator import SimulatorConfig, SmscSimulator

PASSWORD = "secret1"
_HASH = hash_password(PASSWORD)  # scrypt once per test session, not per test
OPERATOR_KEY = "test-operator-key"
# Holds OTPs to numbers swapped within a day, for an hour; delivers the rest.
HOLD_AFTER_SWAP = """
[[rules]]
name = "hold-after-swap"
when = { is_otp = true, sim_swap_age_lt = "1d" }
action = "hold"
ttl = "1h"
on_expiry = "drop"
[[rules]]
name = "rest"
action = "deliver"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def account(system_id: str, **overrides: Any) -> AccountConfig:
    return AccountConfig(system_id=system_id, password_hash=_HASH, **overrides)


def route(name: str, *ports: int, **overrides: Any) -> RouteConfig:
    defaults: dict[str, Any] = {
        "reconnect_min_s": 0.05,
        "reconnect_max_s": 0.5,
        "response_timeout_s": 5.0,
    }
    defaults.update(overrides)
    return RouteConfig(name=name, hosts=tuple(("127.0.0.1", p) for p in ports), **defaults)


def gateway_config(
    data_dir: Path,
    routes: tuple[RouteConfig, ...],
    accounts: tuple[AccountConfig, ...] = (),
    **smpp: Any,
) -> Config:
    return Config(
        source="<test>",
        data_dir=data_dir,
        smpp=SmppConfig(
            host="127.0.0.1", port=0, accounts=accounts or (account("bank"),), routes=routes, **smpp
        ),
        api=ApiConfig(host="127.0.0.1", port=0, operator_key=OPERATOR_KEY, tenant_port=0),
    )


@asynccontextmanager
async def running_simulator(**options: Any) -> AsyncIterator[SmscSimulator]:
    options.setdefault("receipt_delay_s", 0.01)
    simulator = SmscSimulator(
        SimulatorConfig(host="127.0.0.1", port=options.pop("port", 0), **options)
    )
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


@asynccontextmanager
async def running_gateway(
    config: Config, *, wait_upstream: bool = True, clock: Clock | None = None
) -> AsyncIterator[Gateway]:
    gateway = Gateway(config, clock=clock)
    await gateway.start()
    try:
        if wait_upstream:
            await gateway.wait_upstream()
        yield gateway
    finally:
        await gateway.stop()


async def until(predicate: Any, timeout_s: float = 10.0) -> bool:
    """Poll ``predicate`` until true or ``timeout_s`` passes; its last answer."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def until_async(check: Callable[[], Awaitable[Any]], timeout_s: float = 10.0) -> bool:
    """``until`` for a coroutine predicate (an API call, a query through the store's writer)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await check():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


class ShiftedClock:
    """The system clock plus an offset a test moves forward: time passes without a sleep."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


async def outbox_settled(gateway: Gateway) -> bool:
    """No webhook event waits for a first or a further attempt: each one got its answer."""

    def pending(conn: Any) -> int:
        return conn.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0]

    return await gateway.durable.call(pending) == 0


async def pending_receipts(gateway: Gateway) -> int:
    """Receipts the gateway keeps on disk for an ESME with no receiver bound."""

    def count(conn: Any) -> int:
        return conn.execute("SELECT count(*) FROM pending_receipts").fetchone()[0]

    return await gateway.durable.call(count)


async def call(port: int, method: str, path: str, key: str, body: Any = None) -> tuple[int, Any]:
    """One HTTP call with a bearer key to a listener on this machine: (status, JSON or None)."""
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            method,
            f"http://127.0.0.1:{port}{path}",
            json=body,
            headers={"Authorization": f"Bearer {key}"},
        ) as response,
    ):
        data = await response.json() if response.content_type == "application/json" else None
        return response.status, data
