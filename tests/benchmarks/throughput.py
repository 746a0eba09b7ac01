"""SMPP core throughput: load generator, gateway and simulator as separate processes on loopback.

    python -m tests.benchmarks.throughput [--count N] [--rate R] [--policy default|pass]

Prints, for the same run: sustained submit_sm/s straight to the simulator (baseline) and
through the gateway, submit->resp latency percentiles for both at a fixed rate (the
difference is what the gateway adds), the gateway's CPU microseconds per message from its
own CPU time, and its peak RSS. Receipts are on. Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .loadgen import LoadResult, peak_rss_mb, percentile, process_cpu_s, run_load

PASSWORD = "bench1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_port(port: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


def _load_worker(
    port: int, count: int, binds: int, window: int, rate: float | None, queue: multiprocessing.Queue
) -> None:
    result = asyncio.run(
        run_load(
            "127.0.0.1",
            port,
            system_id="bench",
            password=PASSWORD,
            count=count,
            binds=binds,
            window=window,
            rate=rate,
        )
    )
    queue.put(result)


def load(
    port: int, *, count: int, processes: int, binds: int, window: int, rate: float | None
) -> LoadResult:
    """Run the load from ``processes`` processes; merge their results."""
    queue: multiprocessing.Queue = multiprocessing.Queue()
    per_process = count // processes
    workers = [
        multiprocessing.Process(
            target=_load_worker,
            args=(port, per_process, binds, window, rate / processes if rate else None, queue),
        )
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
    merged = LoadResult()
    for r in results:
        merged.sent += r.sent
        merged.ok += r.ok
        merged.receipts += r.receipts
        merged.latencies_s += r.latencies_s
        merged.elapsed_s = max(merged.elapsed_s, r.elapsed_s)
        for status, n in r.errors.items():
            merged.errors[status] = merged.errors.get(status, 0) + n
    return merged


def _start(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _gateway_config(
    directory: Path, smpp_port: int, sim_port: int, policy: str, map_before_ack: bool = True
) -> Path:
    path = directory / "bench.toml"
    extra = "[policy]\nenabled = false\n" if policy == "pass" else ""
    path.write_text(
        f"""
[node]
id = "bench"
data_dir = "{directory / "data"}"
[smpp.listen]
host = "127.0.0.1"
port = {smpp_port}
[[smpp.accounts]]
system_id = "bench"
password_env = "BENCH_PASSWORD"
window = 1000
max_binds = 16
map_before_ack = {"true" if map_before_ack else "false"}
[smpp.upstream]
host = "127.0.0.1"
port = {sim_port}
system_id = "bench"
password_env = "BENCH_PASSWORD"
binds = 2
window = 500
queue = 5000
[api]
host = "127.0.0.1"
port = {_free_port()}
tenant_port = {_free_port()}
operator_key_env = "BENCH_PASSWORD"
[logging]
level = "warning"
{extra}"""
    )
    return path


def _report(name: str, result: LoadResult) -> None:
    rate = result.ok / result.elapsed_s if result.elapsed_s else 0.0
    lat = result.latencies_s
    print(
        f"  {name:<22} {result.ok:>7} ok  {rate:>9.0f} msg/s  "
        f"p50 {percentile(lat, 0.5) * 1e3:6.2f} ms  p99 {percentile(lat, 0.99) * 1e3:6.2f} ms  "
        f"p99.9 {percentile(lat, 0.999) * 1e3:6.2f} ms  receipts {result.receipts}  errors {result.errors or '-'}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--count", type=int, default=100_000, help="messages in the throughput phase"
    )
    parser.add_argument(
        "--rate", type=float, default=5000.0, help="paced rate of the latency phase"
    )
    parser.add_argument("--latency-count", type=int, default=25_000)
    parser.add_argument("--processes", type=int, default=2, help="load generator processes")
    parser.add_argument("--binds", type=int, default=2, help="binds per load process")
    parser.add_argument("--window", type=int, default=200)
    parser.add_argument("--policy", choices=("default", "pass"), default="default")
    parser.add_argument("--uvloop", action="store_true", help="run the gateway on uvloop")
    parser.add_argument(
        "--ack-before-map",
        action="store_true",
        help="answer the ESME before its receipt mapping is on disk (map_before_ack = false)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="otpgate-bench-") as tmp:
        directory = Path(tmp)
        env = {**os.environ, "BENCH_PASSWORD": PASSWORD}
        sim_port, gw_port = _free_port(), _free_port()
        simulator = _start(["smsc-sim", "--port", str(sim_port), "--receipt-delay", "0.01"], env)
        gateway = _start(
            [
                "run",
                "--config",
                str(
                    _gateway_config(
                        directory, gw_port, sim_port, args.policy, not args.ack_before_map
                    )
                ),
            ],
            env,
        )
        try:
            _wait_port(sim_port)
            _wait_port(gw_port)
            time.sleep(0.5)  # upstream binds
            print(
                f"otpgate throughput benchmark ({os.cpu_count()} cores, receipts on, "
                f"{args.processes} load processes x {args.binds} binds, window {args.window})"
            )
            print("throughput (as fast as the window allows):")
            sim_before = process_cpu_s(simulator.pid)
            direct = load(
                sim_port,
                count=args.count,
                processes=args.processes,
                binds=args.binds,
                window=args.window,
                rate=None,
            )
            sim_cpu = process_cpu_s(simulator.pid) - sim_before
            _report("direct to simulator", direct)
            cpu_before = process_cpu_s(gateway.pid)
            through = load(
                gw_port,
                count=args.count,
                processes=args.processes,
                binds=args.binds,
                window=args.window,
                rate=None,
            )
            cpu_used = process_cpu_s(gateway.pid) - cpu_before
            _report("through the gateway", through)
            print(f"latency at a paced {args.rate:.0f} msg/s:")
            direct_paced = load(
                sim_port,
                count=args.latency_count,
                processes=1,
                binds=args.binds,
                window=args.window,
                rate=args.rate,
            )
            _report("direct to simulator", direct_paced)
            through_paced = load(
                gw_port,
                count=args.latency_count,
                processes=1,
                binds=args.binds,
                window=args.window,
                rate=args.rate,
            )
            _report("through the gateway", through_paced)
            d_rate = direct.ok / direct.elapsed_s
            g_rate = through.ok / through.elapsed_s
            added_p99 = percentile(through_paced.latencies_s, 0.99) - percentile(
                direct_paced.latencies_s, 0.99
            )
            print("figures:")
            print(
                f"  gateway throughput          {g_rate:9.0f} msg/s  ({g_rate / d_rate:.2f} x direct)"
            )
            gw_us = cpu_used / max(1, through.ok) * 1e6
            sim_us = sim_cpu / max(1, direct.ok) * 1e6
            print(
                f"  gateway CPU per message     {gw_us:9.1f} us  (receipts included; {1e6 / gw_us:,.0f} msg/s per core)"
            )
            print(
                f"  simulator CPU per message   {sim_us:9.1f} us  "
                f"(same run, direct phase; gateway / simulator = {gw_us / sim_us:.2f})"
            )
            print(f"  p99 latency added @ {args.rate:.0f}/s {added_p99 * 1e3:7.2f} ms")
            print(f"  gateway peak RSS            {peak_rss_mb(gateway.pid):9.1f} MB")
        finally:
            for process in (gateway, simulator):
                process.terminate()
            for process in (gateway, simulator):
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
