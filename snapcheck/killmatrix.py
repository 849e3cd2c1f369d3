"""``snapcheck killmatrix``: the suite proves its sensitivity against the bundled fault zoo.

Strategy: the reference device lists its deliberate faults (``python -m reference_device
--list-faults json``: name, clauses broken, strict or not, the device flags a fault
needs). For every fault the conformance suite runs once, as its own ``pytest``
subprocess against the bundled device with ``--reference-args "--fault NAME"``, on a
selection: the tests citing a clause the fault breaks plus the quick smoke set
(``-m quick``), learned by one collection pass. Every run loads killmatrix_plugin.py (the
collection hook, and a Hypothesis profile that never shrinks: one failure kills). Each
run's report.json says which clauses failed. A fault is KILLED when the run fails with at least
one failure citing a clause the fault breaks; WRONG-CLAUSE when it fails for other
reasons only; SURVIVED when it passes; ERROR when the run cannot say (a usage error, no
report, or no end within ``--fault-timeout``: the subprocess is then killed, so a
hanging device never hangs the matrix). A fault that breaks only a SHOULD runs under
``--strict``, and a clause the clean run already reports NON-STRICT never counts as its
kill. Clean runs (no fault: the whole suite, and each device set-up the faults need)
must PASS; a failure there is a FALSE-ALARM.

The command line, the table and the JSON summary are killmatrix_cli.py's. snapcheck
never imports ``reference_device``: it meets the device through command-line strings and
report files only. Nothing here judges a device; the suite does.
"""

from __future__ import annotations

