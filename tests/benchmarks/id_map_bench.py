"""The receipt mapping's writes alone: rows recorded N to an event-loop turn, each with a
callback waiting for its commit, as submit_sm answers are; hand-offs to the writer thread,
commits, and the process's CPU per row (the writer thread's included).

    python -m tests.benchmarks.id_map_bench

Asserts nothing about time.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from gateway.traffic.id_map import IdMap, MappedMessage
from gateway.traffic.message_ids import MessageIdGenerator

ROWS = 20_000


async def run(per_turn: int) -> None:
    directory = Path(tempfile.mkdtemp(prefix="otpgate-idmap-bench-"))
    id_map = IdMap(directory / "map.sqlite", MessageIdGenerator(1, lambda: int(time.time() * 1000)))
    id_map.open(asyncio.get_running_loop())
    hand_offs = done = 0
    write_fn = id_map.writer.write_fn

    def counted(*args: object, **kwargs: object) -> None:
        nonlocal hand_offs
        hand_offs += 1
        write_fn(*args, **kwargs)  # type: ignore[arg-type]

    def answered(_error: Exception | None) -> None:
        nonlocal done
        done += 1

    id_map.writer.write_fn = counted  # type: ignore[method-assign]
    cpu, wall, commits = time.process_time(), time.perf_counter(), id_map.writer.commits
    for turn in range(ROWS // per_turn):
        for i in range(per_turn):
            n = turn * per_turn + i
            message = MappedMessage("main", f"up-{n}", id_map.ids.next(), "bank", 1, time.time())
            id_map.record(message, answered)
        await asyncio.sleep(0)
    while done < ROWS:
        await asyncio.sleep(0.001)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"  {per_turn:>3} rows a turn: {hand_offs:>6} hand-offs, {id_map.writer.commits - commits:>5}"
        f" commits, CPU {cpu / ROWS * 1e6:6.2f} us a row, {wall * 1e3:5.0f} ms in all"
    )
    id_map.close()


def main() -> None:
    print(f"otpgate receipt mapping: {ROWS:,} rows, each answered after its commit")
    for per_turn in (1, 5, 20):
        asyncio.run(run(per_turn))


if __name__ == "__main__":
    main()
