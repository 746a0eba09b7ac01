"""Signals over MQTT: QoS 1, a persistent session, and the PUBACK only after the commit.

aiomqtt acknowledges a QoS 1 message as soon as paho parses it, before our code has seen
it, so a crash between that PUBACK and the commit would lose the signal for good. We switch
paho to manual acknowledgement and send each PUBACK from the store's commit callback. With
``clean_session=False`` and a fixed client id, the broker keeps our subscriptions and queues
what is published while we are away; what we received but never acknowledged it sends
again when we reconnect.

Messages are taken in batches, not one at a time (aiomqtt's queue, message copy, task and
``asyncio.wait`` per message, and paho's objects per message, cost more than the signal):
``paho_batches.BatchReader`` reads every packet already received in one socket wake-up and
acknowledges a batch in one write. A batch goes to the ingest while no other batch of ours
waits for its commit (after a short linger while it is small), or as soon as it is full.
So a quiet feed commits a few signals at a time and a busy one commits in groups, several
batches in flight.
"""

from __future__ import annotations

import asyncio
import json
import random
import ssl
from typing import Any

import aiomqtt
import orjson
import structlog

from ..clock import Clock
from ..config import MqttConfig
from .feed_health import FeedHealth
from .ingest import ACCEPTED, DUPLICATE, REJECTED, Outcome, SignalIngest
from .model import KINDS
from .paho_batches import BatchReader, Received

log = structlog.get_logger("otpgate.signals.mqtt")

_MAX_PAYLOAD = 64 * 1024
_ECHO_LIMIT = 2048  # bytes of a rejected payload echoed to the rejected topic
# Messages read in one socket wake-up, and signals validated in one loop turn: 200 keep the
# event loop, which also carries the SMPP traffic, ~10 ms at most (~45 µs a signal). 250
# measured up to 17,800/s but a /healthz p99 near 100 ms; 100, 13,000/s and ~30-50 ms.
MAX_BATCH = 200
# A quiet feed's signals wait up to LINGER_S for company: each batch costs a commit (an
# fsync), a commit callback and a wake-up or three of the loop, several hundred µs of CPU
# whatever its size. At 1,000 signals/s, measured per signal: no linger 372 µs, 5 ms 213, 10 ms 145,
# 20 ms 107-117. 20 ms on a signal's way to the index is far inside the 100 ms it may take.
# From _LINGER_BELOW waiting on, no linger: a broker that keeps to mosquitto's default window
# (20 unacknowledged) must never be left waiting for our timer.
LINGER_S = 0.02
_LINGER_BELOW = 16