import enum
import itertools
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from snapcheck.verdicts import UsageError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The plugin every run of the matrix loads (killmatrix_plugin.py; not imported here, so
# that the snapcheck command does not load pytest and Hypothesis).
PLUGIN = "snapcheck.killmatrix_plugin"
SELECTION_ENV = "SNAPCHECK_KILLMATRIX_SELECTION"
HYPOTHESIS_PROFILE = "killmatrix"
# Installed pytest plugins the conformance suite never uses: not loading them saves each of
# the matrix's fifty interpreters most of a second.
UNUSED_PLUGINS = ("schemathesis", "anyio")
REPORT_JSON = "report.json"
MATRIX_JSON = "killmatrix.json"
CLEAN = "(clean)"
# Verdicts that make a clause count as failed, without and with --strict.
FAILING = frozenset({"FAIL", "DEVICE-UNREACHABLE"})
FAILING_STRICT = FAILING | {"NON-STRICT"}
LIST_TIMEOUT_S = 120.0


class Outcome(enum.Enum):
    """What one run of the matrix shows."""

    KILLED = "KILLED"
    SURVIVED = "SURVIVED"
    WRONG_CLAUSE = "WRONG-CLAUSE"
    ERROR = "ERROR"
    PASSED = "PASS"
    FALSE_ALARM = "FALSE-ALARM"

    @property
    def good(self) -> bool:
        """Whether this outcome is the one the matrix wants (a fault killed, a clean pass)."""
        return self in (Outcome.KILLED, Outcome.PASSED)


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """A fault as the device lists it: what it breaks and what it needs to be seen."""

    name: str
    clauses: tuple[str, ...]
    strict: bool = False
    setup: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> FaultSpec:
        """One entry of ``--list-faults json`` (ValueError when malformed)."""
        try:
            return cls(
                str(item["name"]),
                tuple(str(c) for c in item["clauses"]),
                bool(item.get("strict", False)),
                tuple(str(a) for a in item.get("setup", ())),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"a fault entry lacks {exc}: {item!r}") from None


@dataclass(frozen=True, slots=True)
class SuiteTest:
    """A collected conformance test: its node ID, the clauses it cites, and if it is quick."""

    nodeid: str
    clauses: frozenset[str]
    quick: bool


@dataclass(frozen=True, slots=True)
class Knobs:
    """How the matrix runs: interpreter, source tree, parallel jobs and every time limit."""

    python: str = sys.executable
    root: Path = PROJECT_ROOT
    jobs: int = 2
    request_timeout_s: float = 2.0
    stream_seconds: float = 2.0
    fault_timeout_s: float = 300.0


@dataclass(frozen=True, slots=True)
class Run:
    """One planned suite run: a fault (None: clean) and the device set-up it runs with."""

    label: str
    fault: FaultSpec | None
    setup: tuple[str, ...]
    nodeids: tuple[str, ...]  # empty: the whole suite

    @property
    def strict(self) -> bool:
        """Whether the run fails on NON-STRICT findings (a fault breaking only a SHOULD)."""
        return self.fault is not None and self.fault.strict

    @property
    def device_flags(self) -> tuple[str, ...]:
        """The bundled device's command-line flags: the set-up, then the fault if any."""
        return (*self.setup, *(("--fault", self.fault.name) if self.fault else ()))


@dataclass(frozen=True, slots=True)
class Result:
    """What one run showed, and how long it took."""

    run: Run
    outcome: Outcome
    cited: tuple[str, ...]
    seconds: float
    detail: str = ""
    command: str = ""
    report: str | None = None


# ---------------------------------------------------------------- what the device offers


def list_faults(knobs: Knobs) -> tuple[FaultSpec, ...]:
    """The faults the bundled device offers (UsageError when it cannot list them)."""
    command = [knobs.python, "-m", "reference_device", "--list-faults", "json"]
    try:
        done = subprocess.run(
            command, cwd=knobs.root, capture_output=True, text=True, timeout=LIST_TIMEOUT_S,
            check=False, env=_child_env(),
        )
        specs = tuple(FaultSpec.from_json(item) for item in json.loads(done.stdout))
    except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
        raise UsageError(f"cannot list the reference device's faults: {exc}") from None
    if done.returncode != 0 or not specs:
        raise UsageError(f"{shlex.join(command)} failed: {done.stderr.strip()}")
    return specs


def choose(specs: Sequence[FaultSpec], wanted: Sequence[str]) -> tuple[FaultSpec, ...]:
    """The faults named (all when none are; UsageError for a name the device lacks)."""
    if not wanted:
        return tuple(specs)
    known = {spec.name: spec for spec in specs}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise UsageError(f"unknown faults {unknown}; the device offers {', '.join(known)}")
    return tuple(known[name] for name in dict.fromkeys(wanted))


def collect_tests(knobs: Knobs, scratch: Path) -> tuple[SuiteTest, ...]:
    """Every conformance test with its clauses, from one ``pytest --collect-only`` pass."""
    target = scratch / "selection.json"
    command = [
        knobs.python, "-m", "pytest", "suites", "--collect-only", "-q", *_plugins(),
    ]
    env = {**_child_env(), SELECTION_ENV: str(target)}
    try:
        done = subprocess.run(
            command, cwd=knobs.root, capture_output=True, text=True, env=env,
            timeout=LIST_TIMEOUT_S, check=False,
        )
        rows = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
        raise UsageError(f"cannot collect the suite: {exc}") from None
    if done.returncode != 0:
        raise UsageError(f"collecting the suite failed: {done.stdout[-2000:]}{done.stderr}")
    return tuple(SuiteTest(r["nodeid"], frozenset(r["clauses"]), bool(r["quick"])) for r in rows)


# ---------------------------------------------------------------- planning


def selection(tests: Iterable[SuiteTest], clauses: Iterable[str]) -> tuple[str, ...]:
    """The tests citing one of ``clauses``, plus the quick smoke set, in collection order."""
    wanted = frozenset(clauses)
    return tuple(test.nodeid for test in tests if test.quick or test.clauses & wanted)


def plan(faults: Sequence[FaultSpec], tests: Sequence[SuiteTest]) -> tuple[Run, ...]:
    """The clean runs (whole suite; each set-up on its faults' tests), then one run per fault."""
    runs = [Run(CLEAN, None, (), ())]
    setups = dict.fromkeys(fault.setup for fault in faults if fault.setup)
    for setup in setups:
        concerned = {c for fault in faults if fault.setup == setup for c in fault.clauses}
        runs.append(Run(_setup_label(setup), None, setup, selection(tests, concerned)))
    runs += [Run(f.name, f, f.setup, selection(tests, f.clauses)) for f in faults]
    return tuple(runs)


def _setup_label(setup: Sequence[str]) -> str:
    """``(clean, --auth digest)``: the set-up's flags before its accounts (no passwords)."""
    shown = list(itertools.takewhile(lambda flag: flag != "--user", setup))
    return f"{CLEAN[:-1]}, {shlex.join(shown) or 'set-up'})"


def credentials(setup: Sequence[str]) -> dict[str, str]:
    """The suite's accounts, as environment variables, from the device's ``--user`` flags.

    The first account with the Camera Monitoring privilege is the suite's user, the first
    without it (``NAME:PASSWORD:nocamera``) its unprivileged user.
    """
    env: dict[str, str] = {}
    for flag, value in itertools.pairwise(setup):
        if flag != "--user":
            continue
        name, _, password = value.partition(":")
        if password.endswith(":nocamera"):
            prefix = "SNAPCHECK_UNPRIVILEGED_"
            password = password.removesuffix(":nocamera")
        else:
            prefix = "SNAPCHECK_"
        env.setdefault(f"{prefix}USER", name)
        env.setdefault(f"{prefix}PASSWORD", password)
    return env


def suite_command(run: Run, knobs: Knobs, report_dir: Path) -> list[str]:
    """The pytest command line of one run (credentials travel in the environment)."""
    return [
        knobs.python, "-m", "pytest", "-q", *_plugins(),
        "--hypothesis-profile", HYPOTHESIS_PROFILE,
        f"--reference-args={shlex.join(run.device_flags)}",
        f"--report-dir={report_dir}",
        f"--request-timeout={knobs.request_timeout_s:g}",
        f"--stream-seconds={knobs.stream_seconds:g}",
        *(["--strict"] if run.strict else []),
        *(run.nodeids or ["suites"]),
    ]


def _plugins() -> list[str]:
    """The pytest plugins of a matrix run: the kill matrix's own in, cache and unused ones out."""
    blocked = ("cacheprovider", *UNUSED_PLUGINS)
    return [*itertools.chain.from_iterable(("-p", f"no:{name}") for name in blocked), "-p", PLUGIN]


def _child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a child run: no SNAPCHECK_* setting of the caller leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNAPCHECK_")}
    return {**env, **(extra or {})}


# ---------------------------------------------------------------- running


@dataclass(frozen=True, slots=True)
class Finished:
    """One run as it ended: exit status (None: killed or never started) and clause verdicts."""

    run: Run
    exit_status: int | None
    verdicts: Mapping[str, str]
    seconds: float
    note: str = ""
    command: str = ""
    report: str | None = None  # None: the run wrote no readable report.json


def run_one(run: Run, knobs: Knobs, folder: Path) -> Finished:
    """Run the suite once in its own process group; kill the group past the fault timeout."""
    folder.mkdir(parents=True, exist_ok=True)
    command = suite_command(run, knobs, folder)
    shown = shlex.join(command)
    started, started_wall = time.monotonic(), time.time()
    with open(folder / "pytest.log", "w", encoding="utf-8") as log:
        try:
            process = subprocess.Popen(
                command, cwd=knobs.root, stdout=log, stderr=subprocess.STDOUT,
                env=_child_env(credentials(run.setup)), start_new_session=True,
            )
        except OSError as exc:
            return Finished(run, None, {}, 0.0, f"cannot start pytest: {exc}", shown)
        try:
            status: int | None = process.wait(timeout=knobs.fault_timeout_s)
            note = ""
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            status, note = None, f"no end within {knobs.fault_timeout_s:g} s: killed"
    seconds = time.monotonic() - started
    # Only this run's report: a report directory kept from an earlier matrix holds older ones
    # (a second's margin for file systems whose clock is coarser than ours).
    fresh = started_wall - 1.0
    written = [p for p in folder.glob(f"*/{REPORT_JSON}") if p.stat().st_mtime >= fresh]
    if not written:
        return Finished(run, status, {}, seconds, note or "no report.json written", shown)
    report = max(written, key=lambda path: path.stat().st_mtime)
    try:
        document = json.loads(report.read_text(encoding="utf-8"))
        verdicts = {str(k): str(v) for k, v in document["clauses"].items()}
    except (OSError, ValueError, KeyError, AttributeError) as exc:
        return Finished(run, status, {}, seconds, f"{report} unreadable: {exc!r}", shown)
    return Finished(run, status, verdicts, seconds, note, shown, str(report))


def judge(finished: Finished, clean_nonstrict: frozenset[str] = frozenset()) -> Result:
    """The outcome of one finished run (``clean_nonstrict``: what the clean run calls NON-STRICT).

    A strict fault is never credited with a NON-STRICT clause the clean device shows too.
    """
    run = finished.run
    failing = FAILING_STRICT if run.strict else FAILING
    cited = tuple(sorted(c for c, v in finished.verdicts.items() if v in failing))
    base = Result(run, Outcome.ERROR, cited, finished.seconds, finished.note,
                  finished.command, finished.report)
    if finished.exit_status not in (0, 1) or finished.report is None:
        status = f"pytest exit status {finished.exit_status}" if finished.note == "" else ""
        return replace(base, detail=finished.note or status)
    failed = finished.exit_status == 1
    if run.fault is None:
        return replace(base, outcome=Outcome.FALSE_ALARM if failed else Outcome.PASSED)
    if not failed:
        return replace(base, outcome=Outcome.SURVIVED)
    credited = [
        c for c in cited
        if c in run.fault.clauses
        and not (finished.verdicts[c] == "NON-STRICT" and c in clean_nonstrict)
    ]
    if credited:
        return replace(base, outcome=Outcome.KILLED)
    return replace(base, outcome=Outcome.WRONG_CLAUSE,
                   detail=f"no failure cites {', '.join(run.fault.clauses)}")


def run_matrix(
    runs: Sequence[Run], knobs: Knobs, folder: Path, progress: TextIO | None = None
) -> list[Result]:
    """Every run, ``knobs.jobs`` at a time; results in plan order."""
    finished: dict[str, Finished] = {}
    # The longest runs first (the whole suite, then the largest selections): a shorter wall.
    ordered = sorted(runs, key=lambda run: -(len(run.nodeids) or 10**6))
    with ThreadPoolExecutor(max_workers=knobs.jobs) as pool:
        futures = {
            pool.submit(run_one, run, knobs, folder / _folder_name(run.label)): run
            for run in ordered
        }
        for future in as_completed(futures):
            done = future.result()
            finished[done.run.label] = done
            if progress is not None:
                status = "killed" if done.exit_status is None else f"exit {done.exit_status}"
                progress.write(
                    f"[{len(finished)}/{len(runs)}] {done.run.label}: {status},"
                    f" {done.seconds:.1f} s\n"
                )
                progress.flush()
    clean = finished.get(CLEAN)
    nonstrict = frozenset(
        c for c, v in (clean.verdicts if clean else {}).items() if v == "NON-STRICT"
    )
    return [judge(finished[run.label], nonstrict) for run in runs]


def _folder_name(label: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in label).strip("_")
