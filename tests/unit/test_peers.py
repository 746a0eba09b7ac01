"""Peer facts without I/O: prefixes, cache, breaker, rate limit, answers, config, decisions."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.config_reader import ConfigError, Section
from gateway.peers.answers import BadAnswer, PeerFacts, latest_sim_change, unconditional_active
from gateway.peers.breaker import CLOSED, HALF_OPEN, OPEN, Breaker
from gateway.peers.cache import FactCache
from gateway.peers.client import refresh_after_s
from gateway.peers.config import PeerConfig, parse_number_ranges, parse_peers
from gateway.peers.directory import PeerDirectory
from gateway.peers.lookup import PeerLookups, PullFailure
from gateway.signals.model import parse_signal
from gateway.signals.risk_index import RiskIndex
from gateway.token_bucket import TokenBucket
from gateway.traffic.decider import Decider, PolicyHolder
from policies.decisions import Deliver, Hold
from policies.engine import CALL_FORWARDING, SIM_SWAP, facts_wanted, policy_peer_kinds
from policies.facts import MessageFacts
from policies.policy_file import PolicyError, load_default_policy, parse_policy

NOW = 1_800_000_000.0
OTP = "Your PayBank verification code is 482913. Never share it."
DEFAULT = load_default_policy()
BOTH = frozenset({SIM_SWAP, CALL_FORWARDING})


def peer(name: str = "opb", prefixes: tuple[str, ...] = ("+49151",), **over: Any) -> PeerConfig:
    return PeerConfig(name, "http://peer", "id", "secret", prefixes=prefixes, **over)


# -- which peer -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "owner"),
    [
        ("+4915112345678", "long"),
        ("+4915012345678", "short"),
        ("+4917012345678", None),
        ("+447400123123", None),
        ("+4915", None),  # the prefix itself is no number
    ],
)
def test_the_longest_prefix_names_the_peer(number: str, owner: str | None) -> None:
    directory = PeerDirectory([("+4915", "short"), ("+49151", "long")])
    assert directory.peer_for(number) == owner


# -- the cache --------------------------------------------------------------------------------


def test_the_cache_keeps_positive_and_negative_answers_for_their_own_ttls() -> None:
    cache = FactCache()
    cache.put(1, PeerFacts(NOW - 3600, False), BOTH, NOW, 600, 60)
    facts, missing = cache.get(1, BOTH, NOW + 59)
    assert facts == PeerFacts(NOW - 3600, False) and missing == frozenset()
    facts, missing = cache.get(1, BOTH, NOW + 61)  # forwarding (negative) expired
    assert facts.sim_changed_at == NOW - 3600 and missing == {CALL_FORWARDING}
    assert cache.get(1, BOTH, NOW + 601)[1] == BOTH
    assert cache.get(2, {SIM_SWAP}, NOW)[1] == {SIM_SWAP}
    cache.forget(1)  # an erasure
    assert cache.get(1, BOTH, NOW)[1] == BOTH


def test_the_cache_ages_a_sim_change_at_the_decisions_now() -> None:
    cache = FactCache()
    cache.put(1, PeerFacts(NOW - 100, True), BOTH, NOW, 600, 60)
    facts, _ = cache.get(1, BOTH, NOW + 50)
    risk = facts.risk(NOW + 50)
    assert risk.sim_swap_age_s == 150 and risk.cf_unconditional_active
    assert risk.cfu_changed_age_s is None  # CAMARA does not tell since when


def test_a_full_cache_drops_expired_then_oldest() -> None:
    cache = FactCache(max_entries=10)
    for key in range(10):
        cache.put(key, PeerFacts(), {SIM_SWAP}, NOW + key, 600, 5 if key < 3 else 600)
    cache.put(99, PeerFacts(), {SIM_SWAP}, NOW + 20, 600, 600)
    assert len(cache) <= 10
    assert cache.get(99, {SIM_SWAP}, NOW + 20)[1] == frozenset()
    assert cache.get(0, {SIM_SWAP}, NOW + 20)[1] == {SIM_SWAP}


# -- breaker and rate limit -------------------------------------------------------------------


def test_the_breaker_opens_after_consecutive_failures_and_tries_once_when_half_open() -> None:
    breaker = Breaker(failures=3, open_s=30)
    for _ in range(2):
        breaker.failed(NOW)
    breaker.succeeded()  # not consecutive any more
    for _ in range(3):
        assert breaker.allow(NOW)
        breaker.failed(NOW)
    assert breaker.state(NOW) == OPEN and not breaker.allow(NOW + 29)
    assert breaker.state(NOW + 30) == HALF_OPEN
    assert breaker.allow(NOW + 30) and not breaker.allow(NOW + 30)  # one trial
    breaker.failed(NOW + 31)  # the trial failed: open again
    assert breaker.state(NOW + 40) == OPEN and breaker.opened == 2
    assert breaker.allow(NOW + 61)
    breaker.succeeded()
    assert breaker.state(NOW + 61) == CLOSED and breaker.allow(NOW + 61)


def test_the_bucket_allows_the_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate_per_s=10, burst=3)
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(100.125) and not bucket.take(100.125)
    # A second at 100 a second: the burst, then one every tenth of a second.
    assert 12 <= sum(bucket.take(110 + i / 100) for i in range(100)) <= 13


def test_a_token_is_refreshed_before_it_expires() -> None:
    assert refresh_after_s(3600) == 3540
    assert refresh_after_s(10) == 7.5
    assert 0 < refresh_after_s(2) < 2


# -- CAMARA answers ---------------------------------------------------------------------------


def test_camara_answers_become_facts() -> None:
    assert latest_sim_change({"latestSimChange": "2027-01-15T08:00:00.000Z"}) == 1_800_000_000.0
    assert latest_sim_change({"latestSimChange": None, "monitoredPeriod": 30}) is None
    assert unconditional_active({"active": True}) is True
    for body in ({}, {"latestSimChange": 5}, {"latestSimChange": "yesterday"}, []):
        with pytest.raises(BadAnswer):
            latest_sim_change(body)
    with pytest.raises(BadAnswer):
        unconditional_active({"active": "yes"})


# -- configuration ----------------------------------------------------------------------------


def _peers(data: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> tuple[PeerConfig, ...]:
    monkeypatch.setenv("OPB_SECRET", "s3cret")
    root = Section("gw.toml", "", data)
    peers = parse_peers(
        root.tables("camara_peers"), parse_number_ranges(root.table("number_ranges"))
    )
    root.check()
    return peers


def _entry(**over: Any) -> dict[str, Any]:
    return {
        "name": "opb",
        "base_url": "https://api.opb.example/camara/",
        "client_id": "otpgate",
        "client_secret_env": "OPB_SECRET",
        "prefixes": ["+4917"],
        **over,
    }


def test_a_peer_is_read_with_its_ranges_and_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    (opb,) = _peers(
        {
            "camara_peers": [_entry(networks=["262-01"], timeout_ms=250)],
            "number_ranges": {"262-01": ["+49151", "+49160"]},
        },
        monkeypatch,
    )
    assert opb.prefixes == ("+4917", "+49151", "+49160")
    assert opb.client_secret == "s3cret" and "s3cret" not in repr(opb)
    assert opb.timeout_s == 0.25
    assert opb.token_url == "https://api.opb.example/camara/oauth2/token"
    assert opb.sim_swap_url == "https://api.opb.example/camara/sim-swap/v2"


@pytest.mark.parametrize(
    ("entry", "ranges", "message"),
    [
        (_entry(client_secret="x"), {}, "camara_peers[0].client_secret: secrets are never"),
        (_entry(networks=["262-02"]), {}, "camara_peers[0].networks[0]: no [number_ranges]"),
        (_entry(prefixes=["4917"]), {}, "camara_peers[0].prefixes[0]: expected an E.164"),
        (_entry(prefixes=[]), {}, "camara_peers[0].prefixes: the peer answers for no number"),
        (_entry(base_url="ftp://x"), {}, "camara_peers[0].base_url: expected an http(s) URL"),
        (_entry(timeout_ms=0), {}, "camara_peers[0].timeout_ms: must be greater than 0"),
        (_entry(client_id=""), {}, "camara_peers[0].client_id: required"),
        (_entry(bogus=1), {}, "camara_peers[0].bogus: unknown key"),
        (_entry(), {"26201": ["+49151"]}, "number_ranges.26201: expected an MCC-MNC"),
    ],
)
def test_config_errors_name_the_file_and_the_field(
    entry: dict[str, Any], ranges: dict[str, Any], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError) as error:
        _peers({"camara_peers": [entry], "number_ranges": ranges}, monkeypatch)
    assert f"gw.toml: {message}" in str(error.value)


def test_two_peers_cannot_share_a_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"camara_peers\[1\].prefixes: \+4917 is already"):
        _peers({"camara_peers": [_entry(), _entry(name="opc")]}, monkeypatch)


# -- the policy -------------------------------------------------------------------------------


def test_on_lookup_failure_defaults_to_hold_and_is_validated() -> None:
    rules = '[[rules]]\nname = "rest"\naction = "deliver"\n'
    assert isinstance(parse_policy(rules, source="p.toml").on_lookup_failure, Hold)
    assert isinstance(DEFAULT.on_lookup_failure, Hold)
    deliver = parse_policy('[policy]\non_lookup_failure = "deliver"\n' + rules, source="p.toml")
    assert isinstance(deliver.on_lookup_failure, Deliver)
    with pytest.raises(PolicyError, match=r"p.toml: \[policy\]: field 'on_lookup_failure'"):
        parse_policy('[policy]\non_lookup_failure = "drop"\n' + rules, source="p.toml")


def test_only_facts_a_peer_can_tell_are_wanted_and_only_for_an_otp() -> None:
    # Rule 2 needs a forwarding age (CAMARA has none); rules 1, 4 a swap, 5 forwarding.
    assert policy_peer_kinds(DEFAULT) == BOTH
    message = MessageFacts("bank", "Bank", "+4915112345678")
    verdict = DEFAULT.rules[-1]
    from policies.decisions import Verdict

    final = Verdict(verdict.action, verdict.name)
    assert facts_wanted(DEFAULT, message, final, lambda: 0.99) == BOTH
    assert facts_wanted(DEFAULT, message, final, lambda: 0.01) == frozenset()
    swap_only = parse_policy(
        '[[rules]]\nname = "a"\nwhen = { is_otp = true, sim_swap_age_lt = "1d" }\n'
        'action = "hold"\nttl = "1m"\n[[rules]]\nname = "b"\n'
        'when = { is_otp = true, cf_unconditional_active = true, account = "other" }\n'
        'action = "hold"\nttl = "1m"\n[[rules]]\nname = "rest"\naction = "deliver"\n',
        source="p.toml",
    )
    assert facts_wanted(swap_only, message, Verdict(Deliver(), "rest"), lambda: 0.99) == {SIM_SWAP}


# -- decisions --------------------------------------------------------------------------------


def _decider(policy: Any = DEFAULT) -> tuple[Decider, PeerLookups]:
    lookups = PeerLookups([peer(), peer("opc", ("+4917",), scopes=("sim-swap:retrieve-date",))])
    return Decider(PolicyHolder(policy), RiskIndex(), peers=lookups), lookups


def _decide(decider: Decider, destination: str, text: str = OTP, now: float = NOW) -> Any:
    return decider.decide(
        account="bank", source_addr="Bank", destination_addr=destination, text=text, now=now
    )


def test_a_peer_number_without_cached_facts_asks_for_a_lookup() -> None:
    decider, _ = _decider()
    decision = _decide(decider, "+4915112345678")
    assert decision.lookup is not None and decision.lookup.kinds == BOTH
    assert decision.lookup.peer == "opb" and decision.classification.is_otp
    # A peer whose scopes cover SIM Swap only is asked about that only.
    assert _decide(decider, "+4917012345678").lookup.kinds == {SIM_SWAP}


def test_clean_traffic_needs_no_lookup() -> None:
    decider, _ = _decider()
    assert _decide(decider, "+4915112345678", "Your statement is ready").lookup is None
    on_net = _decide(decider, "+447400123123")
    assert on_net.lookup is None and on_net.classification is None


def test_peer_facts_decide_like_local_facts_with_their_source_named() -> None:
    decider, lookups = _decider()
    pending = _decide(decider, "+4915112345678")
    final = decider.complete(pending, PeerFacts(NOW - 7200, False), NOW)
    assert isinstance(final.verdict.action, Hold) and final.verdict.rule == "hold-after-sim-swap"
    local = RiskIndex()
    local.apply(
        parse_signal(
            {"kind": "sim_swap", "msisdn": "+4915112345678", "occurred_at": "2027-01-15T06:00:00Z"},
            default_region=None,
        )
    )
    local_verdict = Decider(PolicyHolder(DEFAULT), local).decide(
        account="bank", source_addr="Bank", destination_addr="+4915112345678", text=OTP, now=NOW
    )
    assert final.verdict.reasons[0] == local_verdict.verdict.reasons[0]  # sim_swap_age, 7200 s
    assert final.verdict.reasons[-1].to_json() == {"fact": "facts_source", "value": "peer:opb"}
    # The puller caches the answer; the next OTP is decided from it, with no lookup.
    lookups.remember(pending.lookup, PeerFacts(NOW - 7200, False), NOW)
    again = _decide(decider, "+4915112345678", now=NOW + 10)
    assert again.lookup is None and again.verdict.rule == "hold-after-sim-swap"
    assert lookups.stats.cache_hits["opb"] == 1


def test_a_failed_lookup_follows_on_lookup_failure() -> None:
    decider, _ = _decider()
    pending = _decide(decider, "+4915112345678")
    final = decider.complete(pending, PullFailure("opb", "timeout"), NOW)
    assert isinstance(final.verdict.action, Hold) and final.verdict.rule == "on_lookup_failure"
    assert [r.to_json() for r in final.verdict.reasons] == [
        {"fact": "peer_lookup_failed", "value": "opb:timeout"}
    ]
    assert final.verdict.notify == ("otp.held",)
    deliver = parse_policy(
        '[policy]\non_lookup_failure = "deliver"\n[[rules]]\nname = "swap"\n'
        'when = { is_otp = true, sim_swap_age_lt = "1d" }\naction = "hold"\nttl = "1m"\n'
        '[[rules]]\nname = "rest"\naction = "deliver"\n',
        source="p.toml",
    )
    decider, _ = _decider(deliver)
    pending = _decide(decider, "+4915112345678")
    final = decider.complete(pending, PullFailure("opb", "circuit_open"), NOW)
    assert isinstance(final.verdict.action, Deliver) and final.verdict.rule == "on_lookup_failure"


# -- the simulator ----------------------------------------------------------------------------


def test_a_scenario_stubs_a_peers_answers() -> None:
    from pathlib import Path

    from gateway.simulate import Simulation

    lines = (Path(__file__).parent / "peer_scenario.jsonl").read_text().splitlines()
    outcomes = list(Simulation(DEFAULT).run(lines))
    assert [o.decision for o in outcomes] == ["hold", "deliver", "hold", "deliver", "hold"]
    assert all(not o.mismatches for o in outcomes)
    assert {"fact": "facts_source", "value": "peer:opb"} in outcomes[0].reasons
    assert outcomes[2].reasons == [{"fact": "peer_lookup_failed", "value": "opb:timeout"}]
    assert outcomes[4].rules == ["deliver", "on_lookup_failure"]  # no stub: no_answer
