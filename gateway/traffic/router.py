"""Which upstream pools carry an account's traffic, in order of preference (failover across routes)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from smpp_adapters.pdu import Pdu

from ..config import AccountConfig, Config
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
        routes = config.smpp.routes
        for route in routes:
            shared = Credentials(route.system_id, route.password, route.system_type)
            self.pools[(route.name, shared.system_id)] = UpstreamPool(
                route, shared, hosts_of[route.name], on_deliver
            )
        for account in config.smpp.accounts:
            preferred = [r for r in routes if r.name == account.route] + [
                r for r in routes if r.name != account.route
            ]
            chosen = []
            for route in preferred:
                credentials = _credentials(
                    account, route.system_id, route.password, route.system_type
                )
                key = (route.name, credentials.system_id)
                if key not in self.pools:
                    self.pools[key] = UpstreamPool(
                        route, credentials, hosts_of[route.name], on_deliver
                    )
                chosen.append(self.pools[key])
            self._by_account[account.system_id] = tuple(chosen)

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

    def start(self) -> None:
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
