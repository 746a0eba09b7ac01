"""Submits waiting for another operator's answer before their decision is final.

A decision that needs a peer's facts (``Decision.lookup``) goes on in a task: the pull is
awaited there, the decision completed with its answer (or its failure, which the policy's
``on_lookup_failure`` decides), and the caller's continuation runs with it. The event loop
never waits: the session's other PDUs, and every other session's, go on meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..clock import Clock
from ..peers.lookup import PullFailure
from .decider import Decider, Decision

if TYPE_CHECKING:
    from ..peers.pull import PeerPuller


class PeerWaits:
    def __init__(self, decider: Decider | None, peers: PeerPuller | None, clock: Clock) -> None:
        self.decider = decider
        self.peers = peers  # other operators' CAMARA APIs; None: every lookup fails
        self.clock = clock
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def waiting(self) -> int:
        """Submits waiting for a peer's answer."""
        return len(self._tasks)

    def start(self, decision: Decision, then: Callable[[Decision, float], None]) -> None:
        """Ask the destination's operator, then call ``then`` with the completed decision
        and the time it was completed."""
        task = asyncio.get_running_loop().create_task(self._pull(decision, then))
        self._tasks.add(task)  # a reference, so the task is not collected mid-way
        task.add_done_callback(self._tasks.discard)

    async def _pull(self, decision: Decision, then: Callable[[Decision, float], None]) -> None:
        assert self.decider is not None and decision.lookup is not None
        lookup = decision.lookup
        answer = (
            await self.peers.pull(lookup)
            if self.peers is not None
            else PullFailure(lookup.peer, "not_configured")
        )
        now = self.clock.now()
        then(self.decider.complete(decision, answer, now), now)
