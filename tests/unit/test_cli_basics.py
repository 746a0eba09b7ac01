"""The command line's small promises: a version, and a clear refusal (no traceback) where
``hash-password`` has no terminal to ask on."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version


def _otpgate(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_version_names_the_installed_package() -> None:
    result = _otpgate("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"otpgate {version('otpgate')}")


def test_hash_password_without_a_terminal_asks_for_stdin_instead_of_failing() -> None:
    result = _otpgate("hash-password")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--stdin" in result.stderr


def test_hash_password_reads_a_piped_password_with_stdin() -> None:
    result = _otpgate("hash-password", "--stdin", stdin="secret1\n")
    assert result.returncode == 0 and result.stdout.startswith("scrypt")
