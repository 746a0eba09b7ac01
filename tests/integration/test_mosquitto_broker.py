"""The broker otpgate ships for: queues for an absent gateway, keeps them across a restart,
and lets feeds write signals and only the gateway read them (deploy/mosquitto.conf, .acl).

Every test runs a real mosquitto through the fixtures in conftest.py; the ``mosquitto_acl``
broker runs the shipped files themselves.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import os
import ssl
from dataclasses import replace
from pathlib import Path

import aiomqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gateway.config import MqttConfig, SignalsConfig

from .harness import gateway_config, route, running_gateway, running_simulator, until
from .mosquitto import INTRUDER, SHIPPED_CONFIG, MosquittoBroker, read_settings

pytestmark = pytest.mark.asyncio

SIM_SWAP = "otpgate/signals/sim_swap"
ALL_SIGNALS = "otpgate/signals/#"
REJECTED = "otpgate/signals/rejected"
GATEWAY_ID = "otpgate-test-node"  # fixed, as the gateway's client_id: the broker keeps its session
WAIT_S = 5.0
# How long "nothing arrives" is watched once the broker has provably routed the message.
QUIET_S = 0.5
# An MQTT 3.1.1 CONNECT, clean session, keepalive 60 s, client id "x".
PLAIN_CONNECT = bytes.fromhex("100d") + b"\x00\x04MQTT\x04\x02\x00\x3c\x00\x01x"


def client(broker: MosquittoBroker, user: str | None = None, **options: object) -> aiomqtt.Client:
    """An MQTT 3.1.1 client of ``broker``, as ``user`` with that user's test password."""
    password = broker.users[user] if user is not None and user in broker.users else None
    return aiomqtt.Client(
        broker.host, broker.port, username=user, password=password, timeout=WAIT_S, **options
    )


def gateway_session(broker: MosquittoBroker, user: str | None = None) -> aiomqtt.Client:
    """The session the gateway's MQTT feed opens: fixed id, clean_session false."""
    return client(broker, user, identifier=GATEWAY_ID, clean_session=False)


async def next_message(subscriber: aiomqtt.Client, timeout_s: float = WAIT_S) -> aiomqtt.Message:
    async with asyncio.timeout(timeout_s):
        return await anext(aiter(subscriber.messages))


async def test_a_qos1_signal_waits_for_the_gateway_session(mosquitto_acl: MosquittoBroker) -> None:
    async with gateway_session(mosquitto_acl, "otpgate") as gateway:
        await gateway.subscribe(ALL_SIGNALS, qos=1)
    # The gateway is away: what a feed publishes now must be queued for its session.
    async with client(mosquitto_acl, "feed-hlr") as feed:
        await feed.publish(SIM_SWAP, b"qos0, not queued", qos=0)
        await feed.publish(SIM_SWAP, b"while away", qos=1)
    async with gateway_session(mosquitto_acl, "otpgate") as gateway:
        message = await next_message(gateway)
    # First and only: the QoS 0 publish before it was not queued (queue_qos0_messages false).
    assert (message.topic.value, message.payload, message.qos) == (SIM_SWAP, b"while away", 1)


async def test_a_clean_session_gets_nothing_queued(mosquitto: MosquittoBroker) -> None:
    # The contrast to the test above: without a persistent session there is no queue, which
    # is why the gateway must never connect with clean_session true.
    async with client(mosquitto, identifier="clean", clean_session=True) as subscriber:
        await subscriber.subscribe(SIM_SWAP, qos=1)
    async with client(mosquitto) as feed:
        await feed.publish(SIM_SWAP, b"lost", qos=1)
    async with client(mosquitto, identifier="clean", clean_session=True) as subscriber:
        await subscriber.subscribe(SIM_SWAP, qos=1)
        async with client(mosquitto) as feed:
            await feed.publish(SIM_SWAP, b"live", qos=1)
        message = await next_message(subscriber)
    assert message.payload == b"live"


async def test_a_feed_publishes_and_the_gateway_receives(mosquitto_acl: MosquittoBroker) -> None:
    async with client(mosquitto_acl, "otpgate") as gateway:
        await gateway.subscribe(ALL_SIGNALS, qos=1)
        for feed_user in ("feed-hlr", "feed-firewall"):
            async with client(mosquitto_acl, feed_user) as feed:
                await feed.publish(SIM_SWAP, feed_user.encode(), qos=1)
            message = await next_message(gateway)
            assert (message.topic.value, message.payload) == (SIM_SWAP, feed_user.encode())


