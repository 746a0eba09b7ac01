"""The feed's own split of an MQTT byte stream into packets, whatever chunks the socket gives."""

from __future__ import annotations

import random

import pytest
from paho.mqtt.exception import MalformedPacket

from gateway.signals.paho_batches import PacketSplitter


def _remaining_length(length: int) -> bytes:
    out = bytearray()
    while True:
        byte, length = length & 0x7F, length >> 7
        out.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(out)


def _packet(command: int, body: bytes) -> bytes:
    return bytes([command]) + _remaining_length(len(body)) + body


def _publish(topic: bytes, mid: int, payload: bytes) -> bytes:
    body = len(topic).to_bytes(2, "big") + topic + mid.to_bytes(2, "big") + payload
    return _packet(0x32, body)


PACKETS = [
    _publish(b"otpgate/signals/sim_swap", 1, b'{"msisdn": "+447400123123"}'),
    _packet(0xD0, b""),  # PINGRESP: no body at all
    _publish(b"otpgate/signals/location_update", 2, b"x" * 200),  # a two-byte length
    _packet(0x90, b"\x00\x01\x01"),  # SUBACK
    _publish(b"t", 3, b"y" * 20_000),  # a three-byte length, longer than one read
    _packet(0x40, b"\x00\x07"),  # PUBACK of one of our own publishes
]
STREAM = b"".join(PACKETS)


def _split(chunks: list[bytes]) -> list[tuple[int, bytes]]:
    splitter = PacketSplitter()
    found = []
    for chunk in chunks:
        found += splitter.feed(chunk)
    return found


def _expected() -> list[tuple[int, bytes]]:
    out = []
    for packet in PACKETS:
        index = 1
        while packet[index] & 0x80:
            index += 1
        out.append((packet[0], packet[index + 1 :]))
    return out


def test_a_stream_read_at_once_gives_every_packet_whole() -> None:
    assert _split([STREAM]) == _expected()


def test_every_cut_of_the_stream_gives_the_same_packets() -> None:
    # A cut inside the command byte's length, inside a body, at a boundary: each kept whole.
    for cut in range(1, len(STREAM)):
        assert _split([STREAM[:cut], STREAM[cut:]]) == _expected(), cut


def test_random_chunks_and_single_bytes_give_the_same_packets() -> None:
    rnd = random.Random(7)
    for _ in range(50):
        chunks, position = [], 0
        while position < len(STREAM):
            size = rnd.choice((1, 2, 3, 7, 100, 4096, 32 * 1024))
            chunks.append(STREAM[position : position + size])
            position += size
        assert _split(chunks) == _expected()


def test_a_partial_packet_waits_for_the_rest() -> None:
    splitter = PacketSplitter()
    assert splitter.feed(PACKETS[0][:-1]) == []
    assert splitter.feed(PACKETS[0][-1:]) == _expected()[:1]


def test_a_remaining_length_of_five_bytes_is_malformed() -> None:
    with pytest.raises(MalformedPacket):
        PacketSplitter().feed(b"\x30\xff\xff\xff\xff\x01")
