"""Long-lived objects are frozen out of the collector's sight, and a cycle frozen while alive
is still collected once the hourly unfreeze comes round."""

from __future__ import annotations

import gc
import weakref

from gateway.upkeep import collect_long_lived


class _Bind:
    """A stand-in for an ESME connection's objects: a cycle, as theirs is."""

    def __init__(self) -> None:
        self.me = self


def test_a_cycle_frozen_while_alive_is_collected_at_the_hourly_unfreeze() -> None:
    bind = _Bind()
    gone = weakref.ref(bind)
    try:
        collect_long_lived(unfreeze=False)  # frozen while the bind is open
        assert gc.get_freeze_count() > 0
        del bind  # the bind closes: its cycle is garbage, but frozen
        collect_long_lived(unfreeze=False)
        assert gone() is not None  # the half-minute collections do not see it
        collect_long_lived(unfreeze=True)
        assert gone() is None
    finally:
        gc.unfreeze()
