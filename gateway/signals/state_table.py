"""The risk index's packed states by number: a few dozen bytes per subscriber, not ~150.

A dict of one ``bytes`` per number pays, for ~40 bytes of state, a 33-byte bytes header, a
32-byte int key and a hash slot: about 150 B per tracked subscriber, 7 GiB at 50 million.
Here a number costs its 8-byte key, a 4-byte offset, a 2-byte length and its state's bytes.

The numbers are spread over shards by their low bits. A shard keeps its keys sorted in an
``array('Q')`` (found by bisection), with each state's offset and length in parallel arrays,
and the states in one ``bytearray`` in no particular order. A changed state is written over
the old one when it has the same length or is the last in the area, and appended otherwise,
the old bytes becoming garbage until the shard is compacted (when garbage passes half of the
live bytes: rewritten with C-level slicing, no Python loop per number). A new number is an
insertion into the three arrays: a memmove of the shard's arrays in C, kept short by having
thousands of shards. Nothing here is one Python object per number, so the garbage collector
has nothing to walk either.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterator
from itertools import accumulate, zip_longest
from operator import add
from typing import Final

__all__ = ["StateTable"]

_MAX_STATE: Final = 0xFFFF  # a length is an array('H') item; RiskConfig's bounds stay far below
_NO_PROBE: Final = (-1, -1)


class _Shard:
    """Sorted keys; each one's state at ``data[offsets[i]:offsets[i] + lengths[i]]``."""

    __slots__ = ("data", "garbage", "keys", "lengths", "offsets")

    def __init__(self) -> None:
        self.keys = array("Q")
        self.offsets = array("I")
        self.lengths = array("H")
        self.data = bytearray()
        self.garbage = 0  # bytes of data no state points at

    def position(self, key: int) -> int:
        """Where ``key`` is in the arrays, or ``-1 - where it would go`` when it is not."""
        keys = self.keys
        i = bisect_left(keys, key)
        return i if i < len(keys) and keys[i] == key else -1 - i

    def state(self, i: int) -> bytes:
        start = self.offsets[i]
        return bytes(self.data[start : start + self.lengths[i]])

    def insert(self, i: int, key: int, blob: bytes) -> None:
        self.keys.insert(i, key)
        self.offsets.insert(i, len(self.data))
        self.lengths.insert(i, len(blob))
        self.data += blob

    def replace(self, i: int, blob: bytes) -> None:
        start, length = self.offsets[i], self.lengths[i]
        data = self.data
        if len(blob) == length:
            data[start : start + length] = blob
            return
        if start + length == len(data):  # the last state written: grow or shrink it in place
            del data[start:]
        else:
            self.offsets[i] = len(data)
            self.garbage += length
        data += blob
        self.lengths[i] = len(blob)
        self._compact_if_wasteful()

    def remove(self, i: int) -> None:
        start, length = self.offsets[i], self.lengths[i]
        if start + length == len(self.data):
            del self.data[start:]
        else:
            self.garbage += length
        del self.keys[i], self.offsets[i], self.lengths[i]
        self._compact_if_wasteful()

    def _compact_if_wasteful(self) -> None:
        # Garbage at most half of the live bytes: a third of the area, at the price of one
        # rewrite per half a shard's worth of changed bytes.
        if self.garbage * 3 > len(self.data):
            self.compact()

    def compact(self) -> None:
        """Rewrite the states back to back, in key order, without the garbage."""
        offsets, lengths = self.offsets, self.lengths
        slices = map(slice, offsets, map(add, offsets, lengths))
        self.data = bytearray().join(map(self.data.__getitem__, slices))
        self.offsets = array("I", accumulate(lengths, initial=0))
        del self.offsets[len(lengths) :]
        self.garbage = 0

    def items(self) -> Iterator[tuple[int, bytes]]:
        data = self.data
        for key, start, length in zip(self.keys, self.offsets, self.lengths, strict=True):
            yield key, bytes(data[start : start + length])


class StateTable:
    """A mapping of number key (``msisdn_key``) to packed state: ``get``, ``put``, ``pop``.

    ``shard_bits``: 2**shard_bits shards. More shards make inserting a new number and a
    compaction cheaper (shorter arrays) and cost ~300 B each once used. With 4096, a shard
    holds ~12,000 numbers at 50 million: an insertion moves ~170 kB (~4 µs here), a
    compaction takes ~8 ms and comes once per ~6,000 changes of that shard.
    """

    def __init__(self, *, shard_bits: int = 12) -> None:
        if not 0 <= shard_bits <= 20:
            raise ValueError(f"shard_bits: expected 0..20, got {shard_bits!r}")
        self._mask = (1 << shard_bits) - 1
        # Created on first use: a small index (a test's, a simulation's) stays small.
        self._shards: list[_Shard | None] = [None] * (1 << shard_bits)
        self._count = 0
        # The key get() last searched and its position, so that the put() after it (an
        # update of the same number) does not search again. Reset when positions move.
        self._probe = _NO_PROBE

    def __len__(self) -> int:
        return self._count

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StateTable):
            return NotImplemented
        if self._count != other._count:
            return False
        if self._mask != other._mask:
            return dict(self.items()) == dict(other.items())
        # Same sharding: both walk the numbers in the same order, whatever their garbage.
        return all(a == b for a, b in zip_longest(self.items(), other.items()))

    __hash__ = None  # type: ignore[assignment]

    def get(self, key: int) -> bytes | None:
        shard = self._shards[key & self._mask]
        if shard is None:
            return None
        # position() and state() written out: this runs for every signal.
        keys = shard.keys
        i = bisect_left(keys, key)
        if i < len(keys) and keys[i] == key:
            self._probe = (key, i)
            start = shard.offsets[i]
            return bytes(shard.data[start : start + shard.lengths[i]])
        self._probe = (key, -1 - i)
        return None

    def put(self, key: int, blob: bytes) -> None:
        if len(blob) > _MAX_STATE:
            raise ValueError(f"a packed state of {len(blob)} bytes is over {_MAX_STATE}")
        shard = self._shards[key & self._mask]
        if shard is None:
            shard = self._shards[key & self._mask] = _Shard()
        probe_key, i = self._probe
        if probe_key != key:
            keys = shard.keys
            # Beyond the largest key: the restart loads the stored states in key order.
            i = -1 - len(keys) if not keys or key > keys[-1] else shard.position(key)
        if i >= 0:
            shard.replace(i, blob)  # positions do not move: the probe stays true
            return
        shard.insert(-1 - i, key, blob)
        self._count += 1
        self._probe = _NO_PROBE

    def pop(self, key: int) -> bool:
        """Remove one number; True when it was there."""
        shard = self._shards[key & self._mask]
        if shard is None:
            return False
        i = shard.position(key)
        if i < 0:
            return False
        shard.remove(i)
        self._count -= 1
        self._probe = _NO_PROBE
        return True

    def items(self) -> Iterator[tuple[int, bytes]]:
        """Every (key, state): shard by shard, each in key order."""
        for shard in self._shards:
            if shard is not None:
                yield from shard.items()

    def clear(self) -> None:
        self._shards = [None] * len(self._shards)
        self._count = 0
        self._probe = _NO_PROBE
