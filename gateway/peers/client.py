"""One peer's CAMARA API over HTTP: an OAuth2 client-credentials token kept fresh, and the
two questions (SIM Swap ``retrieve-date``, unconditional call forwarding).

One ``aiohttp.ClientSession`` per peer (its connection pool stays warm). The token is
fetched at start and refreshed in the background before it expires, so a decision waits on
a token only when none is valid (the first seconds, or after the peer refused it). Errors
of the socket, HTTP and JSON layers become ``PeerError`` here, once, with a short reason.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any
from urllib.parse import quote_plus

import aiohttp
import structlog

from policies.engine import CALL_FORWARDING, SIM_SWAP

from ..clock import Clock
from .answers import BadAnswer, PeerFacts, latest_sim_change, unconditional_active
from .config import PeerConfig
from .stats import PeerStats

log = structlog.get_logger("otpgate.peers")

# Refresh when this share of the token's life is left, but at least a minute before it
# ends: a token of an hour is renewed after 59 minutes, one of 10 s after 7.5 s.
_REFRESH_SHARE = 0.25
_REFRESH_MARGIN_S = 60.0
_RETRY_MIN_S = 0.5
_RETRY_MAX_S = 30.0
# The refresher re-reads the clock at least this often instead of trusting one long sleep:
# the wall clock steps (NTP, a suspended VM) and, in tests and ``simulate``, is moved.
_RECHECK_S = 1.0


class PeerError(Exception):
    """The peer did not answer usefully; ``reason`` names why (a metric label)."""

    def __init__(self, reason: str, *, counts_against_peer: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        # A refusal about one number (403, 404, 422) says nothing of the peer's health.
        self.counts_against_peer = counts_against_peer


def refresh_after_s(expires_in_s: float) -> float:
    """When to fetch the next token, counted from the moment this one was issued."""
    return max(expires_in_s * (1 - _REFRESH_SHARE), expires_in_s - _REFRESH_MARGIN_S)


class PeerClient:
    def __init__(self, config: PeerConfig, stats: PeerStats, clock: Clock) -> None:
        self.config = config
        self.stats = stats
        self.clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._token: str | None = None
        self._expires_at = 0.0  # the gateway's clock, as every other deadline
        self._refresh_at = 0.0
        self._fetching: asyncio.Future[str] | None = None
        self._refresher: asyncio.Task[None] | None = None
        self.last_error: str | None = None
        # RFC 6749 2.3.1: id and secret form-encoded, then HTTP Basic.
        pair = f"{quote_plus(config.client_id)}:{quote_plus(config.client_secret)}"
        self._basic = "Basic " + base64.b64encode(pair.encode()).decode("ascii")

    @property
    def token_valid_s(self) -> float:
        """Seconds the current token has left (0 without one)."""
        if self._token is None:
            return 0.0
        return max(0.0, self._expires_at - self.clock.now())

    def start(self) -> None:
        # No total timeout here: the caller's budget bounds each pull.
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100, keepalive_timeout=30),
            headers={"Accept": "application/json"},
        )
        self._refresher = asyncio.get_running_loop().create_task(
            self._keep_fresh(), name=f"peer-token-{self.config.name}"
        )

    async def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
        if self._session is not None:
            await self._session.close()

    async def ask(self, msisdn: str, kinds: frozenset[str]) -> PeerFacts:
        """The peer's facts about ``msisdn`` for ``kinds``, both questions at once."""
        token = await self._bearer()
        config = self.config
        swap = forwarding = None
        if SIM_SWAP in kinds:
            swap = self._post(f"{config.sim_swap_url}/retrieve-date", msisdn, token)
        if CALL_FORWARDING in kinds:
            forwarding = self._post(
                f"{config.call_forwarding_url}/unconditional-call-forwardings", msisdn, token
            )
        answers = await asyncio.gather(*(c for c in (swap, forwarding) if c is not None))
        try:
            changed_at = latest_sim_change(answers[0]) if swap is not None else None
            active = unconditional_active(answers[-1]) if forwarding is not None else False
        except BadAnswer as error:
            raise PeerError("bad_answer") from error
        return PeerFacts(changed_at, active)

    async def _post(self, url: str, msisdn: str, token: str) -> Any:
        assert self._session is not None
        try:
            async with self._session.post(
                url,
                json={"phoneNumber": msisdn},
                headers={"Authorization": f"Bearer {token}"},
            ) as response:
                body = await response.read()
                status = response.status
        except aiohttp.ClientError as error:
            raise PeerError("unreachable") from error
        if status == 401:
            # Revoked, or the peer restarted: the next pull fetches a new token.
            if self._token == token:
                self._token = None
            raise PeerError("unauthorized")
        if status != 200:
            raise PeerError(f"http_{status}", counts_against_peer=status >= 500 or status == 429)
        try:
            return json.loads(body)
        except ValueError as error:
            raise PeerError("bad_answer") from error

    async def _bearer(self) -> str:
        if self._token is not None and self.clock.now() < self._expires_at:
            return self._token
        return await asyncio.shield(self._fetch_once())

    def _fetch_once(self) -> asyncio.Future[str]:
        """One token request at a time, shared by every pull that waits for it."""
        if self._fetching is None or self._fetching.done():
            self._fetching = asyncio.ensure_future(self._fetch())
        return self._fetching

    async def _fetch(self) -> str:
        assert self._session is not None
        config = self.config
        asked_at = self.clock.now()
        try:
            async with self._session.post(
                config.token_url,
                data={"grant_type": "client_credentials", "scope": " ".join(config.scopes)},
                headers={"Authorization": self._basic},
            ) as response:
                status = response.status
                body = await response.read()
        except aiohttp.ClientError as error:
            self._token_failed("unreachable")
            raise PeerError("token_unreachable") from error
        try:
            answer = json.loads(body) if status == 200 else {}
            token = answer["access_token"]
            expires_in = float(answer.get("expires_in", 3600))
            if not isinstance(token, str) or not token or expires_in <= 0:
                raise ValueError("no usable token")
        except (ValueError, KeyError, TypeError) as error:
            self._token_failed(f"http_{status}" if status != 200 else "bad_answer")
            raise PeerError("token_refused") from error
        self._token = token
        self._expires_at = asked_at + expires_in
        self._refresh_at = asked_at + refresh_after_s(expires_in)
        self.stats.token_fetches[(config.name, "ok")] += 1
        self.last_error = None
        return token

    def _token_failed(self, why: str) -> None:
        self.stats.token_fetches[(self.config.name, "failed")] += 1
        self.last_error = f"token: {why}"
        log.warning("peer_token_failed", peer=self.config.name, reason=why)

    async def _keep_fresh(self) -> None:
        """Fetch a token now, then again before each one expires; retry with a growing pause."""
        pause = _RETRY_MIN_S
        while True:
            try:
                await self._fetch_once()
            except PeerError:
                await asyncio.sleep(pause)
                pause = min(_RETRY_MAX_S, pause * 2)
                continue
            except Exception:  # never let the refresher die silently
                log.exception("peer_token_refresher_failed", peer=self.config.name)
                await asyncio.sleep(pause)
                continue
            pause = _RETRY_MIN_S
            # A token dropped on a 401 is fetched again at once, not at its refresh point.
            while (left := self._refresh_at - self.clock.now()) > 0 and self._token is not None:
                await asyncio.sleep(min(left, _RECHECK_S))
