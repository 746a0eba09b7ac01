"""Broken policy files: each error names the file, the rule and the field."""

from __future__ import annotations

import pytest

from policies.decisions import Deliver, Hold, Reject
from policies.engine import evaluate
from policies.facts import MessageFacts, RiskFacts
from policies.policy_file import PolicyError, parse_policy

OK_RULE = '[[rules]]\nname = "all"\naction = "deliver"\n'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[rules]\n", "p.toml: not valid TOML"),
        ("[polcy]\n" + OK_RULE, "p.toml: unknown table 'polcy'"),
        ("[policy]\non_signal_outage = 'panic'\n" + OK_RULE, "[policy]: field 'on_signal_outage'"),
        (
            "[thresholds]\nswap = 'soon'\n" + OK_RULE,
            "[thresholds]: field 'swap': expected a duration",
        ),
        ("", "[[rules]]: expected at least one rule"),
        ('[[rules]]\naction = "deliver"\n', "rule #1: field 'name': required"),
        ('[[rules]]\nname = "r"\naction = "drop"\n', "rule 'r' (#1): field 'action'"),
        (
            '[[rules]]\nname = "r"\naction = "hold"\n',
            "rule 'r' (#1): field 'ttl': a hold needs a ttl",
        ),
        (
            '[[rules]]\nname = "r"\naction = "hold"\nttl = "ten minutes"\n',
            "rule 'r' (#1): field 'ttl': expected a duration",
        ),
        (
            '[[rules]]\nname = "r"\naction = "hold"\nttl = "10m"\non_expiry = "keep"\n',
            "field 'on_expiry'",
        ),
        (
            '[[rules]]\nname = "r"\naction = "deliver"\nttl = "10m"\n',
            "rule 'r' (#1): field 'ttl': only a hold",
        ),
        (
            '[[rules]]\nname = "r"\naction = "reject"\nstatus = "ESME_NOPE"\n',
            "rule 'r' (#1): field 'status'",
        ),
        (
            '[[rules]]\nname = "r"\naction = "deliver"\nnotify = ["otp.lost"]\n',
            "field 'notify': unknown event type 'otp.lost'",
        ),
        (
            '[[rules]]\nname = "r"\naction = "deliver"\nwhen = { is_otp = "yes" }\n',
            "field 'when.is_otp': expected true or false",
        ),
        (
            '[[rules]]\nname = "r"\naction = "deliver"\nwhen = { swap_age = "1h" }\n',
            "field 'when.swap_age': unknown condition",
        ),
        (
            '[[rules]]\nname = "r"\naction = "deliver"\nwhen = { sim_swap_age_lt = "recent" }\n',
            "field 'when.sim_swap_age_lt': unknown threshold 'recent'",
        ),
        (
            '[[rules]]\nname = "r"\naction = "deliver"\nwhen = { destination_country = ["GBR"] }\n',
            "field 'when.destination_country'",
        ),
        (
            '[[rules]]\nname = "r"\naction = "deliver"\ncolour = "red"\n',
            "rule 'r' (#1): field 'colour': unknown field",
        ),
        (OK_RULE + OK_RULE, "rule 'all': field 'name': used by more than one rule"),
    ],
)
def test_errors_name_file_rule_and_field(text: str, expected: str) -> None:
    with pytest.raises(PolicyError) as error:
        parse_policy(text, source="p.toml")
    assert str(error.value).startswith("p.toml")
    assert expected in str(error.value)


POLICY = parse_policy(
    """
[thresholds]
recent = "1h"
[[rules]]
name = "try-reject"
shadow = true
when = { is_otp = true, sim_swap_age_lt = "recent" }
action = "reject"
[[rules]]
name = "block-shop"
when = { account = ["shop"], source_addr = ["Promo*"] }
action = "reject"
status = "ESME_RX_P_APPN"
[[rules]]
name = "hold-uk"
when = { is_otp = true, destination_country = ["GB"], sim_swap_age_lt = "recent" }
action = "hold"
ttl = 300
on_expiry = "deliver"
tag = "uk"
[[rules]]
name = "rest"
action = "deliver"
""",
    source="t.toml",
)


def test_shadow_rules_are_reported_not_enforced() -> None:
    verdict = evaluate(
        POLICY,
        MessageFacts("bank", "B", "+33612345678", True, destination_country="FR"),
        RiskFacts(sim_swap_age_s=60),
    )
    assert verdict.action == Deliver() and verdict.rule == "rest"
    assert [(s.rule, s.action) for s in verdict.shadow] == [("try-reject", Reject())]
    assert verdict.rules == ("try-reject", "rest")


def test_first_match_wins_with_conditions_on_the_message() -> None:
    uk = MessageFacts("bank", "B", "+447400123123", True, destination_country="GB")
    assert evaluate(POLICY, uk, RiskFacts(sim_swap_age_s=60)).action == Hold(300.0, "deliver")
    shop = MessageFacts("shop", "PromoShop", "+447400123123", False)
    assert evaluate(POLICY, shop, RiskFacts()).action == Reject(0x65)
    assert evaluate(POLICY, MessageFacts("shop", "Shop", "+44", False), RiskFacts()).rule == "rest"


def test_reject_defaults_to_esme_rx_r_appn() -> None:
    policy = parse_policy('[[rules]]\nname = "no"\naction = "reject"\n', source="x.toml")
    assert evaluate(policy, MessageFacts("a", "b", "+1", False), RiskFacts()).action == Reject(0x66)
