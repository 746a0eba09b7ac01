"""Where a fuzz run leaves the inputs that broke a rule, so they can become regressions."""

from __future__ import annotations

import os
from pathlib import Path


def save_failures(default_dir: Path, name: str, failures: list[str]) -> Path | None:
    """Write one failure per line to ``$OTPGATE_FUZZ_FAILURES_DIR/name`` (or ``default_dir``).

    Nothing is written when there is nothing to say; the path is returned for the report.
    Copy an input from there into tests/soak/regressions/ to keep it.
    """
    if not failures:
        return None
    directory = Path(os.environ.get("OTPGATE_FUZZ_FAILURES_DIR") or default_dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("\n".join(failures) + "\n")
    return path
