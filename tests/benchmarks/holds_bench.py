"""Holds: commit-before-ack rate and latency, pass-through beside them, restart with many pending.

    python -m tests.benchmarks.holds_bench [--quick] [--pending N] [--pass-rate R] [--hold-rate R]

Load generator, gateway and SMSC simulator are separate processes on loopback; the gateway's
SQLite files are on the machine's disk (synchronous=FULL). One run measures:

(a) pass-through alone: non-OTP text at a paced rate, submit->resp p50/p99 (the baseline),
    then as fast as the window allows (the baseline of CPU per message);
(b) holds: OTPs to numbers with a SIM swap an hour ago, paced at increasing rates and then as
    fast as the window allows; each ESME_ROK comes after the hold's commit;
(c) pass-through at the rate of (a) beside a second stream from another account: first more
    pass-through (a control: the same extra load without holds), then the OTP text to numbers
    without signals (a control: detected and forwarded, not held), then holds; ratios to (a);
(d) restart: holds topped up to ``--pending`` open holds, SIGTERM, and the time from the new
    process's start to /readyz 200, against a restart with no holds measured first; then the
    time to list them all through GET /v1/holds.

The gateway's CPU per message comes from its own CPU time in /proc, so the load generator and
simulator sharing the cores do not inflate it. Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..integration.harness import HOLD_AFTER_SWAP
from .loadgen import LoadResult, peak_rss_mb, percentile, process_cpu_s, run_load, submit_template

PASSWORD = "bench1"
OPERATOR_KEY = "bench-operator-key"
HOLD_KEY = base64.b64encode(bytes(range(32))).decode()
OTP = b"Your PayBank verification code is 482913. Never share it."
STATEMENT = b"Your statement is ready"
SWAPPED = 10_000  # numbers with a SIM swap; the holding stream cycles through them
PASS_NUMBERS = 1_000  # numbers without any signal; the pass-through stream cycles through them
POLICY = HOLD_AFTER_SWAP
P99_TARGET_MS = 25.0


def swapped_number(i: int) -> str:
    return f"4474001{i:05d}"


def plain_number(i: int) -> str:
    return f"4474002{i:05d}"


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


# -- the load ----------------------------------------------------------------------------------


def _load_worker(stream: Stream, port: int, queue: multiprocessing.Queue) -> None:
    if stream.kind == "hold":
        # No receipt until a hold ends, so none asked for.
        templates = [
            submit_template(OTP, swapped_number(i), registered_delivery=0) for i in range(SWAPPED)
        ]
    else:
        # "otp": the held text to numbers without signals, so detected and forwarded: what
        # the detection costs, without the holding.
        text = OTP if stream.kind == "otp" else STATEMENT
        templates = [
            submit_template(text, plain_number(i), registered_delivery=1)
            for i in range(PASS_NUMBERS)
        ]
    result = asyncio.run(
        run_load(
            "127.0.0.1",
            port,
            system_id=stream.account,
            password=PASSWORD,
            count=stream.count,
            binds=2,
            window=stream.window,
            rate=stream.rate,
            receipts=stream.kind != "hold",
            templates=templates,
        )
    )
    queue.put((stream.name, result))


@dataclass(frozen=True)
class Stream:
    name: str
    # "pass": non-OTP text to numbers without signals | "hold": OTP to swapped ones |
    # "otp": OTP to numbers without signals (detected, not held)
    kind: str
    count: int
    rate: float | None
    # Each stream concurrent with another binds as its own account: receipts go to the
    # account's binds, and a pass-through stream must get its own.
    account: str = "bench"
    window: int = 200


def load(port: int, *streams: Stream) -> dict[str, LoadResult]:
    """Run the streams at the same time, one load process each; their results by name."""
    queue: multiprocessing.Queue = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_load_worker, args=(stream, port, queue))
        for stream in streams
    ]
    for worker in workers:
        worker.start()
    results = dict(queue.get(timeout=900) for _ in workers)
    for worker in workers:
        worker.join()
    return results


# -- the gateway -------------------------------------------------------------------------------


class Gateway:
    """One gateway process at a time on a fixed config and data directory."""

    def __init__(self, directory: Path, sim_port: int) -> None:
        self.smpp_port, self.api_port = _free_port(), _free_port()
        policy = directory / "policy.toml"
        policy.write_text(POLICY)
        self.config = directory / "bench.toml"
        accounts = "".join(
            f"""
