"""``snapcheck killmatrix`` on the command line: its options, its table and its JSON.

Strategy: killmatrix.py plans, runs and judges the matrix; this module only turns the
command line into ``Knobs``, prints one line per run (verdict, seconds, the clauses that
failed, the fault's own starred), says for each miss how to reproduce it, and writes
``killmatrix.json`` beside the runs' reports. Exit status 0 only when every fault is
KILLED and every clean run passes; a usage error (an unknown fault) raises UsageError.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from snapcheck.arguments import positive_number
from snapcheck.killmatrix import (
    MATRIX_JSON,
    Knobs,
    Outcome,
    Result,
    choose,
    collect_tests,
    list_faults,
    plan,
    run_matrix,
)

EXIT_OK, EXIT_FAIL = 0, 1


def render(results: Sequence[Result], wall_s: float, jobs: int) -> list[str]:
    """The matrix as a table: run, verdict, seconds, failed clauses (* the fault's own)."""
    width = max(len(r.run.label) for r in results)
    lines = [
        f"{'fault':<{width}}  {'verdict':<12}  {'seconds':>7}  clauses failed"
        " (* = one the fault breaks)"
    ]
    for result in results:
        lines.append(
            f"{result.run.label:<{width}}  {result.outcome.value:<12}"
            f"  {result.seconds:>7.1f}  {_cited(result)}"
        )
    lines += _problems(results)
    faults = [r for r in results if r.run.fault is not None]
    killed = sum(r.outcome is Outcome.KILLED for r in faults)
    clean_ok = all(r.outcome is Outcome.PASSED for r in results if r.run.fault is None)
    lines.append(
        f"{killed} of {len(faults)} faults killed; clean runs"
        f" {'PASS' if clean_ok else 'NOT all PASS'}; {wall_s:.1f} s wall with {jobs} jobs"
    )
    return lines


def _cited(result: Result, others_shown: int = 4) -> str:
    """The failed clauses, the fault's own first (starred), a few others, and how many more."""
    own = result.run.fault.clauses if result.run.fault else ()
    mine = [f"{c}*" for c in result.cited if c in own]
    others = [c for c in result.cited if c not in own]
    more = f"(+{len(others) - others_shown} more)" if len(others) > others_shown else ""
    return " ".join([*mine, *others[:others_shown], more]).strip() or "-"


def _problems(results: Sequence[Result]) -> list[str]:
    """For each run that went wrong: why, how to see it again, and where its report is."""
    lines: list[str] = []
    for result in (r for r in results if not r.outcome.good):
        run = result.run
        again = ["python", "-m", "pytest", *(["--strict"] if run.strict else [])]
        device = f"--reference-args={shlex.join(run.device_flags)}"
        lines += [
            f"-- {run.label}: {result.outcome.value} {result.detail}".rstrip(),
            f"   reproduce: {shlex.join([*again, device])}",
            f"   report: {result.report or '(none)'}",
        ]
    return lines


def matrix_json(results: Sequence[Result], wall_s: float, knobs: Knobs) -> dict[str, object]:
    """The matrix as a JSON document (written beside the runs' report folders)."""
    return {
        "wall_s": round(wall_s, 1),
        "jobs": knobs.jobs,
        "request_timeout_s": knobs.request_timeout_s,
        "stream_seconds": knobs.stream_seconds,
        "fault_timeout_s": knobs.fault_timeout_s,
        "runs": [
            {
                "label": r.run.label,
                "fault": r.run.fault.name if r.run.fault else None,
                "breaks": list(r.run.fault.clauses) if r.run.fault else [],
                "strict": r.run.strict,
                "verdict": r.outcome.value,
                "failed_clauses": list(r.cited),
                "seconds": round(r.seconds, 1),
                "detail": r.detail,
                "command": r.command,
                "report": r.report,
                "tests": len(r.run.nodeids) or "all",
            }
            for r in results
        ],
    }


# ---------------------------------------------------------------- command line


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"--jobs takes a positive integer, got {text!r}")
    return int(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``snapcheck killmatrix``."""
    knobs = Knobs()
    parser.add_argument("--faults", default="", help="only these faults (comma-separated)")
    parser.add_argument("--jobs", type=_jobs, default=knobs.jobs, help="runs at once (2)")
    parser.add_argument("--report-dir", type=Path, help="keep every run's report here")
    parser.add_argument(
        "--request-timeout", type=positive_number, default=knobs.request_timeout_s,
        help=f"the suite's --request-timeout (default {knobs.request_timeout_s:g})",
    )
    parser.add_argument(
        "--stream-seconds", type=positive_number, default=knobs.stream_seconds,
        help=f"the suite's --stream-seconds (default {knobs.stream_seconds:g})",
    )
    parser.add_argument(
        "--fault-timeout", type=positive_number, default=knobs.fault_timeout_s,
        help=f"seconds one run may take before it is killed (default {knobs.fault_timeout_s:g})",
    )
    parser.add_argument(
        "--root", type=Path, default=knobs.root, help="the source tree holding suites/"
    )


def run_command(args: argparse.Namespace, out: TextIO) -> int:
    """``snapcheck killmatrix``: 0 when every fault is killed and every clean run passes."""
    knobs = Knobs(
        root=args.root, jobs=args.jobs, request_timeout_s=args.request_timeout,
        stream_seconds=args.stream_seconds, fault_timeout_s=args.fault_timeout,
    )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="snapcheck-killmatrix-") as scratch:
        folder = args.report_dir or Path(scratch)
        wanted = [name.strip() for name in args.faults.split(",") if name.strip()]
        faults = choose(list_faults(knobs), wanted)
        runs = plan(faults, collect_tests(knobs, Path(scratch)))
        results = run_matrix(runs, knobs, folder, progress=sys.stderr)
        wall = time.monotonic() - started
        if args.report_dir is not None:
            document = matrix_json(results, wall, knobs)
            (folder / MATRIX_JSON).write_text(json.dumps(document, indent=1) + "\n", "utf-8")
    lines = render(results, wall, knobs.jobs)
    good = all(result.outcome.good for result in results)
    if args.report_dir is None and not good:
        lines.append("(the reports above were in a temporary folder, now gone: keep them with"
                     " --report-dir)")
    out.write("\n".join(lines) + "\n")
    return EXIT_OK if good else EXIT_FAIL
