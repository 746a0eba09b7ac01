"""The mappings kept in memory for receipts: read back as MappedMessage, and out of the
collector's sight once it has seen them (a named tuple never is, and one lives 120 s per
message: the upkeep's full collection walked tens of thousands every 5 s)."""

from __future__ import annotations

import gc
import time
from pathlib import Path

from gateway.traffic.id_map import IdMap, MappedMessage
from gateway.traffic.message_ids import MessageIdGenerator


def test_a_kept_mapping_reads_back_and_is_not_tracked(tmp_path: Path) -> None:
    id_map = IdMap(tmp_path / "map.sqlite", MessageIdGenerator(1, lambda: int(time.time() * 1000)))
    message = MappedMessage("main", "up-1", id_map.ids.next(), "bank", 1, time.time())
    id_map.record(message)  # not opened: kept in memory only
    gc.collect()
    assert not any(gc.is_tracked(kept) for kept in id_map._by_gateway.values())
    found = id_map.recent_by_upstream("main", "up-1")
    assert found == message and type(found) is MappedMessage
    assert id_map.recent_by_upstream("main", "up-2") is None


def test_old_mappings_are_forgotten(tmp_path: Path) -> None:
    id_map = IdMap(
        tmp_path / "map.sqlite",
        MessageIdGenerator(1, lambda: int(time.time() * 1000)),
        memory_s=60.0,
    )
    now = time.time()
    old = MappedMessage("main", "up-old", id_map.ids.next(), "bank", 1, now - 61)
    new = MappedMessage("main", "up-new", id_map.ids.next(), "bank", 1, now)
    id_map.record(old)
    id_map.record(new)
    assert id_map.recent_by_upstream("main", "up-old") is None
    assert id_map.recent_by_upstream("main", "up-new") == new