[[smpp.accounts]]
system_id = "{name}"
password_env = "BENCH_PASSWORD"
window = 1000
max_binds = 16
"""
            for name in ("bench", "other")
        )
        self.config.write_text(
            f"""
[node]
id = "bench"
data_dir = "{directory / "data"}"
[smpp.listen]
host = "127.0.0.1"
port = {self.smpp_port}
{accounts}
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
port = {self.api_port}
tenant_port = {_free_port()}
operator_key_env = "BENCH_OPERATOR_KEY"
[policy]
file = "{policy}"
[holds]
key_env = "BENCH_HOLD_KEY"
max_per_account = 1000000
max_total = 1000000
[logging]
level = "warning"
"""
        )
        self.log = directory / "gateway.log"
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout_s: float = 120.0) -> float:
        """Start the process; the seconds from its start until /readyz answers 200."""
        env = {
            **os.environ,
            "BENCH_PASSWORD": PASSWORD,
            "BENCH_OPERATOR_KEY": OPERATOR_KEY,
            "BENCH_HOLD_KEY": HOLD_KEY,
        }
        with self.log.open("ab") as log:
            started = time.perf_counter()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gateway.cli", "run", "--config", str(self.config)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = started + timeout_s
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gateway exited: {self.log.read_text()[-2000:]}")
            try:
                status, _ = self.api("GET", "/readyz", timeout_s=1.0)
                if status == 200:
                    return time.perf_counter() - started
            except OSError:
                pass
            time.sleep(0.01)
        raise TimeoutError(f"gateway not ready: {self.log.read_text()[-2000:]}")

    def stop(self) -> float:
        """SIGTERM; the seconds until the process has exited."""
        assert self.process is not None
        started = time.perf_counter()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return time.perf_counter() - started

    def api(
        self, method: str, path: str, body: Any = None, timeout_s: float = 60.0
    ) -> tuple[int, Any]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.api_port}{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={
                "Authorization": f"Bearer {OPERATOR_KEY}",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def open_holds(self) -> int:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.api_port}/metrics",
            headers={"Authorization": f"Bearer {OPERATOR_KEY}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            for line in response.read().decode().splitlines():
                if line.startswith('otpgate_holds_open{state="held"}'):
                    return int(float(line.split()[-1]))
        return 0

    def list_held(self) -> int:
        """Page through GET /v1/holds?state=held; how many holds it listed."""
        listed, after = 0, ""
        while True:
            status, page = self.api("GET", f"/v1/holds?state=held&limit=500{after}")
            if status != 200:
                raise RuntimeError(f"GET /v1/holds answered {status}: {page}")
            listed += len(page["holds"])
            if "next" not in page:
                return listed
            after = f"&after={page['next']}"


def swap_numbers(gateway: Gateway) -> None:
    occurred = datetime.fromtimestamp(time.time() - 3600, UTC).isoformat()
    for first in range(0, SWAPPED, 10_000):
        batch = [
            {"kind": "sim_swap", "msisdn": "+" + swapped_number(i), "occurred_at": occurred}
            for i in range(first, min(SWAPPED, first + 10_000))
        ]
        status, body = gateway.api("POST", "/v1/signals", batch)
        if status != 200 or body["accepted"] + body["duplicate"] != len(batch):
            raise RuntimeError(f"signals not accepted: {status} {str(body)[:300]}")


# -- the report --------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    result: LoadResult
    cpu_s: float | None = None  # the gateway's CPU over the phase

    @property
    def rate(self) -> float:
        return self.result.ok / self.result.elapsed_s if self.result.elapsed_s else 0.0

    def p(self, q: float) -> float:
        return percentile(self.result.latencies_s, q) * 1e3

    @property
    def cpu_us(self) -> float:
        if self.cpu_s is None or not self.result.ok:
            return float("nan")
        return self.cpu_s / self.result.ok * 1e6


def show(phase: Phase) -> None:
    r = phase.result
    print(
        f"  {phase.name:<34} {r.ok:>7} ok {phase.rate:>7.0f}/s  p50 {phase.p(0.5):6.2f}  "
        f"p99 {phase.p(0.99):7.2f}  p99.9 {phase.p(0.999):7.2f} ms  "
        f"cpu {phase.cpu_us:6.1f} us/msg  errors {r.errors or '-'}",
        flush=True,
    )


def measured(gateway: Gateway, *streams: Stream) -> list[Phase]:
    """Run the streams together; one Phase each, the gateway's CPU charged to a lone stream."""
    before = process_cpu_s(gateway.pid)
    results = load(gateway.smpp_port, *streams)
    cpu = process_cpu_s(gateway.pid) - before
    phases = [Phase(s.name, results[s.name]) for s in streams]
    if len(streams) == 1:
        phases[0].cpu_s = cpu
    for phase in phases:
        show(phase)
    return phases


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short phases, 30,000 pending")
    parser.add_argument("--pending", type=int, help="open holds at the restart (100,000)")
    parser.add_argument("--pass-rate", type=float, default=2000.0, help="paced pass-through/s")
    parser.add_argument("--hold-rate", type=float, default=1000.0, help="holds/s beside it")
    parser.add_argument("--steps", default="500,1000,1500,2000", help="paced hold rates of (b)")
    args = parser.parse_args()
    phase_s = 5.0 if args.quick else 15.0
    step_s = 3.0 if args.quick else 10.0
    burst = 5_000 if args.quick else 20_000
    pending = args.pending or (30_000 if args.quick else 100_000)
    steps = [float(s) for s in args.steps.split(",")]
    pass_count = int(args.pass_rate * phase_s)

    with tempfile.TemporaryDirectory(prefix="otpgate-holds-bench-") as tmp:
        directory = Path(tmp)
        sim_port = _free_port()
        sim_args = ["smsc-sim", "--port", str(sim_port), "--receipt-delay", "0.01"]
        simulator = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", *sim_args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        gateway = Gateway(directory, sim_port)
        try:
            _wait_port(sim_port)
            first_start = gateway.start()
            swap_numbers(gateway)
            gateway.stop()
            empty_restart = gateway.start()
            print(
                f"otpgate holds benchmark ({os.cpu_count()} cores, data in {directory},"
                f" synchronous=FULL; {SWAPPED:,} swapped numbers; each stream 2 binds, window 200;"
                f" load average {os.getloadavg()[0]:.2f})"
            )
            print("(a) pass-through alone (receipts on):")
            (alone,) = measured(
                gateway, Stream(f"paced {args.pass_rate:.0f}/s", "pass", pass_count, args.pass_rate)
            )
            (pass_unpaced,) = measured(gateway, Stream("unpaced", "pass", burst, None))
            print("(b) holds, paced, then as fast as the window allows:")
            held = 0
            paced: list[tuple[float, Phase]] = []
            for rate in steps:
                (phase,) = measured(
                    gateway, Stream(f"paced {rate:.0f}/s", "hold", int(rate * step_s), rate)
                )
                paced.append((rate, phase))
                held += phase.result.ok
            (unpaced,) = measured(gateway, Stream("unpaced", "hold", burst, None))
            held += unpaced.result.ok
            print(
                f"(c) pass-through paced {args.pass_rate:.0f}/s beside a second stream paced "
                f"{args.hold_rate:.0f}/s, of pass-through and of OTPs not held (controls), then of holds"
                f" ({gateway.open_holds():,} holds open before):"
            )
            extra = int(args.hold_rate * phase_s)
            beside_pass, _ = measured(
                gateway,
                Stream("pass-through", "pass", pass_count, args.pass_rate),
                Stream("  beside: pass-through", "pass", extra, args.hold_rate, "other"),
            )
            beside_otp, _ = measured(
                gateway,
                Stream("pass-through", "pass", pass_count, args.pass_rate),
                Stream("  beside: OTPs, not held", "otp", extra, args.hold_rate, "other"),
            )
            beside_holds, holding = measured(
                gateway,
                Stream("pass-through", "pass", pass_count, args.pass_rate),
                Stream("  beside: holds", "hold", extra, args.hold_rate, "other"),
            )
            held += holding.result.ok
            print(f"(d) restart with {max(pending, held):,} holds pending:")
            fill = None
            if pending > held:
                (fill,) = measured(gateway, Stream("fill, unpaced", "hold", pending - held, None))
            open_before = gateway.open_holds()
            rss_before = peak_rss_mb(gateway.pid)
            stop_s = gateway.stop()
            restart_s = gateway.start()
            open_after = gateway.open_holds()
            rss_after = peak_rss_mb(gateway.pid)
            listed_at = time.perf_counter()
            listed = gateway.list_held()
            list_s = time.perf_counter() - listed_at
            rss_listed = peak_rss_mb(gateway.pid)
            print(
                f"  open holds: {open_before:,} at SIGTERM (stopped in {stop_s:.2f} s),"
                f" {open_after:,} after the restart"
            )
            report(
                alone=alone,
                pass_unpaced=pass_unpaced,
                paced=paced,
                unpaced=unpaced,
                fill=fill,
                beside_pass=beside_pass,
                beside_otp=beside_otp,
                beside_holds=beside_holds,
                holding=holding,
            )
            print(
                f"  start to /readyz, {open_after:,} holds pending".ljust(44)
                + f"{restart_s:.2f} s ({restart_s / empty_restart:.2f} x a restart with none,"
                f" {empty_restart:.2f} s; first start {first_start:.2f} s; target <= 5 s)"
            )
            print(
                "  listing them (GET /v1/holds, 500 a page)".ljust(44)
                + f"{listed:,} in {list_s:.2f} s"
            )
            print(
                "  gateway peak RSS".ljust(44)
                + f"{rss_before:.0f} MB before the restart; after it {rss_after:.0f} MB,"
                f" {rss_listed:.0f} MB after the listing"
            )
            print("  load average at the end".ljust(44) + f"{os.getloadavg()[0]:.2f}")
        finally:
            if gateway.process is not None and gateway.process.poll() is None:
                gateway.stop()
            simulator.terminate()
            try:
                simulator.wait(10)
            except subprocess.TimeoutExpired:
                simulator.kill()
    return 0


