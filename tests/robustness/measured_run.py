"""The real suite against a device, run as a user runs it, with its peak memory and time.

Strategy: ``python -m pytest suites/... --device URL`` in a child process from the
repository's root (so its conftest, plugin and settings apply), without SNAPCHECK_*
variables from the outer run, its output in files (a chatty run never blocks on a
pipe). The child is reaped with ``os.wait4``, whose resource usage is that child's
alone: ``ru_maxrss`` is the run's peak resident memory. A run still going at its
timeout is killed, and says so. The output is read as ``suite_runs.SuiteRun``.

What never belongs here: which device, which tests, what the run must conclude.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from suite_runs import ROOT, SuiteRun, suite_command, suite_environment

POLL_S = 0.05
# Linux reports ru_maxrss in KiB.
RSS_UNIT = 1024


@dataclass(frozen=True, slots=True)
class MeasuredRun:
    """One run of the suite: what its user saw, its peak memory, how long it took."""

    run: SuiteRun
    peak_rss_bytes: int
    seconds: float
    timed_out: bool


def _reap(process: subprocess.Popen[bytes], timeout_s: float) -> tuple[int, int, bool]:
    """Wait for the child until ``timeout_s`` (then kill it); (exit status, peak KiB, killed)."""
    deadline = time.monotonic() + timeout_s
    killed = False
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline and not killed:
            process.kill()
            killed = True
        time.sleep(POLL_S)
    code = os.waitstatus_to_exitcode(status)
    process.returncode = code  # reaped here: Popen must not wait for it again
    return code, usage.ru_maxrss, killed


def run_suite_measured(*args: str, paths: tuple[Path, ...], timeout_s: float) -> MeasuredRun:
    """The suite (``suite_command``) run from the root, measured."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        process = subprocess.Popen(suite_command(*args, paths=paths), cwd=ROOT,
                                   env=suite_environment(), stdout=out, stderr=err)  # fmt: skip
        code, peak_kib, killed = _reap(process, timeout_s)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        run = SuiteRun(code, out.read().decode(errors="replace"), err.read().decode("replace"))
    return MeasuredRun(run, peak_kib * RSS_UNIT, seconds, killed)
