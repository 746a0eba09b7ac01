"""A fast windowed ESME for benchmarks: our codec and transport, pre-encoded PDUs, no task per message."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from smpp_adapters import events as ev
from smpp_adapters.client import open_bind
from smpp_adapters.constants import CommandId, CommandStatus
from smpp_adapters.pdu import Pdu, decode, encode
from smpp_adapters.session import SessionConfig
from smpp_adapters.transport import SmppConnection


@dataclass
class LoadResult:
    sent: int = 0
    ok: int = 0
    errors: dict[int, int] = field(default_factory=dict)
    receipts: int = 0
    latencies_s: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0


class _Receiver:
    def __init__(self, result: LoadResult) -> None:
        self.result = result
        self.receipt_seen = asyncio.Event()

    def on_event(self, connection: SmppConnection, event: ev.Event) -> None:
        if type(event) is ev.DeliverSmReceived:
            connection.send_response(event.pdu)  # type: ignore[attr-defined]
            self.result.receipts += 1
            self.receipt_seen.set()


def submit_template(
    text: bytes = b"Your PayBank verification code is 482913. Never share it.",
    destination: str = "447400123123",
    registered_delivery: int = 1,
) -> Pdu:
    """A submit_sm decoded from bytes, so sending it only patches the sequence number."""
    pdu = Pdu(
        CommandId.SUBMIT_SM,
        {
            "source_addr_ton": 5,
            "source_addr": "PayBank",
            "dest_addr_ton": 1,
            "dest_addr_npi": 1,
            "destination_addr": destination,
            "registered_delivery": registered_delivery,
            "short_message": text,
        },
    )
    return decode(encode(pdu))


async def run_load(
    host: str,
    port: int,
    *,
    system_id: str,
    password: str,
    count: int,
    binds: int = 2,
    window: int = 200,
    rate: float | None = None,
    receipts: bool = True,
    receipt_wait_s: float = 20.0,
    template: Pdu | None = None,
    templates: Sequence[Pdu] | None = None,
) -> LoadResult:
    """Send ``count`` submit_sm over ``binds`` transceivers, windowed, optionally paced to ``rate``/s.

    ``templates``, when given, are sent in turn (e.g. one per destination) instead of ``template``.
    """
    result = LoadResult()
    receiver = _Receiver(result)
    config = SessionConfig(
        window=window,
        incoming_window=100_000,
        response_timeout_s=60.0,
        enquire_link_interval_s=None,
        inactivity_timeout_s=None,
    )
    connections = [
        await open_bind(
            host, port, receiver, mode="trx", system_id=system_id, password=password, config=config
        )
        for _ in range(binds)
    ]
    pdus = list(
        templates or [template or submit_template(registered_delivery=1 if receipts else 0)]
    )
    loop = asyncio.get_running_loop()
    room = asyncio.Event()
    latencies = result.latencies_s
    errors = result.errors

    def answer_for(sent_at: float):
        def answered(response: Pdu | None) -> None:
            latencies.append(loop.time() - sent_at)
            status = response.command_status if response is not None else -1
            if status == CommandStatus.ESME_ROK:
                result.ok += 1
            else:
                errors[status] = errors.get(status, 0) + 1
            room.set()

        return answered

    started = loop.time()
    next_index = 0
    while result.sent < count:
        progressed = False
        for connection in connections:
            while connection.session.can_send and result.sent < count:
                if rate is not None:
                    due = started + result.sent / rate
                    now = loop.time()
                    if due > now:
                        break
                connection.send_request(pdus[result.sent % len(pdus)], answer_for(loop.time()))
                result.sent += 1
                progressed = True
            next_index += 1
        if result.sent >= count:
            break
        if rate is not None and not progressed:
            await asyncio.sleep(max(0.0, started + result.sent / rate - loop.time()))
        else:
            room.clear()
            await room.wait()
    deadline = loop.time() + 60
    while result.ok + sum(errors.values()) < count and loop.time() < deadline:
        room.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(room.wait(), 1.0)
    result.elapsed_s = loop.time() - started
    if receipts:
        deadline = loop.time() + receipt_wait_s
        while result.receipts < result.ok and loop.time() < deadline:
            receiver.receipt_seen.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(receiver.receipt_seen.wait(), 1.0)
    for connection in connections:
        connection.session.unbind(loop.time())
        connection.flush()
    await asyncio.sleep(0.05)
    for connection in connections:
        connection.abort()
    return result


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def process_cpu_s(pid: int) -> float:
    """User+system CPU seconds of a process (and its threads) from /proc."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    import os

    return ticks / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def now_s() -> float:
    return time.perf_counter()
