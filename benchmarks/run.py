"""``python benchmarks/run.py``: measure every target of issue 8 and judge it by its ratio.

Strategy: each benchmark module measures one target and returns a ``Section``; this file
only chooses which to run (``--only``) and how long (``--quick``: smaller counts for a CI
smoke run), prints the machine, the load and each section as it completes, then a summary,
and sets the exit status: 0 every target met, 1 a target missed or a benchmark could not
measure, 2 a bad command line. The targets are judged on the full run; a ``--quick`` run
prints the same verdicts marked "indicative" and exits 0 unless a benchmark broke.

What never belongs here: measuring anything.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, Python puts benchmarks/ on the path; the modules are the benchmarks
# package, so the repository root must be importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import logging
import os
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from benchmarks import fanout, latency, memory, suite, timeshift
from benchmarks.results import Section, format_section, format_summary

logger = logging.getLogger("benchmarks")

Benchmark = Callable[[bool], Section]
# Every benchmark by name, in the order of issue 8 (and of a full run).
BENCHMARKS: Mapping[str, Benchmark] = {
    "latency": latency.run,
    "fanout": fanout.run,
    "memory": memory.run,
    "timeshift": timeshift.run,
    "suite": suite.run,
}
MISSED = 1


def _names(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown benchmark {', '.join(unknown) or text!r} (known: {', '.join(BENCHMARKS)})"
        )
    return names


def build_parser() -> argparse.ArgumentParser:
    """The command line of the benchmark runner."""
    parser = argparse.ArgumentParser(
        prog="benchmarks/run.py",
        description="Benchmark the reference device and the suite against issue 8's targets.",
    )
    parser.add_argument(
        "--only",
        type=_names,
        default=tuple(BENCHMARKS),
        help=f"comma-separated subset of: {','.join(BENCHMARKS)} (default: all)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller counts for a CI smoke run; verdicts are indicative only",
    )
    return parser


def machine() -> str:
    """The machine as one line: CPU model, cores, memory, OS, Python."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    return (
        f"{model}, {os.cpu_count()} cores, {memory_gb:.0f} GB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen benchmarks, print them, and return the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    mode = "quick (indicative; targets are judged on the full run)" if args.quick else "full"
    print(f"snapcheck benchmarks, {mode}: {', '.join(args.only)}")
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")
    print(f"load average at start: {load_average()}", flush=True)
    started = time.monotonic()
    sections: list[Section] = []
    broken: list[str] = []
    for name in args.only:
        try:
            section = BENCHMARKS[name](args.quick)
        except Exception:
            logger.exception("benchmark %s could not measure", name)
            broken.append(name)
            continue
        sections.append(section)
        print("\n" + format_section(section, indicative=args.quick), flush=True)
    print("\n" + format_summary(sections, indicative=args.quick))
    for name in broken:
        print(f"  {name:<14}could not measure (see the error above)  MISS")
    print(f"load average at end: {load_average()}")
    print(f"total run time: {time.monotonic() - started:.0f} s")
    missed = any(not section.passed for section in sections)
    return MISSED if broken or (missed and not args.quick) else 0


if __name__ == "__main__":
    sys.exit(main())
