"""Python calls per message: the gateway run under cProfile while a fixed load goes through.

    python -m tests.benchmarks.calls_per_message [--policy default|pass] [--count 20000]
        [--by tottime|calls] [--top 15]

A steadier figure than CPU time on a noisy machine: the number of Python function calls the
gateway makes per submit_sm (its receipt included), and the functions that take the most
time of their own. The gateway runs as its own process in front of the simulator; a warm-up
of 2,000 messages is counted in. Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import pstats
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from .throughput import PASSWORD, _free_port, _gateway_config, _start, _wait_port, load

WARM_UP = 2000


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
                *("-m", "cProfile", "-o", str(profile)),
                *("-m", "gateway.cli", "run", "--config", str(config)),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_port(sim_port)
            _wait_port(smpp_port)
            load(smpp_port, count=WARM_UP, processes=1, binds=2, window=100, rate=None)
            result = load(smpp_port, count=args.count, processes=2, binds=2, window=200, rate=None)
        finally:
            # SIGTERM: the gateway stops cleanly and cProfile writes its file.
            gateway.send_signal(signal.SIGTERM)
            gateway.wait(60)
            simulator.terminate()
            simulator.wait(10)
        stats = pstats.Stats(str(profile))
        messages = args.count + WARM_UP
        print(f"otpgate Python calls per message (policy {args.policy}, receipts on)")
        print(f"  messages {messages} (ok {result.ok + WARM_UP}, receipts {result.receipts})")
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
