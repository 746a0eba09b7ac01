"""Which peer answers for a number: the longest configured E.164 prefix that starts it."""

from __future__ import annotations

from collections.abc import Iterable


class PeerDirectory:
    """Prefixes (digits, no "+") to peer names; a look-up is one dict probe per prefix length.

    Clean traffic to the operator's own numbers passes here on every message, so the table
    is probed at the few lengths that occur, longest first, with no scan of the prefixes.
    """

    def __init__(self, prefixes: Iterable[tuple[str, str]]) -> None:
        self._owner: dict[str, str] = {}
        for prefix, peer in prefixes:
            self._owner[prefix.lstrip("+")] = peer
        self._lengths = tuple(sorted({len(p) for p in self._owner}, reverse=True))

    def __bool__(self) -> bool:
        return bool(self._owner)

    def peer_for(self, destination: str) -> str | None:
        """The peer for an E.164 number ("+" and digits), or None (on-net, or nobody's)."""
        owner = self._owner
        for length in self._lengths:
            peer = owner.get(destination[1 : length + 1])
            if peer is not None and len(destination) > length + 1:
                return peer
        return None
