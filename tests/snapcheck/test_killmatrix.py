"""The kill matrix: selection, plan, command lines, the verdict of each run, the table, and
real subprocesses (a fake pytest that fails, one that hangs, the device's own listing, a
collection pass over a tiny suite)."""

from __future__ import annotations

import json
import os
import stat
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import Phase
from hypothesis import settings as hypothesis_settings

from snapcheck import killmatrix_plugin
from snapcheck.killmatrix import (
    CLEAN,
    HYPOTHESIS_PROFILE,
    PLUGIN,
    FaultSpec,
    Finished,
    Knobs,
    Outcome,
    Run,
    SuiteTest,
    choose,
    collect_tests,
    credentials,
    judge,
    list_faults,
    plan,
    run_one,
    selection,
    suite_command,
)
from snapcheck.verdicts import UsageError

ROOT = Path(__file__).resolve().parents[2]
SETUP = ("--auth", "digest", "--user", "admin:a-secret", "--user", "viewer:v-secret:nocamera")
FRAMING = FaultSpec("part-without-content-type", ("STREAM-PART-CT-1",))
LEAD = FaultSpec("no-leading-boundary", ("STREAM-LEAD-1",), strict=True)
PRIVILEGE = FaultSpec("privilege-ignored", ("AUTH-PRIV-1",), setup=SETUP)
TESTS = (
    SuiteTest("suites/test_a.py::test_quick", frozenset({"JPEG-CT-1"}), quick=True),
    SuiteTest("suites/test_a.py::test_stream", frozenset({"STREAM-PART-CT-1"}), quick=False),
    SuiteTest("suites/test_b.py::test_lead", frozenset({"STREAM-LEAD-1"}), quick=False),
    SuiteTest("suites/test_b.py::test_priv", frozenset({"AUTH-PRIV-1"}), quick=False),
)


def test_a_fault_runs_the_tests_citing_its_clauses_plus_the_quick_set() -> None:
    assert selection(TESTS, FRAMING.clauses) == (
        "suites/test_a.py::test_quick",
        "suites/test_a.py::test_stream",
    )
    assert selection(TESTS, ()) == ("suites/test_a.py::test_quick",)


def test_the_plan_has_the_clean_runs_first_then_one_run_per_fault() -> None:
    runs = plan((FRAMING, LEAD, PRIVILEGE), TESTS)
    assert [run.label for run in runs] == [
        CLEAN, "(clean, --auth digest)", FRAMING.name, LEAD.name, PRIVILEGE.name
    ]
    whole, access_clean = runs[0], runs[1]
    assert (whole.fault, whole.nodeids, whole.setup) == (None, (), ())
    assert access_clean.setup == SETUP and "suites/test_b.py::test_priv" in access_clean.nodeids
    assert [run.strict for run in runs] == [False, False, False, True, False]


def test_the_suite_gets_the_devices_accounts_through_the_environment() -> None:
    assert credentials(SETUP) == {
        "SNAPCHECK_USER": "admin",
        "SNAPCHECK_PASSWORD": "a-secret",
        "SNAPCHECK_UNPRIVILEGED_USER": "viewer",
        "SNAPCHECK_UNPRIVILEGED_PASSWORD": "v-secret",
    }
    assert credentials(()) == {}


def test_a_run_is_one_pytest_command_line_without_passwords(tmp_path: Path) -> None:
    run = Run(PRIVILEGE.name, PRIVILEGE, SETUP, ("suites/test_b.py::test_priv",))
    command = suite_command(run, Knobs(python="py", request_timeout_s=1.5), tmp_path)
    assert command[:3] == ["py", "-m", "pytest"]
    assert command[command.index(PLUGIN) - 1 : command.index(PLUGIN) + 1] == ["-p", PLUGIN]
    assert f"--reference-args={' '.join(SETUP)} --fault privilege-ignored" in command
    assert f"--report-dir={tmp_path}" in command and "--request-timeout=1.5" in command
    assert command[-1] == "suites/test_b.py::test_priv" and "--strict" not in command
    strict = suite_command(Run(LEAD.name, LEAD, (), ()), Knobs(python="py"), tmp_path)
    assert "--strict" in strict and strict[-1] == "suites"
    assert "--reference-args=--fault no-leading-boundary" in strict


