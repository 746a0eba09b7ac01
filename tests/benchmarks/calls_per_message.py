"""Python calls per message: the gateway run under cProfile while a fixed load goes through.

    python -m tests.benchmarks.calls_per_message [--policy default|pass] [--count 20000]
        [--by tottime|calls] [--top 15]

A steadier figure than CPU time on a noisy machine: the number of Python function calls the
gateway makes per submit_sm (its receipt included), and the functions that take the most
time of their own. The gateway runs as its own process in front of the simulator; after a
warm-up of 2,000 messages the profiler is switched on by signal for the measured load only
(see ``profiled_gateway``), so the figure is the steady-state path, not start-up. Asserts
nothing about time.
"""

from __future__ import annotations

import argparse
import os
import pstats
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .throughput import PASSWORD, _free_port, _gateway_config, _start, _wait_port, load

WARM_UP = 2000


def _wait_file(path: Path, timeout_s: float = 30.0) -> None:
    """Wait until the profiled gateway has written its statistics."""
    deadline = time.monotonic() + timeout_s
    size = -1
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size == size > 0:
            return
        size = path.stat().st_size if path.exists() else -1
        time.sleep(0.2)
    raise TimeoutError(f"no profile written to {path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", choices=("default", "pass"), default="default")
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--top", type=int, default=15, help="functions listed")
    parser.add_argument(
        "--by",
        choices=("tottime", "calls"),
        default="tottime",
        help="list the functions by their own time, or by calls per message",
    )
    args = parser.parse_args()
    env = {**os.environ, "BENCH_PASSWORD": PASSWORD}
    with tempfile.TemporaryDirectory() as directory:
        profile = Path(directory) / "gateway.prof"
        sim_port, smpp_port = _free_port(), _free_port()
        simulator = _start(["smsc-sim", "--port", str(sim_port), "--receipt-delay", "0.01"], env)
        config = _gateway_config(Path(directory), smpp_port, sim_port, args.policy)
        gateway = subprocess.Popen(
            [
                sys.executable,
                *("-m", "tests.benchmarks.profiled_gateway", str(profile)),
                *("run", "--config", str(config)),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_port(sim_port)
            _wait_port(smpp_port)
            load(smpp_port, count=WARM_UP, processes=1, binds=2, window=100, rate=None)
            gateway.send_signal(signal.SIGUSR1)
            # load() returns once every message has its response and its receipt.
            result = load(smpp_port, count=args.count, processes=2, binds=2, window=200, rate=None)
            gateway.send_signal(signal.SIGUSR2)
            _wait_file(profile)
        finally:
            gateway.send_signal(signal.SIGTERM)
            gateway.wait(60)
            simulator.terminate()
            simulator.wait(10)
        stats = pstats.Stats(str(profile))
        messages = args.count
        print(f"otpgate Python calls per message (policy {args.policy}, receipts on, steady state)")
        print(f"  messages {messages} (ok {result.ok}, receipts {result.receipts})")
        print(f"  calls per message  {stats.total_calls / messages:9.1f}")
        if args.by == "tottime":
            stats.sort_stats("tottime").print_stats(args.top)
            return 0
        # Calls per message of each function: where a message pays for a call it need not.
        rows = sorted(stats.stats.items(), key=lambda item: -item[1][1])[: args.top]  # type: ignore[attr-defined]
        for (file, line, name), (_, calls, *_rest) in rows:
            where = f"{Path(file).name}:{line}" if line else file
            print(f"  {calls / messages:7.2f}  {name}  ({where})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
