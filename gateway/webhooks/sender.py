"""One webhook request: vetted target, signed body, no redirects, no proxies, bounded answer.

Every request resolves and vets its host first (``ssrf.py``). The connector's resolver then
hands aiohttp exactly the addresses vetted for that request, so the TCP connection goes
where the check looked, and nothing resolves the name a second time.

Why a resolver rather than an IP in the URL with a ``Host`` header and ``server_hostname``:
the URL keeps the registered host name, so aiohttp does SNI and verifies the certificate
against that name with no special case of ours, the ``Host`` header is the one the tenant
expects, and pooled connections are keyed by name and port like any other client's.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

import aiohttp
from aiohttp.abc import AbstractResolver

from .signing import headers
from .ssrf import Network, Target, UnsafeTarget, resolve_and_vet

if TYPE_CHECKING:
    from aiohttp.abc import ResolveResult

# We only want the status; the body is read so that a short answer leaves the connection
# reusable, and a receiver streaming without end cannot make us hold it.
MAX_ANSWER_BYTES = 64 * 1024

# The target vetted for the request this task is making. A context variable, not a dict on
# the resolver: concurrent deliveries (one task each) never see each other's pin, and a
# name resolves only while its own vetted request is under way.
_vetted: ContextVar[Target | None] = ContextVar("webhook_vetted_target", default=None)


@dataclass(frozen=True, slots=True)
class Attempt:
    status: int | None  # None: no HTTP answer (unsafe target, refused, timeout...)
    latency_s: float
    error: str | None = None
    retry_after_s: float | None = None


class _PinnedResolver(AbstractResolver):
    """Answers with the addresses the guard vetted for this request's host, and nothing else."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        target = _vetted.get()
        # aiohttp folds repeated trailing dots into one before resolving; compare without them.
        if target is None or (host.rstrip(".").lower(), port) != (
            target.host.rstrip("."),
            target.port,
        ):
            raise OSError(f"{host}:{port} was not vetted")
        results: list[ResolveResult] = []
        for address in target.addresses or (target.address,):
            found = socket.AF_INET6 if ":" in address else socket.AF_INET
            if family in (socket.AF_INET, socket.AF_INET6) and found != family:
                continue
            results.append(
                {
                    "hostname": host,
                    "host": address,
                    "port": port,
                    "family": found,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            )
        if not results:
            raise OSError(f"{host}:{port} has no vetted address of family {family!r}")
        return results

    async def close(self) -> None:
        pass


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or HTTP-date), if any."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # isdigit alone accepts '²', which float refuses
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # '-0000' parses as naive; HTTP dates are GMT, never local time
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


async def _read_capped(response: aiohttp.ClientResponse) -> None:
    """Read at most MAX_ANSWER_BYTES of the body and drop them."""
    got = 0
    try:
        while got < MAX_ANSWER_BYTES:
            chunk = await response.content.read(MAX_ANSWER_BYTES - got)
            if not chunk:
                return
            got += len(chunk)
    except (TimeoutError, aiohttp.ClientError):
        # The status line was the receiver's answer; a body that stalls or breaks changes
        # nothing about it. Unread bytes make aiohttp close the connection, not reuse it.
        pass


class WebhookSender:
    """Sends webhook requests over one HTTP client session; never raises for a delivery."""

    def __init__(
        self,
        *,
        allow_http_hosts: frozenset[str] = frozenset(),
        allow_networks: Sequence[Network] = (),
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.allow_http_hosts = allow_http_hosts
        self.allow_networks = tuple(allow_networks)
        # None: the system's trust store, host names verified. A context only for a private
        # CA (tests, a lab); it must keep verification on for the guard's reasoning to hold.
        self.ssl_context = ssl_context
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Made on first use: a session belongs to the running event loop.
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=_PinnedResolver(),
                use_dns_cache=False,
                limit=200,
                ssl=self.ssl_context if self.ssl_context is not None else True,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                # A proxy from the environment would take the request somewhere the guard
                # never looked (and .netrc credentials would go along).
                trust_env=False,
                # One session serves every tenant: a cookie one receiver sets must not ride
                # along to another tenant's endpoint on the same host.
                cookie_jar=aiohttp.DummyCookieJar(),
                # The body is dropped unread; inflating it would only let a small
                # compressed answer cost us a large buffer.
                auto_decompress=False,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def deliver(
        self,
        url: str,
        body: bytes,
        msg_id: str,
        secrets: Sequence[str],
        *,
        timeout_s: float = 10.0,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Attempt:
        """POST one signed body to ``url``; the outcome, whatever happened, as an Attempt."""
        started = time.perf_counter()
        try:
            target = await resolve_and_vet(
                url, allow_http_hosts=self.allow_http_hosts, allow_networks=self.allow_networks
            )
        except UnsafeTarget as error:
            return Attempt(None, time.perf_counter() - started, f"unsafe target: {error}")
        # Wall time, not the gateway's Clock: the receiver checks it against its own clock.
        signed = headers(msg_id, int(time.time()), body, secrets)
        if extra_headers:
            # The signature covers id, timestamp and body, never these: they may differ.
            signed.update(extra_headers)
        pin = _vetted.set(target)
        try:
            async with self._client().post(
                url,
                data=body,
                headers=signed,
                allow_redirects=False,  # a redirect could point anywhere, past the guard
                timeout=aiohttp.ClientTimeout(total=timeout_s),
            ) as response:
                status = response.status
                wait = retry_after(response.headers.get("Retry-After"), time.time())
                location = response.headers.get("Location", "?")
                await _read_capped(response)
        except TimeoutError:
            return Attempt(None, time.perf_counter() - started, "timeout")
        except (aiohttp.ClientError, OSError) as error:
            return Attempt(None, time.perf_counter() - started, f"{type(error).__name__}: {error}")
        finally:
            _vetted.reset(pin)
        failure = f"redirect to {location[:100]} not followed" if 300 <= status < 400 else None
        return Attempt(status, time.perf_counter() - started, failure, wait)
