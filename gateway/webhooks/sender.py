"""One webhook request: vetted target, signed body, no redirects, no proxies, bounded answer.

Every request resolves and vets its host first (``ssrf.py``); the connector's resolver then
hands aiohttp exactly that vetted address, so the TCP connection goes where the check
looked, while the URL keeps its host name for TLS (SNI and certificate verification
against the name the tenant registered).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver

from .signing import headers
from .ssrf import Network, UnsafeTarget, resolve_and_vet

_MAX_ANSWER = 64 * 1024


@dataclass(frozen=True, slots=True)
class Attempt:
    status: int | None  # None: no HTTP answer (unsafe target, refused, timeout...)
    latency_s: float
    error: str | None = None
    retry_after_s: float | None = None


class _PinnedResolver(AbstractResolver):
    """Answers with the address the guard vetted for this host, and nothing else."""

    def __init__(self) -> None:
        self.pinned: dict[tuple[str, int], str] = {}

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[dict[str, Any]]:
        address = self.pinned.get((host.lower(), port))
        if address is None:
            raise OSError(f"{host}:{port} was not vetted")
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        pass


def retry_after(value: str | None, now: float) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


class WebhookSender:
    def __init__(
        self,
        *,
        allow_http_hosts: frozenset[str] = frozenset(),
        allow_networks: Sequence[Network] = (),
    ) -> None:
        self.allow_http_hosts = allow_http_hosts
        self.allow_networks = tuple(allow_networks)
        self._resolver = _PinnedResolver()
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=self._resolver, use_dns_cache=False, limit=200
            )
            # trust_env=False: a proxy from the environment would take the request
            # somewhere the guard never looked.
            self._session = aiohttp.ClientSession(connector=connector, trust_env=False)
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
    ) -> Attempt:
        started = time.perf_counter()
        try:
            target = await resolve_and_vet(
                url, allow_http_hosts=self.allow_http_hosts, allow_networks=self.allow_networks
            )
        except UnsafeTarget as error:
            return Attempt(None, time.perf_counter() - started, f"unsafe target: {error}")
        self._resolver.pinned[(target.host, target.port)] = target.address
        signed = headers(msg_id, int(time.time()), body, secrets)
        try:
            async with self._client().post(
                url,
                data=body,
                headers=signed,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=timeout_s),
            ) as response:
                await response.content.read(_MAX_ANSWER)  # enough to keep the connection sane
                status = response.status
                wait = retry_after(response.headers.get("Retry-After"), time.time())
        except TimeoutError:
            return Attempt(None, time.perf_counter() - started, "timeout")
        except (aiohttp.ClientError, OSError) as error:
            return Attempt(None, time.perf_counter() - started, f"{type(error).__name__}: {error}")
        error = (
            f"redirect to {response.headers.get('Location', '?')[:100]}"
            if 300 <= status < 400
            else None
        )
        return Attempt(status, time.perf_counter() - started, error, wait)
