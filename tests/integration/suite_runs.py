"""Running the conformance suite (suites/) as a user does, and reading what it concluded.

Strategy: the suite runs in a subprocess from the repository's root (so its conftest,
plugin and pytest settings apply), with a hard timeout and without SNAPCHECK_* variables
leaking from the outer run. What comes back is what a user reads: the exit status, the
pytest outcome counts, the snapcheck verdict line, the skipped tests' reasons and the
run's report.json.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SUITES = ROOT / "suites"
# Generous: the whole suite is budgeted at 2 minutes on 2 shared cores.
RUN_TIMEOUT_S = 600.0
_VERDICT_LINE = re.compile(r"^snapcheck: (\d+ PASS, .*)$", re.MULTILINE)
_COUNT = re.compile(r"(\d+) ([A-Z-]+)")
_OUTCOME = re.compile(r"(\d+) (passed|failed|skipped|errors?|deselected|xfailed|xpassed)")
_SKIP_LINE = re.compile(r"^SKIPPED \[(\d+)\] (\S+): (.*)$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class SuiteRun:
    """One run of the suite, as its user saw it."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def verdicts(self) -> dict[str, int]:
        """The ``snapcheck: N PASS, ...`` line as a mapping from verdict to count."""
        found = _VERDICT_LINE.search(self.stdout)
        if found is None:
            raise AssertionError("no snapcheck verdict line in:\n" + self.tail)
        return {verdict: int(count) for count, verdict in _COUNT.findall(found.group(1))}

    @property
    def outcomes(self) -> dict[str, int]:
        """pytest's final counts (passed, failed, skipped, deselected, ...)."""
        last = self.stdout.strip().splitlines()[-1] if self.stdout.strip() else ""
        return {noun.rstrip("s"): int(count) for count, noun in _OUTCOME.findall(last)}

    @property
    def skip_reasons(self) -> list[str]:
        """The reason of every skipped test, once per test (pytest groups equal ones)."""
        return [
            reason
            for count, _, reason in _SKIP_LINE.findall(self.stdout)
            for _ in range(int(count))
        ]

    @property
    def report(self) -> dict[str, Any]:
        """The run's report.json, from the folder its last lines name."""
        found = re.search(r"^snapcheck: report in (.+)$", self.stdout, re.MULTILINE)
        if found is None:
            raise AssertionError("no report folder named in:\n" + self.tail)
        document = json.loads((Path(found.group(1)) / "report.json").read_text())
        assert isinstance(document, dict)
        return document

    @property
    def tail(self) -> str:
        """The end of the output, for assertion messages."""
        return "\n".join((self.stdout + self.stderr).splitlines()[-60:])


def suite_command(*args: str, paths: tuple[Path, ...] = (SUITES,)) -> list[str]:
    """``python -m pytest PATHS ARGS -rfEs -p no:cacheprovider``, to run from ROOT.

    Not ``-q``: the report header (settings, Hypothesis profile) is part of what a user sees.
    """
    return [sys.executable, "-m", "pytest", *map(str, paths), *args, "-rfEs", "-p",
            "no:cacheprovider"]  # fmt: skip


def suite_environment() -> dict[str, str]:
    """This process's environment without any SNAPCHECK_* setting of the caller."""
    return {name: value for name, value in os.environ.items() if not name.startswith("SNAPCHECK_")}


def run_suite(*args: str, report_dir: Path, paths: tuple[Path, ...] = (SUITES,)) -> SuiteRun:
    """The suite run from the repository root (``suite_command``), reports to report_dir."""
    done = subprocess.run(
        suite_command(*args, "--report-dir", str(report_dir), paths=paths),
        cwd=ROOT,
        env=suite_environment(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    return SuiteRun(done.returncode, done.stdout, done.stderr)
