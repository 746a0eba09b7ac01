"""Signals over MQTT: QoS 1, a persistent session, and the PUBACK only after the commit.

aiomqtt acknowledges a QoS 1 message as soon as paho parses it, before our code has seen
it, so a crash between that PUBACK and the commit would lose the signal for good. We switch
paho to manual acknowledgement and send each PUBACK from the store's commit callback. With
``clean_session=False`` and a fixed client id, the broker keeps our subscriptions and queues
what is published while we are away; what we received but never acknowledged it sends
again when we reconnect.
"""

from __future__ import annotations

import asyncio
import json
import random
import ssl

import aiomqtt
import structlog

from ..clock import Clock
from ..config import MqttConfig
from .feed_health import FeedHealth
from .ingest import FAILED, REJECTED, Outcome, SignalIngest
from .model import KINDS

log = structlog.get_logger("otpgate.signals.mqtt")

_MAX_PAYLOAD = 64 * 1024
_ECHO_LIMIT = 2048
_BATCH_WAIT_S = 0.002  # bytes of a rejected payload echoed to the rejected topic


class MqttFeed:
    def __init__(
        self, config: MqttConfig, ingest: SignalIngest, health: FeedHealth, clock: Clock
    ) -> None:
        self.config = config
        self.ingest = ingest
        self.health = health
        self.clock = clock
        self.topics = {f"{config.prefix}/signals/{kind}": kind for kind in KINDS}
        self.rejected_topic = f"{config.prefix}/signals/rejected"
        self._task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # Messages received within _BATCH_WAIT_S: committed together, acknowledged each.
        self._batch: list[tuple[aiomqtt.Client, aiomqtt.Message, object]] = []

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
                    await client.subscribe([(topic, 1) for topic in self.topics])
                    async for message in client.messages:
                        self._on_message(client, message)
            except aiomqtt.MqttError as error:
                log.warning("mqtt_disconnected", host=config.host, error=str(error))
            finally:
                self.health.set_mqtt_connected(False, self.clock.now())
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(config.reconnect_max_s, delay * 2)

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
        # The arrangement this module exists for: PUBACK from the commit callback.
        client._client.manual_ack_set(True)
        return client

    def _tls_context(self) -> ssl.SSLContext | None:
        config = self.config
        if not config.tls:
            return None
        context = ssl.create_default_context(cafile=config.ca_file)
        if config.cert_file:
            context.load_cert_chain(config.cert_file, config.key_file)
        return context

    def _on_message(self, client: aiomqtt.Client, message: aiomqtt.Message) -> None:
        topic = message.topic.value
        kind = self.topics.get(topic)
        if kind is None:  # not ours (the broker may replay an old subscription)
            self._ack(client, message)
            return
        obj = self._decode(message.payload, kind)
        if isinstance(obj, Outcome):  # ingest never saw it: count it here
            counters = self.health.counters("mqtt")
            counters.received += 1
            counters.rejected += 1
            self._done(client, message, [obj])
            return
        self._batch.append((client, message, obj))
        if len(self._batch) == 1:
            # Messages arrive one per loop turn: wait a moment so a burst commits together.
            asyncio.get_running_loop().call_later(_BATCH_WAIT_S, self._flush)

    def _flush(self) -> None:
        batch, self._batch = self._batch, []

        def done(outcomes: list[Outcome]) -> None:
            for (client, message, _), outcome in zip(batch, outcomes, strict=True):
                self._done(client, message, [outcome])

        self.ingest.submit([obj for _, _, obj in batch], "mqtt", done)

    @staticmethod
    def _decode(payload: object, kind: str) -> object:
        """The JSON object of a payload, with the topic's kind; an Outcome when unreadable."""
        if not isinstance(payload, bytes | bytearray):
            payload = str(payload).encode()
        if len(payload) > _MAX_PAYLOAD:
            return Outcome(REJECTED, f"payload: larger than {_MAX_PAYLOAD} bytes")
        try:
            obj = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            return Outcome(REJECTED, f"payload: not JSON ({error})")
        if isinstance(obj, dict):
            stated = obj.setdefault("kind", kind)
            if stated != kind:
                return Outcome(REJECTED, f"kind: {stated!r} published on the {kind} topic")
        return obj

    def _done(
        self, client: aiomqtt.Client, message: aiomqtt.Message, outcomes: list[Outcome]
    ) -> None:
        outcome = outcomes[0]
        if outcome.status == FAILED:
            # Not acknowledged: the broker sends it again after we reconnect.
            log.error("mqtt_signal_not_committed", reason=outcome.reason)
            client._client.disconnect()
            return
        if outcome.status == REJECTED:
            log.warning("mqtt_signal_rejected", topic=message.topic.value, reason=outcome.reason)
            task = asyncio.get_running_loop().create_task(
                self._publish_rejection(client, message, outcome.reason or "")
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        self._ack(client, message)

    async def _publish_rejection(
        self, client: aiomqtt.Client, message: aiomqtt.Message, reason: str
    ) -> None:
        payload = message.payload if isinstance(message.payload, bytes) else b""
        body = {
            "topic": message.topic.value,
            "reason": reason,
            "payload": payload[:_ECHO_LIMIT].decode("utf-8", "replace"),
        }
        try:
            await client.publish(self.rejected_topic, json.dumps(body), qos=1)
        except aiomqtt.MqttError as error:
            log.warning("mqtt_rejection_not_published", error=str(error))
        self._ack(client, message)

    @staticmethod
    def _ack(client: aiomqtt.Client, message: aiomqtt.Message) -> None:
        if message.qos > 0:
            client._client.ack(message.mid, message.qos)
