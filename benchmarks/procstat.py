"""A process's CPU time and resident memory, read from Linux's ``/proc``.

Strategy: the benchmarks judge the device by what the kernel accounts to its process (all
its threads together), read from ``/proc/<pid>/stat`` (utime + stime, in clock ticks) and
``/proc/<pid>/status`` (``VmRSS``); threads and open files are the entries of
``/proc/<pid>/task`` and ``/proc/<pid>/fd``. The parsers take the text, so they are tested on tiny
inputs; ``ProcessProbe`` only reads the files. No psutil: two files are all it takes.

What never belongs here: starting or stopping processes, judging the figures.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# Fields 14 and 15 of /proc/<pid>/stat, counted from the first field after the name.
_UTIME_AFTER_NAME = 11
_STIME_AFTER_NAME = 12


def cpu_seconds_from_stat(text: str, ticks_per_s: int) -> float:
    """User plus system CPU seconds from the text of ``/proc/<pid>/stat``."""
    if ticks_per_s < 1:
        raise ValueError(f"ticks_per_s must be positive, got {ticks_per_s}")
    # The name (field 2) is in parentheses and may itself hold spaces and parentheses;
    # everything after the last ")" is a fixed list of numbers.
    close = text.rfind(")")
    if close < 0:
        raise ValueError(f"not a /proc/<pid>/stat line: {text[:80]!r}")
    fields = text[close + 1 :].split()
    if len(fields) <= _STIME_AFTER_NAME:
        raise ValueError(f"a /proc/<pid>/stat line too short: {text[:80]!r}")
    ticks = int(fields[_UTIME_AFTER_NAME]) + int(fields[_STIME_AFTER_NAME])
    return ticks / ticks_per_s


def rss_bytes_from_status(text: str) -> int:
    """Resident memory in bytes from the text of ``/proc/<pid>/status`` (its VmRSS line)."""
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name == "VmRSS":
            amount, _, unit = value.strip().partition(" ")
            if unit.strip() != "kB":
                raise ValueError(f"VmRSS in an unexpected unit: {line!r}")
            # The kernel's "kB" is 1024 bytes.
            return int(amount) * 1024
    raise ValueError("no VmRSS line (a kernel thread, or a process that has exited)")


@dataclass(frozen=True, slots=True)
class ProcessProbe:
    """Reads one process's CPU seconds, resident bytes, threads and open files."""

    pid: int

    def cpu_s(self) -> float:
        """CPU seconds used so far by every thread of the process."""
        text = Path(f"/proc/{self.pid}/stat").read_text(encoding="ascii", errors="replace")
        return cpu_seconds_from_stat(text, os.sysconf("SC_CLK_TCK"))

    def rss_bytes(self) -> int:
        """Resident memory of the process now, in bytes."""
        text = Path(f"/proc/{self.pid}/status").read_text(encoding="utf-8", errors="replace")
        return rss_bytes_from_status(text)

    def threads(self) -> int:
        """How many threads the process has now."""
        return _entries(f"/proc/{self.pid}/task")

    def open_files(self) -> int:
        """How many files (sockets included) the process has open now."""
        return _entries(f"/proc/{self.pid}/fd")


def _entries(folder: str) -> int:
    return sum(1 for _ in Path(folder).iterdir())


def own_cpu_s() -> float:
    """CPU seconds used so far by this process (the load generator), all threads."""
    times = os.times()
    return times.user + times.system