@pytest.mark.parametrize(
    ("publisher", "topic"),
    [
        (INTRUDER, SIM_SWAP),  # authenticated, but not in the ACL
        ("otpgate", SIM_SWAP),  # the gateway may not forge signals
        ("feed-hlr", REJECTED),  # a feed may not forge the gateway's rejections
    ],
)
async def test_an_unauthorised_publish_never_reaches_the_gateway(
    mosquitto_acl: MosquittoBroker, publisher: str, topic: str
) -> None:
    async with client(mosquitto_acl, "otpgate") as gateway:
        await gateway.subscribe(ALL_SIGNALS, qos=1)
        # MQTT 3.1.1 has no way to refuse a publish: mosquitto acknowledges it and drops it.
        async with client(mosquitto_acl, publisher) as forger:
            await forger.publish(topic, b"forged", qos=1)
        # Once the forged PUBACK is back the broker has dealt with it; a publish allowed
        # right after would arrive second if the forged one had been let through.
        async with client(mosquitto_acl, "feed-firewall") as feed:
            await feed.publish(SIM_SWAP, b"genuine", qos=1)
        message = await next_message(gateway)
    assert message.payload == b"genuine"


async def test_a_feed_cannot_read_signals(mosquitto_acl: MosquittoBroker) -> None:
    async with (
        client(mosquitto_acl, "feed-hlr") as snooper,
        client(mosquitto_acl, "otpgate") as gateway,
    ):
        # mosquitto 2.0 grants the subscription and filters at delivery, so the proof is
        # that nothing is delivered, not the SUBACK.
        await snooper.subscribe(ALL_SIGNALS, qos=1)
        await gateway.subscribe(ALL_SIGNALS, qos=1)
        async with client(mosquitto_acl, "feed-firewall") as feed:
            await feed.publish(SIM_SWAP, b"not for feeds", qos=1)
        assert (await next_message(gateway)).payload == b"not for feeds"
        # The broker routed it to every subscriber in the same pass; the snooper's copy, had
        # there been one, would be on the wire by now.
        with pytest.raises(TimeoutError):
            await next_message(snooper, QUIET_S)


@pytest.mark.parametrize(
    ("username", "password"),
    [("otpgate", "wrong password"), ("nobody", "any password"), (None, None)],
    ids=["wrong-password", "unknown-user", "anonymous"],
)
async def test_a_bad_login_is_refused(
    mosquitto_acl: MosquittoBroker, username: str | None, password: str | None
) -> None:
    refused = aiomqtt.Client(
        mosquitto_acl.host, mosquitto_acl.port, username=username, password=password, timeout=WAIT_S
    )
    with pytest.raises(aiomqtt.MqttCodeError) as error:
        async with refused:
            pass
    assert "not authori" in str(error.value).lower()


async def test_a_broker_restart_keeps_the_queued_signal(mosquitto: MosquittoBroker) -> None:
    async with gateway_session(mosquitto) as gateway:
        await gateway.subscribe(SIM_SWAP, qos=1)
    async with client(mosquitto) as feed:
        await feed.publish(SIM_SWAP, b"queued before the restart", qos=1)
    port = mosquitto.port
    # Blocking, but nothing else runs on this loop; with a gateway under test, use to_thread.
    await asyncio.to_thread(mosquitto.restart)
    assert mosquitto.port == port
    async with gateway_session(mosquitto) as gateway:
        message = await next_message(gateway)
    assert message.payload == b"queued before the restart"


async def test_a_killed_broker_comes_back_on_its_port(mosquitto: MosquittoBroker) -> None:
    first = mosquitto.process
    await asyncio.to_thread(mosquitto.kill)
    assert not mosquitto.running
    with pytest.raises(aiomqtt.MqttError):
        async with client(mosquitto):
            pass
    await asyncio.to_thread(mosquitto.start)
    assert mosquitto.running and mosquitto.process is not first
    async with client(mosquitto) as subscriber:
        await subscriber.subscribe(SIM_SWAP, qos=1)
        await subscriber.publish(SIM_SWAP, b"back", qos=1)
        assert (await next_message(subscriber)).payload == b"back"


