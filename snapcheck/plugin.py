"""The pytest plugin: options, Hypothesis profiles, the device fixture and verdict bookkeeping.

Strategy: fixtures are thin; the logic lives in plain code (``settings.py``,
``device.py``, ``recorder.py``, ``report``). The root conftest.py loads this plugin.
Every conformance test cites its clauses with ``@pytest.mark.clause(...)``; the
plugin turns each test's outcome into a verdict (PASS, NON-STRICT, INFORMATIONAL,
UNSUPPORTED, FAIL, DEVICE-UNREACHABLE), and writes the run's report at the end.

Exit status (issue 7): 0 when no clause FAILs (nor is NON-STRICT under ``--strict``), 1
otherwise, 2 for a usage error or a device that did not answer at the start. pytest's own
status for a usage error is 4: ``pytest_cmdline_main`` below wraps pytest's main loop and
turns every ``pytest.UsageError`` raised once the plugin is loaded (a bad snapcheck
setting, a path that does not exist) into 2; the device fixture notes a device whose caps
request got not a single byte, and ``pytest_sessionfinish`` then sets 2. Only errors
pytest's argument parser finds before any plugin is loaded (an unknown option, an option
without its value) keep pytest's 4.

This module may import ``reference_device`` only to start the bundled device when no
``--device`` is given; it then talks to it over HTTP like to any other device.
"""

from __future__ import annotations

import os
import secrets
import shlex
import sys
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest
from hypothesis import HealthCheck
from hypothesis import core as hypothesis_core
from hypothesis import settings as hypothesis_settings

from snapcheck.device import DeviceUnderTest, DeviceUnreachable, Unsupported
from snapcheck.recorder import RunRecorder

# Imported with the plugin, not when the first report is written: numpy (under
# matplotlib) refuses to be imported twice in one process, which pytester's in-process
# runs would otherwise do after restoring sys.modules.
from snapcheck.report.files import write_run_report
from snapcheck.report.model import HypothesisRun
from snapcheck.settings import OPTIONS, Settings, resolve_settings
from snapcheck.verdicts import DeviceFailure, UsageError, Verdict

if TYPE_CHECKING:
    from reference_device import DeviceOptions

SETTINGS_KEY = pytest.StashKey[Settings]()
RECORDER_KEY = pytest.StashKey[RunRecorder]()
STARTED_KEY = pytest.StashKey[datetime]()
DEVICE_KEY = pytest.StashKey[DeviceUnderTest]()
REPORT_DIR_KEY = pytest.StashKey[Path]()
SILENT_AT_START_KEY = pytest.StashKey[str]()
DREW_SEED_KEY = pytest.StashKey[bool]()
EXIT_USAGE = 2

# Profiles are registered once; the plugin picks one unless --hypothesis-profile is given.
# Each builds on Hypothesis' own defaults, not on the profile in force: with CI set,
# Hypothesis loads its derandomized "ci" profile at import, which dev and device must not
# inherit.
QUIET_HEALTH_CHECKS = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
_DEFAULTS = hypothesis_settings.get_profile("default")
hypothesis_settings.register_profile(
    "dev", _DEFAULTS, max_examples=25, deadline=None, suppress_health_check=QUIET_HEALTH_CHECKS
)
hypothesis_settings.register_profile(
    "ci", _DEFAULTS, max_examples=25, deadline=None, derandomize=True, print_blob=True,
    database=None, suppress_health_check=QUIET_HEALTH_CHECKS,
)
hypothesis_settings.register_profile(
    "device", _DEFAULTS, max_examples=8, deadline=None, database=None, print_blob=True,
    suppress_health_check=QUIET_HEALTH_CHECKS,
)


@pytest.hookimpl(wrapper=True)
def pytest_cmdline_main(config: pytest.Config) -> Generator[None, object, object]:
    """Exit 2, not pytest's 4, for a usage error (see the module's docstring)."""
    try:
        return (yield)
    except pytest.UsageError as error:
        # pytest.main would print these lines itself had the error reached it.
        for line in error.args:
            sys.stderr.write(f"ERROR: {line}\n")
        return EXIT_USAGE


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add snapcheck's options (also settable by environment variable and ini)."""
    group = parser.getgroup("snapcheck", "snapcheck conformance run")
    for option in OPTIONS:
        parser.addini(option.ini, f"{option.help} (or ${option.env})", default=None)
        if option.field == "strict":
            # pytest already owns --strict; snapcheck reads it (see _cli_values).
            continue
        group.addoption(option.flag, dest=f"snapcheck_{option.field}", default=None,
                        help=f"{option.help} [env {option.env}]")


def _cli_values(config: pytest.Config) -> dict[str, object | None]:
    values: dict[str, object | None] = {}
    for option in OPTIONS:
        if option.field == "strict":
            values["strict"] = bool(config.getoption("strict", default=False)) or None
        else:
            values[option.field] = config.getoption(f"snapcheck_{option.field}")
    return values


def _choose_hypothesis_profile(config: pytest.Config, settings: Settings) -> str:
    chosen = config.getoption("hypothesis_profile", default=None)
    if chosen:
        return str(chosen)
    if not settings.bundled:
        return "device"
    return "ci" if os.environ.get("CI") else "dev"


