"""paho glue for the signal feed: whole batches of PUBLISH packets in, one write of PUBACKs out.

paho-mqtt spends ~25 µs of Python on each PUBLISH it receives (an ``MQTTMessage`` and its
``MQTTMessageInfo`` with a ``threading.Condition``, two debug log calls, a walk of the topic
matcher, the ``on_message`` call), and each PUBACK is a packet with a ``send()`` of its
own. At 15,000 signals/s that is a third of a core before the signal is even parsed. On the
feed's one paho client, ``BatchReader``:

- makes ``loop_read`` read every packet already received, up to ``max_batch`` publishes
  (aiomqtt's socket callback asks for one packet per wake-up of the event loop);
- decodes QoS 0 and 1 PUBLISH packets of MQTT 3.1.1 itself, into ``Received`` tuples
  (QoS 2, which a QoS 1 subscription never gets, and MQTT 5 still go through paho, and
  its ``on_message`` adds them to the same list);
- queues the PUBACKs of a batch as one write.

paho stays in charge of everything else: the connection, keepalive, subscriptions, the
publishes of dead letters. This leans on paho 2.x internals (``_handle_publish``,
``_in_packet``, ``_packet_queue``; pinned in pyproject.toml), checked at construction;
tests/integration/test_signal_mqtt.py exercises every path through a real broker.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable

import paho.mqtt.client as paho
from paho.mqtt import __version__ as paho_version
from paho.mqtt.enums import MQTTErrorCode, MQTTProtocolVersion

# (topic, packet id, qos, payload) of one PUBLISH: all the feed needs, no object per message.
Received = tuple[bytes, int, int, bytes]

_PUBACK = struct.Struct("!BBH")
_TOPIC_LENGTH = struct.Struct("!H")
_PUBACK_COMMAND = 0x40


class BatchReader:
    """Takes over the PUBLISH path of one paho client; ``received`` fills as packets arrive."""

    def __init__(
        self,
        connection: paho.Client,
        on_read: Callable[[], None],
        max_batch: int,
    ) -> None:
        for name in ("_handle_publish", "_in_packet", "_packet_queue", "_protocol"):
            if not hasattr(connection, name):  # a paho we were not written for: fail loudly
                raise RuntimeError(f"paho-mqtt {paho_version} has no {name}")
        self.received: list[Received] = []
        self._connection = connection
        self._on_read = on_read
        self._max_batch = max_batch
        self._paho_read = connection.loop_read
        self._paho_handle_publish = connection._handle_publish
        self._v311 = connection._protocol == MQTTProtocolVersion.MQTTv311
        connection.manual_ack_set(True)  # paho's own path (QoS 2) must not ack either
        connection.on_message = self._on_message
        connection.loop_read = self._read  # type: ignore[method-assign]
        connection._handle_publish = self._handle_publish  # type: ignore[method-assign]

    def _read(self, max_packets: int = 1) -> MQTTErrorCode:
        """paho's ``loop_read`` again while packets keep coming, then ``on_read`` once."""
        received = self.received
        while True:
            before = len(received)
            rc = self._paho_read()
            got = len(received)
            # Stop on an error, an empty socket (nothing read), or a full batch. A packet
            # other than a PUBLISH (a PINGRESP, a PUBACK) also ends the round: the next
            # wake-up reads on.
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or got == before or got >= self._max_batch:
                break
        self._on_read()
        return rc

    def _handle_publish(self) -> MQTTErrorCode:
        packet = self._connection._in_packet
        command = packet["command"]
        qos = (command & 0x06) >> 1
        if qos > 1 or not self._v311:
            return self._paho_handle_publish()
        body = packet["packet"]
        if len(body) < 2:
            return MQTTErrorCode.MQTT_ERR_PROTOCOL
        (topic_end,) = _TOPIC_LENGTH.unpack_from(body)
        topic_end += 2
        start = topic_end + 2 if qos else topic_end
        if topic_end == 2 or start > len(body):  # an empty topic, or lengths past the end
            return MQTTErrorCode.MQTT_ERR_PROTOCOL
        mid = _TOPIC_LENGTH.unpack_from(body, topic_end)[0] if qos else 0
        self.received.append((bytes(body[2:topic_end]), mid, qos, bytes(body[start:])))
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _on_message(
        self, _connection: paho.Client, _userdata: object, message: paho.MQTTMessage
    ) -> None:
        """What paho still decodes itself joins the batch in the same form."""
        try:
            topic = message.topic.encode()
        except UnicodeDecodeError:  # cannot be one of our topics
            topic = b""
        self.received.append((topic, message.mid, message.qos, bytes(message.payload)))

    def acknowledge(self, received: Iterable[Received]) -> None:
        """Acknowledge messages once their signals are durable: the PUBACKs as one write."""
        connection = self._connection
        pubacks = []
        for _, mid, qos, _ in received:
            if qos == 1:
                pubacks.append(_PUBACK.pack(_PUBACK_COMMAND, 2, mid))
            elif qos == 2:
                connection.ack(mid, qos)  # PUBCOMP, by paho
        if pubacks:
            connection._packet_queue(_PUBACK_COMMAND, b"".join(pubacks), 0, 0)