def write_certificates(directory: Path) -> dict[str, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it, as PEM files."""
    now = datetime.datetime.now(datetime.UTC)

    def issue(
        subject: str,
        key: ec.EllipticCurvePrivateKey,
        issuer: x509.Name,
        issuer_key: ec.EllipticCurvePrivateKey,
        ca: bool,
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
            builder = builder.add_extension(san, critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "otpgate test CA")])
    ca = issue("otpgate test CA", ca_key, ca_name, ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = issue("127.0.0.1", server_key, ca_name, ca_key, ca=False)
    paths = {name: directory / f"{name}.pem" for name in ("ca", "server", "server-key")}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["server"].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths["server-key"].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


async def serve_the_shipped_config(mosquitto_acl: MosquittoBroker) -> dict[str, Path]:
    """Restart the broker on the whole shipped file, TLS included; its certificates' paths."""
    # The fixture leaves out the shipped listener and TLS lines; here the whole file runs,
    # with only its host paths and port pointed at this test's files.
    await asyncio.to_thread(mosquitto_acl.stop)
    certificates = write_certificates(mosquitto_acl.directory)
    replacements = {
        "listener": f"{mosquitto_acl.port} {mosquitto_acl.host}",
        "certfile": str(certificates["server"]),
        "keyfile": str(certificates["server-key"]),
        "cafile": str(certificates["ca"]),
        "password_file": str(mosquitto_acl.password_path),
        "acl_file": str(mosquitto_acl.acl_file),
        "persistence_location": str(mosquitto_acl.persistence_path),
    }
    lines = [
        f"{key} {replacements.get(key, value)}" for key, value in read_settings(SHIPPED_CONFIG)
    ]
    # A host path this test does not know about would silently use the machine's own file.
    leftover = [line for line in lines if "/etc/" in line or "/var/" in line]
    assert not leftover, f"new host paths in {SHIPPED_CONFIG}: {leftover}"
    if os.geteuid() == 0:
        lines.append("user root")  # see MosquittoBroker: stay able to write tmp_path
    mosquitto_acl.config_path.write_text("\n".join(lines) + "\n")
    await asyncio.to_thread(mosquitto_acl.start)
    return certificates


async def test_the_shipped_config_as_is_serves_tls(mosquitto_acl: MosquittoBroker) -> None:
    certificates = await serve_the_shipped_config(mosquitto_acl)
    tls = ssl.create_default_context(cafile=certificates["ca"])
    async with client(mosquitto_acl, "otpgate", tls_context=tls) as gateway:
        await gateway.subscribe(ALL_SIGNALS, qos=1)
        async with client(mosquitto_acl, "feed-hlr", tls_context=tls) as feed:
            await feed.publish(SIM_SWAP, b"over tls", qos=1)
        assert (await next_message(gateway)).payload == b"over tls"
    # No plain-text way in, where a password would cross the network in clear: a plain
    # CONNECT gets the connection closed, never a CONNACK. (Raw bytes rather than aiomqtt,
    # which notices the close only at its own timeout.)
    reader, writer = await asyncio.open_connection(mosquitto_acl.host, mosquitto_acl.port)
    writer.write(PLAIN_CONNECT)
    async with asyncio.timeout(WAIT_S):
        try:
            answer = await reader.read(4)
        except ConnectionResetError:
            answer = b""
    writer.close()
    assert answer == b""


async def test_the_gateway_takes_a_burst_of_signals_over_tls(
    tmp_path: Path, mosquitto_acl: MosquittoBroker
) -> None:
    """The gateway's feed over the shipped TLS listener, reading in chunks: a burst of 600
    signals (~100 KiB, many TLS records) arrives whole and reaches the index."""
    certificates = await serve_the_shipped_config(mosquitto_acl)
    mqtt = MqttConfig(
        host=mosquitto_acl.host,
        port=mosquitto_acl.port,
        client_id=GATEWAY_ID,
        username="otpgate",
        password=mosquitto_acl.users["otpgate"],
        tls=True,
        ca_file=str(certificates["ca"]),
        reconnect_min_s=0.1,
        reconnect_max_s=0.5,
    )
    numbers = [f"+4474009{i:05d}" for i in range(600)]
    occurred = datetime.datetime.now(datetime.UTC).isoformat()
    async with running_simulator() as sim:
        base = gateway_config(tmp_path, (route("main", sim.port),))
        async with running_gateway(replace(base, signals=SignalsConfig(mqtt=mqtt))) as gateway:
            assert await until(lambda: gateway.feed_health.mqtt_connected)
            tls = ssl.create_default_context(cafile=certificates["ca"])
            async with client(mosquitto_acl, "feed-hlr", tls_context=tls) as feed:
                await asyncio.gather(
                    *(
                        feed.publish(
                            SIM_SWAP,
                            json.dumps({"msisdn": n, "occurred_at": occurred, "source": "x" * 100}),
                            qos=1,
                        )
                        for n in numbers
                    )
                )
            counters = gateway.feed_health.counters("mqtt")
            assert await until(lambda: counters.accepted == len(numbers), timeout_s=20)
            now = gateway.clock.now()
            assert all(gateway.risk_index.facts(n, now).sim_swap_age_s is not None for n in numbers)
