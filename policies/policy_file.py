"""Load and validate a policy file (TOML) into a compiled Policy; errors name file, rule and field.

Format (see policies/default.toml for a commented example):

    [policy]      name, on_signal_outage = "deliver" | "hold", outage_ttl, otp_threshold,
                  on_lookup_failure = "hold" | "deliver", lookup_failure_ttl
    [thresholds]  named durations ("90s", "10m", "24h", "7d", or seconds)
    [[rules]]     name, when = {...}, action = "deliver" | "hold" | "reject",
                  ttl + on_expiry (hold), status (reject), notify = [...], tag, shadow,
                  description

Conditions in ``when``: is_otp, otp_min_score (the rule's own threshold on the classifier's
score, 0 to 1; alone it means is_otp = true with that threshold), account, tenant, source_addr (globs), destination_country,
sim_swap_age_lt, cf_unconditional_active, cfu_changed_age_lt, routing_anomaly_age_lt,
routing_anomaly_reason. A rule without conditions matches every message.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from . import event_types
from .classifier import DEFAULT_THRESHOLD
from .decisions import DELIVER, ESME_RX_R_APPN, Action, Deliver, Hold, Reject

EVENT_TYPES = frozenset(event_types.EVENT_TYPES)
ROUTING_REASONS = frozenset({"impossible_travel", "untrusted_network", "signalling_alert"})
# Reject statuses by their SMPP 3.4 names (policies import nothing from smpp_adapters).
STATUS_NAMES = {
    "ESME_RX_R_APPN": 0x66,
    "ESME_RX_P_APPN": 0x65,
    "ESME_RX_T_APPN": 0x64,
    "ESME_RINVDSTADR": 0x0B,
    "ESME_RINVSRCADR": 0x0A,
    "ESME_RSUBMITFAIL": 0x45,
    "ESME_RSYSERR": 0x08,
    "ESME_RTHROTTLED": 0x58,
}
_RULE_KEYS = frozenset(
    {
        "name",
        "description",
        "when",
        "action",
        "ttl",
        "on_expiry",
        "status",
        "notify",
        "tag",
        "shadow",
    }
)
_WHEN_KEYS = frozenset(
    {
        "is_otp",
        "otp_min_score",
        "account",
        "tenant",
        "source_addr",
        "destination_country",
        "sim_swap_age_lt",
        "cf_unconditional_active",
        "cfu_changed_age_lt",
        "routing_anomaly_age_lt",
        "routing_anomaly_reason",
    }
)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|h|d)")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


# Released on expiry: a peer that cannot answer is no evidence of a swap.
LOOKUP_FAILURE_HOLD = Hold(600.0, "deliver")


class PolicyError(ValueError):
    """The policy file is invalid; the message names the file, the rule and the field."""


@dataclass(frozen=True, slots=True)
class Limit:
    """A duration limit, with the threshold name it came from (for explanations)."""

    seconds: float
    name: str | None


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    action: Action
    notify: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    shadow: bool = False
    is_otp: bool | None = None
    otp_min_score: float | None = None
    accounts: frozenset[str] | None = None
    tenants: frozenset[str] | None = None
    source_patterns: re.Pattern[str] | None = None
    destination_countries: frozenset[str] | None = None
    sim_swap_age_lt: Limit | None = None
    cf_unconditional_active: bool | None = None
    cfu_changed_age_lt: Limit | None = None
    routing_anomaly_age_lt: Limit | None = None
    routing_anomaly_reasons: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    source: str
    rules: tuple[Rule, ...]
    thresholds: dict[str, float]
    on_signal_outage: Action = DELIVER
    # The classifier's score from which a message counts as an OTP, unless a rule says.
    otp_threshold: float = DEFAULT_THRESHOLD
    # An OTP whose destination's operator (a CAMARA peer) could not be asked in time. Hold
    # by default: recall first, a missed swap costs the victim's money (docs/peers.md).
    on_lookup_failure: Action = LOOKUP_FAILURE_HOLD


def load_policy(path: str | Path) -> Policy:
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise PolicyError(f"{source}: cannot read: {error.strerror}") from error
    return parse_policy(text, source=source)


def load_default_policy() -> Policy:
    text = resources.files("policies").joinpath("default.toml").read_text(encoding="utf-8")
    return parse_policy(text, source="policies/default.toml")


def parse_policy(text: str, *, source: str) -> Policy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"{source}: not valid TOML: {error}") from None
    unknown = set(data) - {"policy", "thresholds", "rules"}
    if unknown:
        raise PolicyError(
            f"{source}: unknown table {sorted(unknown)[0]!r} (expected policy, thresholds, rules)"
        )
    header = _table(data.get("policy", {}), f"{source}: [policy]")
    _only(
        header,
        {
            "name",
            "version",
            "description",
            "on_signal_outage",
            "outage_ttl",
            "otp_threshold",
            "on_lookup_failure",
            "lookup_failure_ttl",
        },
        f"{source}: [policy]",
    )
    thresholds: dict[str, float] = {}
    for name, value in _table(data.get("thresholds", {}), f"{source}: [thresholds]").items():
        thresholds[name] = _duration(value, f"{source}: [thresholds]: field {name!r}")
    outage = header.get("on_signal_outage", "deliver")
    where = f"{source}: [policy]: field 'on_signal_outage'"
    if outage == "deliver":
        outage_action: Action = DELIVER
    elif outage == "hold":
        outage_action = Hold(
            _duration(header.get("outage_ttl", "10m"), f"{source}: [policy]: field 'outage_ttl'"),
            "deliver",
        )
    else:
        raise PolicyError(f"{where}: expected 'deliver' or 'hold', got {outage!r}")
    lookup_failure = header.get("on_lookup_failure", "hold")
    if lookup_failure == "deliver":
        lookup_action: Action = DELIVER
    elif lookup_failure == "hold":
        lookup_action = Hold(
            _duration(
                header.get("lookup_failure_ttl", "10m"),
                f"{source}: [policy]: field 'lookup_failure_ttl'",
            ),
            "deliver",
        )
    else:
        raise PolicyError(
            f"{source}: [policy]: field 'on_lookup_failure': expected 'hold' or 'deliver', "
            f"got {lookup_failure!r}"
        )
    otp_threshold = _score(
        header.get("otp_threshold", DEFAULT_THRESHOLD),
        f"{source}: [policy]: field 'otp_threshold'",
    )
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise PolicyError(f"{source}: [[rules]]: expected at least one rule")
    rules: list[Rule] = []
    for index, raw in enumerate(raw_rules, start=1):
        rules.append(_rule(raw, index, source, thresholds))
    names = [r.name for r in rules]
    for rule in rules:
        if names.count(rule.name) > 1:
            raise PolicyError(
                f"{source}: rule {rule.name!r}: field 'name': used by more than one rule"
            )
    return Policy(
        str(header.get("name", Path(source).stem)),
        source,
        tuple(rules),
        thresholds,
        outage_action,
        otp_threshold,
        lookup_action,
    )


def _rule(raw: Any, index: int, source: str, thresholds: dict[str, float]) -> Rule:
    if not isinstance(raw, dict):
        raise PolicyError(f"{source}: rule #{index}: expected a table")
    name = raw.get("name")
    label = (
        f"{source}: rule {name!r} (#{index})"
        if isinstance(name, str) and name
        else f"{source}: rule #{index}"
    )
    if not isinstance(name, str) or not name:
        raise PolicyError(f"{label}: field 'name': required, a non-empty string")
    _only(raw, _RULE_KEYS, label)

    def field(key: str) -> str:
        return f"{label}: field {key!r}"

    action_name = raw.get("action")
    if action_name not in ("deliver", "hold", "reject"):
        raise PolicyError(
            f"{field('action')}: expected 'deliver', 'hold' or 'reject', got {action_name!r}"
        )
    if action_name != "hold":
        for key in ("ttl", "on_expiry"):
            if key in raw:
                raise PolicyError(f"{field(key)}: only a hold has {key}")
    if action_name != "reject" and "status" in raw:
        raise PolicyError(f"{field('status')}: only a reject has a status")
    action: Action
    if action_name == "hold":
        if "ttl" not in raw:
            raise PolicyError(f"{field('ttl')}: a hold needs a ttl like '10m'")
        on_expiry = raw.get("on_expiry", "drop")
        if on_expiry not in ("drop", "deliver"):
            raise PolicyError(
                f"{field('on_expiry')}: expected 'drop' or 'deliver', got {on_expiry!r}"
            )
        action = Hold(_limit(raw["ttl"], field("ttl"), thresholds).seconds, on_expiry)
    elif action_name == "reject":
        action = Reject(_status(raw.get("status", ESME_RX_R_APPN), field("status")))
    else:
        action = Deliver()
    notify = _strings(raw.get("notify", []), field("notify"))
    for event in notify:
        if event not in EVENT_TYPES:
            raise PolicyError(
                f"{field('notify')}: unknown event type {event!r} (expected one of {', '.join(sorted(EVENT_TYPES))})"
            )
    tag = raw.get("tag", [])
    tags = (tag,) if isinstance(tag, str) else _strings(tag, field("tag"))
    shadow = raw.get("shadow", False)
    if not isinstance(shadow, bool):
        raise PolicyError(f"{field('shadow')}: expected true or false, got {shadow!r}")
    when = raw.get("when", {})
    if not isinstance(when, dict):
        raise PolicyError(f"{field('when')}: expected a table of conditions")
    for key in when:
        if key not in _WHEN_KEYS:
            raise PolicyError(
                f"{label}: field 'when.{key}': unknown condition (expected one of {', '.join(sorted(_WHEN_KEYS))})"
            )

    def cond(key: str) -> str:
        return f"{label}: field 'when.{key}'"

    reasons = when.get("routing_anomaly_reason")
    reason_set = (
        frozenset(_strings(reasons, cond("routing_anomaly_reason")))
        if reasons is not None
        else None
    )
    if reason_set is not None and not reason_set <= ROUTING_REASONS:
        raise PolicyError(
            f"{cond('routing_anomaly_reason')}: expected some of {', '.join(sorted(ROUTING_REASONS))}"
        )
    sources = when.get("source_addr")
    pattern = None
    if sources is not None:
        globs = _strings(sources, cond("source_addr"))
        pattern = re.compile("|".join(_glob(g) for g in globs), re.IGNORECASE)
    countries = when.get("destination_country")
    country_set = None
    if countries is not None:
        country_set = frozenset(c.upper() for c in _strings(countries, cond("destination_country")))
        if not all(re.fullmatch(r"[A-Z]{2}", c) for c in country_set):
            raise PolicyError(
                f"{cond('destination_country')}: expected ISO 3166 alpha-2 codes like 'GB'"
            )
    is_otp = _bool(when.get("is_otp"), cond("is_otp"))
    min_score = when.get("otp_min_score")
    if min_score is not None:
        min_score = _score(min_score, cond("otp_min_score"))
        if is_otp is None:
            is_otp = True
    return Rule(
        name=name,
        action=action,
        notify=notify,
        tags=tags,
        shadow=shadow,
        is_otp=is_otp,
        otp_min_score=min_score,
        accounts=_set(when.get("account"), cond("account")),
        tenants=_set(when.get("tenant"), cond("tenant")),
        source_patterns=pattern,
        destination_countries=country_set,
        sim_swap_age_lt=_optional_limit(
            when.get("sim_swap_age_lt"), cond("sim_swap_age_lt"), thresholds
        ),
        cf_unconditional_active=_bool(
            when.get("cf_unconditional_active"), cond("cf_unconditional_active")
        ),
        cfu_changed_age_lt=_optional_limit(
            when.get("cfu_changed_age_lt"), cond("cfu_changed_age_lt"), thresholds
        ),
        routing_anomaly_age_lt=_optional_limit(
            when.get("routing_anomaly_age_lt"), cond("routing_anomaly_age_lt"), thresholds
        ),
        routing_anomaly_reasons=reason_set,
    )


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PolicyError(f"{where}: expected a table")
    return value


def _only(table: dict[str, Any], allowed: frozenset[str] | set[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise PolicyError(
                f"{where}: field {key!r}: unknown field (expected one of {', '.join(sorted(allowed))})"
            )


def _duration(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise PolicyError(f"{where}: expected a duration like '10m', got {value!r}")
    if isinstance(value, int | float):
        if value <= 0:
            raise PolicyError(f"{where}: expected a positive duration, got {value!r}")
        return float(value)
    if isinstance(value, str):
        match = _DURATION.fullmatch(value.strip())
        if match and float(match.group(1)) > 0:
            return float(match.group(1)) * _UNIT_S[match.group(2)]
    raise PolicyError(f"{where}: expected a duration like '10m', got {value!r}")


def _limit(value: Any, where: str, thresholds: dict[str, float]) -> Limit:
    if isinstance(value, str) and value in thresholds:
        return Limit(thresholds[value], value)
    if (
        isinstance(value, str)
        and not _DURATION.fullmatch(value.strip())
        and re.fullmatch(r"[A-Za-z_][\w-]*", value)
    ):
        raise PolicyError(
            f"{where}: unknown threshold {value!r} (defined: {', '.join(sorted(thresholds)) or 'none'})"
        )
    return Limit(_duration(value, where), None)


def _optional_limit(value: Any, where: str, thresholds: dict[str, float]) -> Limit | None:
    return None if value is None else _limit(value, where, thresholds)


def _score(value: Any, where: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    raise PolicyError(f"{where}: expected a score from 0 to 1, got {value!r}")


def _status(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 0xFFFFFFFF:
        return value
    if isinstance(value, str) and value in STATUS_NAMES:
        return STATUS_NAMES[value]
    raise PolicyError(
        f"{where}: expected an SMPP status name ({', '.join(sorted(STATUS_NAMES))}) or a number, got {value!r}"
    )


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise PolicyError(f"{where}: expected a list of strings, got {value!r}")
    return tuple(value)


def _set(value: Any, where: str) -> frozenset[str] | None:
    return None if value is None else frozenset(_strings(value, where))


def _bool(value: Any, where: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise PolicyError(f"{where}: expected true or false, got {value!r}")


def _glob(pattern: str) -> str:
    return "(?:" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + r")\Z"
