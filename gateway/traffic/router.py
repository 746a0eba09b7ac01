"""Which upstream pools carry an account's traffic, in order of preference (failover across routes)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from smpp_adapters.pdu import Pdu

from ..config import AccountConfig, Config, RouteConfig
from .upstream import Credentials, DeliverHandler, UpstreamPool


class Router:
    """Builds one pool per (route, credentials) and answers "where does this account send to"."""

    def __init__(
        self,
        config: Config,
        hosts_of: dict[str, tuple[tuple[str, int], ...]],
        on_deliver: DeliverHandler,
    ) -> None:
        self.pools: dict[tuple[str, str], UpstreamPool] = {}
        self._by_account: dict[str, tuple[UpstreamPool, ...]] = {}
        self._on_deliver = on_deliver
        self._started = False
        self._build(config, hosts_of)

    def _build(
        self, config: Config, hosts_of: dict[str, tuple[tuple[str, int], ...]]
    ) -> list[UpstreamPool]:
        """Pools for the configuration, reusing each unchanged one; returns those left over."""
        old, self.pools = self.pools, {}
        replaced: list[UpstreamPool] = []
        routes = config.smpp.routes

        def pool(route: RouteConfig, credentials: Credentials) -> UpstreamPool:
            key = (route.name, credentials.system_id)
            if key not in self.pools:
                kept = old.pop(key, None)
                if (
                    kept is not None
                    and kept.route == route
                    and kept.credentials == credentials
                    and kept.hosts == hosts_of[route.name]
                ):
                    self.pools[key] = kept
                else:
                    self.pools[key] = UpstreamPool(
                        route, credentials, hosts_of[route.name], self._on_deliver
                    )
                    if kept is not None:
                        replaced.append(kept)
            return self.pools[key]

        for route in routes:
            pool(route, Credentials(route.system_id, route.password, route.system_type))
        by_account = {}
        for account in config.smpp.accounts:
            preferred = [r for r in routes if r.name == account.route] + [
                r for r in routes if r.name != account.route
            ]
            by_account[account.system_id] = tuple(
                pool(
                    route, _credentials(account, route.system_id, route.password, route.system_type)
                )
                for route in preferred
            )
        self._by_account = by_account
        return [*old.values(), *replaced]

    async def reconfigure(
        self, config: Config, hosts_of: dict[str, tuple[tuple[str, int], ...]]
    ) -> None:
        """Routes and accounts changed: new pools start, unchanged ones keep their binds,
        removed ones drain their outstanding requests and unbind."""
        leftovers = self._build(config, hosts_of)
        if self._started:
            for pool in self.pools.values():
                if not pool.started:
                    pool.start()
        for pool in leftovers:
            await pool.stop()

    def pools_for(self, account: str) -> tuple[UpstreamPool, ...]:
        return self._by_account.get(account, ())

    def submit(self, account: str, pdu: Pdu) -> asyncio.Future[tuple[str, Pdu | None]] | None:
        """Submit through the account's first pool that takes it; the future gets (route,
        response or None when the outcome is unknown). None: no pool could carry it now."""
        answer: asyncio.Future[tuple[str, Pdu | None]] = asyncio.get_running_loop().create_future()

        def answered_by(route: str) -> Callable[[Pdu | None], None]:
            def answered(response: Pdu | None) -> None:
                if not answer.done():
                    answer.set_result((route, response))

            return answered

        for pool in self._by_account.get(account, ()):
            if pool.submit(pdu, answered_by(pool.name)):
                return answer
        return None

    def pool_for_route(self, account: str, route: str) -> UpstreamPool | None:
        for pool in self._by_account.get(account, ()):
            if pool.name == route:
                return pool
        return None

    @property
    def in_flight(self) -> bool:
        """Whether any request sent upstream still waits for its answer."""
        return any(pool.in_flight for pool in self.pools.values())

    def start(self) -> None:
        self._started = True
        for pool in self.pools.values():
            pool.start()

    async def stop(self) -> None:
        for pool in self.pools.values():
            await pool.stop()


def _credentials(
    account: AccountConfig, system_id: str, password: str, system_type: str
) -> Credentials:
    """Pass-through bind mode: an account with its own upstream credentials binds as itself."""
    if account.upstream_system_id:
        return Credentials(account.upstream_system_id, account.upstream_password or "", system_type)
    return Credentials(system_id, password, system_type)