def finished(
    fault: FaultSpec | None, status: int | None, verdicts: dict[str, str], *, report: bool = True
) -> Finished:
    run = Run(fault.name if fault else CLEAN, fault, (), ())
    return Finished(run, status, verdicts, 12.5, "", "pytest ...", "r.json" if report else None)


@pytest.mark.parametrize(
    ("done", "clean_nonstrict", "outcome", "cited"),
    [
        (finished(None, 0, {"JPEG-CT-1": "PASS"}), set(), Outcome.PASSED, ()),
        (finished(None, 1, {"JPEG-CT-1": "FAIL"}), set(), Outcome.FALSE_ALARM, ("JPEG-CT-1",)),
        (finished(FRAMING, 0, {"STREAM-PART-CT-1": "PASS"}), set(), Outcome.SURVIVED, ()),
        (finished(FRAMING, 1, {"STREAM-PART-CT-1": "FAIL", "JPEG-CT-1": "FAIL"}), set(),
         Outcome.KILLED, ("JPEG-CT-1", "STREAM-PART-CT-1")),
        (finished(FRAMING, 1, {"STREAM-PART-CT-1": "DEVICE-UNREACHABLE"}), set(),
         Outcome.KILLED, ("STREAM-PART-CT-1",)),
        (finished(FRAMING, 1, {"JPEG-CT-1": "FAIL", "STREAM-PART-CT-1": "NON-STRICT"}), set(),
         Outcome.WRONG_CLAUSE, ("JPEG-CT-1",)),
        (finished(LEAD, 1, {"STREAM-LEAD-1": "NON-STRICT"}), set(), Outcome.KILLED,
         ("STREAM-LEAD-1",)),
        # The clean device shows the same NON-STRICT: no credit for the fault.
        (finished(LEAD, 1, {"STREAM-LEAD-1": "NON-STRICT"}), {"STREAM-LEAD-1"},
         Outcome.WRONG_CLAUSE, ("STREAM-LEAD-1",)),
        (finished(LEAD, 1, {"STREAM-LEAD-1": "FAIL"}), {"STREAM-LEAD-1"}, Outcome.KILLED,
         ("STREAM-LEAD-1",)),
        (finished(FRAMING, 2, {}), set(), Outcome.ERROR, ()),
        (finished(FRAMING, None, {}, report=False), set(), Outcome.ERROR, ()),
        (finished(FRAMING, 1, {}, report=False), set(), Outcome.ERROR, ()),
    ],
)
def test_each_run_earns_its_verdict(
    done: Finished, clean_nonstrict: set[str], outcome: Outcome, cited: tuple[str, ...]
) -> None:
    result = judge(done, frozenset(clean_nonstrict))
    assert (result.outcome, result.cited) == (outcome, cited)
    assert result.outcome.good is (outcome in (Outcome.KILLED, Outcome.PASSED))


def test_only_faults_the_device_offers_can_be_chosen() -> None:
    assert choose((FRAMING, LEAD), []) == (FRAMING, LEAD)
    assert choose((FRAMING, LEAD), [LEAD.name, LEAD.name]) == (LEAD,)
    with pytest.raises(UsageError, match=r"unknown faults \['nope'\]"):
        choose((FRAMING, LEAD), ["nope"])


FAKE_PYTEST = """\
    import json, os, sys, time
    report_dir = next(a.split("=", 1)[1] for a in sys.argv if a.startswith("--report-dir="))
    if os.environ.get("FAKE_HANG"):
        time.sleep(600)
    folder = os.path.join(report_dir, "reference-default-1")
    os.makedirs(folder)
    clauses = json.loads(os.environ["FAKE_CLAUSES"])
    with open(os.path.join(folder, "report.json"), "w") as out:
        json.dump({"clauses": clauses, "failed": "FAIL" in clauses.values()}, out)
    print("fake pytest", sys.argv[1:4])
    sys.exit(1 if "FAIL" in clauses.values() else 0)
"""


