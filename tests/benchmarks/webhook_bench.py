"""Webhook deliveries per second and hold -> webhook latency (signed, outbox-backed).

    python -m tests.benchmarks.webhook_bench [--count N]

One gateway in this process (its own SMSC simulator), a local aiohttp receiver that
verifies every signature with the standardwebhooks library, and an ESME sending OTPs to a
number whose SIM was just swapped: every message is held, and every hold is an otp.held
webhook. Baseline in the same run: the receiver hit directly by a plain aiohttp client with
the same bodies (what HTTP on loopback costs here). Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web
from standardwebhooks.webhooks import Webhook as Verifier

from gateway.app import Gateway
from gateway.config_tenants import TenantConfig, WebhooksConfig
from gateway.signals.model import parse_signal
from tests.integration.esme import AsyncEsme
from tests.integration.harness import PASSWORD, account, gateway_config, route, running_simulator


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] if values else float("nan")


async def main(count: int) -> None:
    arrived: dict[str, float] = {}
    secret: dict[str, str] = {}

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        if "secret" in secret:
            event = Verifier(secret["secret"]).verify(body, dict(request.headers))
            arrived[event["data"]["hold_id"]] = time.perf_counter()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/hook"

    # Baseline: plain POSTs of a similar body, 4 in flight, no signing, no outbox.
    body = json.dumps({"type": "otp.held", "data": {"hold_id": "x" * 18}}).encode()
    started = time.perf_counter()
    async with aiohttp.ClientSession() as http:
        sem = asyncio.Semaphore(4)

        async def post() -> None:
            async with sem, http.post(url, data=body) as r:
                await r.read()

        await asyncio.gather(*(post() for _ in range(count)))
    base_rate = count / (time.perf_counter() - started)

    directory = Path(tempfile.mkdtemp())
    policy = directory / "policy.toml"
    policy.write_text(
        '[[rules]]\nname = "hold"\nwhen = { is_otp = true, sim_swap_age_lt = "1d" }\n'
        'action = "hold"\nttl = "1h"\non_expiry = "drop"\nnotify = ["otp.held"]\n'
    )
    async with running_simulator() as sim:
        config = replace(
            gateway_config(directory, (route("main", sim.port),), (account("bank", tenant="t"),)),
            policy_file=policy,
            tenants=(TenantConfig("t"),),
            webhooks=WebhooksConfig(
                allow_http_hosts=frozenset({"127.0.0.1"}),
                allow_networks=(ipaddress.ip_network("127.0.0.1/32"),),
            ),
        )
        gateway = Gateway(config)
        await gateway.start()
        await gateway.wait_upstream()
        hook_record = await gateway.subscriptions.create(
            "t", url, ("otp.held",), "bench", time.time()
        )
        secret["secret"] = hook_record.secret
        number = "447400123123"
        occurred = datetime.fromtimestamp(time.time() - 60, UTC).isoformat()
        gateway.risk_index.apply(
            parse_signal(
                {"kind": "sim_swap", "msisdn": "+" + number, "occurred_at": occurred},
                default_region=None,
            )
        )
        esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD, window=100)
        held_at: dict[str, float] = {}
        sem = asyncio.Semaphore(50)
        otp = b"Your PayBank verification code is 482913. Never share it."

        async def submit() -> None:
            async with sem:
                response = await esme.submit(destination=number, text=otp)
                held_at[str(response.params["message_id"])] = time.perf_counter()

        started = time.perf_counter()
        await asyncio.gather(*(submit() for _ in range(count)))
        deadline = time.perf_counter() + 120
        while len(arrived) < count and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - started
        latencies = [(arrived[h] - t) * 1000 for h, t in held_at.items() if h in arrived]
        esme.close()
        await gateway.stop()
    await runner.cleanup()
    rate = len(arrived) / elapsed
    print(f"webhook benchmark, {count} held OTPs, each an otp.held webhook (signed, outbox-backed)")
    print(f"  baseline: plain POSTs to the same receiver   {base_rate:8.0f} /s")
    print(
        f"  holds -> verified webhooks                    {rate:8.0f} /s  ({rate / base_rate:.2f} x baseline)"
    )
    print(
        f"  hold committed -> webhook verified  p50 {pct(latencies, 0.5):7.1f} ms  p99 {pct(latencies, 0.99):7.1f} ms"
    )
    print(f"  delivered {len(arrived)} of {count}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=3000)
    asyncio.run(main(parser.parse_args().count))
