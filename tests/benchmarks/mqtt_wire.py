"""MQTT 3.1.1 publishers and a counting subscriber on plain blocking sockets, for benchmarks.

aiomqtt peers cost 50-100 µs of Python per message on this machine, so the publishers and
the counting subscriber of ``signal_ingest_bench`` ran out of CPU near 4,000-12,000 QoS 1
messages/s and the "broker alone" baseline measured them, not the broker. These peers send
pre-encoded PUBLISH packets a window at a time and read PUBACKs in bulk (a few µs a
message), so the broker and the gateway are what is measured. Only the packets the
benchmark needs; not a client for anything else.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Sequence

_CONNACK = b"\x20\x02"
_PUBACK = 0x40
_PUBLISH = 0x30
_SUBACK = 0x90


def _remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _string(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("!H", len(raw)) + raw


def _packet(first: int, body: bytes) -> bytes:
    return bytes([first]) + _remaining_length(len(body)) + body


def connect(host: str, port: int, client_id: str, *, clean: bool = True) -> socket.socket:
    """A connected MQTT 3.1.1 session (keepalive off: the benchmark does not idle)."""
    sock = socket.create_connection((host, port), timeout=120)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    flags = 0x02 if clean else 0x00
    body = _string("MQTT") + bytes([4, flags]) + struct.pack("!H", 0) + _string(client_id)
    sock.sendall(_packet(0x10, body))
    answer = _read_exactly(sock, 4)
    if answer[:2] != _CONNACK or answer[3] != 0:
        raise ConnectionError(f"CONNACK refused: {answer!r}")
    return sock


def _read_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        data += chunk
    return data


def publish_packets(messages: Sequence[tuple[str, bytes]]) -> list[bytes]:
    """QoS 1 PUBLISH packets, packet ids 1..65535 in turn (the window stays far below)."""
    packets = []
    for i, (topic, payload) in enumerate(messages):
        mid = i % 65535 + 1
        packets.append(_packet(_PUBLISH | 0x02, _string(topic) + struct.pack("!H", mid) + payload))
    return packets


def publish_all(sock: socket.socket, packets: Sequence[bytes], window: int) -> float:
    """Send every packet with at most ``window`` unacknowledged; seconds until the last PUBACK.

    Every PUBACK is 4 bytes (the broker sends a publisher nothing else here), so counting
    bytes counts acknowledgements.
    """
    started = time.perf_counter()
    sent = acked = 0
    pending = b""
    total = len(packets)
    while acked < total:
        room = min(total, acked + window) - sent
        if room > 0:
            sock.sendall(b"".join(packets[sent : sent + room]))
            sent += room
        data = pending + sock.recv(65536)
        if len(data) == len(pending):
            raise ConnectionError("broker closed the connection")
        whole = len(data) - len(data) % 4
        acked += whole // 4
        pending = data[whole:]
    return time.perf_counter() - started


def subscribe(sock: socket.socket, topic: str) -> None:
    sock.sendall(_packet(0x82, struct.pack("!H", 1) + _string(topic) + b"\x01"))
    answer = _read_exactly(sock, 5)
    if answer[0] != _SUBACK or answer[4] > 2:
        raise ConnectionError(f"SUBACK refused: {answer!r}")


def count_publishes(sock: socket.socket, count: int) -> None:
    """Read PUBLISH packets, acknowledging each QoS 1 one at once, until ``count`` arrived."""
    buffer = b""
    seen = 0
    while seen < count:
        chunk = sock.recv(262144)
        if not chunk:
            raise ConnectionError("broker closed the connection")
        buffer += chunk
        acks = []
        offset = 0
        while True:
            header = _header(buffer, offset)
            if header is None:
                break
            first, start, end = header
            if first & 0xF0 == _PUBLISH:
                seen += 1
                if first & 0x06:
                    topic_length = struct.unpack_from("!H", buffer, start)[0]
                    mid = buffer[start + 2 + topic_length : start + 4 + topic_length]
                    acks.append(bytes([_PUBACK, 2]) + mid)
            offset = end
        buffer = buffer[offset:]
        if acks:
            sock.sendall(b"".join(acks))


def _header(buffer: bytes, offset: int) -> tuple[int, int, int] | None:
    """(first byte, body start, packet end) of the packet at ``offset``, None if incomplete."""
    if len(buffer) - offset < 2:
        return None
    length = shift = 0
    position = offset + 1
    while True:
        if position >= len(buffer):
            return None
        byte = buffer[position]
        length |= (byte & 0x7F) << shift
        position += 1
        if not byte & 0x80:
            break
        shift += 7
    if position + length > len(buffer):
        return None
    return buffer[offset], position, position + length
