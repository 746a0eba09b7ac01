"""Signal ingest: MQTT QoS 1 with the PUBACK after the commit, and HTTP batches, against the broker alone.

    python -m tests.benchmarks.signal_ingest_bench [--quick] [--count N] [--inflight 20,100,1000]
        [--peers wire|aiomqtt]
    python -m tests.benchmarks.signal_ingest_bench --paced 1000

Publishers (separate processes, several publishes in flight each: pre-encoded packets on
plain sockets, see ``mqtt_wire``, or with ``--peers aiomqtt`` aiomqtt clients), mosquitto (its
own, on a free loopback port, persistence off) and the gateway are separate processes. For
each setting of the broker's ``max_inflight_messages`` (20 is mosquitto's default, 100 the
shipped deploy/mosquitto.conf, 1000 a wide window), the run measures:

- the broker alone: the same publishers and a subscriber that only counts the QoS 1
  messages, acknowledging each on arrival (the baseline);
- the gateway: signals committed to SQLite (synchronous=FULL) and only then acknowledged,
  counted by the ``accepted`` counter of GET /v1/signals/health, from the publishers' start
  until every signal is accepted.

Then POST /v1/signals with batches of 1,000 and 10,000 from one client, one request at a
time. Half the signals are sim_swap, half location_update, each to a number of its own with
an event_id of its own (none is a duplicate). CPU per signal is the gateway's (and the
broker's) own CPU time from /proc. Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import http.client
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiomqtt

from . import mqtt_wire
from .loadgen import peak_rss_mb, percentile, process_cpu_s

OPERATOR_KEY = "bench-operator-key"
HOLD_KEY = base64.b64encode(bytes(range(32))).decode()
PREFIX = "bench"
MOSQUITTO = "/usr/sbin/mosquitto"
TARGET = 15_000  # issue 15


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
            time.sleep(0.02)
    raise TimeoutError(f"nothing listens on {port}")


def signal_json(tag: str, i: int) -> dict[str, Any]:
    """Signal ``i`` of a run tagged ``tag``: its own number, its own time, its own event_id."""
    occurred = datetime.fromtimestamp(time.time() - 3600 + i * 1e-3, UTC).isoformat()
    body: dict[str, Any] = {
        "msisdn": f"+4474{i % 10_000_000 + 1_000_000:08d}",
        "occurred_at": occurred,
        "event_id": f"{tag}-{i}",
    }
    if i % 2:
        body["serving_mcc_mnc"] = "234-15"
    return body


def kind_of(i: int) -> str:
    return "location_update" if i % 2 else "sim_swap"


# -- the broker ----------------------------------------------------------------------------


class Broker:
    def __init__(self, directory: Path, inflight: int) -> None:
        self.port = _free_port()
        directory.mkdir(parents=True, exist_ok=True)
        config = directory / "mosquitto.conf"
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "persistence false",
            f"max_inflight_messages {inflight}",
            "max_queued_messages 1000000",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
        ]
        if os.geteuid() == 0:
            lines.append("user root")
        config.write_text("\n".join(lines) + "\n")
        self.log = directory / "mosquitto.log"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [MOSQUITTO, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT
            )
        _wait_port(self.port)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# -- publishers and the counting subscriber ------------------------------------------------


def _publisher(
    port: int,
    tag: str,
    first: int,
    count: int,
    in_flight: int,
    ready: Any,
    go: Any,
    queue: multiprocessing.Queue,
    peers: str,
) -> None:
    payloads = [
        (f"{PREFIX}/signals/{kind_of(i)}", json.dumps(signal_json(tag, i)).encode())
        for i in range(first, first + count)
    ]
    if peers == "wire":
        sock = mqtt_wire.connect("127.0.0.1", port, f"pub-{tag}-{first}")
        packets = mqtt_wire.publish_packets(payloads)
        ready.set()
        go.wait()
        queue.put(("publisher", mqtt_wire.publish_all(sock, packets, in_flight)))
        sock.close()
        return

    async def run() -> float:
        async with aiomqtt.Client(
            "127.0.0.1", port, identifier=f"pub-{tag}-{first}", max_inflight_messages=in_flight
        ) as client:
            client.pending_calls_threshold = in_flight + 1  # many in flight is the point
            ready.set()
            await asyncio.get_running_loop().run_in_executor(None, go.wait)
            started = time.perf_counter()
            items = iter(payloads)

            async def worker() -> None:
                for topic, payload in items:
                    await client.publish(topic, payload, qos=1, timeout=120)

            await asyncio.gather(*(worker() for _ in range(in_flight)))
            return time.perf_counter() - started

    queue.put(("publisher", asyncio.run(run())))


def _counter(port: int, count: int, ready: Any, queue: multiprocessing.Queue, peers: str) -> None:
    if peers == "wire":
        sock = mqtt_wire.connect("127.0.0.1", port, "bench-counter")
        mqtt_wire.subscribe(sock, f"{PREFIX}/signals/#")
        ready.set()
        mqtt_wire.count_publishes(sock, count)
        queue.put(("counter", time.monotonic()))
        sock.close()
        return

    async def run() -> None:
        async with aiomqtt.Client("127.0.0.1", port, identifier="bench-counter") as client:
            await client.subscribe(f"{PREFIX}/signals/#", qos=1)
            ready.set()
            seen = 0
            async for message in client.messages:
                if message.qos == 1:
                    seen += 1
                    if seen >= count:
                        queue.put(("counter", time.monotonic()))
                        return

    asyncio.run(run())


def broker_window(port: int, ack_delay_s: float = 0.02, count: int = 2_000) -> int:
    """Most deliveries a subscriber acknowledging ``ack_delay_s`` late had unacknowledged.

    With a broker that keeps to max_inflight_messages this is that number: it is what bounds
    a subscriber that acknowledges only after a commit.
    """

    async def run() -> int:
        subscriber = aiomqtt.Client("127.0.0.1", port, identifier="bench-window")
        subscriber._client.manual_ack_set(True)
        async with subscriber:
            await subscriber.subscribe(f"{PREFIX}/window", qos=1)
            async with aiomqtt.Client(
                "127.0.0.1", port, identifier="bench-window-pub", max_inflight_messages=1000
            ) as publisher:
                publisher.pending_calls_threshold = count + 1
                await asyncio.gather(
                    *(publisher.publish(f"{PREFIX}/window", b"x", qos=1) for _ in range(count))
                )
            loop = asyncio.get_running_loop()
            unacked = most = seen = 0

            def ack(message: aiomqtt.Message) -> None:
                nonlocal unacked
                unacked -= 1
                subscriber._client.ack(message.mid, message.qos)

            async for message in subscriber.messages:
                seen += 1
                unacked += 1
                most = max(most, unacked)
                loop.call_later(ack_delay_s, ack, message)
                if seen == count:
                    await asyncio.sleep(ack_delay_s * 2)
                    return most
        return most

    return asyncio.run(run())


def publish(
    port: int, tag: str, count: int, processes: int, in_flight: int, done: Any, peers: str
) -> tuple[float, float]:
    """Publish ``count`` signals; (seconds until ``done()`` returns True, publishers' seconds)."""
    ctx = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue = ctx.Queue()
    go = ctx.Event()
    share = count // processes
    starts = []
    workers = []
    for p in range(processes):
        ready = ctx.Event()
        n = share if p < processes - 1 else count - share * (processes - 1)
        workers.append(
            ctx.Process(
                target=_publisher,
                args=(port, tag, p * share, n, in_flight, ready, go, queue, peers),
            )
        )
        starts.append(ready)
    for worker in workers:
        worker.start()
    for ready in starts:
        if not ready.wait(30):
            raise TimeoutError("publisher did not connect")
    started = time.monotonic()
    go.set()
    finished = done(started)
    publishers = [queue.get(timeout=300)[1] for _ in workers]
    for worker in workers:
        worker.join()
    return finished - started, max(publishers)


# -- the gateway ---------------------------------------------------------------------------


class Gateway:
    def __init__(self, directory: Path, broker_port: int, profile: Path | None = None) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.api_port = _free_port()
        self.config = directory / "bench.toml"
        self.config.write_text(
            f"""
[node]
id = "bench"
data_dir = "{directory / "data"}"
[smpp.listen]
host = "127.0.0.1"
port = {_free_port()}
[[smpp.accounts]]
system_id = "bench"
password_env = "BENCH_OPERATOR_KEY"
[smpp.upstream]
simulator = true
system_id = "bench"
password_env = "BENCH_OPERATOR_KEY"
[api]
host = "127.0.0.1"
port = {self.api_port}
tenant_port = {_free_port()}
operator_key_env = "BENCH_OPERATOR_KEY"
[holds]
key_env = "BENCH_HOLD_KEY"
[signals.mqtt]
host = "127.0.0.1"
port = {broker_port}
client_id = "otpgate-bench"
prefix = "{PREFIX}"
reconnect_min_s = 0.1
reconnect_max_s = 1
[logging]
level = "warning"
"""
        )
        self.log = directory / "gateway.log"
        env = {**os.environ, "BENCH_OPERATOR_KEY": OPERATOR_KEY, "BENCH_HOLD_KEY": HOLD_KEY}
        with self.log.open("ab") as log:
            # Under ``profiled_gateway`` the event loop's calls are counted between SIGUSR1
            # and SIGUSR2 (sent around the MQTT phase), written to ``profile``.
            runner = ("-m", "gateway.cli")
            if profile is not None:
                runner = ("-m", "tests.benchmarks.profiled_gateway", str(profile))
            self.process = subprocess.Popen(
                [sys.executable, *runner, "run", "--config", str(self.config)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gateway exited: {self.log.read_text()[-2000:]}")
            try:
                if self.health()["mqtt"]["connected"]:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"gateway not connected: {self.log.read_text()[-2000:]}")

    def api(self, method: str, path: str, data: bytes | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.api_port}{path}",
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {OPERATOR_KEY}",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def health(self) -> dict[str, Any]:
        return self.api("GET", "/v1/signals/health")[1]

    def accepted(self, feed: str) -> int:
        return self.health()["feeds"].get(feed, {}).get("accepted", 0)

    def warm_up(self, port: int) -> None:
        """Publish one signal until the gateway accepts it: then it is subscribed."""

        async def run() -> None:
            async with aiomqtt.Client("127.0.0.1", port, identifier="bench-warm-up") as client:
                deadline = time.monotonic() + 30
                while self.accepted("mqtt") < 1:
                    if time.monotonic() > deadline:
                        raise TimeoutError("the gateway accepts nothing over MQTT")
                    topic = f"{PREFIX}/signals/sim_swap"
                    await client.publish(topic, json.dumps(signal_json("warm", 0)), qos=1)
                    await asyncio.sleep(0.2)

        asyncio.run(run())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class LoopProbe:
    """GET /healthz every 10 ms from a thread: how long the gateway's event loop takes to answer.

    A long answer is the loop busy with something else (a batch being parsed, a collection).
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.latencies_s: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LoopProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self._stop.wait(0.01):
            started = time.perf_counter()
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            self.latencies_s.append(time.perf_counter() - started)
        connection.close()

    def summary(self) -> str:
        lat = self.latencies_s
        return f"/healthz p99 {percentile(lat, 0.99) * 1e3:.0f} ms, max {max(lat, default=0) * 1e3:.0f} ms"


# -- the phases ----------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    count: int
    seconds: float
    publishers_s: float | None = None
    window: int | None = None  # broker_window(): the broker's effective delivery window
    gateway_cpu_s: float | None = None
    broker_cpu_s: float | None = None
    loop: str = ""  # the LoopProbe's summary

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def us(self, cpu_s: float | None) -> str:
        return "-" if cpu_s is None else f"{cpu_s / self.count * 1e6:.1f}"


def show(result: Result, baseline: Result | None = None) -> None:
    ratio = f"  {result.rate / baseline.rate:.2f} x broker alone" if baseline else ""
    published = (
        f"  (publishers done after {result.publishers_s:.2f} s)" if result.publishers_s else ""
    )
    print(
        f"  {result.name:<38} {result.count:>7} in {result.seconds:6.2f} s = "
        f"{result.rate:>8,.0f}/s  gateway {result.us(result.gateway_cpu_s):>6} us/signal  "
        f"broker {result.us(result.broker_cpu_s):>5} us/signal{ratio}{published}"
        + (f"  [{result.loop}]" if result.loop else ""),
        flush=True,
    )


def broker_alone(
    directory: Path, inflight: int, count: int, processes: int, in_flight: int, peers: str
) -> Result:
    broker = Broker(directory, inflight)
    try:
        ctx = multiprocessing.get_context("fork")
        queue: multiprocessing.Queue = ctx.Queue()
        ready = ctx.Event()
        counter = ctx.Process(target=_counter, args=(broker.port, count, ready, queue, peers))
        counter.start()
        if not ready.wait(30):
            raise TimeoutError("counting subscriber did not subscribe")
        cpu = process_cpu_s(broker.process.pid)

        def done(started: float) -> float:
            return queue.get(timeout=600)[1]

        seconds, publishers_s = publish(
            broker.port, f"base{inflight}", count, processes, in_flight, done, peers
        )
        counter.join()
        result = Result(
            "broker alone, counting subscriber",
            count,
            seconds,
            publishers_s,
            broker_cpu_s=process_cpu_s(broker.process.pid) - cpu,
        )
        result.window = broker_window(broker.port)
        return result
    finally:
        broker.stop()


def through_gateway(
    directory: Path,
    inflight: int,
    count: int,
    processes: int,
    in_flight: int,
    http: bool,
    peers: str,
    profile: Path | None = None,
) -> tuple[Result, list[Result], float]:
    broker = Broker(directory / "broker", inflight)
    gateway = None
    try:
        gateway = Gateway(directory / "gateway", broker.port, profile)
        gateway.warm_up(broker.port)
        if profile is not None:
            gateway.process.send_signal(signal.SIGUSR1)
        before = gateway.accepted("mqtt")
        g_cpu, b_cpu = process_cpu_s(gateway.process.pid), process_cpu_s(broker.process.pid)

        def done(started: float) -> float:
            deadline = started + 600
            while gateway.accepted("mqtt") < before + count:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"accepted {gateway.accepted('mqtt') - before} of {count}")
                time.sleep(0.05)
            return time.monotonic()

        with LoopProbe(gateway.api_port) as probe:
            seconds, publishers_s = publish(
                broker.port, f"gw{inflight}", count, processes, in_flight, done, peers
            )
        if profile is not None:
            gateway.process.send_signal(signal.SIGUSR2)
        mqtt = Result(
            "gateway, commit before PUBACK",
            count,
            seconds,
            publishers_s,
            gateway_cpu_s=process_cpu_s(gateway.process.pid) - g_cpu,
            broker_cpu_s=process_cpu_s(broker.process.pid) - b_cpu,
            loop=probe.summary(),
        )
        batches = []
        if http:
            for size in (1_000, 10_000):
                batches.append(http_batches(gateway, size, count))
        return mqtt, batches, peak_rss_mb(gateway.process.pid)
    finally:
        if gateway is not None:
            gateway.stop()
        broker.stop()


def http_batches(gateway: Gateway, size: int, count: int) -> Result:
    """POST ``count`` signals in batches of ``size``, one request at a time."""
    bodies = []
    for first in range(0, count, size):
        items = [
            {"kind": kind_of(i), **signal_json(f"http{size}", i)}
            for i in range(first, min(count, first + size))
        ]
        bodies.append((len(items), json.dumps(items).encode()))
    cpu = process_cpu_s(gateway.process.pid)
    latencies = []
    accepted = 0
    with LoopProbe(gateway.api_port) as probe:
        started = time.perf_counter()
        for n, body in bodies:
            sent = time.perf_counter()
            status, answer = gateway.api("POST", "/v1/signals", body)
            latencies.append(time.perf_counter() - sent)
            if status != 200 or answer["accepted"] != n:
                raise RuntimeError(f"batch refused: {status} {str(answer)[:300]}")
            accepted += answer["accepted"]
        seconds = time.perf_counter() - started
    result = Result(
        f"HTTP batches of {size:,} (p50 {percentile(latencies, 0.5) * 1e3:.0f} ms a batch)",
        accepted,
        seconds,
        gateway_cpu_s=process_cpu_s(gateway.process.pid) - cpu,
        loop=probe.summary(),
    )
    return result


def paced(
    directory: Path, rate: float, seconds: float, profile: Path | None = None
) -> tuple[int, float]:
    """Location updates published at ``rate``/s for ``seconds`` (the load beside the SMPP
    traffic of cluster_bench): (signals, gateway CPU seconds until all are accepted)."""
    broker = Broker(directory / "broker", 100)
    gateway = None
    try:
        gateway = Gateway(directory / "gateway", broker.port, profile)
        gateway.warm_up(broker.port)
        before = gateway.accepted("mqtt")
        count = int(rate * seconds)
        if profile is not None:
            gateway.process.send_signal(signal.SIGUSR1)
        packets = mqtt_wire.publish_packets(
            [
                (f"{PREFIX}/signals/location_update", json.dumps(signal_json("paced", i)).encode())
                for i in range(1, 2 * count, 2)  # odd: location updates
            ]
        )
        sock = mqtt_wire.connect("127.0.0.1", broker.port, "bench-paced")
        sock.settimeout(0.001)  # PUBACKs are read and dropped between sends
        cpu = process_cpu_s(gateway.process.pid)
        started = time.perf_counter()
        sent = 0
        while sent < count:
            due = min(count, int((time.perf_counter() - started) * rate) + 1)
            if due > sent:
                sock.sendall(b"".join(packets[sent:due]))
                sent = due
            try:
                sock.recv(65536)
            except OSError:  # the timeout: nothing to read yet
                pass
        deadline = time.monotonic() + 60
        while gateway.accepted("mqtt") < before + count and time.monotonic() < deadline:
            time.sleep(0.02)
        if profile is not None:
            gateway.process.send_signal(signal.SIGUSR2)
        sock.close()
        return count, process_cpu_s(gateway.process.pid) - cpu
    finally:
        if gateway is not None:
            gateway.stop()
        broker.stop()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="10,000 signals a phase")
    parser.add_argument("--count", type=int, help="signals a phase (default 50,000)")
    parser.add_argument("--inflight", default="20,100,1000", help="broker max_inflight_messages")
    parser.add_argument("--publishers", type=int, default=2, help="publisher processes")
    parser.add_argument("--in-flight", type=int, default=100, help="publishes in flight each")
    parser.add_argument(
        "--peers",
        choices=("wire", "aiomqtt"),
        default="wire",
        help="publishers and counting subscriber: pre-encoded packets on sockets (default), or"
        " aiomqtt clients (the peers of the runs before 2026-12-03; they bound the baseline)",
    )
    parser.add_argument(
        "--paced",
        type=float,
        metavar="RATE",
        help="only: gateway CPU per signal with location updates paced at RATE/s for 6 s",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="PATH",
        help="cProfile the gateway's event loop during the MQTT phase of the last setting, or"
        " the paced feed (python -m pstats PATH); the figures of that phase then include the"
        " profiler",
    )
    args = parser.parse_args()
    if args.paced:
        with tempfile.TemporaryDirectory(prefix="otpgate-signals-bench-") as tmp:
            n, cpu_s = paced(Path(tmp), args.paced, 6.0, args.profile)
        print(
            f"{n:,} location updates paced at {args.paced:,.0f}/s: gateway CPU"
            f" {cpu_s / n * 1e6:.1f} us/signal ({cpu_s / 6.0 * 100:.1f} % of a core)"
        )
        return 0
    count = args.count or (10_000 if args.quick else 50_000)
    settings = [int(s) for s in args.inflight.split(",")]

    print(
        f"otpgate signal ingest benchmark ({os.cpu_count()} cores; {count:,} signals a phase from"
        f" {args.publishers} publisher processes ({args.peers}) x {args.in_flight} QoS 1 publishes"
        " in flight;"
        f" load average {os.getloadavg()[0]:.2f})"
    )
    mqtt_results: dict[int, tuple[Result, Result]] = {}
    http: list[Result] = []
    rss = 0.0
    with tempfile.TemporaryDirectory(prefix="otpgate-signals-bench-") as tmp:
        for index, inflight in enumerate(settings):
            directory = Path(tmp) / f"inflight-{inflight}"
            print(f"mosquitto max_inflight_messages {inflight}:")
            base = broker_alone(
                directory / "alone", inflight, count, args.publishers, args.in_flight, args.peers
            )
            show(base)
            print(
                f"  broker window: a subscriber acknowledging 20 ms late had up to {base.window}"
                f" deliveries unacknowledged (max_inflight_messages {inflight})"
            )
            last = index == len(settings) - 1
            gw, batches, rss = through_gateway(
                directory,
                inflight,
                count,
                args.publishers,
                args.in_flight,
                http=last,
                peers=args.peers,
                profile=args.profile if last else None,
            )
            show(gw, base)
            mqtt_results[inflight] = (base, gw)
            if batches:
                print(f"HTTP POST /v1/signals (the gateway of max_inflight {inflight}):")
                for batch in batches:
                    show(batch, base)
                http = batches
    print("figures:")
    for inflight, (base, gw) in mqtt_results.items():
        print(
            f"  MQTT ingest, broker max_inflight {inflight:>4}".ljust(44)
            + f"{gw.rate:>7,.0f} signals/s = {gw.rate / base.rate:.2f} x broker alone"
            f" ({base.rate:,.0f}/s); {gw.rate / TARGET:.2f} x the target of {TARGET:,}/s;"
            f" broker window {base.window}"
        )
    for batch in http:
        print(
            f"  {batch.name.split(' (')[0]}".ljust(44)
            + f"{batch.rate:>7,.0f} signals/s; gateway CPU {batch.us(batch.gateway_cpu_s)} us/signal;"
            f" {batch.loop}"
        )
    for inflight, (_, gw) in mqtt_results.items():
        per_core = gw.count / gw.gateway_cpu_s if gw.gateway_cpu_s else float("nan")
        print(
            f"  gateway CPU per MQTT signal, inflight {inflight}".ljust(44)
            + f"{gw.us(gw.gateway_cpu_s):>7} us ({per_core:,.0f} signals/s per core)"
        )
    print("  gateway peak RSS (last gateway)".ljust(44) + f"{rss:7.0f} MB")
    print("  load average at the end".ljust(44) + f"{os.getloadavg()[0]:7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
