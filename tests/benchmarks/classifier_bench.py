"""Classifier and policy decision cost per message, on a mixed corpus of the 13 language tables.

    python -m tests.benchmarks.classifier_bench

Prints µs per message (median, p99) for ``classify`` alone and for the whole decision
(classify + risk facts + default policy, as the live path runs it), against a baseline
measured in the same run: lower-casing the text and one regex search. Asserts nothing.
"""

from __future__ import annotations

import re
import statistics
import time

from gateway.signals.model import parse_signal
from gateway.signals.risk_index import RiskIndex
from gateway.traffic.decider import Decider, PolicyHolder
from policies.classifier import classify
from policies.policy_file import load_default_policy
from tests.unit.test_classifier_languages import NON_OTPS, OTPS

ROUNDS = 200


def corpus() -> list[str]:
    texts = [text for cases in OTPS.values() for text, _ in cases]
    texts += [text for cases in NON_OTPS.values() for text in cases]
    return texts


def measure(fn, texts: list[str]) -> list[float]:
    samples = []
    for _ in range(ROUNDS):
        for text in texts:
            started = time.perf_counter_ns()
            fn(text)
            samples.append((time.perf_counter_ns() - started) / 1000)
    return samples


def summary(name: str, samples: list[float], baseline: float | None = None) -> float:
    samples.sort()
    median = statistics.median(samples)
    p99 = samples[int(len(samples) * 0.99)]
    ratio = f"  ({median / baseline:.1f} x baseline)" if baseline else ""
    print(f"  {name:<44} median {median:6.2f} us   p99 {p99:6.2f} us{ratio}")
    return median


def main() -> None:
    texts = corpus()
    index = RiskIndex()
    now = time.time()
    risky = "+447400123123"
    index.apply(
        parse_signal(
            {"kind": "sim_swap", "msisdn": risky, "occurred_at": "2026-11-25T00:00:00Z"},
            default_region=None,
        )
    )
    decider = Decider(PolicyHolder(load_default_policy()), index)
    probe = re.compile(r"[0-9]{4,8}")

    def baseline(text: str) -> object:
        return probe.search(text.lower())

    def decide(destination: str):
        def run(text: str) -> object:
            return decider.decide(
                account="bank", source_addr="Bank", destination_addr=destination, text=text, now=now
            )

        return run

    print(f"classifier and decision, {len(texts)} messages in 13 language tables x {ROUNDS} rounds")
    base = summary("baseline: lower() + one regex search", measure(baseline, texts))
    summary("classify", measure(classify, texts), base)
    summary(
        "decide (classify + facts + default policy), clean",
        measure(decide("447400999888"), texts),
        base,
    )
    summary("decide, destination with a SIM swap", measure(decide(risky[1:]), texts), base)


if __name__ == "__main__":
    main()
