"""The process's file limit, and how many SMPP connections fit under it.

Every connection is a file descriptor; so are the SQLite files, the API listeners and their
clients, the broker connection. A connection cap above what the process may open would let
a flood of idle connections starve everything else (accept() failing, /healthz refused), so
the cap is kept under the limit with room to spare.
"""

from __future__ import annotations

import resource

import structlog

log = structlog.get_logger("otpgate.limits")

# Descriptors kept for everything that is not an SMPP connection.
RESERVE = 512


def raise_file_limit() -> int:
    """Raise the soft limit on open files to the hard one; the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1_048_576)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def connection_cap(configured: int, soft_limit: int) -> int:
    """``configured``, or less when the file limit leaves no room for it (with a warning)."""
    room = max(1, soft_limit - RESERVE)
    if configured > room:
        log.warning(
            "max_connections_lowered",
            configured=configured,
            allowed=room,
            open_file_limit=soft_limit,
            hint="raise the open-file limit (ulimit -n, LimitNOFILE=) or lower smpp.max_connections",
        )
        return room
    return configured
