"""Each route's upstream hosts: a configured route's own, a simulator route's embedded SMSC
(started the first time a configuration names it, kept across reloads)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..config import Config, SimulatorSettings

if TYPE_CHECKING:
    from smpp_adapters.simulator import SmscSimulator

Hosts = tuple[tuple[str, int], ...]


class SimulatedUpstreams:
    """The embedded SMSCs of simulator routes, by route name."""

    def __init__(self) -> None:
        self.simulators: dict[str, SmscSimulator] = {}

    async def hosts_of(self, config: Config, settings: SimulatorSettings) -> dict[str, Hosts]:
        """Each route of ``config`` with its hosts; a new simulator route's SMSC starts with
        ``settings`` (the running configuration's, also while a new one is being read)."""
        hosts_of: dict[str, Hosts] = {}
        for route in config.smpp.routes:
            if route.simulator:
                simulator = self.simulators.get(route.name)
                port = simulator.port if simulator is not None else None
                if port is None:
                    port = await self._start(route.name, settings)
                hosts_of[route.name] = (("127.0.0.1", port),)
            else:
                hosts_of[route.name] = route.hosts
        return hosts_of

    async def _start(self, route: str, settings: SimulatorSettings) -> int:
        # Imported here: a gateway with real upstreams never loads the simulator.
        from smpp_adapters.simulator import SimulatorConfig, SmscSimulator

        simulator = SmscSimulator(
            SimulatorConfig(
                host="127.0.0.1",
                port=settings.port,
                receipt_delay_s=settings.receipt_delay_s,
            )
        )
        port = await simulator.start()
        self.simulators[route] = simulator
        return port

    async def stop(self) -> None:
        for simulator in self.simulators.values():
            await simulator.stop()
