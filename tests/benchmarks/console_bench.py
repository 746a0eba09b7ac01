"""What an open operator console costs the gateway.

    python -m tests.benchmarks.console_bench [--holds 1000] [--refreshes 300] [--messages 20000]

The gateway runs as its own process in front of the simulator, with ``--holds`` OTPs held
after SIM swaps. In the same run it measures the gateway's CPU for plain traffic (per
message, the baseline) and for the console's overview refresh (the three API calls the page
makes every 2 s: status with the open holds counted, feed health), and prints a refresh's cost as
messages' worth of CPU and as the share of one core the page takes at one refresh per
second and at its own pace. Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from smpp_adapters.constants import CommandId
from smpp_adapters.pdu import Pdu

from ..integration.esme import AsyncEsme
from .loadgen import process_cpu_s, run_load
from .throughput import PASSWORD, _free_port, _gateway_config, _start, _wait_port

KEY = PASSWORD  # the throughput config names BENCH_PASSWORD as the operator key too


async def _hold(smpp_port: int, api_port: int, count: int) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    occurred = datetime.fromtimestamp(time.time() - 60, UTC).isoformat()
    numbers = [f"44740{i:07d}" for i in range(count)]
    async with aiohttp.ClientSession(headers=headers) as http:
        for start in range(0, count, 5000):
            signals = [
                {"kind": "sim_swap", "msisdn": "+" + n, "occurred_at": occurred}
                for n in numbers[start : start + 5000]
            ]
            async with http.post(f"http://127.0.0.1:{api_port}/v1/signals", json=signals) as r:
                assert r.status == 200, await r.text()
    esme = await AsyncEsme.bind(smpp_port, "bench", PASSWORD)
    window = asyncio.Semaphore(100)

    async def submit(number: str) -> None:
        async with window:
            pdu = Pdu(
                CommandId.SUBMIT_SM,
                {
                    "source_addr": "PayBank",
                    "destination_addr": number,
                    "short_message": b"Your PayBank code is 482913. Never share it.",
                },
            )
            answer = await esme.connection.request(pdu)
            assert answer is not None and answer.command_status == 0

    await asyncio.gather(*(submit(n) for n in numbers))
    esme.close()


async def _refresh(http: aiohttp.ClientSession, base: str) -> int:
    """One overview refresh, as the page makes it; the number of open holds it shows."""
    answers = await asyncio.gather(
        http.get(f"{base}/v1/status"), http.get(f"{base}/v1/signals/health")
    )
    bodies = [await a.json() for a in answers]
    for answer in answers:
        answer.release()
    return sum(bodies[0]["holds_open"].values())


async def _refreshes(api_port: int, count: int) -> tuple[float, int]:
    base = f"http://127.0.0.1:{api_port}"
    seen = 0
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {KEY}"}) as http:
        started = time.perf_counter()
        for _ in range(count):
            seen = await _refresh(http, base)
        return time.perf_counter() - started, seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holds", type=int, default=1000)
    parser.add_argument("--refreshes", type=int, default=300)
    parser.add_argument("--messages", type=int, default=20000)
    args = parser.parse_args()
    env = {**os.environ, "BENCH_PASSWORD": PASSWORD}
    with tempfile.TemporaryDirectory() as directory:
        sim_port, smpp_port = _free_port(), _free_port()
        simulator = _start(["smsc-sim", "--port", str(sim_port), "--receipt-delay", "0.01"], env)
        config = _gateway_config(Path(directory), smpp_port, sim_port, "default")
        api_port = int(tomllib.loads(config.read_text())["api"]["port"])
        gateway = _start(["run", "--config", str(config)], env)
        try:
            _wait_port(sim_port)
            _wait_port(smpp_port)
            _wait_port(api_port)
            asyncio.run(_hold(smpp_port, api_port, args.holds))
            before = process_cpu_s(gateway.pid)
            load = asyncio.run(
                run_load(
                    "127.0.0.1",
                    smpp_port,
                    system_id="bench",
                    password=PASSWORD,
                    count=args.messages,
                    binds=2,
                    window=200,
                    rate=None,
                )
            )
            per_message_s = (process_cpu_s(gateway.pid) - before) / max(1, load.ok)
            before = process_cpu_s(gateway.pid)
            elapsed, seen = asyncio.run(_refreshes(api_port, args.refreshes))
            per_refresh_s = (process_cpu_s(gateway.pid) - before) / args.refreshes
        finally:
            gateway.terminate()
            simulator.terminate()
            gateway.wait(30)
            simulator.wait(10)
    print(f"otpgate console cost ({args.holds} holds open, default policy, receipts on)")
    print(
        f"  baseline: gateway CPU per message      {per_message_s * 1e6:9.1f} us  ({load.ok} messages)"
    )
    print(
        f"  overview refresh (2 calls, {seen} holds open) {per_refresh_s * 1e3:6.2f} ms CPU"
        f"  = {per_refresh_s / per_message_s:.0f} messages' worth"
    )
    print(f"  one console refreshing every 2 s        {per_refresh_s / 2 * 100:9.3f} % of a core")
    print(f"  one console refreshing every 1 s        {per_refresh_s * 100:9.3f} % of a core")
    rate = args.refreshes / elapsed
    print(f"  refreshes as fast as they go            {rate:9.0f} /s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
