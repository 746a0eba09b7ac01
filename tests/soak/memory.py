"""Resident memory of a process, read from /proc: the figure behind "no unbounded memory"."""

from __future__ import annotations

from pathlib import Path


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(f"{field} not in /proc/{pid}/status")


class RssTracker:
    """The largest resident set seen across the processes it was shown (a gateway restarts).

    VmHWM is the kernel's own high-water mark of a process, so a short peak between two
    samples is not missed; VmRSS is kept too, to tell a peak from a level.
    """

    def __init__(self) -> None:
        self.peak_kib = 0
        self.last_kib = 0
        self.samples = 0

    def sample(self, pid: int) -> None:
        try:
            self.peak_kib = max(self.peak_kib, _status_kib(pid, "VmHWM"))
            self.last_kib = _status_kib(pid, "VmRSS")
        except (FileNotFoundError, ProcessLookupError, LookupError):
            return  # the process is gone (killed on purpose): nothing to read
        self.samples += 1

    @property
    def peak_mb(self) -> float:
        return self.peak_kib / 1024

    @property
    def last_mb(self) -> float:
        return self.last_kib / 1024

    def summary(self) -> str:
        return (
            f"peak RSS {self.peak_mb:.1f} MB, last {self.last_mb:.1f} MB ({self.samples} samples)"
        )
