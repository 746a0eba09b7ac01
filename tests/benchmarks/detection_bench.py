"""Detection: the classifier's quality on the corpus and its cost per message.

    python -m tests.benchmarks.detection_bench [--rounds 20]

Prints, for the held-back side (sources the classifier was never tuned on) and the train
side: recall, code accuracy and false positives per language. Then µs per message (median,
p99) on the held-back texts for ``classify`` alone and for the whole decision as the live
path runs it (risk facts, default policy, and the classifier only when a rule needs it),
for a clean destination and for one with a SIM swap, against a baseline measured in the
same run: lower-casing the text and one regex search. Asserts nothing.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable

from gateway.signals.model import parse_signal
from gateway.signals.risk_index import RiskIndex
from gateway.traffic.decider import Decider, PolicyHolder
from policies.classifier import classify
from policies.policy_file import load_default_policy
from tests.corpus.corpus import classifier_judge, load, measure, side, table


def timings(fn: Callable[[str], object], texts: list[str], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
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
    print(f"  {name:<52} median {median:6.2f} us   p99 {p99:6.2f} us{ratio}")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    records = load()
    for name in ("heldout", "train"):
        chosen = side(records, name)
        print(f"\n{name} side: {len(chosen)} texts, {len({r.group for r in chosen})} sources")
        print(table(measure(chosen, classifier_judge())))

    texts = [r.text for r in side(records, "heldout")]
    index = RiskIndex()
    now = time.time()
    risky = "+447400123123"
    index.apply(
        parse_signal(
            {
                "kind": "sim_swap",
                "msisdn": risky,
                "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60)),
            },
            default_region=None,
        )
    )
    decider = Decider(PolicyHolder(load_default_policy()), index)
    probe = re.compile(r"[0-9]{4,8}")

    def baseline(text: str) -> object:
        return probe.search(text.lower())

    def decide(destination: str) -> Callable[[str], object]:
        def run(text: str) -> object:
            return decider.decide(
                account="bank", source_addr="Bank", destination_addr=destination, text=text, now=now
            )

        return run

    print(f"\ncost per message: {len(texts)} held-back texts x {args.rounds} rounds")
    base = summary("baseline: lower() + one regex search", timings(baseline, texts, args.rounds))
    summary("classify", timings(classify, texts, args.rounds), base)
    summary(
        "decide, clean destination (not classified)",
        timings(decide("447400999888"), texts, args.rounds),
        base,
    )
    summary(
        "decide, destination with a SIM swap (classified)",
        timings(decide(risky[1:]), texts, args.rounds),
        base,
    )


if __name__ == "__main__":
    main()
