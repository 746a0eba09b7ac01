"""Two nodes on one mosquitto: CPU per message against one node alone, signal propagation.

    python -m tests.benchmarks.cluster_bench [--count N] [--signal-rate R]

The same paced submit_sm load goes through node 1, first with node 1 alone on the broker,
then with node 2 running too and location updates published at ``--signal-rate`` (both
nodes ingest every signal). CPU per message is node 1's own CPU time (from /proc) over the
phase divided by the messages; the ratio two-nodes / one-node is the cost of the cluster
on this 2-core machine (cost, not aggregate speed). Propagation: SIM swaps published one
by one, each timed until both nodes report it. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt

from tests.benchmarks.loadgen import process_cpu_s, run_load
from tests.integration.harness import PASSWORD, running_simulator
from tests.integration.mosquitto import MosquittoBroker
from tests.integration.process import GatewayProcess


def node(directory: Path, sim_port: int, broker: MosquittoBroker, node_id: str) -> GatewayProcess:
    path = directory / node_id
    path.mkdir()
    extra = f"""
[signals.mqtt]
host = "{broker.host}"
port = {broker.port}
client_id = "otpgate-{node_id}"

[cluster]
nodes = ["node-1", "node-2"]
secret_env = "OTPGATE_BENCH_CLUSTER_SECRET"

[logging]
level = "warning"
"""
    return GatewayProcess(path, sim_port, extra, node_id=node_id)


async def publish_locations(broker: MosquittoBroker, rate: float, stop: asyncio.Event) -> int:
    sent = 0
    async with aiomqtt.Client(broker.host, broker.port, identifier="bench-feed") as feed:
        started = time.perf_counter()
        while not stop.is_set():
            due = int((time.perf_counter() - started) * rate)
            while sent < due:
                signal = {
                    "msisdn": f"+4474005{sent % 100000:05d}",
                    "occurred_at": datetime.now(UTC).isoformat(),
                    "serving_mcc_mnc": "234-15",
                }
                await feed.publish("otpgate/signals/location_update", json.dumps(signal), qos=1)
                sent += 1
            await asyncio.sleep(0.005)
    return sent


async def load_phase(gateway: GatewayProcess, count: int, rate: float) -> tuple[float, float]:
    pid = gateway.process.pid  # type: ignore[union-attr]
    cpu = process_cpu_s(pid)
    result = await run_load(
        "127.0.0.1",
        gateway.smpp_port,
        system_id="bank",
        password=PASSWORD,
        count=count,
        binds=2,
        window=100,
        rate=rate,
    )
    used = process_cpu_s(pid) - cpu
    return used / max(result.ok, 1) * 1e6, result.ok / max(result.elapsed_s, 1e-9)


async def propagation(
    broker: MosquittoBroker, nodes: list[GatewayProcess], samples: int
) -> list[float]:
    delays = []
    async with aiomqtt.Client(broker.host, broker.port, identifier="bench-swap") as feed:
        for i in range(samples):
            number = f"+4474006{i:05d}"
            signal = {"msisdn": number, "occurred_at": datetime.now(UTC).isoformat()}
            started = time.perf_counter()
            await feed.publish("otpgate/signals/sim_swap", json.dumps(signal), qos=1)
            pending = list(nodes)
            deadline = time.perf_counter() + 10
            while pending and time.perf_counter() < deadline:
                still = []
                for gateway in pending:
                    _, risk = await gateway.api("POST", "/v1/subscribers/risk", {"msisdn": number})
                    if risk.get("sim_swap") is None:
                        still.append(gateway)
                pending = still
            # A swap a node never shows (its broker queue overflowed) counts as 10 s.
            delays.append((time.perf_counter() - started) * 1000)
    return sorted(delays)


async def main(count: int, signal_rate: float, rate: float) -> None:
    import os

    os.environ["OTPGATE_BENCH_CLUSTER_SECRET"] = "bench-secret"
    directory = Path(tempfile.mkdtemp())
    broker = MosquittoBroker(directory / "mosquitto", allow_anonymous=True)
    broker.start()
    try:
        async with running_simulator(receipt_delay_s=0.01) as sim:
            one = node(directory, sim.port, broker, "node-1")
            two = node(directory, sim.port, broker, "node-2")
            await one.start()
            alone_cpu, alone_rate = await load_phase(one, count, rate)
            await two.start()
            stop = asyncio.Event()
            feed = asyncio.create_task(publish_locations(broker, signal_rate, stop))
            await asyncio.sleep(1.0)
            both_cpu, both_rate = await load_phase(one, count, rate)
            stop.set()
            published = await feed
            delays = await propagation(broker, [one, two], 50)
            one.stop()
            two.stop()
    finally:
        broker.stop()
    print(f"cluster benchmark: {count} messages paced at {rate:.0f}/s through node 1")
    print(
        f"  node 1 alone                      {alone_cpu:7.1f} us CPU/message  ({alone_rate:,.0f} msg/s)"
    )
    print(
        f"  node 1 with node 2 + {signal_rate:.0f} signals/s {both_cpu:7.1f} us CPU/message  "
        f"({both_rate:,.0f} msg/s; {published} location updates ingested by both nodes)"
    )
    print(f"  ratio two nodes / one node         {both_cpu / alone_cpu:7.2f} x  (target <= 1.1 x)")
    p50, p99 = delays[len(delays) // 2], delays[int(len(delays) * 0.99) - 1]
    print(
        f"  signal propagation to both nodes   p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  (target p99 <= 100 ms; includes API polling)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--rate", type=float, default=2000.0)
    parser.add_argument("--signal-rate", type=float, default=1000.0)
    args = parser.parse_args()
    asyncio.run(main(args.count, args.signal_rate, args.rate))
