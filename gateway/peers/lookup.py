"""The decision's side of peer facts, without I/O: whose number, what the cache knows, and
what must be asked (a ``Lookup``) before the verdict is final."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from policies.decisions import Verdict
from policies.engine import CALL_FORWARDING, SIM_SWAP

from .answers import PeerFacts
from .cache import FactCache
from .config import PeerConfig
from .directory import PeerDirectory
from .stats import PeerStats


@dataclass(frozen=True, slots=True)
class Lookup:
    """Ask ``peer`` about ``msisdn`` for ``kinds``; ``known``: what the cache already had;
    ``without``: the verdict without the peer's facts (kept when they change nothing)."""

    peer: str
    msisdn: str
    kinds: frozenset[str]
    known: PeerFacts
    without: Verdict


@dataclass(frozen=True, slots=True)
class PullFailure:
    """No answer in time: ``reason`` is timeout, circuit_open, rate_limited, unreachable,
    unauthorized, http_<status>, bad_answer or no_answer (a scenario without a stub)."""

    peer: str
    reason: str


def peer_kinds_of(scopes: Iterable[str]) -> frozenset[str]:
    """The facts a peer can be asked for with these OAuth2 scopes."""
    kinds = set()
    for scope in scopes:
        if scope.startswith("sim-swap"):
            kinds.add(SIM_SWAP)
        elif scope.startswith("call-forwarding-signal"):
            kinds.add(CALL_FORWARDING)
    return frozenset(kinds)


class PeerLookups:
    """The peers' prefixes and TTLs, and the cache of their answers."""

    def __init__(
        self,
        peers: Iterable[PeerConfig],
        cache: FactCache | None = None,
        stats: PeerStats | None = None,
    ) -> None:
        self.peers = {peer.name: peer for peer in peers}
        self.directory = PeerDirectory(
            (prefix, peer.name) for peer in self.peers.values() for prefix in peer.prefixes
        )
        # What each peer is asked about: the facts its configured scopes cover.
        self.kinds = {name: peer_kinds_of(peer.scopes) for name, peer in self.peers.items()}
        self._asked: dict[tuple[str, frozenset[str]], frozenset[str]] = {}
        self.cache = cache if cache is not None else FactCache()
        self.stats = stats if stats is not None else PeerStats()

    def peer_for(self, destination: str) -> str | None:
        return self.directory.peer_for(destination)

    def cached(
        self, peer: str, destination: str, kinds: frozenset[str], now: float
    ) -> tuple[PeerFacts, frozenset[str]]:
        """The cache's facts for ``kinds`` (those the peer answers), and the kinds it lacks;
        a full answer is a hit."""
        asked = self._asked.get((peer, kinds))
        if asked is None:
            asked = self._asked[(peer, kinds)] = kinds & self.kinds[peer]
        kinds = asked
        facts, missing = self.cache.get(int(destination[1:]), kinds, now)
        if kinds and not missing:
            self.stats.cache_hits[peer] += 1
        return facts, missing

    def remember(self, lookup: Lookup, facts: PeerFacts, now: float) -> None:
        config = self.peers[lookup.peer]
        self.cache.put(
            int(lookup.msisdn[1:]),
            facts,
            lookup.kinds,
            now,
            config.positive_ttl_s,
            config.negative_ttl_s,
        )
