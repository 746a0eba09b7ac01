"""The authorization server's JWKS, fetched over HTTP and kept fresh for ``JwtVerifier``.

A thin adapter: one fetch at start, then a background task that fetches when the verifier
says the set is due (every ``jwks_refresh_s``, backing off after failures), and a fetch
on demand when a token names a key the set lacks (rate-limited by the verifier). A fetch
that fails keeps the keys already held until they expire; verification then answers 401.
"""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
import structlog

from ..clock import Clock
from .jwt_tokens import JwtVerifier, Rejected
from .tokens import Token

log = structlog.get_logger("otpgate.camara.jwks")

_MAX_WAIT_S = 5.0  # a clock moved forward (tests, simulate) is noticed within this


class JwksRefresher:
    def __init__(self, verifier: JwtVerifier, clock: Clock) -> None:
        self.verifier = verifier
        self.clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # concurrent unknown kids share one fetch
        self._due = asyncio.Event()

    async def start(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.verifier.config.fetch_timeout_s)
        self._session = aiohttp.ClientSession(timeout=timeout)
        await self.fetch()
        if not self.verifier.usable(self.clock.now()):
            # Client credentials still work; JWTs answer 401 until a fetch succeeds.
            log.warning("jwks_unavailable_at_start", error=self.verifier.last_error)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="jwks")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()

    async def verify(self, value: str) -> Token | Rejected:
        """Verify a JWT; a key the set lacks fetches the set once (if allowed) and tries again."""
        verifier, now = self.verifier, self.clock.now()
        if now >= verifier.next_fetch_at():
            self._due.set()
        result = verifier.verify(value, now)
        if isinstance(result, Rejected) and result.unknown_kid and verifier.fetch_for_kid(now):
            await self.fetch()
            result = verifier.verify(value, self.clock.now())
        return result

    async def fetch(self) -> None:
        async with self._lock:
            await self._fetch()

    async def _fetch(self) -> None:
        assert self._session is not None
        url = self.verifier.config.jwks_url
        try:
            async with self._session.get(url, headers={"Accept": "application/json"}) as answer:
                if answer.status != 200:
                    raise ValueError(f"HTTP {answer.status}")
                document = await answer.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            message = str(error) or type(error).__name__
            self.verifier.failed(message, self.clock.now())
            log.warning("jwks_fetch_failed", url=url, error=message)
            return
        problem = self.verifier.load(document, self.clock.now())
        if problem is not None:
            log.warning("jwks_fetch_failed", url=url, error=problem)
        else:
            log.info("jwks_fetched", url=url, keys=self.verifier.health(self.clock.now())["keys"])

    async def _run(self) -> None:
        while True:
            wait_s = self.verifier.next_fetch_at() - self.clock.now()
            if wait_s > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._due.wait(), min(wait_s, _MAX_WAIT_S))
            self._due.clear()
            if self.clock.now() >= self.verifier.next_fetch_at():
                await self.fetch()
