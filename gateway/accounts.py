"""SMPP accounts: salted scrypt password hashes, bind checks and the lock-out of guessing addresses."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
from dataclasses import dataclass, field

from smpp_adapters.constants import CommandStatus

from .config import AccountConfig

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash`` of an SMPP password (the form stored in the config)."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@dataclass
class Lockout:
    """Counts failed binds per address; an address over the limit is refused for a while."""

    limit: int
    duration_s: float
    _failures: dict[str, tuple[int, float]] = field(default_factory=dict)

    def locked(self, address: str, now: float) -> bool:
        count, since = self._failures.get(address, (0, 0.0))
        if count >= self.limit and now - since < self.duration_s:
            return True
        if count >= self.limit:
            del self._failures[address]
        return False

    def failed(self, address: str, now: float) -> None:
        count, _ = self._failures.get(address, (0, now))
        self._failures[address] = (count + 1, now)
        if len(self._failures) > 100_000:  # a scan from many addresses must not grow this forever
            self._failures.clear()

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)


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
