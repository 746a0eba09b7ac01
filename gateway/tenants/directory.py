"""Which tenant a message belongs to: by (account, sender ID), or the whole account."""

from __future__ import annotations

from ..config import AccountConfig
from ..config_tenants import TenantConfig


class TenantDirectory:
    def __init__(self, tenants: tuple[TenantConfig, ...], accounts: tuple[AccountConfig, ...]):
        self.update(tenants, accounts)

    def update(
        self, tenants: tuple[TenantConfig, ...], accounts: tuple[AccountConfig, ...]
    ) -> None:
        """Take a reloaded configuration in place: whoever holds the directory sees it."""
        self.tenants = {t.name: t for t in tenants}
        self._by_sender = {
            (account, sender): tenant.name
            for tenant in tenants
            for account, senders in tenant.senders.items()
            for sender in senders
        }
        self._by_account = {a.system_id: a.tenant for a in accounts if a.tenant}

    def tenant_of(self, account: str, source_addr: str) -> str | None:
        """An aggregator's account carries many banks: the sender ID decides first."""
        if self._by_sender:
            tenant = self._by_sender.get((account, source_addr))
            if tenant is not None:
                return tenant
        return self._by_account.get(account)
