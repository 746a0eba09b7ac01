"""WebhookSender against a real aiohttp receiver on 127.0.0.1 that verifies every request
with the ``standardwebhooks`` library: statuses, redirects, huge answers, Retry-After,
proxies from the environment, the SSRF guard, timeouts, the pinned address and TLS."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
import tracemalloc
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from gateway.webhooks.sender import MAX_ANSWER_BYTES, WebhookSender
from gateway.webhooks.signing import new_secret

pytestmark = pytest.mark.asyncio

WAIT_S = 10.0
SECRET = new_secret()
BODY = b'{"specversion":"1.0","type":"otp.held","id":"evt_1","data":{"hold":"h_1"}}'
LOCAL = (ipaddress.ip_network("127.0.0.1/32"),)
HUGE_BYTES = 50 * 1024 * 1024


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool


class Receiver:
    """The tenant's endpoint: verifies, records, and answers per path."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.release = asyncio.Event()  # lets /slow answer at last
        self.huge_done = asyncio.Event()
        self.huge_written = 0
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def record(self, request: web.Request) -> None:
        body = await request.read()
        try:
            Webhook(SECRET).verify(body, dict(request.headers))
            verified = True
        except WebhookVerificationError:
            verified = False
        self.received.append(Received(request.path, dict(request.headers), body, verified))

    async def hook(self, request: web.Request) -> web.Response:
        await self.record(request)
        return web.Response(status=200 if self.received[-1].verified else 401)

    async def fail(self, request: web.Request) -> web.Response:
        await self.record(request)
        return web.Response(status=500, text="boom")

    async def redirect(self, request: web.Request) -> web.Response:
        await self.record(request)
        status = int(request.query["status"])
        return web.Response(status=status, headers={"Location": "/target"})

    async def busy(self, request: web.Request) -> web.Response:
        await self.record(request)
        return web.Response(status=503, headers={"Retry-After": request.query["after"]})

    async def slow(self, request: web.Request) -> web.Response:
        await self.record(request)
        await self.release.wait()
        return web.Response(status=200)

    async def huge(self, request: web.Request) -> web.StreamResponse:
        await self.record(request)
        response = web.StreamResponse(status=200)
        response.content_length = HUGE_BYTES
        await response.prepare(request)
        chunk = b"x" * 65536
        try:
            while self.huge_written < HUGE_BYTES:
                await response.write(chunk)
                self.huge_written += len(chunk)
        except ConnectionError:
            pass  # the client hung up: what this test hopes for
        finally:
            self.huge_done.set()
        return response

    async def start(self, ssl_context: ssl.SSLContext | None = None) -> None:
        app = web.Application()
        app.router.add_post("/hook", self.hook)
        app.router.add_post("/target", self.hook)
        app.router.add_post("/fail", self.fail)
        app.router.add_post("/redirect", self.redirect)
        app.router.add_post("/busy", self.busy)
        app.router.add_post("/slow", self.slow)
        app.router.add_post("/huge", self.huge)
        self.runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0, ssl_context=ssl_context)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        self.release.set()
        if self.runner is not None:
            await self.runner.cleanup()

    def url(self, path: str, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [r.path for r in self.received]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


@pytest.fixture
async def sender() -> AsyncIterator[WebhookSender]:
    sender = WebhookSender(allow_http_hosts=frozenset({"127.0.0.1"}), allow_networks=LOCAL)
    try:
        yield sender
    finally:
        await sender.close()


class Dns:
    """Answers made-up names on the running loop, counts the questions, passes on the rest."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.loop = asyncio.get_running_loop()
        self.real = self.loop.getaddrinfo
        self.answers: dict[str, str] = {}
        self.asked: list[str] = []
        monkeypatch.setattr(self.loop, "getaddrinfo", self.getaddrinfo)

    async def getaddrinfo(self, host, port, **kwargs):  # type: ignore[no-untyped-def]
        if host not in self.answers:
            return await self.real(host, port, **kwargs)
        self.asked.append(host)
        return await self.real(self.answers[host], port, **kwargs)


async def test_a_delivery_arrives_signed_and_verifies(receiver, sender) -> None:
    attempt = await sender.deliver(receiver.url("/hook"), BODY, "evt_1", [SECRET])
    assert (attempt.status, attempt.error, attempt.retry_after_s) == (200, None, None)
    assert attempt.latency_s > 0
    [got] = receiver.received
    assert got.verified
    assert got.body == BODY
    assert got.headers["webhook-id"] == "evt_1"
    assert got.headers["Content-Type"] == "application/json"


async def test_during_a_rotation_a_receiver_with_the_old_secret_verifies(receiver, sender) -> None:
    attempt = await sender.deliver(receiver.url("/hook"), BODY, "evt_1", [new_secret(), SECRET])
    assert attempt.status == 200
    assert receiver.received[0].verified


async def test_a_500_is_reported_as_500(receiver, sender) -> None:
    attempt = await sender.deliver(receiver.url("/fail"), BODY, "evt_1", [SECRET])
    assert (attempt.status, attempt.error) == (500, None)
    assert receiver.paths() == ["/fail"]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_is_a_failure_and_is_not_followed(receiver, sender, status) -> None:
    attempt = await sender.deliver(
        receiver.url(f"/redirect?status={status}"), BODY, "evt_1", [SECRET]
    )
    assert attempt.status == status
    assert attempt.error == "redirect to /target not followed"
    assert receiver.paths() == ["/redirect"]  # /target received nothing


async def test_a_huge_answer_is_not_read_to_its_end(receiver, sender) -> None:
    tracemalloc.start()
    try:
        attempt = await sender.deliver(receiver.url("/huge"), BODY, "evt_1", [SECRET])
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (attempt.status, attempt.error) == (200, None)
    await asyncio.wait_for(receiver.huge_done.wait(), WAIT_S)
    # The sender hung up after its cap: the receiver could not push 50 MB (only what
    # the sockets' buffers held), and this process never held more than a few buffers.
    assert receiver.huge_written < HUGE_BYTES // 2
    assert peak_bytes < 8 * 1024 * 1024
    assert MAX_ANSWER_BYTES == 64 * 1024


async def test_retry_after_in_seconds(receiver, sender) -> None:
    attempt = await sender.deliver(receiver.url("/busy?after=7"), BODY, "evt_1", [SECRET])
    assert (attempt.status, attempt.retry_after_s) == (503, 7.0)


async def test_retry_after_as_an_http_date(receiver, sender) -> None:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    after = format_datetime(when, usegmt=True).replace(" ", "%20")
    attempt = await sender.deliver(receiver.url(f"/busy?after={after}"), BODY, "evt_1", [SECRET])
    assert attempt.status == 503
    assert attempt.retry_after_s is not None
    assert 20 < attempt.retry_after_s <= 31


async def test_proxies_from_the_environment_are_ignored(receiver, sender, monkeypatch) -> None:
    connections: list[str] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append("proxy")  # a proxy honoured would see the request here, and fail it
        writer.close()

    server = await asyncio.start_server(proxy, "127.0.0.1", 0)
    proxy_url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, proxy_url)
    for name in ("NO_PROXY", "no_proxy"):  # else 127.0.0.1 may be exempt, proving nothing
        monkeypatch.delenv(name, raising=False)
    try:
        attempt = await sender.deliver(receiver.url("/hook"), BODY, "evt_1", [SECRET])
    finally:
        server.close()
        await server.wait_closed()
    assert (attempt.status, attempt.error) == (200, None)
    assert connections == []
    assert receiver.paths() == ["/hook"]


async def test_a_host_resolving_to_loopback_is_refused_without_the_allow_list(receiver) -> None:
    sender = WebhookSender(allow_http_hosts=frozenset({"localhost"}))
    try:
        attempt = await sender.deliver(receiver.url("/hook", "localhost"), BODY, "evt_1", [SECRET])
    finally:
        await sender.close()
    assert attempt.status is None
    assert attempt.error is not None
    assert attempt.error.startswith("unsafe target: ")
    assert "loopback" in attempt.error
    assert receiver.received == []


async def test_an_unsafe_literal_is_refused_before_any_connection(receiver) -> None:
    sender = WebhookSender(allow_http_hosts=frozenset({"127.0.0.1"}))  # http, but no network
    try:
        attempt = await sender.deliver(receiver.url("/hook"), BODY, "evt_1", [SECRET])
    finally:
        await sender.close()
    assert (attempt.status, attempt.error) == (
        None,
        "unsafe target: 127.0.0.1 is a loopback address",
    )
    assert receiver.received == []


async def test_a_receiver_too_slow_is_a_timeout(receiver, sender) -> None:
    attempt = await sender.deliver(receiver.url("/slow"), BODY, "evt_1", [SECRET], timeout_s=0.5)
    assert (attempt.status, attempt.error) == (None, "timeout")
    assert receiver.paths() == ["/slow"]


async def test_nobody_listening_is_an_error_not_an_exception(sender) -> None:
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    attempt = await sender.deliver(f"http://127.0.0.1:{port}/hook", BODY, "evt_1", [SECRET])
    assert attempt.status is None
    assert attempt.error is not None
    assert attempt.error.startswith("ClientConnectorError")


async def test_the_connection_goes_to_the_vetted_address_resolved_once(
    receiver, monkeypatch
) -> None:
    dns = Dns(monkeypatch)
    dns.answers["receiver.test"] = "127.0.0.1"
    sender = WebhookSender(allow_http_hosts=frozenset({"receiver.test"}), allow_networks=LOCAL)
    try:
        for _ in range(2):
            attempt = await sender.deliver(
                receiver.url("/hook", "receiver.test"), BODY, "evt_1", [SECRET]
            )
            assert (attempt.status, attempt.error) == (200, None)
    finally:
        await sender.close()
    # One question per delivery, the guard's: aiohttp's own resolver would have asked again.
    assert dns.asked == ["receiver.test", "receiver.test"]
    assert [r.headers["Host"] for r in receiver.received] == [f"receiver.test:{receiver.port}"] * 2


def certificate_for(directory: Path, name: str) -> tuple[Path, Path, bytes]:
    """A CA and a server certificate for ``name``: (cert file, key file, CA PEM)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "otpgate webhook test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = directory / f"{name}.pem", directory / f"{name}.key"
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file, ca.public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize(
    ("served_name", "verifies"), [("receiver.test", True), ("other.test", False)]
)
async def test_https_verifies_the_certificate_against_the_url_s_name(
    tmp_path, monkeypatch, served_name, verifies
) -> None:
    # The connection is pinned to 127.0.0.1, yet TLS still checks the name in the URL.
    cert_file, key_file, ca_pem = certificate_for(tmp_path, served_name)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_file, key_file)
    receiver = Receiver()
    await receiver.start(server_tls)
    dns = Dns(monkeypatch)
    dns.answers["receiver.test"] = "127.0.0.1"
    sender = WebhookSender(
        allow_networks=LOCAL, ssl_context=ssl.create_default_context(cadata=ca_pem.decode())
    )
    try:
        url = receiver.url("/hook", "receiver.test", scheme="https")
        attempt = await sender.deliver(url, BODY, "evt_1", [SECRET])
    finally:
        await sender.close()
        await receiver.stop()
    if verifies:
        assert (attempt.status, attempt.error) == (200, None)
        assert receiver.received[0].verified
    else:
        assert attempt.status is None
        assert attempt.error is not None
        assert "certificate" in attempt.error.lower()
        assert receiver.received == []