class MqttFeed:
    def __init__(
        self, config: MqttConfig, ingest: SignalIngest, health: FeedHealth, clock: Clock
    ) -> None:
        self.config = config
        self.ingest = ingest
        self.health = health
        self.clock = clock
        self.topics = {f"{config.prefix}/signals/{kind}".encode(): kind for kind in KINDS}
        self.rejected_topic = f"{config.prefix}/signals/rejected"
        self._task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # The connection of now and its reader (whose ``received`` holds the messages not
        # yet handed to the ingest; each is acknowledged after its commit).
        self._client_now: aiomqtt.Client | None = None
        self._reader: BatchReader | None = None
        self._committing = 0  # batches handed to the ingest, their commit not yet seen
        self._flush_queued = False
        self._linger: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run(), name="mqtt-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def run(self) -> None:
        """Connect, consume, and reconnect with backoff and jitter, until cancelled."""
        config = self.config
        delay = config.reconnect_min_s
        while True:
            try:
                async with self._client() as client:
                    self.health.set_mqtt_connected(True, self.clock.now())
                    log.info("mqtt_connected", host=config.host, port=config.port)
                    delay = config.reconnect_min_s
                    await self._subscribe(client)
                    # Nothing reaches aiomqtt's queue (on_message is ours): the iterator
                    # only ends, with MqttError, when the connection does.
                    async for _ in client.messages:
                        pass
            except aiomqtt.MqttError as error:
                log.warning("mqtt_disconnected", host=config.host, error=str(error))
            finally:
                self.health.set_mqtt_connected(False, self.clock.now())
                # What was received and not handed on is never acknowledged: the broker
                # sends it again on the next session.
                self._client_now = self._reader = None
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(config.reconnect_max_s, delay * 2)

    async def _subscribe(self, client: aiomqtt.Client) -> None:
        """Subscribe, unless the connection ends first: aiomqtt's wait for the SUBACK does
        not watch the connection, so a broker gone mid-subscribe would be noticed only at
        its 10 s timeout, and the outage that much later."""
        subscribing = asyncio.ensure_future(
            client.subscribe([(topic.decode(), 1) for topic in self.topics])
        )
        ended: asyncio.Future[Any] = client._disconnected
        await asyncio.wait([subscribing, ended], return_when=asyncio.FIRST_COMPLETED)
        if not subscribing.done():
            subscribing.cancel()
            raise aiomqtt.MqttError("disconnected while subscribing")
        subscribing.result()

    def _client(self) -> aiomqtt.Client:
        config = self.config
        client = aiomqtt.Client(
            config.host,
            config.port,
            identifier=config.client_id,
            clean_session=False,
            username=config.username,
            password=config.password,
            keepalive=config.keepalive_s,
            tls_context=self._tls_context(),
            timeout=10,
        )
        # The arrangement this module exists for: PUBACK from the commit callback. The
        # reader sets paho to manual acknowledgement, and is in place before CONNACK: a
        # persistent session's queued messages follow it at once.
        self._reader = BatchReader(client._client, self._flush_soon, MAX_BATCH)
        self._client_now = client
        return client

    def _tls_context(self) -> ssl.SSLContext | None:
        config = self.config
        if not config.tls:
            return None
        context = ssl.create_default_context(cafile=config.ca_file)
        if config.cert_file:
            context.load_cert_chain(config.cert_file, config.key_file)
        return context

    def _flush_soon(self) -> None:
        """Queue a flush when a batch is due: a full one at once; otherwise when no batch of
        ours waits for its commit, after a short linger while fewer than _LINGER_BELOW wait."""
        reader = self._reader
        pending = 0 if reader is None else len(reader.received)
        if self._flush_queued or not pending:
            return
        loop = asyncio.get_running_loop()
        if pending >= MAX_BATCH or (not self._committing and pending >= _LINGER_BELOW):
            self._flush_queued = True
            loop.call_soon(self._flush)
        elif not self._committing and self._linger is None:
            self._linger = loop.call_later(LINGER_S, self._lingered)

    def _lingered(self) -> None:
        self._linger = None
        if not self._flush_queued:
            self._flush_queued = True
            self._flush()

    def _flush(self) -> None:
        """Hand one batch to the ingest (a turn each: the loop also carries SMPP traffic)."""
        self._flush_queued = False
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        client, reader = self._client_now, self._reader
        if client is None or reader is None or not reader.received:
            return
        batch = reader.received[:MAX_BATCH]
        del reader.received[:MAX_BATCH]
        self._submit(client, reader, batch)
        self._flush_soon()

    def _submit(self, client: aiomqtt.Client, reader: BatchReader, batch: list[Received]) -> None:
        topics = self.topics
        items: list[object] = []
        kept: list[Received] = []
        ignored: list[Received] = []
        for message in batch:
            kind = topics.get(message[0])
            if kind is None:  # not ours (the broker may replay an old subscription)
                ignored.append(message)
                continue
            obj = _decode(message[3], kind)
            if type(obj) is Outcome:  # ingest never sees it: count it here
                counters = self.health.counters("mqtt")
                counters.received += 1
                counters.rejected += 1
                self._reject(client, reader, message, obj.reason or "")
                continue
            items.append(obj)
            kept.append(message)
        reader.acknowledge(ignored)
        if not items:
            return
        self._committing += 1

        def committed(outcomes: list[Outcome]) -> None:
            self._committing -= 1
            self._acknowledge(client, reader, kept, outcomes)
            self._flush_soon()

        self.ingest.submit(items, "mqtt", committed, event_ids=False)

    def _acknowledge(
        self,
        client: aiomqtt.Client,
        reader: BatchReader,
        batch: list[Received],
        outcomes: list[Outcome],
    ) -> None:
        durable: list[Received] = []
        failed: Outcome | None = None
        for message, outcome in zip(batch, outcomes, strict=True):
            status = outcome.status
            if status in (ACCEPTED, DUPLICATE):
                durable.append(message)
            elif status == REJECTED:
                self._reject(client, reader, message, outcome.reason or "")
            else:
                failed = outcome
        reader.acknowledge(durable)
        if failed is not None:
            # Not acknowledged: the broker sends them again after we reconnect.
            log.error("mqtt_signal_not_committed", reason=failed.reason)
            client._client.disconnect()

    def _reject(
        self, client: aiomqtt.Client, reader: BatchReader, message: Received, reason: str
    ) -> None:
        """Dead-letter to the rejected topic, then acknowledge (a dead letter is not lost)."""
        topic = message[0].decode("utf-8", "replace")
        log.warning("mqtt_signal_rejected", topic=topic, reason=reason)
        task = asyncio.get_running_loop().create_task(
            self._publish_rejection(client, reader, message, topic, reason)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish_rejection(
        self,
        client: aiomqtt.Client,
        reader: BatchReader,
        message: Received,
        topic: str,
        reason: str,
    ) -> None:
        body = {
            "topic": topic,
            "reason": reason,
            "payload": message[3][:_ECHO_LIMIT].decode("utf-8", "replace"),
        }
        try:
            await client.publish(self.rejected_topic, json.dumps(body), qos=1)
        except aiomqtt.MqttError as error:
            log.warning("mqtt_rejection_not_published", error=str(error))
        reader.acknowledge([message])


def _decode(payload: bytes, kind: str) -> object:
    """The JSON object of a payload, with the topic's kind; an Outcome when unreadable."""
    if len(payload) > _MAX_PAYLOAD:
        return Outcome(REJECTED, f"payload: larger than {_MAX_PAYLOAD} bytes")
    try:
        obj = orjson.loads(payload)  # a fifth of json's time on a signal
    except orjson.JSONDecodeError as error:
        return Outcome(REJECTED, f"payload: not JSON ({error})")
    if type(obj) is dict:
        stated = obj.setdefault("kind", kind)
        if stated != kind:
            return Outcome(REJECTED, f"kind: {stated!r} published on the {kind} topic")
    return obj
