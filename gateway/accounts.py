"""SMPP accounts: bind checks against the configured accounts, and the lock-out of guessers."""

from __future__ import annotations

import hashlib
import ipaddress
from collections import OrderedDict

from smpp_adapters.constants import CommandStatus

from .config import AccountConfig
from .passwords import hash_password, verify_password

__all__ = ["AccountBook", "Lockout", "hash_password", "verify_password"]


class Lockout:
    """Failed binds per peer address and per system_id; over either limit, binds are refused.

    An attempt counts when it starts, before its password is checked, so a burst of
    concurrent guesses cannot all reach the hash: the sixth of five allowed is refused at
    once. A success gives the attempt back. Guesses spread over many addresses meet the
    per-system_id limit (an unknown system_id counts like a known one). The table keeps its
    newest entries and drops the oldest first, so a flood of addresses cannot wipe out a
    lock-out.
    """

    def __init__(
        self,
        limit: int,
        duration_s: float,
        account_limit: int = 20,
        max_entries: int = 100_000,
    ) -> None:
        self.limit = limit
        self.account_limit = account_limit
        self.duration_s = duration_s
        self.max_entries = max_entries
        # key -> (attempts not given back, time of the latest)
        self._counts: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def begin(self, address: str, system_id: str, now: float) -> bool:
        """Count one attempt; False (and nothing counted) when either key is locked out."""
        keys = (("ip:" + address, self.limit), ("id:" + system_id, self.account_limit))
        for key, limit in keys:
            count, latest = self._counts.get(key, (0, now))
            if count >= limit:
                if now - latest < self.duration_s:
                    self._counts.move_to_end(key)  # still guessing: not the oldest entry
                    return False
                del self._counts[key]  # the lock-out is over: a fresh start
        for key, _ in keys:
            count, _ = self._counts.pop(key, (0, now))
            self._counts[key] = (count + 1, now)
        while len(self._counts) > self.max_entries:
            self._counts.popitem(last=False)
        return True

    def succeeded(self, address: str, system_id: str) -> None:
        """The attempt was right: its address and system_id start from zero again."""
        self._counts.pop("ip:" + address, None)
        self._counts.pop("id:" + system_id, None)

    def locked(self, address: str, now: float) -> bool:
        count, latest = self._counts.get("ip:" + address, (0, now))
        return count >= self.limit and now - latest < self.duration_s


class AccountBook:
    """Checks a bind against the configured accounts; password checks are cached per secret."""

    def __init__(self, accounts: tuple[AccountConfig, ...]) -> None:
        self.accounts = {a.system_id: a for a in accounts}
        self._networks = {
            a.system_id: tuple(ipaddress.ip_network(ip, strict=False) for ip in a.allowed_ips)
            for a in accounts
        }
        # scrypt costs ~50 ms: remember passwords that verified (hash of the pair, never the password).
        self._verified: set[bytes] = set()

    def check_bind(
        self, system_id: str, password: str, peer_ip: str | None
    ) -> tuple[int, AccountConfig | None]:
        """(command_status, account): ESME_ROK with the account, or the bind error to answer."""
        account = self.accounts.get(system_id)
        if account is None:
            return CommandStatus.ESME_RINVSYSID, None
        networks = self._networks[system_id]
        if networks and (
            peer_ip is None or not any(ipaddress.ip_address(peer_ip) in n for n in networks)
        ):
            return CommandStatus.ESME_RBINDFAIL, None
        key = hashlib.sha256(f"{account.password_hash}\0{password}".encode()).digest()
        if key not in self._verified:
            if not verify_password(password, account.password_hash):
                return CommandStatus.ESME_RINVPASWD, None
            self._verified.add(key)
        return CommandStatus.ESME_ROK, account