def pytest_configure(config: pytest.Config) -> None:
    """Resolve the settings once, pick the Hypothesis profile and register the markers."""
    config.addinivalue_line(
        "markers", "clause(*ids): the catalogue clauses this conformance test judges"
    )
    config.addinivalue_line("markers", "quick: part of the quick conformance selection")
    ini = {option.ini: config.getini(option.ini) for option in OPTIONS}
    try:
        settings = resolve_settings(_cli_values(config), os.environ, ini)
        if settings.bundled and settings.reference_args:
            reference_options(settings)  # a bad flag is a usage error now, not in a fixture
    except UsageError as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[SETTINGS_KEY] = settings
    config.stash[RECORDER_KEY] = RunRecorder()
    config.stash[STARTED_KEY] = datetime.now(UTC)
    profile = _choose_hypothesis_profile(config, settings)
    hypothesis_settings.load_profile(profile)
    config.option.hypothesis_profile = profile
    _fix_hypothesis_seed(config)


def _fix_hypothesis_seed(config: pytest.Config) -> None:
    """Draw the run's seed when examples are random and none was given, so the report has it.

    Hypothesis would draw a seed per test and print it only for a failure; one seed drawn
    here and forced (as ``--hypothesis-seed`` forces it) lets ``--hypothesis-seed=N``
    replay the whole run's examples. A derandomized profile needs no seed.
    """
    if hypothesis_settings().derandomize:
        return
    if config.getoption("hypothesis_seed", default=None) is not None:
        return
    seed = secrets.randbits(32)
    config.option.hypothesis_seed = str(seed)
    # What Hypothesis' own plugin does with --hypothesis-seed (its stub types it None).
    setattr(hypothesis_core, "global_force_seed", seed)  # noqa: B010
    config.stash[DREW_SEED_KEY] = True


