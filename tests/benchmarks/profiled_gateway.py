"""The gateway under a cProfile that the benchmark switches on and off by signal.

    python -m tests.benchmarks.profiled_gateway PROFILE_PATH gateway-cli-args...

SIGUSR1 starts profiling, SIGUSR2 stops it and writes PROFILE_PATH. Only the window between
the two is counted, so start-up, imports and warm-up do not pollute a per-message figure.
The profiler follows the main thread (the event loop), as ``python -m cProfile`` does.
"""

from __future__ import annotations

import cProfile
import signal
import sys
from types import FrameType

from gateway.cli import main


def run(profile_path: str, argv: list[str]) -> int:
    profiler = cProfile.Profile()

    def start(_signum: int, _frame: FrameType | None) -> None:
        profiler.enable()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        profiler.disable()
        profiler.dump_stats(profile_path)

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    return main(argv)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1], sys.argv[2:]))
