"""`otpgate simulate` passes every shared scenario, run as the command an operator runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared" / "scenarios"
SCENARIOS = sorted(SHARED.glob("*.jsonl")) if SHARED.is_dir() else []


@pytest.mark.skipif(
    not SCENARIOS,
    reason="../shared/scenarios is absent: it sits beside the checkout only in this workplace and its CI",
)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_shared_scenario_passes(scenario: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "simulate", str(scenario)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    submits = [
        json.loads(line)
        for line in scenario.read_text().splitlines()
        if line.strip() and "submit" in line
    ]
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(printed) == len(submits)
    assert all(set(p) >= {"line", "decision", "rules", "reasons", "notify"} for p in printed)


def test_a_wrong_expectation_fails(tmp_path: Path) -> None:
    scenario = tmp_path / "wrong.jsonl"
    scenario.write_text(
        json.dumps(
            {
                "at": "2026-03-01T00:00:00Z",
                "signal": {
                    "kind": "sim_swap",
                    "msisdn": "+447400123123",
                    "occurred_at": "2026-03-01T00:00:00Z",
                },
            }
        )
        + "\n"
        + json.dumps(
            {
                "at": "2026-03-01T00:30:00Z",
                "submit": {
                    "account": "a",
                    "source_addr": "Bank",
                    "destination_addr": "+447400123123",
                    "text": "Your verification code is 482913",
                },
                "expect": "deliver",
            }
        )
        + "\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "simulate", str(scenario)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    printed = json.loads(result.stdout)
    assert printed["decision"] == "hold" and printed["mismatch"]
    assert "482913" not in result.stdout + result.stderr


def test_a_broken_scenario_says_which_line(tmp_path: Path) -> None:
    scenario = tmp_path / "broken.jsonl"
    scenario.write_text('{"at": "2026-03-01T00:00:00Z", "signal": {"kind": "sim_swap"}}\n')
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "simulate", str(scenario)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "line 1" in result.stderr