def pytest_unconfigure(config: pytest.Config) -> None:
    """Release the seed this run forced: a later run in the same process draws its own."""
    if config.stash.get(DREW_SEED_KEY, False):
        hypothesis_core.global_force_seed = None


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Show the effective settings, credentials masked."""
    settings = config.stash[SETTINGS_KEY]
    described = ", ".join(f"{key}={value}" for key, value in settings.describe().items())
    seed = config.getoption("hypothesis_seed", default=None)
    drawn = "" if seed is None else f", seed {seed} (replay: --hypothesis-seed={seed})"
    return [f"snapcheck: {described}",
            f"snapcheck: hypothesis profile {config.option.hypothesis_profile}{drawn}"]


def clause_ids(item: pytest.Item) -> tuple[str, ...]:
    """The clause IDs a test cites with its clause markers."""
    ids: list[str] = []
    for marker in item.iter_markers("clause"):
        ids.extend(str(arg) for arg in marker.args)
    return tuple(dict.fromkeys(ids))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Apply --clauses: keep only conformance tests citing a selected clause."""
    settings = config.stash[SETTINGS_KEY]
    if not settings.clauses:
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        cited = clause_ids(item)
        (kept if not cited or settings.selects(cited) else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def reference_options(settings: Settings) -> DeviceOptions:
    """The bundled device's options: the profile, pre-rolled, then ``--reference-args``."""
    from reference_device.command_line import device_options  # noqa: PLC0415 - bundled only

    argv = ["--profile", settings.reference_profile, "--preroll"]
    try:
        return device_options([*argv, *shlex.split(settings.reference_args)])
    except ValueError as error:
        raise UsageError(f"--reference-args {settings.reference_args!r}: {error}") from None


@contextmanager
def _device_target(settings: Settings) -> Iterator[tuple[str, Settings]]:
    """The base URL to test and the settings to test it with.

    A bundled device with HTTPS also has a plain-HTTP listener: it becomes ``plain_url``.
    """
    if settings.device is not None:
        yield settings.device, settings
        return
    from reference_device import DeviceThread  # noqa: PLC0415 - bundled only

    with DeviceThread(reference_options(settings)) as running:
        yield running.url, replace(settings, plain_url=settings.plain_url or running.plain_url)


@pytest.fixture(scope="session")
def snapcheck_settings(pytestconfig: pytest.Config) -> Settings:
    """The effective settings of this run; override to change them in a test session."""
    return pytestconfig.stash[SETTINGS_KEY]


@pytest.fixture(scope="session")
def device(pytestconfig: pytest.Config, snapcheck_settings: Settings) -> Iterator[DeviceUnderTest]:
    """The device under test: the bundled reference device, or --device. Override to swap it."""
    recorder = pytestconfig.stash[RECORDER_KEY]
    with _device_target(snapcheck_settings) as (base_url, settings):
        dut = DeviceUnderTest.connect(base_url, settings, recorder)
        pytestconfig.stash[DEVICE_KEY] = dut
        if dut.caps_reply.first_byte_s is None:
            # Not one byte to the first request: the run judges nothing, exit 2 (not 1).
            pytestconfig.stash[SILENT_AT_START_KEY] = dut.caps_reply.transport_error or "silent"
        try:
            yield dut
        finally:
            dut.close()


def _skip_at_test(reason: str) -> NoReturn:
    """Skip the test under way, reported at the test's own line rather than at this plugin's.

    pytest's skip marker does the same through this flag; a plain ``pytest.skip`` here
    would make every skip in the summary point at snapcheck/plugin.py.
    """
    raise pytest.skip.Exception(reason, _use_item_location=True)


def judges_device(item: pytest.Item) -> bool:
    """Whether a test is a conformance test: it uses this plugin's ``device`` fixture.

    A test module may define an unrelated fixture called ``device``; only the plugin's
    fixture, or an override that builds on it (requests ``device`` itself), counts.
    """
    info = getattr(item, "_fixtureinfo", None)
    definitions = info.name2fixturedefs.get("device", ()) if info is not None else ()
    if not definitions:
        return False
    closest = definitions[-1]
    return closest.baseid == "" or "device" in closest.argnames


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Open a record for a conformance test and close it with the verdict its outcome earns."""
    if not judges_device(item):
        return (yield)
    recorder = item.config.stash[RECORDER_KEY]
    cited = clause_ids(item)
    if not cited:
        raise UsageError(f"{item.nodeid} judges a device but cites no clause (@pytest.mark.clause)")
    recorder.begin(item.nodeid, cited)
    started = time.perf_counter()
    try:
        result = yield
    except DeviceFailure:
        recorder.end(Verdict.FAIL, time.perf_counter() - started)
        raise
    except Unsupported as unsupported:
        recorder.end(Verdict.UNSUPPORTED, time.perf_counter() - started, str(unsupported))
        _skip_at_test(f"UNSUPPORTED: {unsupported}")
    except DeviceUnreachable as unreachable:
        recorder.end(Verdict.DEVICE_UNREACHABLE, time.perf_counter() - started, str(unreachable))
        raise
    except BaseException as error:
        recorder.end(Verdict.FAIL, time.perf_counter() - started, f"suite error: {error!r}")
        raise
    if not recorder.findings_so_far():
        recorder.end(Verdict.FAIL, time.perf_counter() - started, "recorded no finding")
        raise UsageError(f"{item.nodeid} passed without recording any finding: it cannot fail")
    recorder.end(None, time.perf_counter() - started)
    return result


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Once the device is unreachable, later tests say so instead of failing one by one."""
    dut = item.config.stash.get(DEVICE_KEY, None)
    if dut is not None and dut.unreachable and judges_device(item):
        recorder = item.config.stash[RECORDER_KEY]
        recorder.begin(item.nodeid, clause_ids(item))
        recorder.end(Verdict.DEVICE_UNREACHABLE, 0.0, dut.unreachable_reason)
        _skip_at_test(f"DEVICE-UNREACHABLE: {dut.unreachable_reason}")


def _hypothesis_run(config: pytest.Config) -> HypothesisRun:
    seed = config.getoption("hypothesis_seed", default=None)
    return HypothesisRun(
        profile=str(config.option.hypothesis_profile),
        seed=None if seed is None else str(seed),
        derandomize=bool(hypothesis_settings().derandomize),
    )


# trylast: the session's fixtures (the device, and the artifacts it keeps until it closes)
# are torn down by pytest's own pytest_sessionfinish, which must run first.
@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write the run's report and make the exit status follow the verdicts."""
    config = session.config
    if RECORDER_KEY not in config.stash:
        return
    recorder = config.stash[RECORDER_KEY]
    if not recorder.records:
        return
    settings = config.stash[SETTINGS_KEY]
    dut = config.stash.get(DEVICE_KEY, None)
    config.stash[REPORT_DIR_KEY] = write_run_report(
        settings, recorder, dut.identity() if dut else {}, config.stash[STARTED_KEY],
        datetime.now(UTC), hypothesis=_hypothesis_run(config),
    )
    if SILENT_AT_START_KEY in config.stash and exitstatus in (0, pytest.ExitCode.TESTS_FAILED):
        session.exitstatus = EXIT_USAGE
    elif exitstatus == 0 and recorder.failed(strict=settings.strict):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """End the run with the report's path and the verdict counts."""
    config = terminalreporter.config
    if REPORT_DIR_KEY not in config.stash:
        return
    counts = config.stash[RECORDER_KEY].counts()
    summary = ", ".join(f"{counts.get(v, 0)} {v.value}" for v in Verdict)
    terminalreporter.write_sep("=", "snapcheck verdicts by clause")
    terminalreporter.write_line(f"snapcheck: {summary}")
    folder = config.stash[REPORT_DIR_KEY]
    terminalreporter.write_line(f"snapcheck: report in {folder}")
    terminalreporter.write_line(f"snapcheck: open {folder / 'report.html'} (junit.xml beside it)")
    if SILENT_AT_START_KEY in config.stash:
        terminalreporter.write_line(
            f"snapcheck: the device did not answer at the start"
            f" ({config.stash[SILENT_AT_START_KEY]}): exit status {EXIT_USAGE}"
        )
