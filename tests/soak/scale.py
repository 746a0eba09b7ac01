"""How big a soak or fuzz run is: small by default (the normal test run), full scale on demand.

Every figure comes from an environment variable so the same tests run in CI in seconds and
on a quiet machine for an hour (see docs/reliability.md for the full-scale command).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scale:
    kills: int  # SIGKILLs of the gateway under load
    pdus: int  # mutated PDUs fed to the codec and the sans-I/O session
    tcp_pdus: int  # mutated PDUs sent to a running gateway over TCP
    api_calls: int  # HTTP calls of the API fuzz, both listeners together
    seed: int  # one seed for every random choice the suite makes (kill moments excepted)
    max_rss_mb: int  # the gateway's peak resident memory must stay under this

    @property
    def label(self) -> str:
        return (
            f"kills={self.kills} pdus={self.pdus} tcp_pdus={self.tcp_pdus} "
            f"api_calls={self.api_calls} seed={self.seed} max_rss_mb={self.max_rss_mb}"
        )


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name, "").strip()
    return int(value.replace("_", "")) if value else default


def scale_from_env(env: Mapping[str, str] = os.environ) -> Scale:
    pdus = _int(env, "OTPGATE_FUZZ_PDUS", 20_000)
    return Scale(
        kills=_int(env, "OTPGATE_SOAK_KILLS", 3),
        pdus=pdus,
        # A tenth of the in-process count by default: a TCP round trip costs a hundred times more.
        tcp_pdus=_int(env, "OTPGATE_FUZZ_TCP_PDUS", max(2_000, pdus // 10)),
        api_calls=_int(env, "OTPGATE_FUZZ_API_CALLS", 300),
        seed=_int(env, "OTPGATE_SOAK_SEED", 12),
        max_rss_mb=_int(env, "OTPGATE_SOAK_MAX_RSS_MB", 300),
    )


SCALE = scale_from_env()
