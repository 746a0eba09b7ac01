"""A decision's pull from a peer: within the peer's budget, past its breaker and rate limit,
one request per number in flight, the answer cached, counted, audited and told as risk.

The submit that needs the answer waits for it (never longer than the budget); other
messages go on meanwhile, since nothing here blocks the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from time import perf_counter
from typing import TYPE_CHECKING

import structlog

from ..clock import Clock
from ..logs import pseudonym
from ..token_bucket import TokenBucket
from .answers import PeerFacts, describe
from .breaker import OPEN, Breaker
from .client import PeerClient, PeerError
from .lookup import Lookup, PeerLookups, PullFailure

if TYPE_CHECKING:
    from ..audit import DecisionAudit
    from ..signals.ingest import RiskChange

log = structlog.get_logger("otpgate.peers")

# Numbers whose SIM change or forwarding a risk event already told; forgotten past this many.
_REPORTED_MAX = 100_000


class PeerPuller:
    def __init__(
        self,
        lookups: PeerLookups,
        clock: Clock,
        *,
        audit: DecisionAudit | None = None,
        on_risk: Callable[[list[RiskChange]], None] | None = None,
    ) -> None:
        self.lookups = lookups
        self.stats = lookups.stats
        self.clock = clock
        self.audit = audit
        self.on_risk = on_risk
        self.clients = {name: PeerClient(c, self.stats, clock) for name, c in lookups.peers.items()}
        self.breakers = {
            name: Breaker(c.breaker_failures, c.breaker_open_s) for name, c in lookups.peers.items()
        }
        self.buckets = {
            name: TokenBucket(c.rate_per_s, c.burst) for name, c in lookups.peers.items()
        }
        self._in_flight: dict[
            tuple[str, frozenset[str]], asyncio.Future[PeerFacts | PullFailure]
        ] = {}
        self._reported: dict[tuple[int, str], object] = {}

    def start(self) -> None:
        for client in self.clients.values():
            client.start()

    async def stop(self) -> None:
        for client in self.clients.values():
            await client.close()

    def breaker_state(self, peer: str) -> str:
        return self.breakers[peer].state(asyncio.get_running_loop().time())

    def health(self) -> dict[str, dict[str, object]]:
        """Each peer's state for /readyz, /v1/peers and the console: breaker, token, calls,
        failures by reason, cache hits, mean latency. Counts and names only: never a number
        or a token."""
        stats = self.stats
        report: dict[str, dict[str, object]] = {}
        for name, client in self.clients.items():
            latency = stats.latency[name]
            answered = sum(latency.counts)
            report[name] = {
                "breaker": self.breaker_state(name),
                "token_valid_s": round(client.token_valid_s, 1),
                "token_fetches_ok": stats.token_fetches[(name, "ok")],
                "token_fetches_failed": stats.token_fetches[(name, "failed")],
                "last_error": client.last_error,
                "calls_ok": stats.calls[(name, "ok")],
                "calls_failed": stats.calls[(name, "failed")],
                "failures": {r: n for (p, r), n in sorted(stats.failures.items()) if p == name},
                "cache_hits": stats.cache_hits[name],
                "latency_mean_ms": round(latency.total / answered * 1000, 1) if answered else None,
            }
        return report

    async def pull(self, lookup: Lookup) -> PeerFacts | PullFailure:
        """The peer's facts for the lookup, or why there are none; never raises."""
        key = (lookup.msisdn, lookup.kinds)
        shared = self._in_flight.get(key)
        if shared is not None:
            self.stats.shared[lookup.peer] += 1
            return await asyncio.shield(shared)
        future: asyncio.Future[PeerFacts | PullFailure] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            answer = await self._pull(lookup)
        finally:
            del self._in_flight[key]
        future.set_result(answer)
        return answer

    async def _pull(self, lookup: Lookup) -> PeerFacts | PullFailure:
        peer = lookup.peer
        loop = asyncio.get_running_loop()
        breaker = self.breakers[peer]
        if breaker.state(loop.time()) == OPEN:
            return self._failed(lookup, "circuit_open", 0.0)
        if not self.buckets[peer].take(loop.time()):
            return self._failed(lookup, "rate_limited", 0.0)
        if not breaker.allow(loop.time()):  # half open, and the one trial is under way
            return self._failed(lookup, "circuit_open", 0.0)
        client = self.clients[peer]
        started = perf_counter()
        try:
            async with asyncio.timeout(self.lookups.peers[peer].timeout_s):
                facts = await client.ask(lookup.msisdn, lookup.kinds)
        except TimeoutError:
            breaker.failed(loop.time())
            return self._failed(lookup, "timeout", perf_counter() - started)
        except PeerError as error:
            if error.counts_against_peer:
                breaker.failed(loop.time())
            else:
                breaker.succeeded()
            client.last_error = error.reason
            return self._failed(lookup, error.reason, perf_counter() - started)
        latency = perf_counter() - started
        breaker.succeeded()
        now = self.clock.now()
        self.lookups.remember(lookup, facts, now)
        self.stats.calls[(peer, "ok")] += 1
        self.stats.latency[peer].observe(latency)
        self._audit(lookup, describe(facts, lookup.kinds, now), latency)
        self._tell_risk(lookup, facts, now)
        return facts

    def _failed(self, lookup: Lookup, reason: str, latency: float) -> PullFailure:
        self.stats.calls[(lookup.peer, "failed")] += 1
        self.stats.failures[(lookup.peer, reason)] += 1
        self._audit(lookup, f"failed:{reason}", latency)
        log.info(
            "peer_lookup_failed",
            peer=lookup.peer,
            subscriber=pseudonym(lookup.msisdn),
            reason=reason,
            latency_ms=round(latency * 1000, 1),
        )
        return PullFailure(lookup.peer, reason)

    def _audit(self, lookup: Lookup, answer: str, latency: float) -> None:
        if self.audit is not None:
            self.audit.record_pull(
                self.clock.now(), lookup.peer, lookup.msisdn, answer, latency * 1000
            )

    def _tell_risk(self, lookup: Lookup, facts: PeerFacts, now: float) -> None:
        """A SIM change or forwarding first heard from the peer becomes a ``risk.*`` event,
        as a signal would: once per change, to the tenants related to the number."""
        if self.on_risk is None:
            return
        from ..signals.ingest import RiskChange

        key = int(lookup.msisdn[1:])
        source = f"peer:{lookup.peer}"
        changes = []
        reported = self._reported
        if (
            facts.sim_changed_at is not None
            and reported.get((key, "sim_swap")) != facts.sim_changed_at
        ):
            reported[(key, "sim_swap")] = facts.sim_changed_at
            changes.append(RiskChange("sim_swap", key, facts.sim_changed_at, None, source))
        if facts.cf_unconditional_active and (key, "call_forwarding") not in reported:
            reported[(key, "call_forwarding")] = True
            changes.append(RiskChange("call_forwarding", key, now, "cfu", source))
        elif "call_forwarding" in lookup.kinds and not facts.cf_unconditional_active:
            reported.pop((key, "call_forwarding"), None)
        if len(reported) > _REPORTED_MAX:
            reported.clear()
        if changes:
            self.on_risk(changes)
