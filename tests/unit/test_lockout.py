"""The bind lock-out: counted before the hash, per address and per system_id, oldest evicted first."""

from __future__ import annotations

from gateway.accounts import Lockout


def test_attempts_count_when_they_start_so_concurrent_guesses_stop_at_the_limit() -> None:
    lockout = Lockout(limit=5, duration_s=60, account_limit=100)
    started = [lockout.begin("10.0.0.1", "bank", 0.0) for _ in range(60)]
    assert started.count(True) == 5


def test_a_success_gives_its_attempt_back() -> None:
    lockout = Lockout(limit=2, duration_s=60)
    for _ in range(10):
        assert lockout.begin("10.0.0.1", "bank", 0.0)
        lockout.succeeded("10.0.0.1", "bank")


def test_a_lockout_ends_after_its_duration() -> None:
    lockout = Lockout(limit=1, duration_s=60)
    assert lockout.begin("10.0.0.1", "bank", 0.0)
    assert not lockout.begin("10.0.0.1", "bank", 59.0)
    assert lockout.begin("10.0.0.1", "bank", 120.0)


def test_guesses_from_many_addresses_lock_the_system_id() -> None:
    lockout = Lockout(limit=5, duration_s=60, account_limit=10)
    assert all(lockout.begin(f"10.0.1.{n}", "bank", 0.0) for n in range(10))
    assert not lockout.begin("10.0.2.1", "bank", 1.0)
    assert lockout.begin("10.0.2.1", "shop", 1.0)  # another account is not locked


def test_a_flood_of_other_addresses_evicts_the_oldest_and_keeps_a_fresh_lockout() -> None:
    lockout = Lockout(limit=3, duration_s=600, account_limit=10**9, max_entries=1_000)
    for n in range(2_000):
        lockout.begin(f"10.1.{n // 256}.{n % 256}", f"x{n}", 0.0)
    for _ in range(3):
        lockout.begin("10.9.9.9", "bank", 1.0)
    for n in range(990):  # newer entries, fewer than the table holds beside the lock-out
        lockout.begin(f"10.2.{n // 256}.{n % 256}", "bank2", 2.0)
    assert lockout.locked("10.9.9.9", 3.0)
    assert len(lockout._counts) <= 1_000
