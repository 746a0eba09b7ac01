"""What the operator tells the risk index: travel time, horizon, IMSI allow list, networks, bounds."""

from __future__ import annotations

import re
from dataclasses import dataclass

_NETWORK = re.compile(r"[0-9]{3}(?:-[0-9]{2,3})?")


@dataclass(frozen=True, slots=True)
class RiskConfig:
    """What the index is told by the operator; validated once, at construction.

    Networks are MCC-MNC strings ("234-15") or a bare MCC ("901") meaning every network of it.
    ``roaming_partners`` None means "no partner list": only the watch list makes a network
    untrusted. ``anomaly_horizon_s``: routing anomalies older than this are not reported.
    """

    min_travel_s: float = 7200.0
    anomaly_horizon_s: float = 86400.0
    imsi_allow_prefixes: tuple[str, ...] = ()
    watch_networks: frozenset[str] = frozenset()
    roaming_partners: frozenset[str] | None = None
    home_networks: frozenset[str] = frozenset()
    # Event ids remembered to ignore repeats; the store is the real guard.
    recent_event_ids: int = 100_000
    # Bounds on what one number keeps (see _State); generous for real traffic.
    max_imsis: int = 32
    max_cfu_states: int = 8
    max_locations: int = 16
    max_anomaly_times: int = 8

    def __post_init__(self) -> None:
        if not self.min_travel_s >= 0:
            raise ValueError(f"min_travel_s: expected >= 0, got {self.min_travel_s!r}")
        if not self.anomaly_horizon_s > 0:
            raise ValueError(f"anomaly_horizon_s: expected > 0, got {self.anomaly_horizon_s!r}")
        for prefix in self.imsi_allow_prefixes:
            if not (isinstance(prefix, str) and prefix.isdigit() and len(prefix) <= 15):
                raise ValueError(f"imsi_allow_prefixes: expected digits, got {prefix!r}")
        groups = {
            "watch_networks": self.watch_networks,
            "roaming_partners": self.roaming_partners or frozenset(),
            "home_networks": self.home_networks,
        }
        for name, networks in groups.items():
            for network in networks:
                if not (isinstance(network, str) and _NETWORK.fullmatch(network)):
                    raise ValueError(
                        f"{name}: expected 'ddd', 'ddd-dd' or 'ddd-ddd', got {network!r}"
                    )
        for name in (
            "recent_event_ids",
            "max_imsis",
            "max_cfu_states",
            "max_locations",
            "max_anomaly_times",
        ):
            value = getattr(self, name)
            # Counts live in one byte each; the call forwarding bound keeps one state more,
            # and its count leaves the byte's top bit to the conditional forwarding flag.
            top = {"recent_event_ids": 10**8, "max_cfu_states": 126}.get(name, 254)
            if not 1 <= value <= top:
                raise ValueError(f"{name}: out of range: {value!r}")

    def untrusted(self, mcc_mnc: str) -> bool:
        """Whether a serving network is on the watch list or, with a partner list, not on it."""
        mcc = mcc_mnc[:3]
        if mcc_mnc in self.watch_networks or mcc in self.watch_networks:
            return True
        partners = self.roaming_partners
        if partners is None:
            return False
        trusted = (mcc_mnc, mcc)
        return not any(n in partners or n in self.home_networks for n in trusted)
