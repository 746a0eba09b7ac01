"""The kill soak's load: ESME workers, hold releases and cancels, MQTT signals, all at once.

Every message gets a destination of its own (``Numbers``), so the ledger can follow each part
to the simulator, the hold listing and the receipts. The load survives the gateway's death:
a worker whose connection died waits for ``up`` and goes on with the next ESME.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import deque
from datetime import UTC, datetime

import aiohttp
import aiomqtt

from smpp_adapters.constants import Tag
from smpp_adapters.errors import LocalProtocolError

from ..integration.esme import AsyncEsme
from ..integration.harness import PASSWORD
from ..integration.mosquitto import MosquittoBroker
from ..integration.process import GatewayProcess
from .ledger import MULTIPART, MULTIPART_HELD, OTP_HELD, OTP_MQTT, PLAIN, Ledger, Part

WORKERS = 6
WINDOW = 12  # the ESME's window: more than the workers, so a request never meets a full one
WEIGHTS = {PLAIN: 40, MULTIPART: 15, OTP_HELD: 20, MULTIPART_HELD: 10, OTP_MQTT: 15}
_API_ERRORS = (aiohttp.ClientError, TimeoutError, ValueError, KeyError)


def otp(code: int) -> bytes:
    return b"Your PayBank verification code is %06d. Never share it." % code


def udh(reference: int, total: int, seqnum: int) -> bytes:
    return bytes((5, 0, 3, reference, total, seqnum))


class Numbers:
    """Unique destinations: 44741 clean, 44742 swapped before the run, 44743 swapped over MQTT."""

    def __init__(self) -> None:
        self._next = {"1": 0, "2": 0, "3": 0}
        self.swapped: deque[str] = deque()  # swapped before the run, not used yet
        self.mqtt_swapped: deque[str] = deque()  # published by the broker, not used yet

    def new(self, block: str) -> str:
        self._next[block] += 1
        return f"4474{block}{self._next[block]:07d}"


def occurred(seconds_ago: float = 60) -> str:
    return datetime.fromtimestamp(datetime.now(UTC).timestamp() - seconds_ago, UTC).isoformat()


async def swap_before_run(gateway: GatewayProcess, numbers: Numbers, count: int) -> None:
    """Swap ``count`` numbers over HTTP (committed before the answer) for the held kinds."""
    fresh = [numbers.new("2") for _ in range(count)]
    for start in range(0, count, 10_000):
        batch = [
            {"kind": "sim_swap", "msisdn": "+" + n, "occurred_at": occurred()}
            for n in fresh[start : start + 10_000]
        ]
        status, body = await gateway.api("POST", "/v1/signals", batch)
        assert status == 200 and body["accepted"] == len(batch), body
    numbers.swapped.extend(fresh)


class SoakTraffic:
    def __init__(self, ledger: Ledger, numbers: Numbers, rng: random.Random) -> None:
        self.ledger = ledger
        self.numbers = numbers
        self.rng = rng
        self.esme: AsyncEsme | None = None
        self.esmes: list[AsyncEsme] = []
        self.up = asyncio.Event()
        self.stopping = False
        self._tasks: list[asyncio.Task[None]] = []

    # -- the ESME's life follows the gateway's ---------------------------------------------

    async def connect(self, port: int) -> None:
        self.esme = await AsyncEsme.bind(port, "bank", PASSWORD, window=WINDOW)
        self.esmes.append(self.esme)
        self.up.set()

    def disconnect(self) -> None:
        self.up.clear()
        if self.esme is not None:
            self.esme.close()

    async def close(self) -> None:
        """Disconnect and wait until the socket is really closed (before a blocking stop)."""
        self.disconnect()
        if self.esme is not None:
            await asyncio.wait_for(self.esme.connection.closed.wait(), 5)

    def start(self, gateway: GatewayProcess, broker: MosquittoBroker, prefix: str) -> None:
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(WORKERS)]
        self._tasks.append(asyncio.create_task(self._hold_actions(gateway)))
        self._tasks.append(asyncio.create_task(self._publish_signals(broker, prefix)))

    async def stop(self) -> None:
        """Let every task finish what it is doing (a message, an API call, a publish)."""
        self.stopping = True
        self.up.set()  # a worker waiting for a gateway must see the stop
        await asyncio.wait_for(asyncio.gather(*self._tasks), 60)

    def collect_receipts(self) -> None:
        ledger = self.ledger
        ledger.receipts.clear()
        ledger.receipts_total = 0
        for esme in self.esmes:
            for receipt in esme.receipts:
                ledger.receipts_total += 1
                ledger.receipts[_receipted_id(receipt)] = _stat(receipt)

    # -- ESME workers ------------------------------------------------------------------------

    async def _worker(self) -> None:
        rng = self.rng
        while not self.stopping:
            await self.up.wait()
            esme = self.esme
            if self.stopping or esme is None:
                return
            kind = rng.choices(list(WEIGHTS), list(WEIGHTS.values()))[0]
            await self._send(esme, kind)

    def _message(self, kind: str) -> tuple[str, list[bytes], int]:
        """(destination, parts, esm_class) of one new message of ``kind``."""
        numbers, rng = self.numbers, self.rng
        code = rng.randrange(1_000_000)
        if kind == OTP_MQTT and numbers.mqtt_swapped:
            return numbers.mqtt_swapped.popleft(), [otp(code)], 0
        if kind in (OTP_HELD, MULTIPART_HELD) and numbers.swapped:
            destination = numbers.swapped.popleft()
            if kind == OTP_HELD:
                return destination, [otp(code)], 0
            # The code in the first part: a fragment left by a kill between parts is an OTP too.
            texts = [b"Your PayBank code is %06d." % code, b" Never share it with anyone."]
        else:
            destination = numbers.new("1")
            count = rng.randint(2, 3) if kind == MULTIPART else 1
            texts = [
                b"Statement %d part %d is ready." % (rng.getrandbits(32), i) for i in range(count)
            ]
        if len(texts) == 1:
            return destination, texts, 0
        reference = rng.randrange(256)
        parts = [udh(reference, len(texts), i) + t for i, t in enumerate(texts, start=1)]
        return destination, parts, 0x40

    async def _send(self, esme: AsyncEsme, kind: str) -> None:
        destination, texts, esm_class = self._message(kind)
        message = self.ledger.new_message()
        for text in texts:
            part = Part(kind, destination, text, message, len(texts))
            self.ledger.parts.append(part)
            try:
                response = await esme.submit(
                    destination=destination, text=text, esm_class=esm_class
                )
            except LocalProtocolError:  # the connection is gone: the gateway was killed
                return
            if response is None:  # no answer before the connection died
                return
            part.status = response.command_status
            if not part.acked:
                return  # e.g. ESME_RTHROTTLED while the upstream rebinds: the rest would dangle
            part.message_id = str(response.params["message_id"])

    # -- the operator releasing and cancelling holds ----------------------------------------

    async def _hold_actions(self, gateway: GatewayProcess) -> None:
        rng = self.rng
        while not self.stopping:
            await self.up.wait()
            try:
                _, page = await gateway.api("GET", "/v1/holds?state=held&limit=50")
                if page["holds"]:
                    hold = rng.choice(page["holds"])
                    action = "release" if rng.random() < 0.8 else "cancel"
                    status, _ = await gateway.api("POST", f"/v1/holds/{hold['id']}/{action}")
                    self.ledger.hold_actions[f"{action} {status}"] += 1
            except _API_ERRORS:
                self.ledger.hold_actions["interrupted"] += 1  # the gateway died under the call
            await asyncio.sleep(rng.uniform(0.005, 0.03))  # pacing, not waiting for anything

    # -- the network feeding signals -------------------------------------------------------

    async def _publish_signals(self, broker: MosquittoBroker, prefix: str) -> None:
        rng = self.rng
        async with aiomqtt.Client(broker.host, broker.port, identifier="soak-feed") as feed:
            while not self.stopping:
                number = self.numbers.new("3")
                body = {"msisdn": "+" + number, "occurred_at": occurred(), "event_id": number}
                await feed.publish(f"{prefix}/signals/sim_swap", json.dumps(body), qos=1)
                self.ledger.signals_published.append(number)  # QoS 1: the broker has it
                self.numbers.mqtt_swapped.append(number)
                await asyncio.sleep(rng.uniform(0.01, 0.04))  # pacing


def _receipted_id(receipt) -> str:
    value = receipt.tlv_cstr(Tag.RECEIPTED_MESSAGE_ID)
    if value:
        return value
    text = bytes(receipt.params["short_message"])
    return text.split(b" ", 1)[0].removeprefix(b"id:").decode("latin-1")


def _stat(receipt) -> str:
    text = bytes(receipt.params["short_message"])
    _, _, rest = text.partition(b"stat:")
    return rest[:7].decode("latin-1") or "?"
