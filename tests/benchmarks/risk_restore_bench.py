"""Start-up rebuild from a real signals.sqlite: time and peak memory, whole list vs chunks.

    python -m tests.benchmarks.risk_restore_bench [--subscribers 1000000]

Writes the states of the risk_index_bench mix into a fresh SQLite file through SignalStore,
then loads them in a child process per way (so each has its own peak): "list" reads every
state in one fetchall (the start-up before issue 15's item 2), "chunks" streams
``SignalStore.states()``. Prints the RSS growth at the peak (VmHWM) and after; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gateway.signals.risk_index import RiskConfig, RiskIndex
from gateway.signals.store import SignalStore, state_row
from tests.benchmarks.risk_index_bench import all_signals


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    raise LookupError(field)


async def _write(path: Path, n: int) -> None:
    idx = RiskIndex(RiskConfig())
    idx.apply_all(all_signals(n))
    store = SignalStore(path)
    store.open(asyncio.get_running_loop())
    try:
        rows = [state_row(key, blob) for key, blob in idx._states.items()]
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        store.append([], rows, lambda _, error: done.set_result(None))
        await done
    finally:
        store.close()


async def _load_chunks(path: Path, idx: RiskIndex) -> None:
    store = SignalStore(path)
    store.open(asyncio.get_running_loop())
    try:
        async for chunk in store.states():
            for key, blob in chunk:
                idx.load_state(key, blob)
    finally:
        store.close()


def _child(path: Path, way: str) -> None:
    gc.collect()
    base_kb = _status_kb("VmRSS:")
    idx = RiskIndex(RiskConfig())
    t0 = time.perf_counter()
    if way == "list":
        conn = sqlite3.connect(path)
        states = conn.execute(
            "SELECT msisdn_key, state FROM subscriber_state ORDER BY msisdn_key"
        ).fetchall()
        conn.close()
        for key, blob in states:
            idx.load_state(key, blob)
        del states
    else:
        asyncio.run(_load_chunks(path, idx))
    seconds = time.perf_counter() - t0
    gc.collect()
    peak = (_status_kb("VmHWM:") - base_kb) * 1024 / len(idx)
    after = (_status_kb("VmRSS:") - base_kb) * 1024 / len(idx)
    print(
        f"  {way:>6}: {len(idx):,} numbers in {seconds:.2f} s;"
        f" RSS growth at the peak {peak:.0f} B per number, after {after:.0f} B"
        f" (peak/after {peak / after:.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=2, metavar=("PATH", "WAY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(Path(args.child[0]), args.child[1])
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "signals.sqlite"
        asyncio.run(_write(path, args.subscribers))
        print(
            f"risk restore benchmark: {args.subscribers:,} subscribers, {path.stat().st_size / 2**20:.0f} MiB file"
        )
        for way in ("list", "chunks", "list", "chunks"):
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "tests.benchmarks.risk_restore_bench",
                    "--child",
                    str(path),
                    way,
                ],
                check=True,
            )


if __name__ == "__main__":
    main()
