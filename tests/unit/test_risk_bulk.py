"""apply_all's bulk path (sorted by number, each number written once per chunk) builds exactly
the index that apply() one signal at a time builds: in any order, with repeats, into an empty
or a filled index, on one shard and on many, with chunks small enough to split a number."""

from __future__ import annotations

import random

import pytest

from gateway.signals.model import Signal
from gateway.signals.risk_index import RiskIndex
from gateway.signals.state_table import StateTable
from tests.unit.test_risk_index import _CONFIG, _assert_same_facts, _random_history


def _one_by_one(signals: list[Signal], shard_bits: int = 12) -> tuple[RiskIndex, int]:
    idx = RiskIndex(_CONFIG, states=StateTable(shard_bits=shard_bits))
    changed = sum(1 for s in signals if idx.apply(s))
    return idx, changed


@pytest.mark.parametrize("shard_bits", [0, 3, 12])
@pytest.mark.parametrize("chunk", [1, 7, 2_000_000])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bulk_equals_one_by_one_in_any_order(shard_bits: int, chunk: int, seed: int) -> None:
    rng = random.Random(seed)
    signals = _random_history(rng, numbers=40, per_number=25)
    signals += signals[::4]  # repeats, with and without event ids
    rng.shuffle(signals)
    reference, changed = _one_by_one(signals, shard_bits)
    bulk = RiskIndex(_CONFIG, states=StateTable(shard_bits=shard_bits))
    assert bulk.apply_all(signals, chunk=chunk) == changed
    assert bulk == reference
    assert bulk.risky_count == reference.risky_count
    _assert_same_facts(reference, bulk, {s.msisdn for s in signals})
    # The states, byte for byte (what the store keeps).
    for s in signals:
        assert bulk.state_of(int(s.msisdn)) == reference.state_of(int(s.msisdn))


@pytest.mark.parametrize("shard_bits", [0, 12])
def test_bulk_into_a_filled_index_equals_one_by_one(shard_bits: int) -> None:
    # The second half lands on numbers already there (replaced) and new ones (inserted).
    rng = random.Random(5)
    signals = _random_history(rng, numbers=50, per_number=20)
    rng.shuffle(signals)
    half = len(signals) // 2
    reference, _ = _one_by_one(signals, shard_bits)
    bulk = RiskIndex(_CONFIG, states=StateTable(shard_bits=shard_bits))
    bulk.apply_all(signals[:half])
    bulk.apply_all(signals[half:], chunk=13)
    assert bulk == reference
    _assert_same_facts(reference, bulk, {s.msisdn for s in signals})


def test_bulk_then_live_apply_agree() -> None:
    rng = random.Random(6)
    signals = _random_history(rng, numbers=30, per_number=20)
    live = _random_history(random.Random(7), numbers=35, per_number=5)
    reference, _ = _one_by_one(signals + live)
    bulk = RiskIndex(_CONFIG)
    bulk.apply_all(signals)
    for s in live:
        bulk.apply(s)
    assert bulk == reference


def test_repeated_event_id_in_one_bulk_is_dropped_like_apply_drops_it() -> None:
    rng = random.Random(8)
    signals = [s for s in _random_history(rng, numbers=10, per_number=10) if s.event_id]
    reference, changed = _one_by_one(signals + signals)
    bulk = RiskIndex(_CONFIG)
    assert bulk.apply_all(signals + signals) == changed
    assert bulk == reference
    assert all(not bulk.apply(s) for s in signals)
