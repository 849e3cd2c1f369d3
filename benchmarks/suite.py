"""Target 5: a full conformance run takes <= 120 s, of which the suite's own work <= 20 %.

Strategy and decisions: the suite runs exactly as a user runs it, in a child process from
the repository's root: ``python -m pytest suites -q -p no:cacheprovider`` (the plugin
starts the bundled device in a thread of that process). Only its report folder is moved
to a temporary one (``SNAPCHECK_REPORT_DIR``), so that benchmarking leaves no report
behind. Its wall time is the first figure.

Then the same run under ``python -m cProfile -o FILE``. cProfile follows the main thread
only, which is the suite's (the device's threads are not in it, though they compete for
the same cores). The suite's own overhead is the time spent inside validation, JPEG
decoding, time-code reading and stream splitting (``OVERHEAD_MODULES``), counted where
calls enter those modules (``profile_share``), over the profiled thread's whole time.
Profiling slows Python code more than waiting, so this share is if anything too high.

Judged: the plain run's wall time <= 120 s; the profiled share <= 20 %. The pytest exit
status is reported: 1 (a clause failed) still times a complete run; anything but 0 or 1
(a usage error, nothing collected, a crash) is an error of the measurement.

What never belongs here: reading the profile (profile_share.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.profile_share import Share, load_stats, share_of
from benchmarks.results import Bound, Figure, Judgement, Section

ROOT = Path(__file__).resolve().parents[1]
PYTEST_ARGUMENTS = ("-m", "pytest", "suites", "-q", "-p", "no:cacheprovider")
OVERHEAD_MODULES = (
    "snapcheck/checks/",
    "snapcheck/judge.py",
    "snapcheck/jpeg.py",
    "snapcheck/timecode.py",
    "snapcheck/multipart.py",
)
WALL_LIMIT_S = 120.0
OVERHEAD_LIMIT = 0.20
# pytest: 0 all passed, 1 some test failed (the device broke a clause).
COMPLETE_RUN_STATUSES = frozenset({0, 1})
_OUTPUT_TAIL_CHARS = 2000
# pytest's last line: "1 failed, 17 passed, 18 deselected in 21.77s".
_SUMMARY = re.compile(r"\b\d+ (?:passed|failed|errors?)\b.* in [0-9.]+s")


@dataclass(frozen=True, slots=True)
class SuitePlan:
    """Extra pytest arguments (a selection) and the bound on one run's wall time."""

    extra: tuple[str, ...]
    timeout_s: float


FULL = SuitePlan(extra=(), timeout_s=900.0)
QUICK = SuitePlan(extra=("-m", "quick"), timeout_s=300.0)


@dataclass(frozen=True, slots=True)
class SuiteRun:
    """One run of the suite: how long it took and how it ended."""

    wall_s: float
    status: int
    summary: str


def run(quick: bool) -> Section:
    """Measure target 5 with the full or the quick plan."""
    return measure(QUICK if quick else FULL)


def measure(plan: SuitePlan) -> Section:
    """Time a plain run of the suite, then profile a second one."""
    with tempfile.TemporaryDirectory(prefix="snapcheck-bench-") as scratch:
        env = {**os.environ, "SNAPCHECK_REPORT_DIR": str(Path(scratch) / "reports")}
        plain = run_suite((*PYTEST_ARGUMENTS, *plan.extra), env, plan.timeout_s)
        profile = Path(scratch) / "suite.prof"
        cprofile = ("-m", "cProfile", "-o", str(profile))
        profiled = run_suite((*cprofile, *PYTEST_ARGUMENTS, *plan.extra), env, plan.timeout_s)
        share = share_of(load_stats(profile), OVERHEAD_MODULES)
    return _section(plain, profiled, share, plan)


def run_suite(arguments: tuple[str, ...], env: dict[str, str], timeout_s: float) -> SuiteRun:
    """Run ``python ARGUMENTS`` from the repository root and time it; RuntimeError if broken."""
    start = time.perf_counter()
    done = subprocess.run(
        (sys.executable, *arguments),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    wall_s = time.perf_counter() - start
    if done.returncode not in COMPLETE_RUN_STATUSES:
        tail = (done.stdout + done.stderr)[-_OUTPUT_TAIL_CHARS:]
        raise RuntimeError(f"the suite did not complete (exit status {done.returncode}):\n{tail}")
    return SuiteRun(wall_s, done.returncode, pytest_summary(done.stdout))


def pytest_summary(output: str) -> str:
    """pytest's closing line (counts and time) from its output; "" when there is none."""
    found = _SUMMARY.findall(output)
    return found[-1].strip("= ") if found else ""


def _section(plain: SuiteRun, profiled: SuiteRun, share: Share, plan: SuitePlan) -> Section:
    command = " ".join(("python", *PYTEST_ARGUMENTS, *plan.extra))
    figures = [
        Figure("wall time of the suite", plain.wall_s, "s", f"exit status {plain.status}"),
        Figure("wall time profiled", profiled.wall_s, "s", f"exit status {profiled.status}"),
        Figure("profiled main thread", share.total_s, "s"),
        Figure("inside the overhead modules", share.inside_s, "s"),
    ]
    figures += [Figure(f"  {module}", seconds, "s") for module, seconds in share.by_module.items()]
    judgements = (
        Judgement("wall time of the suite", plain.wall_s, Bound.AT_MOST, WALL_LIMIT_S, "s"),
        Judgement(
            "suite overhead / profiled total",
            100 * share.fraction,
            Bound.AT_MOST,
            100 * OVERHEAD_LIMIT,
            "%",
        ),
    )
    notes = (
        f"command: {command}",
        f"pytest said: {plain.summary}",
        "the share counts calls entering the modules; re-entries through other code count"
        " twice, so it is an upper bound",
    )
    return Section(
        "suite: conformance run against the bundled device", tuple(figures), judgements, notes
    )
