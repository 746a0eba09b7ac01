"""The risk index: facts exactly as DESIGN.md "Signals" defines them, whatever the arrival order."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.signals.model import Signal, parse_signal
from gateway.signals.risk_index import RiskConfig, RiskIndex
from gateway.signals.state_table import StateTable
from policies.facts import NO_RISK, RiskFacts, RoutingAnomaly

T0 = 1_772_323_200.0  # 2026-03-01T00:00:00Z
M = 60.0
H = 3600.0
D = 86400.0
A = "+447400123123"
B = "+447400123456"
IMSI_1 = "234150000000001"
IMSI_2 = "234150000000002"
IMSI_3 = "234150000000003"


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def sig(kind: str, at: float, msisdn: str = A, **fields: Any) -> Signal:
    obj = {"kind": kind, "msisdn": msisdn, "occurred_at": iso(T0 + at), **fields}
    return parse_signal(obj, default_region=None)


def swap(at: float, **kw: Any) -> Signal:
    return sig("sim_swap", at, **kw)


def loc(at: float, mcc_mnc: str | None = None, **kw: Any) -> Signal:
    if mcc_mnc is not None:
        kw["serving_mcc_mnc"] = mcc_mnc
    return sig("location_update", at, **kw)


def cfu(at: float, active: bool, to: str | None = "+447700900123", **kw: Any) -> Signal:
    fields: dict[str, Any] = {"service": kw.pop("service", "cfu"), "active": active}
    if to is not None:
        fields["forwarded_to"] = to
    return sig("call_forwarding", at, **fields, **kw)


def alert(at: float, **kw: Any) -> Signal:
    return sig("signalling_alert", at, category="hostile_update_location", **kw)


def clear(at: float, scope: str, **kw: Any) -> Signal:
    return sig("clearance", at, scope=scope, **kw)


def index(*signals: Signal, config: RiskConfig | None = None) -> RiskIndex:
    idx = RiskIndex(config or RiskConfig())
    for s in signals:
        idx.apply(s)
    return idx


def facts(idx: RiskIndex, now: float, msisdn: str = A) -> RiskFacts:
    return idx.facts(msisdn, T0 + now)


def anomalies(f: RiskFacts) -> list[tuple[str, float]]:
    return [(a.reason, a.age_s) for a in f.routing_anomalies]


# -- unknown and quiet numbers ------------------------------------------------------------


def test_unknown_number_is_the_shared_no_risk() -> None:
    idx = index(swap(0))
    assert idx.facts(B, T0) is NO_RISK
    assert idx.facts("not a number", T0) is NO_RISK
    assert len(idx) == 1


def test_tracked_number_without_risk_is_no_risk() -> None:
    idx = index(loc(0, "234-15", imsi=IMSI_1), loc(3 * H, "234-15", imsi=IMSI_1))
    assert len(idx) == 1
    assert facts(idx, 4 * H) is NO_RISK


def test_msisdn_without_plus_finds_the_same_number() -> None:
    idx = index(swap(0))
    assert idx.facts(A[1:], T0 + M).sim_swap_age_s == M


# -- SIM swaps --------------------------------------------------------------------------


# The default policy's thresholds (24 h, 7 d): the index reports exact ages on both sides.
@pytest.mark.parametrize(
    "now",
    [0.0, 1.0, D - 1, D, D + 1, 7 * D - 1, 7 * D, 7 * D + 1, 30 * D],
)
def test_announced_swap_age_is_exact(now: float) -> None:
    f = facts(index(swap(5 * M, imsi=IMSI_2, previous_imsi=IMSI_1)), 5 * M + now)
    assert f.sim_swap_age_s == now
    assert f.sim_swap_reason == "sim_swap"


@pytest.mark.parametrize(
    "reason", ["swap", "esim_download", "port_in", "new_subscription", "number_recycled"]
)
def test_the_swap_reason_comes_back_as_sent_and_survives_a_rebuild(reason: str) -> None:
    idx = index(swap(0, reason=reason))
    assert facts(idx, H).sim_swap_reason == reason
    key = int(A[1:])
    rebuilt = RiskIndex(RiskConfig())
    rebuilt.load_state(key, idx.state_of(key))
    assert facts(rebuilt, H) == facts(idx, H)


def test_the_newest_swap_gives_the_reason_and_ties_do_not_depend_on_order() -> None:
    older, newer = swap(0, reason="esim_download"), swap(H, reason="port_in")
    assert facts(index(newer, older), 2 * H).sim_swap_reason == "port_in"
    tie = (swap(H, reason="swap"), swap(H, reason="esim_download"))
    assert facts(index(*tie), 2 * H) == facts(index(*reversed(tie)), 2 * H)


def test_fractional_times_keep_their_precision() -> None:
    idx = index(sig("sim_swap", 0, occurred_at="2026-03-01T00:00:00.250Z"))
    assert facts(idx, 10).sim_swap_age_s == 9.75


def test_signal_from_the_future_has_age_zero() -> None:
    assert facts(index(swap(H)), 0).sim_swap_age_s == 0.0


def test_the_first_imsi_is_not_a_change() -> None:
    idx = index(loc(0, "234-15", imsi=IMSI_1))
    assert facts(idx, M) is NO_RISK


def test_unannounced_imsi_change_is_an_imsi_mismatch_at_its_first_sighting() -> None:
    idx = index(
        loc(0, "234-15", imsi=IMSI_1),
        loc(H, "234-15", imsi=IMSI_2),
        loc(2 * H, "234-15", imsi=IMSI_2),
    )
    f = facts(idx, 3 * H)
    assert (f.sim_swap_age_s, f.sim_swap_reason) == (2 * H, "imsi_mismatch")


def test_imsi_on_any_signal_counts() -> None:
    idx = index(loc(0, "234-15", imsi=IMSI_1), swap(-D, imsi=IMSI_1), loc(H, "234-15", imsi=IMSI_2))
    f = facts(idx, 2 * H)
    assert (f.sim_swap_age_s, f.sim_swap_reason) == (H, "imsi_mismatch")


def test_multi_imsi_sim_alternating_between_known_imsis_is_no_new_change() -> None:
    signals = [loc(0, "234-15", imsi=IMSI_1), loc(H, "234-15", imsi=IMSI_2)]
    signals += [loc(i * H, "234-15", imsi=(IMSI_1, IMSI_2)[i % 2]) for i in range(2, 12)]
    f = facts(index(*signals), 12 * H)
    # The second IMSI was new once, at 1 h; every later alternation is between known IMSIs.
    assert (f.sim_swap_age_s, f.sim_swap_reason) == (11 * H, "imsi_mismatch")


def test_multi_imsi_sim_cleared_once_stays_quiet() -> None:
    signals = [
        loc(0, "234-15", imsi=IMSI_1),
        loc(H, "234-15", imsi=IMSI_2),
        clear(H + M, "sim_swap"),
    ]
    signals += [loc(i * H, "234-15", imsi=(IMSI_1, IMSI_2)[i % 2]) for i in range(2, 12)]
    assert facts(index(*signals), 12 * H) is NO_RISK


def test_previous_imsi_of_an_announced_swap_is_known() -> None:
    idx = index(swap(0, imsi=IMSI_2, previous_imsi=IMSI_1), loc(D, "234-15", imsi=IMSI_1))
    f = facts(idx, D + M)
    assert (f.sim_swap_age_s, f.sim_swap_reason) == (D + M, "sim_swap")


def test_announced_swap_and_its_new_imsi_at_the_same_time_report_sim_swap() -> None:
    idx = index(loc(0, "234-15", imsi=IMSI_1), swap(H, imsi=IMSI_2))
    f = facts(idx, 2 * H)
    assert (f.sim_swap_age_s, f.sim_swap_reason) == (H, "sim_swap")


def test_latest_change_wins_between_announced_and_inferred() -> None:
    idx = index(swap(0, imsi=IMSI_1), loc(H, "234-15", imsi=IMSI_2))
    assert (facts(idx, 2 * H).sim_swap_reason, facts(idx, 2 * H).sim_swap_age_s) == (
        "imsi_mismatch",
        H,
    )
    idx.apply(swap(90 * M, imsi=IMSI_2))
    assert (facts(idx, 2 * H).sim_swap_reason, facts(idx, 2 * H).sim_swap_age_s) == (
        "sim_swap",
        30 * M,
    )


def test_allow_listed_imsi_range_is_no_change() -> None:
    config = RiskConfig(imsi_allow_prefixes=("23415999",))
    idx = index(
        loc(0, "234-15", imsi=IMSI_1),
        loc(H, "234-15", imsi="234159990000001"),
        config=config,
    )
    assert facts(idx, 2 * H) is NO_RISK


def test_allow_listed_imsi_seen_first_does_not_make_the_real_one_a_change() -> None:
    config = RiskConfig(imsi_allow_prefixes=("23415999",))
    idx = index(
        loc(0, "234-15", imsi="234159990000001"), loc(H, "234-15", imsi=IMSI_1), config=config
    )
    assert facts(idx, 2 * H) is NO_RISK


def test_out_of_order_imsis_give_the_same_change() -> None:
    in_order = [loc(0, "234-15", imsi=IMSI_1), loc(5 * H, "234-15", imsi=IMSI_2)]
    late = [loc(5 * H, "234-15", imsi=IMSI_2), loc(0, "234-15", imsi=IMSI_1)]
    assert facts(index(*in_order), 6 * H) == facts(index(*late), 6 * H)
    assert facts(index(*late), 6 * H).sim_swap_age_s == H


def test_late_earlier_sighting_moves_the_change_back() -> None:
    idx = index(loc(0, "234-15", imsi=IMSI_1), loc(5 * H, "234-15", imsi=IMSI_2))
    idx.apply(loc(3 * H, "234-15", imsi=IMSI_2))
    assert facts(idx, 6 * H).sim_swap_age_s == 3 * H


def test_late_old_swap_does_not_override_a_newer_one() -> None:
    idx = index(swap(10 * H))
    assert idx.apply(swap(H)) is False
    assert facts(idx, 11 * H).sim_swap_age_s == H


# -- duplicates -------------------------------------------------------------------------


def test_repeat_of_a_known_event_id_is_ignored() -> None:
    idx = RiskIndex(RiskConfig())
    assert idx.apply(swap(0, event_id="crm-1")) is True
    # Same id, different content: the id decides (the store keeps the first).
    assert idx.apply(swap(H, event_id="crm-1")) is False
    assert facts(idx, 2 * H).sim_swap_age_s == 2 * H


def test_same_signal_without_id_twice_changes_nothing() -> None:
    idx = RiskIndex(RiskConfig())
    s = loc(0, "460-00", imsi=IMSI_1)
    assert idx.apply(s) is True
    assert idx.apply(s) is False


def test_remembered_event_ids_are_bounded() -> None:
    idx = RiskIndex(RiskConfig(recent_event_ids=10))
    for i in range(100):
        idx.apply(alert(i * M, event_id=f"e{i}"))
    assert len(idx._seen_ids) == 10
    # An id that fell out of memory is applied again: harmless, the state is a set.
    assert idx.apply(alert(0, event_id="e0")) is False


# -- call forwarding --------------------------------------------------------------------


@pytest.mark.parametrize("now", [0.0, 1.0, D - 1, D, D + 1])
def test_cfu_activation_age_is_exact(now: float) -> None:
    f = facts(index(cfu(H, True)), H + now)
    assert f.cf_unconditional_active is True
    assert f.cfu_changed_age_s == now


def test_new_forwarded_to_is_a_change_same_one_is_not() -> None:
    idx = index(cfu(0, True, "+447700900123"), cfu(H, True, "+447700900123"))
    assert facts(idx, 2 * H).cfu_changed_age_s == 2 * H
    idx.apply(cfu(90 * M, True, "+525599999999"))
    assert facts(idx, 2 * H).cfu_changed_age_s == 30 * M


def test_deactivation_is_not_a_change_that_raises_risk() -> None:
    idx = index(cfu(0, True), cfu(D, False, None))
    f = facts(idx, D + H)
    assert f.cf_unconditional_active is False
    assert f.cfu_changed_age_s == D + H  # still the activation, not the deactivation


def test_reactivation_with_the_same_target_is_a_change() -> None:
    idx = index(cfu(0, True), cfu(H, False, None), cfu(2 * H, True))
    f = facts(idx, 3 * H)
    assert (f.cf_unconditional_active, f.cfu_changed_age_s) == (True, H)


def test_late_activation_older_than_a_deactivation_does_not_reactivate() -> None:
    idx = index(cfu(2 * H, False, None))
    idx.apply(cfu(H, True))
    f = facts(idx, 3 * H)
    assert (f.cf_unconditional_active, f.cfu_changed_age_s) == (False, 2 * H)


def test_late_deactivation_between_two_activations_makes_the_second_a_change() -> None:
    idx = index(cfu(0, True), cfu(2 * H, True))
    assert facts(idx, 3 * H).cfu_changed_age_s == 3 * H
    idx.apply(cfu(H, False, None))
    assert facts(idx, 3 * H).cfu_changed_age_s == H


@pytest.mark.parametrize("service", ["cfb", "cfnry", "cfnrc"])
def test_conditional_forwarding_is_kept_but_is_no_risk_fact(service: str) -> None:
    # CAMARA's call-forwardings names it; the default policy reads only unconditional.
    idx = RiskIndex(RiskConfig())
    assert idx.apply(cfu(0, True, service=service)) is True
    assert facts(idx, H) is NO_RISK and idx.risky_count == 0
    assert idx.forwarding(A) == (service,)
    assert idx.apply(cfu(H, False, None, service=service)) is True
    assert idx.forwarding(A) == ()


def test_forwarding_lists_unconditional_first_then_each_conditional_service() -> None:
    idx = index(cfu(0, True, service="cfnry"), cfu(M, True, service="cfb"), cfu(2 * M, True))
    assert idx.forwarding(A) == ("cfu", "cfb", "cfnry")
    assert facts(idx, H).cf_unconditional_active
    assert idx.forwarding(B) == () and idx.forwarding("not a number") == ()


def test_conditional_forwarding_keeps_the_newest_signal_per_service() -> None:
    idx = index(cfu(2 * H, False, None, service="cfb"))
    assert idx.apply(cfu(H, True, service="cfb")) is False  # late and older: nothing changes
    assert idx.forwarding(A) == ()
    # At one instant "active" wins, whatever the order: the state is a function of the set.
    tie = index(cfu(3 * H, False, None, service="cfnrc"), cfu(3 * H, True, service="cfnrc"))
    again = index(cfu(3 * H, True, service="cfnrc"), cfu(3 * H, False, None, service="cfnrc"))
    assert tie == again and tie.forwarding(A) == ("cfnrc",)


def test_conditional_forwarding_costs_one_byte_and_one_time_per_service() -> None:
    plain = index(loc(0, "234-15", imsi=IMSI_1), cfu(M, True))
    state = plain.state_of(int(A))
    assert state is not None
    for n, service in enumerate(("cfb", "cfnry", "cfnrc"), start=1):
        plain.apply(cfu(2 * M, True, service=service))
        plain.apply(cfu(3 * M, False, None, service=service))  # replaces, does not add
        grown = plain.state_of(int(A))
        assert grown is not None and len(grown) == len(state) + 1 + 8 * n


def test_a_location_after_conditional_forwarding_takes_the_fast_path_to_the_same_bytes() -> None:
    signals = [loc(0, "234-15", imsi=IMSI_1), cfu(M, True, service="cfb"), cfu(2 * M, True)]
    fast = index(*signals, loc(H, "234-15", imsi=IMSI_1))
    general = RiskIndex(RiskConfig())
    general.apply_all([*signals, loc(H, "234-15", imsi=IMSI_1)][::-1])
    assert fast == general and fast.forwarding(A) == ("cfu", "cfb")


# -- routing anomalies ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gap", "anomaly"),
    [(40 * M, True), (2 * H - 1, True), (2 * H, False), (2 * H + 1, False), (10 * H, False)],
)
def test_impossible_travel_is_strictly_less_than_min_travel(gap: float, anomaly: bool) -> None:
    idx = index(loc(0, "460-00"), loc(gap, "234-10"))
    f = facts(idx, gap + 5 * M)
    assert anomalies(f) == ([("impossible_travel", 5 * M)] if anomaly else [])


@pytest.mark.parametrize("age", [0.0, 1.0, H - 1, H, H + 1, D - 1, D])
def test_routing_anomaly_age_is_exact_up_to_the_horizon(age: float) -> None:
    idx = index(loc(0, "460-00"), loc(40 * M, "234-10"))
    assert anomalies(facts(idx, 40 * M + age)) == [("impossible_travel", age)]


def test_routing_anomaly_beyond_the_horizon_is_not_reported() -> None:
    idx = index(loc(0, "460-00"), loc(40 * M, "234-10"))
    assert facts(idx, 40 * M + D + 1) is NO_RISK


def test_min_travel_is_configurable() -> None:
    idx = index(loc(0, "460-00"), loc(3 * H, "234-10"), config=RiskConfig(min_travel_s=4 * H))
    assert anomalies(facts(idx, 3 * H)) == [("impossible_travel", 0.0)]


def test_two_mccs_of_one_country_are_no_travel() -> None:
    idx = index(loc(0, "310-410"), loc(10 * M, "311-480"), loc(20 * M, "316-010"))
    assert facts(idx, 30 * M) is NO_RISK


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("208-01", "214-07"),
        ("208-01", "262-01"),
        ("302-720", "310-410"),
        ("334-020", "310-410"),
        ("460-00", "454-00"),
        ("455-01", "460-00"),
        ("404-10", "410-01"),
    ],
)
def test_neighbours_are_no_travel(first: str, second: str) -> None:
    idx = index(loc(0, first), loc(30 * M, second))
    assert facts(idx, 31 * M) is NO_RISK


def test_only_consecutive_updates_pair_up() -> None:
    # CN -> GB in 40 min is impossible; GB -> GB later is not; CN (0:00) and GB (3:00) are not consecutive.
    idx = index(loc(0, "460-00"), loc(40 * M, "234-10"), loc(3 * H, "234-10"))
    assert anomalies(facts(idx, 3 * H)) == [("impossible_travel", 3 * H - 40 * M)]


def test_back_and_forth_gives_one_anomaly_per_hop() -> None:
    idx = index(loc(0, "460-00"), loc(30 * M, "234-10"), loc(H, "460-00"))
    assert anomalies(facts(idx, H)) == [("impossible_travel", 0.0), ("impossible_travel", 30 * M)]


def test_gt_only_location_takes_the_country_of_the_gt() -> None:
    idx = index(loc(0, "460-00"), loc(30 * M, msc_gt="+447953000001"))
    assert anomalies(facts(idx, 30 * M)) == [("impossible_travel", 0.0)]
    quiet = index(loc(0, "234-10"), loc(30 * M, vlr_gt="447953000001"))
    assert facts(quiet, 30 * M) is NO_RISK


def test_mcc_wins_over_the_gt() -> None:
    # A Chinese subscriber on a Chinese network reached through a UK GT: still China.
    idx = index(loc(0, "460-00"), loc(30 * M, "460-01", msc_gt="+447953000001"))
    assert facts(idx, 30 * M) is NO_RISK


def test_mcc_901_is_skipped() -> None:
    in_flight = index(loc(0, "460-00"), loc(30 * M, "901-18"), loc(H, "460-00"))
    assert facts(in_flight, H) is NO_RISK
    # Skipped, not a break: CN -> (in flight) -> GB within an hour is still impossible.
    hop = index(loc(0, "460-00"), loc(30 * M, "901-18", vlr_gt="+447953000001"), loc(H, "234-10"))
    assert anomalies(facts(hop, H)) == [("impossible_travel", 0.0)]


def test_out_of_order_location_updates_pair_by_occurred_at() -> None:
    idx = index(loc(0, "460-00"), loc(40 * M, "234-10"))
    # A late update from GB at 0:20 takes the anomaly: CN(0:00)->GB(0:20), GB(0:20)->GB(0:40).
    idx.apply(loc(20 * M, "234-10"))
    assert anomalies(facts(idx, H)) == [("impossible_travel", 40 * M)]


def test_watch_listed_network_is_untrusted() -> None:
    config = RiskConfig(watch_networks=frozenset({"250-99", "901"}))
    idx = index(loc(0, "250-99"), config=config)
    assert anomalies(facts(idx, M)) == [("untrusted_network", M)]
    whole_mcc = index(loc(0, "901-18"), config=config)
    assert anomalies(facts(whole_mcc, M)) == [("untrusted_network", M)]
    fine = index(loc(0, "250-01"), config=config)
    assert facts(fine, M) is NO_RISK


def test_network_outside_the_partner_list_is_untrusted() -> None:
    config = RiskConfig(
        roaming_partners=frozenset({"208-01", "262"}), home_networks=frozenset({"234-15"})
    )
    assert facts(index(loc(0, "234-15"), config=config), M) is NO_RISK
    assert facts(index(loc(0, "208-01"), config=config), M) is NO_RISK
    assert facts(index(loc(0, "262-07"), config=config), M) is NO_RISK
    assert anomalies(facts(index(loc(0, "208-10"), config=config), M)) == [("untrusted_network", M)]


def test_signalling_alert_is_a_routing_anomaly() -> None:
    idx = index(alert(0))
    assert anomalies(facts(idx, 20 * M)) == [("signalling_alert", 20 * M)]


def test_anomalies_are_youngest_first() -> None:
    config = RiskConfig(watch_networks=frozenset({"250-99"}))
    idx = index(alert(0), loc(10 * M, "234-10"), loc(20 * M, "250-99"), config=config)
    f = facts(idx, H)
    assert anomalies(f) == [
        ("impossible_travel", 40 * M),
        ("untrusted_network", 40 * M),
        ("signalling_alert", H),
    ]
    assert f.routing_anomaly == RoutingAnomaly("impossible_travel", 40 * M)


# -- clearances -------------------------------------------------------------------------


def _risky() -> list[Signal]:
    return [
        loc(0, "460-00", imsi=IMSI_1),
        swap(10 * M, imsi=IMSI_2),
        cfu(20 * M, True),
        loc(30 * M, "234-10", imsi=IMSI_3),
        alert(40 * M),
    ]


def test_clearance_of_each_scope_hides_only_its_own_signals() -> None:
    now = H
    base = facts(index(*_risky()), now)
    assert base.sim_swap_age_s == 30 * M and base.cf_unconditional_active
    assert len(base.routing_anomalies) == 2

    ss = facts(index(*_risky(), clear(50 * M, "sim_swap")), now)
    assert (ss.sim_swap_age_s, ss.sim_swap_reason) == (None, None)
    assert ss.cf_unconditional_active and ss.routing_anomalies == base.routing_anomalies

    cf_index = index(*_risky(), cfu(25 * M, True, service="cfb"), clear(50 * M, "call_forwarding"))
    cf = facts(cf_index, now)
    assert (cf.cf_unconditional_active, cf.cfu_changed_age_s) == (False, None)
    assert cf.sim_swap_age_s == base.sim_swap_age_s
    assert cf_index.forwarding(A) == ()  # conditional forwarding is of the scope too
    cf_index.apply(cfu(55 * M, True, service="cfnry"))
    assert cf_index.forwarding(A) == ("cfnry",)

    rt = facts(index(*_risky(), clear(50 * M, "routing")), now)
    assert rt.routing_anomalies == ()
    assert rt.sim_swap_age_s == base.sim_swap_age_s and rt.cf_unconditional_active

    assert facts(index(*_risky(), clear(50 * M, "all")), now) is NO_RISK


def test_clearance_hides_only_what_occurred_before_it() -> None:
    idx = index(*_risky(), clear(25 * M, "all"))
    f = facts(idx, H)
    assert (f.sim_swap_age_s, f.sim_swap_reason) == (30 * M, "imsi_mismatch")
    assert (f.cf_unconditional_active, f.cfu_changed_age_s) == (False, None)
    assert anomalies(f) == [("signalling_alert", 20 * M), ("impossible_travel", 30 * M)]


def test_a_signal_at_the_clearance_instant_is_not_hidden() -> None:
    assert facts(index(swap(H), clear(H, "sim_swap")), 2 * H).sim_swap_age_s == H


def test_swap_after_a_clearance_is_reported() -> None:
    idx = index(swap(0), clear(5 * M, "sim_swap"), swap(D))
    assert facts(idx, D + M).sim_swap_age_s == M


def test_late_signal_older_than_a_clearance_stays_hidden() -> None:
    idx = index(clear(H, "all"))
    idx.apply(swap(0))
    idx.apply(cfu(10 * M, True))
    idx.apply(alert(20 * M))
    assert facts(idx, 2 * H) is NO_RISK


def test_late_clearance_hides_what_came_before_it() -> None:
    idx = index(swap(0), alert(10 * M))
    idx.apply(clear(H, "all"))
    assert facts(idx, 2 * H) is NO_RISK


def test_cfu_still_active_after_a_clearance_is_reported_without_a_change() -> None:
    idx = index(cfu(0, True), clear(H, "call_forwarding"), cfu(2 * H, True))
    f = facts(idx, 3 * H)
    assert (f.cf_unconditional_active, f.cfu_changed_age_s) == (True, None)


def test_clearance_keeps_the_imsi_known() -> None:
    idx = index(
        loc(0, "234-15", imsi=IMSI_1), loc(H, "234-15", imsi=IMSI_2), clear(2 * H, "sim_swap")
    )
    idx.apply(loc(3 * H, "234-15", imsi=IMSI_2))
    assert facts(idx, 4 * H) is NO_RISK
    idx.apply(loc(5 * H, "234-15", imsi=IMSI_3))
    assert facts(idx, 6 * H).sim_swap_age_s == H


# -- bounds and rebuilds ----------------------------------------------------------------


def test_bounded_history_keeps_the_newest() -> None:
    config = RiskConfig(max_cfu_states=2, max_locations=3, max_anomaly_times=2)
    idx = index(*[cfu(i * H, i % 2 == 0, f"+44770090{i:04d}") for i in range(10)], config=config)
    f = facts(idx, 10 * H)
    assert (f.cf_unconditional_active, f.cfu_changed_age_s) == (False, 2 * H)
    alerts = index(*[alert(i * M) for i in range(10)], config=config)
    assert anomalies(facts(alerts, 10 * M)) == [
        ("signalling_alert", M),
        ("signalling_alert", 2 * M),
    ]


def test_rebuild_in_shuffled_order_equals_the_original() -> None:
    rng = random.Random(7)
    signals = _random_history(rng, numbers=40, per_number=25)
    original = index(*signals)
    for _ in range(5):
        shuffled = signals[:]
        rng.shuffle(shuffled)
        rebuilt = RiskIndex(RiskConfig())
        rebuilt.apply_all(shuffled)
        assert rebuilt == original
        _assert_same_facts(original, rebuilt, {s.msisdn for s in signals})


def _assert_same_facts(a: RiskIndex, b: RiskIndex, numbers: set[str]) -> None:
    for number in numbers:
        assert a.forwarding(number) == b.forwarding(number)
        for now in (0.0, H, 6 * H, D, 3 * D):
            assert a.facts(number, T0 + now) == b.facts(number, T0 + now)


_NETWORKS = ("460-00", "234-10", "208-01", "214-07", "310-410", "311-480", "901-18", "250-99")
_CONFIG = RiskConfig(
    watch_networks=frozenset({"250-99"}),
    max_cfu_states=3,
    max_locations=4,
    max_anomaly_times=3,
    anomaly_horizon_s=6 * H,
)


def _one_signal(rng: random.Random, number: str, i: int) -> Signal:
    at = rng.randrange(0, 48) * 15 * M
    imsi = rng.choice((IMSI_1, IMSI_2, IMSI_3))
    eid = {"event_id": f"{number}-{i}"} if rng.random() < 0.5 else {}
    roll = rng.random()
    if roll < 0.45:
        return loc(at, rng.choice(_NETWORKS), msisdn=number, imsi=imsi, **eid)
    if roll < 0.5:
        return loc(at, msisdn=number, vlr_gt=rng.choice(("+447953000001", "+8613900000000")), **eid)
    if roll < 0.6:
        return swap(at, msisdn=number, imsi=imsi, **eid)
    if roll < 0.8:
        active = rng.random() < 0.6
        to = rng.choice(("+447700900123", "+525599999999")) if active else None
        service = rng.choice(("cfu", "cfu", "cfb", "cfnry", "cfnrc"))
        return cfu(at, active, to, msisdn=number, service=service, **eid)
    if roll < 0.9:
        return alert(at, msisdn=number, **eid)
    return clear(
        at, rng.choice(("sim_swap", "call_forwarding", "routing", "all")), msisdn=number, **eid
    )


def _random_history(rng: random.Random, *, numbers: int, per_number: int) -> list[Signal]:
    out = []
    for n in range(numbers):
        number = f"+4474001{n:05d}"
        out += [_one_signal(rng, number, i) for i in range(rng.randrange(1, per_number))]
    return out


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), order=st.randoms(use_true_random=False))
def test_any_order_gives_the_same_index(seed: int, order: random.Random) -> None:
    rng = random.Random(seed)
    signals = [_one_signal(rng, A, i) for i in range(rng.randrange(1, 30))]
    signals += [_one_signal(rng, B, i) for i in range(rng.randrange(0, 10))]
    reference = RiskIndex(_CONFIG)
    reference.apply_all(sorted(signals, key=lambda s: s.occurred_at))
    shuffled = signals[:]
    order.shuffle(shuffled)
    again = RiskIndex(_CONFIG)
    again.apply_all(shuffled + shuffled[: len(shuffled) // 2])  # with repeats
    assert again == reference
    _assert_same_facts(reference, again, {A, B})


def test_one_shard_with_churn_gives_the_same_index_as_the_default_table() -> None:
    # Everything in one shard: insertions between numbers, states rewritten elsewhere in the
    # area, compactions, removals; the facts and the stored states must not notice.
    rng = random.Random(11)
    signals = _random_history(rng, numbers=60, per_number=30)
    reference = RiskIndex(_CONFIG)
    reference.apply_all(sorted(signals, key=lambda s: s.occurred_at))
    for _ in range(3):
        rng.shuffle(signals)
        packed = RiskIndex(_CONFIG, states=StateTable(shard_bits=0))
        packed.apply_all(signals + signals[::3])
        assert packed == reference
        _assert_same_facts(reference, packed, {s.msisdn for s in signals})


def test_forget_then_signals_again_and_a_reload_in_any_order() -> None:
    rng = random.Random(12)
    signals = _random_history(rng, numbers=30, per_number=20)
    numbers = sorted({s.msisdn for s in signals})
    gone = numbers[::2]
    # The erased numbers' signals delivered again, event ids and all: the store forgot
    # those ids with the number and stores them again, so the index takes them too and
    # ends where it began. Other numbers' ids are still remembered.
    again = [s for s in signals if s.msisdn in gone]
    kept_ids = [s for s in signals if s.msisdn not in gone and s.event_id is not None]
    reference = index(*signals, config=_CONFIG)
    idx = RiskIndex(_CONFIG, states=StateTable(shard_bits=0))
    idx.apply_all(signals)
    for number in gone:
        assert idx.forget(int(number)) is True
        assert idx.forget(int(number)) is False
        assert idx.state_of(int(number)) is None
        assert idx.facts(number, T0 + H) is NO_RISK
    assert len(idx) == len(numbers) - len(gone)
    assert kept_ids and not any(idx.apply(s) for s in kept_ids)  # still known repeats
    idx.apply_all(again)
    assert idx == reference
    keys = [int(n) for n in numbers]
    rng.shuffle(keys)
    reloaded = RiskIndex(_CONFIG)
    for key in keys:
        state = idx.state_of(key)
        assert state is not None
        reloaded.load_state(key, state)
    assert reloaded == idx


# -- configuration ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_travel_s": -1}, "min_travel_s"),
        ({"anomaly_horizon_s": 0}, "anomaly_horizon_s"),
        ({"imsi_allow_prefixes": ("2341x",)}, "imsi_allow_prefixes"),
        ({"watch_networks": frozenset({"23415"})}, "watch_networks"),
        ({"roaming_partners": frozenset({"208-1"})}, "roaming_partners"),
        ({"home_networks": frozenset({"abc"})}, "home_networks"),
        ({"max_locations": 0}, "max_locations"),
        # The cfu count shares its byte with the conditional forwarding flag.
        ({"max_cfu_states": 127}, "max_cfu_states"),
    ],
)
def test_bad_config_is_refused_with_the_key(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RiskConfig(**kwargs)


def test_fast_fact_constructors_match_the_dataclasses() -> None:
    # The index fills RiskFacts' slots directly (a third of the frozen __init__'s cost); if
    # policies/facts.py gains or renames a field, the index must fall back, not half-build.
    from gateway.signals import risk_index

    assert risk_index._risk_facts is not RiskFacts, "fast path disabled: RiskFacts fields changed"
    anomaly = risk_index._routing_anomaly("signalling_alert", 2.0)
    assert anomaly == RoutingAnomaly("signalling_alert", 2.0)
    built = risk_index._risk_facts(1.0, "sim_swap", True, 3.0, (anomaly,))
    assert built == RiskFacts(1.0, "sim_swap", True, 3.0, (anomaly,))
    assert hash(built) == hash(RiskFacts(1.0, "sim_swap", True, 3.0, (anomaly,)))
    assert built.routing_anomaly == anomaly


def test_allow_list_and_watch_list_keep_any_order_equal() -> None:
    config = RiskConfig(
        imsi_allow_prefixes=("2341500000000",),
        watch_networks=frozenset({"250-99"}),
        roaming_partners=frozenset({"208", "214-07"}),
        home_networks=frozenset({"234-10"}),
        max_locations=3,
    )
    rng = random.Random(5)
    signals = _random_history(rng, numbers=30, per_number=30)
    reference = RiskIndex(config)
    reference.apply_all(sorted(signals, key=lambda s: s.occurred_at))
    for _ in range(3):
        rng.shuffle(signals)
        again = RiskIndex(config)
        again.apply_all(signals)
        assert again == reference


# -- the shared scenarios ---------------------------------------------------------------

_SCENARIOS = Path(__file__).resolve().parents[3] / "shared" / "scenarios"
# Good enough to tell the scenarios' OTPs from their other messages; the real classifier is
# the policies package's business.
_LOOKS_LIKE_OTP = re.compile(r"code|código|验证码|one-time", re.IGNORECASE)


def _default_policy_rule(f: RiskFacts) -> int:
    """The row of DESIGN.md's default policy table an OTP with these facts matches."""
    if f.sim_swap_age_s is not None and f.sim_swap_age_s < D:
        return 1
    if f.cf_unconditional_active and f.cfu_changed_age_s is not None and f.cfu_changed_age_s < D:
        return 2
    if any(a.age_s < H for a in f.routing_anomalies):
        return 3
    if f.sim_swap_age_s is not None and f.sim_swap_age_s < 7 * D:
        return 4
    if f.cf_unconditional_active:
        return 5
    return 6


@pytest.mark.parametrize(
    "path", sorted(_SCENARIOS.glob("*.jsonl")) if _SCENARIOS.is_dir() else [], ids=lambda p: p.stem
)
def test_shared_scenarios_get_the_facts_their_expectations_need(path: Path) -> None:
    idx = RiskIndex(RiskConfig())
    checked = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        step = json.loads(line)
        now = datetime.fromisoformat(step["at"].replace("Z", "+00:00")).timestamp()
        if "signal" in step:
            idx.apply(parse_signal(step["signal"], default_region=None))
            continue
        submit, expect = step["submit"], step.get("expect")
        notify = step.get("expect_notify", [])
        rule = _default_policy_rule(idx.facts(submit["destination_addr"], now))
        if expect == "hold":
            assert rule in (1, 2, 3), f"line {number}"
        elif "risk.sim_swap" in notify:
            assert rule == 4, f"line {number}"
        elif "risk.call_forwarding" in notify:
            assert rule == 5, f"line {number}"
        elif expect == "deliver" and _LOOKS_LIKE_OTP.search(submit.get("text", "")):
            assert rule == 6, f"line {number}"
        else:
            continue
        checked += 1
    assert checked
