"""An SMSC simulator on an event loop of its own thread, for tests whose client code blocks.

schemathesis and requests are synchronous: were the simulator on the test's own loop, it
would stop answering the gateway while a request waits for the gateway's answer.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from smpp_adapters.simulator import SmscSimulator

from ..integration.harness import running_simulator


@contextmanager
def simulator_in_thread(**options: Any) -> Iterator[SmscSimulator]:
    loop = asyncio.new_event_loop()
    context = running_simulator(**options)
    simulator = loop.run_until_complete(context.__aenter__())
    thread = threading.Thread(target=loop.run_forever, daemon=True, name="smsc-simulator")
    thread.start()
    try:
        yield simulator
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.run_until_complete(context.__aexit__(None, None, None))
        loop.close()
