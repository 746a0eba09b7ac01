"""``otpgate policy check`` and ``otpgate policy explain``: the operator's view of a policy."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from policies.classifier import classify
from policies.engine import explain
from policies.policy_file import PolicyError, load_default_policy, load_policy

from .signals.model import SignalRejected, parse_signal
from .signals.risk_index import RiskIndex
from .traffic.decider import Decider, PolicyHolder


def check_policy(path: Path) -> int:
    try:
        policy = load_policy(path)
    except PolicyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(
        f"{path}: ok, {len(policy.rules)} rules: "
        + ", ".join(r.name + (" (shadow)" if r.shadow else "") for r in policy.rules)
    )
    return 0


def explain_message(args: argparse.Namespace) -> int:
    try:
        policy = load_policy(args.policy) if args.policy else load_default_policy()
        now = datetime.fromisoformat(args.at.replace("Z", "+00:00")).timestamp()
        index = RiskIndex()
        if args.signals:
            for line in Path(args.signals).read_text(encoding="utf-8").splitlines():
                if line.strip():
                    item = json.loads(line)
                    index.apply(parse_signal(item.get("signal", item), default_region=None))
    except (PolicyError, SignalRejected, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    decision = Decider(PolicyHolder(policy), index).decide(
        account=args.account,
        source_addr=args.source,
        destination_addr=args.to,
        text=args.text,
        now=now,
    )
    # Explained in full: the classifier's answer even where the live path would not ask it.
    classification = decision.classification or classify(args.text)
    print(
        f"is_otp: {classification.is_otp} (score {classification.score:.2f}"
        + (f", {classification.language}" if classification.language else "")
        + ")"
        + ("" if decision.classification else " - not needed for this decision")
    )
    print(explain(decision.verdict))
    return 0
