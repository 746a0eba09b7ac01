"""An SMSC simulator on an event loop of its own thread, for tests whose client code blocks.

schemathesis and requests are synchronous, and some checks poll SQLite in a tight loop: were
the simulator on the test's own loop, it would stop answering the gateway meanwhile. Usable
from plain and from async tests alike (the thread's loop is never the caller's).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from smpp_adapters.simulator import SmscSimulator

from ..integration.harness import running_simulator

START_TIMEOUT_S = 10


@contextmanager
def simulator_in_thread(**options: Any) -> Iterator[SmscSimulator]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True, name="smsc-simulator")
    thread.start()
    context = running_simulator(**options)
    try:
        simulator = asyncio.run_coroutine_threadsafe(context.__aenter__(), loop).result(
            START_TIMEOUT_S
        )
        try:
            yield simulator
        finally:
            exit_ = context.__aexit__(None, None, None)
            asyncio.run_coroutine_threadsafe(exit_, loop).result(START_TIMEOUT_S)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
