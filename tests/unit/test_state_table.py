"""The packed state table behaves as a dict of key -> bytes, whatever its layout inside."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.signals.state_table import StateTable

BASE = 447_400_000_000  # E.164 digits as the index keys them


def blob(n: int, fill: int = 1) -> bytes:
    return bytes([fill % 256]) * n


def shard(table: StateTable, key: int) -> Any:
    found = table._shards[key & table._mask]
    assert found is not None
    return found


def assert_same(table: StateTable, model: dict[int, bytes]) -> None:
    assert len(table) == len(model)
    assert dict(table.items()) == model
    for key, value in model.items():
        assert table.get(key) == value
    for s in table._shards:
        if s is not None:
            assert list(s.keys) == sorted(s.keys)
            assert len(s.keys) == len(s.offsets) == len(s.lengths)
            live = sum(s.lengths)
            assert live + s.garbage == len(s.data)
            assert s.garbage * 3 <= len(s.data)  # compacted before garbage passes half the live


# -- as a mapping -----------------------------------------------------------------------


def test_empty_table_has_nothing() -> None:
    table = StateTable()
    assert len(table) == 0
    assert table.get(BASE) is None
    assert table.pop(BASE) is False
    assert list(table.items()) == []


@pytest.mark.parametrize("shard_bits", [0, 1, 4, 12])
@pytest.mark.parametrize("seed", range(6))
def test_random_operations_match_a_dict(shard_bits: int, seed: int) -> None:
    rng = random.Random(seed)
    table, model = StateTable(shard_bits=shard_bits), {}
    keys = [BASE + rng.randrange(400) for _ in range(120)]
    for step in range(3000):
        key = rng.choice(keys)
        roll = rng.random()
        if roll < 0.15:
            assert table.pop(key) is (model.pop(key, None) is not None)
        elif roll < 0.3:
            assert table.get(key) == model.get(key)
        else:
            value = blob(rng.choice((0, 1, 6, 16, 32, 42, 42, 52, 200)), step)
            if rng.random() < 0.5:
                table.get(key)  # a read first, as apply() does: the put reuses its search
            table.put(key, value)
            model[key] = value
        if step % 250 == 0:
            assert_same(table, model)
    assert_same(table, model)


@settings(max_examples=200, deadline=None)
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(("put", "get", "pop")),
            st.integers(0, 40),
            st.integers(0, 70),
        ),
        max_size=120,
    ),
    shard_bits=st.integers(0, 3),
)
def test_any_sequence_of_operations_matches_a_dict(
    ops: list[tuple[str, int, int]], shard_bits: int
) -> None:
    table, model = StateTable(shard_bits=shard_bits), {}
    for op, offset, size in ops:
        key = BASE + offset
        if op == "put":
            table.put(key, blob(size, offset + size))
            model[key] = blob(size, offset + size)
        elif op == "get":
            assert table.get(key) == model.get(key)
        else:
            assert table.pop(key) is (model.pop(key, None) is not None)
    assert_same(table, model)


def test_keys_below_above_and_between_keep_the_order() -> None:
    table = StateTable(shard_bits=0)
    for key, size in ((50, 4), (10, 3), (90, 5), (30, 2), (70, 1), (0, 6), (100, 7)):
        table.put(BASE + key, blob(size, key))
    assert [k - BASE for k, _ in table.items()] == [0, 10, 30, 50, 70, 90, 100]
    assert table.get(BASE + 30) == blob(2, 30)


def test_a_state_of_the_largest_size_fits_and_one_more_byte_is_refused() -> None:
    table = StateTable()
    table.put(BASE, blob(0xFFFF))
    assert table.get(BASE) == blob(0xFFFF)
    with pytest.raises(ValueError, match="over 65535"):
        table.put(BASE + 1, blob(0x10000))
    assert table.get(BASE + 1) is None and len(table) == 1


def test_clear_forgets_everything() -> None:
    table = StateTable()
    for i in range(100):
        table.put(BASE + i, blob(10, i))
    table.clear()
    assert len(table) == 0 and table.get(BASE) is None and list(table.items()) == []


# -- where the bytes go -----------------------------------------------------------------


def test_same_length_is_written_over_the_old_state() -> None:
    table = StateTable(shard_bits=0)
    for i in range(5):
        table.put(BASE + i, blob(10, i))
    table.put(BASE + 2, blob(10, 99))
    s = shard(table, BASE)
    assert (s.garbage, len(s.data)) == (0, 50)
    assert table.get(BASE + 2) == blob(10, 99)


def test_the_last_written_state_grows_and_shrinks_in_place() -> None:
    table = StateTable(shard_bits=0)
    table.put(BASE + 1, blob(10, 1))
    table.put(BASE + 2, blob(10, 2))
    table.put(BASE + 2, blob(20, 3))
    table.put(BASE + 2, blob(4, 4))
    s = shard(table, BASE)
    assert (s.garbage, len(s.data)) == (0, 14)
    assert table.get(BASE + 2) == blob(4, 4)


def test_a_changed_state_elsewhere_leaves_garbage_until_compaction() -> None:
    table = StateTable(shard_bits=0)
    for i in range(10):
        table.put(BASE + i, blob(10, i))
    s = shard(table, BASE)
    table.put(BASE + 3, blob(12, 33))  # 10 bytes of garbage, 112 in the area
    assert (s.garbage, len(s.data)) == (10, 112)
    for i in (5, 7, 1, 9):
        table.put(BASE + i, blob(12, 10 * i + i))
    assert (s.garbage, len(s.data)) == (50, 160)  # 50 * 3 <= 160: not yet
    table.put(BASE + 0, blob(12, 0))  # 60 * 3 > 172: compacted, in key order
    assert s.garbage == 0
    model = {BASE + i: blob(10, i) for i in range(10)}
    model.update({BASE + i: blob(12, 10 * i + i) for i in (3, 5, 7, 1, 9)} | {BASE: blob(12, 0)})
    assert bytes(s.data) == b"".join(model[k] for k in sorted(model))
    lengths = [len(model[k]) for k in sorted(model)]
    assert list(s.offsets) == [sum(lengths[:i]) for i in range(10)]
    assert_same(table, model)


def test_removing_the_last_written_state_truncates_and_others_leave_garbage() -> None:
    table = StateTable(shard_bits=0)
    for i in range(4):
        table.put(BASE + i, blob(10, i))
    s = shard(table, BASE)
    assert table.pop(BASE + 3) is True
    assert (s.garbage, len(s.data)) == (0, 30)
    assert table.pop(BASE + 1) is True
    assert (s.garbage, len(s.data)) == (10, 30)
    assert table.pop(BASE + 1) is False
    assert table.pop(BASE + 0) is True  # 20 of 30 bytes garbage: compacted
    assert (s.garbage, bytes(s.data)) == (0, blob(10, 2))
    assert_same(table, {BASE + 2: blob(10, 2)})


def test_removing_every_state_leaves_an_empty_shard_that_takes_new_ones() -> None:
    table = StateTable(shard_bits=0)
    for i in range(20):
        table.put(BASE + i, blob(8, i))
    for i in range(20):
        assert table.pop(BASE + i)
    assert len(table) == 0 and len(shard(table, BASE).data) == 0
    table.put(BASE + 5, blob(3, 5))
    assert_same(table, {BASE + 5: blob(3, 5)})


# -- the search a get() leaves for the put() after it -----------------------------------


def test_a_put_after_a_get_of_another_key_does_not_use_its_position() -> None:
    table = StateTable(shard_bits=0)
    for i in (10, 20, 30):
        table.put(BASE + i, blob(5, i))
    assert table.get(BASE + 20) == blob(5, 20)
    table.put(BASE + 15, blob(5, 15))  # inserted before 20: positions move
    table.put(BASE + 20, blob(6, 21))
    assert_same(
        table,
        {
            BASE + 10: blob(5, 10),
            BASE + 15: blob(5, 15),
            BASE + 20: blob(6, 21),
            BASE + 30: blob(5, 30),
        },
    )


def test_a_get_of_a_missing_key_then_its_put_inserts_it_where_it_belongs() -> None:
    table = StateTable(shard_bits=0)
    for i in (10, 30):
        table.put(BASE + i, blob(5, i))
    assert table.get(BASE + 20) is None
    table.put(BASE + 20, blob(5, 20))
    assert [k - BASE for k, _ in table.items()] == [10, 20, 30]


def test_a_remove_or_an_insert_between_get_and_put_is_seen() -> None:
    table = StateTable(shard_bits=0)
    for i in (10, 20, 30):
        table.put(BASE + i, blob(5, i))
    table.get(BASE + 30)
    table.pop(BASE + 10)
    table.put(BASE + 30, blob(7, 31))
    assert_same(table, {BASE + 20: blob(5, 20), BASE + 30: blob(7, 31)})
    table.get(BASE + 25)
    table.put(BASE + 5, blob(2, 5))
    table.put(BASE + 25, blob(2, 25))
    assert [k - BASE for k, _ in table.items()] == [5, 20, 25, 30]


def test_a_compaction_between_get_and_put_keeps_the_position_true() -> None:
    table = StateTable(shard_bits=0)
    for i in range(6):
        table.put(BASE + i, blob(10, i))
    table.get(BASE + 4)
    for i in (0, 1, 2, 3):
        table.put(BASE + i, blob(11, i))  # the fourth compacts the shard
    assert shard(table, BASE).garbage == 0
    table.put(BASE + 4, blob(3, 44))
    model = {BASE + i: blob(10, i) for i in range(6)}
    model.update({BASE + i: blob(11, i) for i in (0, 1, 2, 3)} | {BASE + 4: blob(3, 44)})
    assert_same(table, model)


# -- equality ---------------------------------------------------------------------------


def test_tables_with_the_same_states_are_equal_whatever_their_history() -> None:
    rng = random.Random(3)
    states = {BASE + rng.randrange(10**6): blob(rng.randrange(1, 60), i) for i in range(500)}
    direct, churned, other_shards = StateTable(), StateTable(), StateTable(shard_bits=2)
    for key in sorted(states):
        direct.put(key, states[key])
    for key in rng.sample(list(states), len(states)):
        churned.put(key, blob(70, 1))
        churned.put(BASE - 1 - key % 97, blob(5))  # numbers removed again below
    for key in rng.sample(list(states), len(states)):
        churned.put(key, states[key])
        other_shards.put(key, states[key])
    for key in {BASE - 1 - key % 97 for key in states}:
        churned.pop(key)
    assert direct == churned == other_shards
    churned.put(next(iter(states)), blob(3, 250))
    assert direct != churned
    churned.pop(next(iter(states)))
    assert direct != churned