def report(
    *,
    alone: Phase,
    pass_unpaced: Phase,
    paced: list[tuple[float, Phase]],
    unpaced: Phase,
    fill: Phase | None,
    beside_pass: Phase,
    beside_otp: Phase,
    beside_holds: Phase,
    holding: Phase,
) -> None:
    print("figures:")
    best = max(
        (r for r, ph in paced if ph.p(0.99) <= P99_TARGET_MS and ph.rate >= 0.97 * r),
        default=None,
    )
    print(
        f"  highest paced hold rate, p99 <= {P99_TARGET_MS:.0f} ms".ljust(44)
        + (f"{best:,.0f} holds/s" if best else "none of the steps")
        + " (target >= 1,000/s)"
    )
    for rate, ph in paced:
        print(
            f"    paced {rate:>5.0f}/s -> {ph.rate:5.0f}/s".ljust(44)
            + f"p99 {ph.p(0.99):6.2f} ms = {ph.p(0.99) / alone.p(0.99):.2f} x pass-through p99;"
            f" CPU {ph.cpu_us:.0f} us/hold = {ph.cpu_us / alone.cpu_us:.2f} x"
        )
    print(
        "  holds as fast as the window allows".ljust(44)
        + f"{unpaced.rate:,.0f}/s = {unpaced.rate / pass_unpaced.rate:.2f} x pass-through"
        f" ({pass_unpaced.rate:,.0f}/s)" + (f"; the fill {fill.rate:,.0f}/s" if fill else "")
    )
    print(
        "  gateway CPU per held message, unpaced".ljust(44)
        + f"{unpaced.cpu_us:.0f} us = {unpaced.cpu_us / pass_unpaced.cpu_us:.2f} x a"
        f" pass-through message ({pass_unpaced.cpu_us:.0f} us, receipts included)"
    )
    print(
        "  pass-through p99: alone / beside holds".ljust(44)
        + f"{alone.p(0.99):.2f} / {beside_holds.p(0.99):.2f} ms"
        f" = {beside_holds.p(0.99) / alone.p(0.99):.2f} x (target <= 1.5 x, issue 15)"
    )
    print(
        "    control: beside more pass-through".ljust(44)
        + f"{beside_pass.p(0.99):.2f} ms = {beside_pass.p(0.99) / alone.p(0.99):.2f} x;"
        f" holds / control = {beside_holds.p(0.99) / beside_pass.p(0.99):.2f} x"
    )
    print(
        "    control: beside OTPs not held".ljust(44)
        + f"{beside_otp.p(0.99):.2f} ms = {beside_otp.p(0.99) / alone.p(0.99):.2f} x;"
        f" holds / this control = {beside_holds.p(0.99) / beside_otp.p(0.99):.2f} x"
    )
    print(
        "    p50 alone / beside more / beside holds".ljust(44)
        + f"{alone.p(0.5):.2f} / {beside_pass.p(0.5):.2f} / {beside_holds.p(0.5):.2f} ms"
    )
    print(
        "  the holds beside it".ljust(44) + f"{holding.rate:,.0f}/s, p99 {holding.p(0.99):.2f} ms"
    )


if __name__ == "__main__":
    raise SystemExit(main())
