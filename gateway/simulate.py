"""``otpgate simulate``: replay a scenario on a simulated clock through the live path's own parts.

Each line of the scenario (JSON Lines, time-ordered) is a signal or a submit; every submit
prints one JSON object with the decision, and the exit status says whether every
``expect`` and ``expect_notify`` held. No network, no config file.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from policies.decisions import Deliver, Hold, Reject
from policies.policy_file import Policy, load_default_policy, load_policy
from smpp_adapters.constants import ESM_CLASS_UDHI

from .peers.answers import BadAnswer, PeerFacts, latest_sim_change
from .peers.config import PeerConfig
from .peers.lookup import PeerLookups, PullFailure
from .signals.model import SignalRejected, parse_signal
from .signals.risk_index import RiskIndex
from .traffic.decider import Decider, PolicyHolder
from .traffic.reassembly import Reassembler

_DECISION_NAMES = {Deliver: "deliver", Hold: "hold", Reject: "reject"}


class ScenarioError(ValueError):
    """A line of the scenario is not valid; the message names the line."""


def _instant(value: Any, line: int) -> float:
    if not isinstance(value, str):
        raise ScenarioError(f"line {line}: 'at' must be an RFC 3339 time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise ScenarioError(f"line {line}: 'at': {error}") from None
    if moment.tzinfo is None:
        raise ScenarioError(f"line {line}: 'at' needs a zone")
    return moment.timestamp()


@dataclass
class Outcome:
    line: int
    decision: str
    rules: list[str]
    reasons: list[Any]
    notify: list[str]
    expect: str | None = None
    expect_notify: list[str] | None = None
    mismatches: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "line": self.line,
            "decision": self.decision,
            "rules": self.rules,
            "reasons": self.reasons,
            "notify": self.notify,
        }
        if self.mismatches:
            out["mismatch"] = self.mismatches
        return out


class Simulation:
    """Holds the index, the decider and the reassembly of one replay.

    Other operators are stubbed: ``{"peer": {"name", "prefixes"}}`` declares one, and
    ``{"peer_answer": {"peer", "phoneNumber", "latestSimChange"?, "active"?}}`` (or with
    ``"error": "<reason>"``) is what it answers about a number from then on. A lookup with
    no stub fails as ``no_answer``; answers are cached as live (default TTLs).
    """

    def __init__(self, policy: Policy) -> None:
        self.index = RiskIndex()
        self.policies = PolicyHolder(policy)
        self.decider = Decider(self.policies, self.index)
        self.reassembler = Reassembler()
        self.now = 0.0
        self.peers: dict[str, PeerConfig] = {}
        self.lookups = PeerLookups(())
        self.stubs: dict[tuple[str, str], PeerFacts | PullFailure] = {}

    def _peer(self, number: int, item: Any) -> None:
        prefixes = item.get("prefixes") if isinstance(item, dict) else None
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not isinstance(prefixes, list) or not prefixes:
            raise ScenarioError(f"line {number}: peer: needs 'name' and a list of 'prefixes'")
        self.peers[name] = PeerConfig(name, "", "", "", prefixes=tuple(map(str, prefixes)))
        # The cache carries over: a peer added later does not forget earlier answers.
        self.lookups = PeerLookups(self.peers.values(), self.lookups.cache)
        self.decider = Decider(self.policies, self.index, peers=self.lookups)

    def _peer_answer(self, number: int, item: Any) -> None:
        if not isinstance(item, dict) or item.get("peer") not in self.peers:
            raise ScenarioError(f"line {number}: peer_answer: 'peer' must name a declared peer")
        phone = item.get("phoneNumber")
        if not isinstance(phone, str) or not phone.startswith("+"):
            raise ScenarioError(f"line {number}: peer_answer: 'phoneNumber' in E.164")
        answer: PeerFacts | PullFailure
        if "error" in item:
            answer = PullFailure(item["peer"], str(item["error"]))
        else:
            try:
                changed = latest_sim_change({"latestSimChange": item.get("latestSimChange")})
            except BadAnswer as error:
                raise ScenarioError(f"line {number}: peer_answer: {error}") from None
            answer = PeerFacts(changed, bool(item.get("active", False)))
        self.stubs[(item["peer"], phone)] = answer

    def run(self, lines: Iterable[str]) -> Iterator[Outcome]:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                item = json.loads(raw)
            except json.JSONDecodeError as error:
                raise ScenarioError(f"line {number}: not JSON: {error}") from None
            if not isinstance(item, dict) or "at" not in item:
                raise ScenarioError(f"line {number}: expected an object with 'at'")
            at = _instant(item["at"], number)
            yield from self._advance(at)
            if "signal" in item:
                try:
                    self.index.apply(parse_signal(item["signal"], default_region=None))
                except SignalRejected as error:
                    raise ScenarioError(f"line {number}: signal rejected: {error}") from None
            elif "peer" in item:
                self._peer(number, item["peer"])
            elif "peer_answer" in item:
                self._peer_answer(number, item["peer_answer"])
            elif "submit" in item:
                yield from self._submit(number, item)
            else:
                raise ScenarioError(
                    f"line {number}: expected 'signal', 'submit', 'peer' or 'peer_answer'"
                )
        yield from self._advance(float("inf"))

    def _advance(self, at: float) -> Iterator[Outcome]:
        for parts in self.reassembler.expired(at):
            yield from self._decide_parts(parts, min(at, parts.deadline))
        if at != float("inf"):
            self.now = at

    def _submit(self, number: int, item: dict[str, Any]) -> Iterator[Outcome]:
        submit = item["submit"]
        if not isinstance(submit, dict):
            raise ScenarioError(f"line {number}: 'submit' must be an object")
        missing = [k for k in ("account", "source_addr", "destination_addr") if k not in submit]
        if missing:
            raise ScenarioError(f"line {number}: submit: missing {', '.join(missing)}")
        expect = item.get("expect")
        expect_notify = item.get("expect_notify")
        if "text" in submit:
            yield self._decide(number, submit, str(submit["text"]), expect, expect_notify, [number])
            return
        try:
            short_message = bytes.fromhex(submit.get("short_message_hex", ""))
        except ValueError:
            raise ScenarioError(f"line {number}: short_message_hex is not hex") from None
        if len(short_message) > 254:
            raise ScenarioError(f"line {number}: short_message over SMPP's 254 octets")
        data_coding = int(submit.get("data_coding", 0))
        esm_class = int(submit.get("esm_class", 0))
        udhi = bool(esm_class & ESM_CLASS_UDHI)
        # Imported here: only scenarios with raw octets need the TS 23.038 decoder.
        from smpp_adapters.text_decoding import decode_short_message

        decoded = decode_short_message(short_message, data_coding, udhi=udhi)
        concat = decoded.udh.concatenation if decoded.udh is not None else None
        if concat is None or concat.total <= 1:
            yield self._decide(number, submit, decoded.text, expect, expect_notify, [number])
            return
        key = (
            submit["account"],
            submit["source_addr"],
            submit["destination_addr"],
            concat.reference,
            concat.total,
        )
        complete = self.reassembler.add(
            key,
            concat.seqnum,
            (short_message, udhi),
            self.now,
            (number, submit, data_coding, expect, expect_notify),
        )
        if complete is not None:
            yield from self._decide_parts(complete, self.now)

    def _decide_parts(self, parts: Any, now: float) -> Iterator[Outcome]:
        from smpp_adapters.text_decoding import decode_concatenated

        metas = parts.metas
        first = metas[0]
        text = decode_concatenated(parts.bodies, first[2]) if parts.complete else None
        saved, self.now = self.now, now
        try:
            for number, submit, _, expect, expect_notify in metas:
                yield self._decide(
                    number, submit, text, expect, expect_notify, [m[0] for m in metas]
                )
        finally:
            self.now = saved

    def _decide(
        self,
        number: int,
        submit: dict[str, Any],
        text: str | None,
        expect: str | None,
        expect_notify: list[str] | None,
        lines: list[int],
    ) -> Outcome:
        decision = self.decider.decide(
            account=str(submit["account"]),
            source_addr=str(submit["source_addr"]),
            destination_addr=str(submit["destination_addr"]),
            text=text,
            now=self.now,
        )
        lookup = decision.lookup
        if lookup is not None:
            answer = self.stubs.get((lookup.peer, lookup.msisdn)) or PullFailure(
                lookup.peer, "no_answer"
            )
            if isinstance(answer, PeerFacts):
                self.lookups.remember(lookup, answer, self.now)
            decision = self.decider.complete(decision, answer, self.now)
        verdict = decision.verdict
        outcome = Outcome(
            line=number,
            decision=_DECISION_NAMES[type(verdict.action)],
            rules=list(verdict.rules),
            reasons=[r.to_json() if hasattr(r, "to_json") else r for r in verdict.reasons],
            notify=list(verdict.notify),
            expect=expect,
            expect_notify=expect_notify,
        )
        if expect is not None and expect != outcome.decision:
            outcome.mismatches.append(f"expected decision {expect!r}, got {outcome.decision!r}")
        if expect_notify is not None and sorted(expect_notify) != sorted(outcome.notify):
            outcome.mismatches.append(
                f"expected notify {sorted(expect_notify)}, got {sorted(outcome.notify)}"
            )
        return outcome


def simulate(scenario: Path, policy_path: Path | None = None, out: TextIO = sys.stdout) -> int:
    """Replay one scenario; 0 when every expectation held, 1 when one did not, 2 on a bad file."""
    try:
        policy = load_policy(policy_path) if policy_path else load_default_policy()
        lines = scenario.read_text(encoding="utf-8").splitlines()
        outcomes = list(Simulation(policy).run(lines))
    except (OSError, ValueError) as error:
        print(f"error: {scenario}: {error}", file=sys.stderr)
        return 2
    failed = 0
    for outcome in sorted(outcomes, key=lambda o: o.line):
        print(json.dumps(outcome.to_json(), ensure_ascii=False), file=out)
        failed += bool(outcome.mismatches)
    if failed:
        print(
            f"{scenario}: {failed} of {len(outcomes)} submits differ from their expectations",
            file=sys.stderr,
        )
    return 1 if failed else 0
