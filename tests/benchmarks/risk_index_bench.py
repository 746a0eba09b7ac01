"""Risk index benchmark: look-up cost, memory per tracked subscriber, rebuild time.

    python -m tests.benchmarks.risk_index_bench [--subscribers 1000000] [--lookups 200000]
        [--conditional 0.3]

Prints figures; asserts nothing about time. The signals are built directly (the rebuild from
the store hands the index already-validated records); the mix is one home-network location
update with an IMSI per subscriber, a second one for most, and a few percent of swaps, IMSI
changes, call forwards, impossible travels, firewall alerts and clearances. ``--conditional``
adds conditional forwarding (no reply, to voicemail) for that fraction of the subscribers.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections.abc import Iterator
from statistics import median

from gateway.signals.model import (
    CallForwarding,
    Clearance,
    LocationUpdate,
    Signal,
    SignallingAlert,
    SimSwap,
)
from gateway.signals.risk_index import RiskConfig, RiskIndex

T0 = 1_772_323_200.0
H = 3600.0


def msisdn(i: int) -> str:
    return f"+86138{i:08d}"


def signals_for(i: int, rng: random.Random, conditional: float = 0.0) -> Iterator[Signal]:
    number = msisdn(i)
    imsi = f"46000{i:010d}"
    at = T0 + rng.random() * 20 * H
    yield LocationUpdate(
        msisdn=number, occurred_at=at, serving_mcc_mnc="460-00", imsi=imsi, country="CN"
    )
    if rng.random() < 0.6:
        at2 = at + rng.random() * 4 * H
        yield LocationUpdate(
            msisdn=number, occurred_at=at2, serving_mcc_mnc="460-00", imsi=imsi, country="CN"
        )
    roll = rng.random()
    later = at + 5 * H
    if roll < 0.02:
        yield SimSwap(
            msisdn=number,
            occurred_at=later,
            imsi=f"46001{i:010d}",
            previous_imsi=imsi,
            event_id=f"s{i}",
        )
    elif roll < 0.03:
        yield LocationUpdate(
            msisdn=number,
            occurred_at=later,
            serving_mcc_mnc="460-00",
            imsi=f"46002{i:010d}",
            country="CN",
        )
    elif roll < 0.035:
        yield CallForwarding(
            msisdn=number,
            occurred_at=later,
            service="cfu",
            active=True,
            forwarded_to="+8613900000000",
        )
    elif roll < 0.04:
        yield LocationUpdate(
            msisdn=number, occurred_at=later, serving_mcc_mnc="234-10", imsi=imsi, country="GB"
        )
    elif roll < 0.042:
        yield SignallingAlert(msisdn=number, occurred_at=later, category="hostile_update_location")
    elif roll < 0.043:
        yield SimSwap(msisdn=number, occurred_at=later, reason="swap")
        yield Clearance(msisdn=number, occurred_at=later + 60, scope="sim_swap")
    # Drawn only when asked for: without it the mix is the same signal for signal as before.
    if conditional and rng.random() < conditional:
        yield CallForwarding(
            msisdn=number,
            occurred_at=at,
            service="cfnry",
            active=True,
            forwarded_to="+8613800138000",
        )


def all_signals(n: int, seed: int = 1, conditional: float = 0.0) -> Iterator[Signal]:
    rng = random.Random(seed)
    for i in range(n):
        yield from signals_for(i, rng, conditional)


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def deep_size(idx: RiskIndex) -> int:
    """Bytes held by the index's state table (every shard's arrays and state area, garbage
    included) and its dict of summaries (keys and tuples walked one level)."""
    table = idx._states
    total = sys.getsizeof(table._shards) + sys.getsizeof(idx._risky)
    for shard in table._shards:
        if shard is not None:
            total += sys.getsizeof(shard)
            total += sum(map(sys.getsizeof, (shard.keys, shard.offsets, shard.lengths, shard.data)))
    for key, summary in idx._risky.items():
        total += sys.getsizeof(key) + sys.getsizeof(summary)
        for item in summary:
            if isinstance(item, float):
                total += sys.getsizeof(item)
            elif isinstance(item, tuple):
                total += sys.getsizeof(item) + sum(sys.getsizeof(a) + 24 for a in item)
    return total


def lookup_ns(idx: RiskIndex, numbers: list[str], now: float) -> list[float]:
    """Nanoseconds per facts() call, one call timed at a time, the timer's own cost removed."""
    clock = time.perf_counter_ns
    facts = idx.facts
    overhead = []
    for _ in range(20000):
        t0 = clock()
        t1 = clock()
        overhead.append(t1 - t0)
    base = median(overhead)
    out = []
    for number in numbers:
        t0 = clock()
        facts(number, now)
        t1 = clock()
        out.append(max(0.0, t1 - t0 - base))
    return out