@pytest.fixture
def fake_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An interpreter stand-in that acts as a pytest run (FAKE_CLAUSES, FAKE_HANG)."""
    script = tmp_path / "fake-python"
    script.write_text(f"#!{sys.executable}\n" + textwrap.dedent(FAKE_PYTEST), "utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("FAKE_CLAUSES", json.dumps({"STREAM-PART-CT-1": "FAIL"}))
    return str(script)


def test_a_run_reads_the_report_its_pytest_wrote(fake_python: str, tmp_path: Path) -> None:
    run = Run(FRAMING.name, FRAMING, (), ())
    done = run_one(run, Knobs(python=fake_python, root=tmp_path), tmp_path / "runs")
    assert (done.exit_status, done.verdicts) == (1, {"STREAM-PART-CT-1": "FAIL"})
    assert judge(done).outcome is Outcome.KILLED
    assert "fake pytest" in (tmp_path / "runs" / "pytest.log").read_text("utf-8")


def test_a_hanging_run_is_killed_at_the_fault_timeout(
    fake_python: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_HANG", "1")
    knobs = Knobs(python=fake_python, root=tmp_path, fault_timeout_s=0.5)
    done = run_one(Run(FRAMING.name, FRAMING, (), ()), knobs, tmp_path / "runs")
    result = judge(done)
    assert (done.exit_status, result.outcome) == (None, Outcome.ERROR)
    assert "no end within 0.5 s: killed" in result.detail


def test_the_device_lists_its_faults_to_the_matrix() -> None:
    specs = list_faults(Knobs(root=ROOT))
    assert len(specs) >= 30
    by_name = {spec.name: spec for spec in specs}
    assert by_name["no-leading-boundary"].strict
    assert "--auth" in by_name["privilege-ignored"].setup


def test_the_collection_pass_reads_clauses_and_quick_marks(tmp_path: Path) -> None:
    (tmp_path / "suites").mkdir()
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["snapcheck.plugin"]\n', "utf-8")
    (tmp_path / "suites" / "test_tiny.py").write_text(
        textwrap.dedent("""\
            import pytest

            @pytest.mark.quick
            @pytest.mark.clause("JPEG-CT-1")
            def test_one(device): ...

            @pytest.mark.clause("STREAM-LEAD-1", "STREAM-CT-1")
            @pytest.mark.parametrize("n", [1, 2])
            def test_two(device, n): ...
        """),
        "utf-8",
    )
    tests = collect_tests(Knobs(root=tmp_path), tmp_path)
    assert tests == (
        SuiteTest("suites/test_tiny.py::test_one", frozenset({"JPEG-CT-1"}), True),
        SuiteTest("suites/test_tiny.py::test_two[1]", frozenset({"STREAM-LEAD-1", "STREAM-CT-1"}),
                 False),
        SuiteTest("suites/test_tiny.py::test_two[2]", frozenset({"STREAM-LEAD-1", "STREAM-CT-1"}),
                 False),
    )


def test_the_plugin_offers_a_profile_that_never_shrinks() -> None:
    # Importing the plugin registers the profile every run of the matrix asks for.
    profile = hypothesis_settings.get_profile(HYPOTHESIS_PROFILE)
    assert Phase.shrink not in profile.phases and profile.derandomize
    assert profile.max_examples == killmatrix_plugin.MAX_EXAMPLES <= 25


def test_no_snapcheck_setting_of_the_caller_leaks_into_a_run(
    fake_python: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SNAPCHECK_DEVICE", "http://192.0.2.1")
    monkeypatch.setenv("FAKE_CLAUSES", '{"X": "PASS"}')
    script = Path(fake_python)
    script.write_text(
        script.read_text("utf-8").replace(
            'print("fake pytest"', 'print("device:", os.environ.get("SNAPCHECK_DEVICE")); print("x"'
        ),
        "utf-8",
    )
    run_one(Run(CLEAN, None, (), ()), Knobs(python=fake_python, root=tmp_path), tmp_path / "r")
    assert "device: None" in (tmp_path / "r" / "pytest.log").read_text("utf-8")
    assert os.environ["SNAPCHECK_DEVICE"] == "http://192.0.2.1"
