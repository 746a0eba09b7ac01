"""paho glue for the signal feed: whole batches of PUBLISH packets in, one write of PUBACKs out.

paho-mqtt spends ~25 µs of Python on each PUBLISH it receives (an ``MQTTMessage`` and its
``MQTTMessageInfo`` with a ``threading.Condition``, two debug log calls, a walk of the topic
matcher, the ``on_message`` call), reads each packet with four ``recv()`` calls (the command
byte, each byte of the length, the rest), and each PUBACK is a packet with a ``send()`` of
its own. At 15,000 signals/s that is a third of a core before the signal is even parsed. On
the feed's one paho client, ``BatchReader``:

- makes ``loop_read`` read what the socket holds in chunks of ``READ_SIZE`` bytes, and
  splits them into packets itself (``PacketSplitter``), up to ``max_batch`` publishes
  a wake-up (aiomqtt's socket callback asks for one packet per wake-up of the event loop);
- decodes QoS 0 and 1 PUBLISH packets of MQTT 3.1.1 itself, into ``Received`` tuples
  (QoS 2, which a QoS 1 subscription never gets, and MQTT 5 still go through paho, and
  its ``on_message`` adds them to the same list); every other packet (CONNACK, SUBACK,
  PINGRESP, the PUBACKs of our own publishes) is handed whole to paho's handler;
- queues the PUBACKs of a batch as one write.

paho stays in charge of everything else: the connection, keepalive, subscriptions, the
publishes of dead letters. This leans on paho 2.x internals (``_handle_publish``,
``_in_packet``, ``_packet_handle``, ``_sock_recv``, ``_packet_queue``; pinned in
pyproject.toml), checked at construction; tests/integration/test_signal_mqtt.py exercises
every path through a real broker, tests/unit/test_paho_batches.py the splitting.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt import __version__ as paho_version
from paho.mqtt.enums import MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.exception import MalformedPacket

# (topic, packet id, qos, payload) of one PUBLISH: all the feed needs, no object per message.
Received = tuple[bytes, int, int, bytes]

_PUBACK = struct.Struct("!BBH")
_TOPIC_LENGTH = struct.Struct("!H")
_PUBACK_COMMAND = 0x40
_PUBLISH = 0x30
# One read takes what the socket holds up to this: ~200 signals of a typical size.
READ_SIZE = 32 * 1024


class PacketSplitter:
    """MQTT packets out of a byte stream read in arbitrary chunks (no I/O): ``feed`` returns
    the (first byte, body) of every packet complete so far and keeps the rest."""

    __slots__ = ("_rest",)

    def __init__(self) -> None:
        self._rest = b""

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """Raise ``MalformedPacket`` on a remaining length longer than four bytes."""
        buffer = self._rest + data if self._rest else data
        end = len(buffer)
        packets: list[tuple[int, bytes]] = []
        position = 0
        while position < end:
            length = 0
            shift = 0
            index = position + 1
            while True:
                if index >= end:
                    self._rest = buffer[position:]
                    return packets
                byte = buffer[index]
                index += 1
                length |= (byte & 0x7F) << shift
                if not byte & 0x80:
                    break
                shift += 7
                if shift == 28:
                    raise MalformedPacket("remaining length longer than four bytes")
            body_end = index + length
            if body_end > end:
                break
            packets.append((buffer[position], buffer[index:body_end]))
            position = body_end
        self._rest = buffer[position:]
        return packets


class BatchReader:
    """Takes over the PUBLISH path of one paho client; ``received`` fills as packets arrive."""

    def __init__(
        self,
        connection: paho.Client,
        on_read: Callable[[], None],
        max_batch: int,
    ) -> None:
        for name in (
            "_handle_publish",
            "_in_packet",
            "_packet_handle",
            "_packet_queue",
            "_protocol",
            "_sock_recv",
            "_loop_rc_handle",
            "_msgtime_mutex",
        ):
            if not hasattr(connection, name):  # a paho we were not written for: fail loudly
                raise RuntimeError(f"paho-mqtt {paho_version} has no {name}")
        self.received: list[Received] = []
        self._connection = connection
        self._on_read = on_read
        self._max_batch = max_batch
        self._paho_read = connection.loop_read
        self._paho_handle_publish = connection._handle_publish
        self._v311 = connection._protocol == MQTTProtocolVersion.MQTTv311
        # A websocket's frames are paho's to read; a plain or TLS socket's bytes are ours.
        self._bulk = connection.transport == "tcp"
        self._splitter = PacketSplitter()
        self._splitting: object = None  # the socket the splitter's partial packet came from
        connection.manual_ack_set(True)  # paho's own path (QoS 2) must not ack either
        connection.on_message = self._on_message
        connection.loop_read = self._read  # type: ignore[method-assign]
        connection._handle_publish = self._handle_publish  # type: ignore[method-assign]

    def _read(self, max_packets: int = 1) -> MQTTErrorCode:
        """Every packet the socket holds (up to a batch), then ``on_read`` once."""
        rc = self._read_chunks() if self._bulk else self._read_packets()
        self._on_read()
        return rc

    def _read_chunks(self) -> MQTTErrorCode:
        connection = self._connection
        sock = connection._sock
        if sock is None:
            return MQTTErrorCode.MQTT_ERR_NO_CONN
        if sock is not self._splitting:  # a new connection: nothing of the old one is owed
            self._splitter = PacketSplitter()
            self._splitting = sock
        received = self.received
        while True:
            try:
                data = connection._sock_recv(READ_SIZE)
            except BlockingIOError:
                return MQTTErrorCode.MQTT_ERR_SUCCESS
            except OSError:
                return connection._loop_rc_handle(MQTTErrorCode.MQTT_ERR_CONN_LOST)
            if not data:
                return connection._loop_rc_handle(MQTTErrorCode.MQTT_ERR_CONN_LOST)
            try:
                packets = self._splitter.feed(data)
            except MalformedPacket:
                return connection._loop_rc_handle(MQTTErrorCode.MQTT_ERR_PROTOCOL)
            for command, body in packets:
                rc = self._packet(command, body)
                if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    return connection._loop_rc_handle(rc)
            with connection._msgtime_mutex:
                connection._last_bytes_received = paho.time_func()
            # A full batch waits for the next wake-up; decrypted bytes a TLS socket still
            # holds bring one at once (aiomqtt's socket callback reads again while
            # ``pending()``).
            if connection._sock is not sock or len(received) >= self._max_batch:
                return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _packet(self, command: int, body: bytes) -> MQTTErrorCode:
        """One whole packet: a publish decoded here, anything else by paho's handler."""
        if command & 0xF0 == _PUBLISH and command & 0x06 < 0x04 and self._v311:
            return self._decode_publish(command, body)
        connection = self._connection
        connection._in_packet = _in_packet(command, body)
        try:
            return connection._packet_handle()
        except MalformedPacket:
            return MQTTErrorCode.MQTT_ERR_PROTOCOL
        finally:
            connection._in_packet = _in_packet(0, b"")  # as paho leaves it between packets

    def _read_packets(self) -> MQTTErrorCode:
        """paho's ``loop_read`` again while packets keep coming (a websocket)."""
        received = self.received
        while True:
            before = len(received)
            rc = self._paho_read()
            got = len(received)
            # Stop on an error, an empty socket (nothing read), or a full batch. A packet
            # other than a PUBLISH (a PINGRESP, a PUBACK) also ends the round: the next
            # wake-up reads on.
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or got == before or got >= self._max_batch:
                return rc

    def _handle_publish(self) -> MQTTErrorCode:
        """paho's read path (a websocket), or a publish QoS 2 or MQTT 5 handed back."""
        packet = self._connection._in_packet
        command = packet["command"]
        if command & 0x06 >= 0x04 or not self._v311:
            return self._paho_handle_publish()
        return self._decode_publish(command, packet["packet"])

    def _decode_publish(self, command: int, body: bytes | bytearray) -> MQTTErrorCode:
        qos = (command & 0x06) >> 1
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


def _in_packet(command: int, body: bytes) -> Any:
    """paho's record of the packet being handled: this one whole, or none (command 0)."""
    return {
        "command": command,
        "have_remaining": 1 if command else 0,
        "remaining_count": [],
        "remaining_mult": 1,
        "remaining_length": len(body),
        "packet": bytearray(body),
        "to_process": 0,
        "pos": 0,
    }