def batch_ns(idx: RiskIndex, numbers: list[str], now: float) -> float:
    facts = idx.facts
    t0 = time.perf_counter_ns()
    for number in numbers:
        facts(number, now)
    return (time.perf_counter_ns() - t0) / len(numbers)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=200_000)
    parser.add_argument("--conditional", type=float, default=0.0)
    args = parser.parse_args()
    n = args.subscribers

    print(f"risk index benchmark: {n:,} subscribers, Python {sys.version.split()[0]}")
    signals = list(all_signals(n, conditional=args.conditional))
    print(f"  signals: {len(signals):,} ({len(signals) / n:.2f} per subscriber)")

    gc.collect()
    rss0 = rss_bytes()
    idx = RiskIndex(RiskConfig())
    t0 = time.perf_counter()
    idx.apply_all(signals)
    rebuild_s = time.perf_counter() - t0
    gc.collect()
    rss1 = rss_bytes()
    print(
        f"  rebuild (apply all): {rebuild_s:.2f} s, {rebuild_s / len(signals) * 1e6:.2f} µs per signal"
    )
    print(f"  tracked: {len(idx):,}, with something to report: {idx.risky_count:,}")

    shuffled = signals[:]
    random.Random(2).shuffle(shuffled)
    gc.collect()
    rss2 = rss_bytes()
    again = RiskIndex(RiskConfig())
    t0 = time.perf_counter()
    again.apply_all(shuffled)
    shuffled_s = time.perf_counter() - t0
    gc.collect()
    rss3 = rss_bytes()  # after the build: what it used for itself must have been released
    print(f"  rebuild in shuffled order: {shuffled_s:.2f} s, equal to in-order: {again == idx}")
    print(
        f"  memory (RSS growth, shuffled build, measured after it): {(rss3 - rss2) / len(again):.0f} B per tracked subscriber"
    )
    del again, shuffled, signals
    gc.collect()

    size = deep_size(idx)
    per = size / len(idx)
    print(f"  memory (sizeof walk, excl. event-id memory): {per:.0f} B per tracked subscriber")
    print(
        f"  memory (RSS growth while building, incl. event ids): {(rss1 - rss0) / len(idx):.0f} B per tracked subscriber"
    )
    print(f"  50 million tracked would need about {per * 50e6 / 2**30:.1f} GiB")

    # What a restart does: every stored state loaded in key order, no signal replayed.
    stored = [(key, idx.state_of(key)) for key in sorted(int(msisdn(i)[1:]) for i in range(n))]
    loaded = RiskIndex(RiskConfig())
    t0 = time.perf_counter()
    for key, blob in stored:
        assert blob is not None
        loaded.load_state(key, blob)
    load_s = time.perf_counter() - t0
    print(f"  rebuild from stored states (load_state): {load_s:.2f} s, equal: {loaded == idx}")
    del loaded, stored
    gc.collect()

    gc.freeze()
    rng = random.Random(3)
    now = T0 + 26 * H
    tracked = [msisdn(rng.randrange(n)) for _ in range(args.lookups)]
    untracked = [msisdn(n + rng.randrange(n)) for _ in range(args.lookups)]
    risky_keys = list(idx._risky)
    risky = [f"+{risky_keys[rng.randrange(len(risky_keys))]}" for _ in range(args.lookups)]
    for label, numbers in (
        ("untracked", untracked),
        ("tracked", tracked),
        ("tracked, risky", risky),
    ):
        batch_ns(idx, numbers[:10000], now)  # warm up
        per_call = lookup_ns(idx, numbers, now)
        print(
            f"  facts() {label:>15}: p50 {pct(per_call, 0.5):6.0f} ns  p99 {pct(per_call, 0.99):6.0f} ns"
            f"  p99.9 {pct(per_call, 0.999):7.0f} ns  (batch mean {batch_ns(idx, numbers, now):.0f} ns)"
        )

    # Live signals, one apply() at a time into the full index: a later location update of a
    # tracked number, one in ten for a number not tracked yet (merges included).
    live: list[Signal] = [
        LocationUpdate(
            msisdn=msisdn(rng.randrange(n) if rng.random() < 0.9 else n + rng.randrange(n)),
            occurred_at=T0 + 25 * H + i * 0.01,
            serving_mcc_mnc="460-00",
            country="CN",
        )
        for i in range(args.lookups)
    ]
    per_apply = apply_ns(idx, live)
    print(
        f"  apply() live, one at a time: p50 {pct(per_apply, 0.5):6.0f} ns  p99 {pct(per_apply, 0.99):6.0f} ns"
        f"  p99.9 {pct(per_apply, 0.999):7.0f} ns  max {max(per_apply) / 1000:.0f} µs"
        f"  (mean {sum(per_apply) / len(per_apply):.0f} ns)"
    )


def apply_ns(idx: RiskIndex, signals: list[Signal]) -> list[float]:
    clock = time.perf_counter_ns
    apply = idx.apply
    out = []
    for signal in signals:
        t0 = clock()
        apply(signal)
        out.append(float(clock() - t0))
    return out


if __name__ == "__main__":
    main()
