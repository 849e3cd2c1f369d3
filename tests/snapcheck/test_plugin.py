"""The pytest plugin as a user meets it: small conformance files run through ``pytester``.

Each test writes a conftest that loads ``snapcheck.plugin`` (as the repository's root
conftest does) and a conformance file, runs pytest on it against the bundled reference
device or against a scripted device (``scripted_device``, some deliberately broken) on
127.0.0.1 port 0, and asserts what the user sees: the outcomes, the FAIL lines with their
clause and a ``curl`` line, the verdict summary, the report folder and its report.json.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
from hypothesis import core as hypothesis_core
from hypothesis import settings as hypothesis_settings
from scripted_device import GONE_HANG, GONE_RESET, Faults, running_scripted_device

# pytester forgets the modules first imported inside an in-process run, and cryptography
# (imported by the bundled device) cannot be imported twice: every run shares this import.
import reference_device  # noqa: F401

pytest_plugins = ["pytester"]

PASSWORD = "pl41n-s3cret"
SUMMARY = re.compile(
    r"^snapcheck: (\d+) PASS, (\d+) NON-STRICT, (\d+) INFORMATIONAL, (\d+) UNSUPPORTED, "
    r"(\d+) FAIL, (\d+) DEVICE-UNREACHABLE$"
)
VERDICTS = ("PASS", "NON-STRICT", "INFORMATIONAL", "UNSUPPORTED", "FAIL", "DEVICE-UNREACHABLE")

# A conforming device passes both; each broken device fails one of them.
SNAPSHOT_AND_REFUSAL = """
import pytest

@pytest.mark.clause("JPEG-SIZE-1", "JPEG-CT-1", "JPEG-DECODE-1")
def test_snapshot(device):
    device.expect({"width": 160, "height": 120})

@pytest.mark.clause("SNAP-WH-1", "ENV-STATUS-1")
def test_refused_pair(device):
    device.expect({"width": 161, "height": 120})
"""


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No SNAPCHECK_* or CI from the outer run; the inner runs load Hypothesis profiles."""
    for name in list(os.environ):
        if name.startswith("SNAPCHECK_") or name == "CI":
            monkeypatch.delenv(name)
    profile = hypothesis_settings.get_current_profile_name()
    yield
    hypothesis_settings.load_profile(profile)


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project whose conftest loads the plugin, as the repository's root conftest does."""
    pytester.makeconftest('pytest_plugins = ["snapcheck.plugin"]\n')
    return pytester


def run(project: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    """Write ``source`` as the conformance file and run pytest on it in-process."""
    project.makepyfile(test_conformance=dedent(source))
    reports = project.path / "reports"
    return project.runpytest("-p", "no:cacheprovider", "-rfEs", "--report-dir", str(reports), *args)


def output(result: pytest.RunResult) -> str:
    """Everything the user saw, stdout and stderr."""
    return "\n".join(result.outlines + result.errlines)


def verdict_counts(result: pytest.RunResult) -> dict[str, int]:
    """The verdict summary line, as a mapping from verdict to count."""
    for line in result.outlines:
        found = SUMMARY.match(line)
        if found:
            return dict(zip(VERDICTS, map(int, found.groups()), strict=True))
    raise AssertionError("no snapcheck verdict summary line:\n" + output(result))


def report_line(result: pytest.RunResult) -> str:
    """The report folder as the last lines name it."""
    line = next(line for line in result.outlines if line.startswith("snapcheck: report in "))
    return line.removeprefix("snapcheck: report in ")


def report(result: pytest.RunResult) -> dict[str, Any]:
    """The report.json of the folder the run named in its last lines."""
    document = json.loads((Path(report_line(result)) / "report.json").read_text())
    assert isinstance(document, dict)
    return document


def header(result: pytest.RunResult) -> str:
    """The plugin's report-header line with the effective settings."""
    return next(line for line in result.outlines if line.startswith("snapcheck: device="))


def test_the_bundled_device_passes_and_the_report_is_written(project: pytest.Pytester) -> None:
    result = run(project, SNAPSHOT_AND_REFUSAL)
    result.assert_outcomes(passed=2)
    assert result.ret == 0
    counts = verdict_counts(result)
    assert counts["FAIL"] == counts["DEVICE-UNREACHABLE"] == 0
    assert counts["PASS"] >= 4
    document = report(result)
    assert document["counts"] == counts
    assert document["failed"] is False
    assert {"JPEG-SIZE-1", "SNAP-WH-1"} <= set(document["clauses"])
    tests = document["tests"]
    assert isinstance(tests, list)
    assert [t["nodeid"] for t in tests] == [
        "test_conformance.py::test_snapshot",
        "test_conformance.py::test_refused_pair",
    ]
    assert Path(str(report_line(result))).parent == project.path / "reports"
    assert "device=bundled reference device" in header(result)


BROKEN_DEVICES = [
    pytest.param(
        Faults(error_status="500 Internal Server Error"),
        "test_refused_pair",
        "ENV-STATUS-1",
        "width=161&height=120",
        id="errors-as-http-500",
    ),
    pytest.param(
        Faults(image_format="PNG"),
        "test_snapshot",
        "JPEG-DECODE-1",
        "width=160&height=120",
        id="png-labelled-jpeg",
    ),
    pytest.param(
        Faults(extra_width=2),
        "test_snapshot",
        "JPEG-SIZE-1",
        "width=160&height=120",
        id="wrong-jpeg-size",
    ),
]


@pytest.mark.parametrize(("faults", "failing", "clause", "query"), BROKEN_DEVICES)
def test_a_broken_device_fails_with_its_clause_and_a_curl_line(
    project: pytest.Pytester, faults: Faults, failing: str, clause: str, query: str
) -> None:
    with running_scripted_device(faults) as server:
        result = run(project, SNAPSHOT_AND_REFUSAL, "--device", server.url)
    result.assert_outcomes(passed=1, failed=1)
    assert result.ret == 1
    result.stdout.fnmatch_lines([f"FAILED test_conformance.py::{failing} - *"])
    result.stdout.fnmatch_lines([f"*[[]FAIL[]] {clause}: *"])
    result.stdout.fnmatch_lines([f"*reproduce: curl * '{server.url}/api/camera/snapshot?{query}'*"])
    assert verdict_counts(result)["FAIL"] >= 1
    document = report(result)
    assert document["failed"] is True
    assert document["clauses"][clause] == "FAIL"


def test_credentials_are_used_and_never_printed(project: pytest.Pytester) -> None:
    faults = Faults(extra_width=2, basic=f"admin:{PASSWORD}")
    with running_scripted_device(faults) as server:
        result = run(
            project,
            SNAPSHOT_AND_REFUSAL,
            "--device",
            server.url,
            "--user",
            "admin",
            "--password",
            PASSWORD,
            "--auth-method",
            "basic",
        )
    # The refusal passes only when the credentials were accepted; the wrong size still fails.
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*reproduce: curl *-u 'admin:[*][*][*][*]'*"])
    assert "password=****" in header(result)
    assert PASSWORD not in output(result)
    folder = Path(report_line(result))
    assert PASSWORD not in (folder / "report.json").read_text()


def test_the_password_from_the_environment_is_never_printed(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SNAPCHECK_PASSWORD", PASSWORD)
    with running_scripted_device(Faults(extra_width=2, basic=f"admin:{PASSWORD}")) as server:
        result = run(project, SNAPSHOT_AND_REFUSAL, "--device", server.url, "--user", "admin")
    result.assert_outcomes(passed=1, failed=1)
    assert PASSWORD not in output(result)


@pytest.mark.parametrize(
    ("args", "outcome", "status"),
    [
        pytest.param((), {"passed": 2}, 0, id="lenient"),
        pytest.param(("--strict",), {"passed": 1, "failed": 1}, 1, id="strict"),
    ],
)
def test_strict_turns_non_strict_into_failure(
    project: pytest.Pytester, args: tuple[str, ...], outcome: dict[str, int], status: int
) -> None:
    with running_scripted_device(Faults(omit_error_param=True)) as server:
        result = run(project, SNAPSHOT_AND_REFUSAL, "--device", server.url, *args)
    result.assert_outcomes(**outcome)
    assert result.ret == status
    assert verdict_counts(result)["NON-STRICT"] >= 1
    assert report(result)["failed"] is bool(status)


def test_non_strict_findings_are_shown_under_strict(project: pytest.Pytester) -> None:
    with running_scripted_device(Faults(omit_error_param=True)) as server:
        result = run(project, SNAPSHOT_AND_REFUSAL, "--device", server.url, "--strict")
    result.stdout.fnmatch_lines(["*[[]NON-STRICT[]] SNAP-WH-1: *", "*reproduce: curl *"])


@pytest.mark.parametrize(
    ("selection", "kept"),
    [
        ("SNAP-WH-1", "test_refused_pair"),
        ("JPEG-*", "test_snapshot"),
    ],
)
def test_clauses_selects_the_tests_citing_them(
    project: pytest.Pytester, selection: str, kept: str
) -> None:
    result = run(project, SNAPSHOT_AND_REFUSAL, "--clauses", selection, "-v")
    result.assert_outcomes(passed=1, deselected=1)
    result.stdout.fnmatch_lines([f"test_conformance.py::{kept} PASSED*"])


REFUSED_TESTS = [
    pytest.param(
        """
        def test_uncited(device):
            device.expect({"width": 160, "height": 120})
        """,
        "cites no clause",
        id="no-clause-marker",
    ),
    pytest.param(
        """
        import pytest

        @pytest.mark.clause("JPEG-SIZE-1")
        def test_judges_nothing(device):
            assert device.base_url
        """,
        "passed without recording any finding",
        id="no-finding",
    ),
]


@pytest.mark.parametrize(("source", "reason"), REFUSED_TESTS)
def test_a_conformance_test_that_cannot_fail_is_refused(
    project: pytest.Pytester, source: str, reason: str
) -> None:
    with running_scripted_device() as server:
        result = run(project, source, "--device", server.url)
    result.assert_outcomes(failed=1)
    assert result.ret == 1
    result.stdout.fnmatch_lines([f"*UsageError*{reason}*"])


def test_unsupported_is_a_skip_with_its_reason(project: pytest.Pytester) -> None:
    source = """
        import pytest

        @pytest.mark.clause("SNAP-SRC-2")
        def test_external_source(device):
            device.require_source("external")
            device.expect({"width": 160, "height": 120, "source": "external"})
        """
    with running_scripted_device() as server:
        result = run(project, source, "--device", server.url)
    result.assert_outcomes(skipped=1)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["SKIPPED [[]1[]] test_conformance.py:*: UNSUPPORTED: *external*"])
    assert verdict_counts(result)["UNSUPPORTED"] == 1
    assert report(result)["clauses"] == {"SNAP-SRC-2": "UNSUPPORTED"}


@dataclass(frozen=True, slots=True)
class SettingsCase:
    """Where a setting is given, and what the report header then shows."""

    env: tuple[tuple[str, str], ...] = ()
    ini: str = ""
    args: tuple[str, ...] = ()
    shown: str = ""


SETTINGS_SOURCES = [
    pytest.param(
        SettingsCase(env=(("SNAPCHECK_STREAM_SECONDS", "1.5"),), shown="stream_seconds=1.5"),
        id="env",
    ),
    pytest.param(
        SettingsCase(ini="snapcheck_stream_seconds = 2.5", shown="stream_seconds=2.5"), id="ini"
    ),
    pytest.param(
        SettingsCase(
            env=(("SNAPCHECK_STREAM_SECONDS", "1.5"),),
            ini="snapcheck_stream_seconds = 2.5",
            shown="stream_seconds=1.5",
        ),
        id="env-over-ini",
    ),
    pytest.param(
        SettingsCase(
            env=(("SNAPCHECK_STREAM_SECONDS", "1.5"),),
            args=("--stream-seconds", "4"),
            shown="stream_seconds=4.0",
        ),
        id="option-over-env",
    ),
    pytest.param(
        SettingsCase(env=(("SNAPCHECK_STRICT", "yes"),), shown="strict=True"), id="strict-env"
    ),
    pytest.param(
        SettingsCase(ini="snapcheck_clauses = STREAM-*", shown="clauses=STREAM-*"), id="clauses-ini"
    ),
    pytest.param(
        SettingsCase(
            env=(("SNAPCHECK_RATE_LIMIT", "0"),),
            ini="snapcheck_request_timeout = 3",
            shown="rate_limit=unlimited, request_timeout=3.0",
        ),
        id="env-and-ini",
    ),
]


@pytest.mark.parametrize("case", SETTINGS_SOURCES)
def test_settings_come_from_options_environment_and_ini(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, case: SettingsCase
) -> None:
    for name, value in case.env:
        monkeypatch.setenv(name, value)
    if case.ini:
        project.makeini(f"[pytest]\n{case.ini}\n")
    result = run(project, "def test_nothing():\n    pass\n", *case.args)
    result.assert_outcomes(passed=1)
    assert case.shown in header(result)


def test_the_device_from_the_environment_is_the_one_tested(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_scripted_device(Faults(extra_width=2)) as server:
        monkeypatch.setenv("SNAPCHECK_DEVICE", server.url)
        result = run(project, SNAPSHOT_AND_REFUSAL)
    result.assert_outcomes(passed=1, failed=1)
    assert f"device={server.url}" in header(result)
    assert report(result)["identity"]["system_info"]["variant"] == "scripted intercom"


def test_a_bad_setting_is_a_usage_error(project: pytest.Pytester) -> None:
    project.makepyfile(test_conformance="def test_nothing():\n    pass\n")
    # A subprocess: pytester's in-process runs take status 2 for pytest's INTERRUPTED.
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "--request-timeout", "-1")
    assert result.ret == 2  # snapcheck's usage status, not pytest's 4 (issue 7)
    result.stderr.fnmatch_lines(["*--request-timeout must be a positive number*"])


@dataclass(frozen=True, slots=True)
class ProfileCase:
    """A run's circumstances and the Hypothesis profile they call for."""

    profile: str
    ci: bool = False
    remote: bool = False
    args: tuple[str, ...] = ()


PROFILE_CASES = [
    pytest.param(ProfileCase("dev"), id="bundled-dev"),
    pytest.param(ProfileCase("ci", ci=True), id="bundled-ci"),
    pytest.param(ProfileCase("device", remote=True), id="device"),
    pytest.param(ProfileCase("device", ci=True, remote=True), id="device-on-ci"),
    pytest.param(
        ProfileCase("ci", remote=True, args=("--hypothesis-profile", "ci")), id="device-overridden"
    ),
    pytest.param(
        ProfileCase("device", args=("--hypothesis-profile", "device")), id="bundled-overridden"
    ),
]


@pytest.mark.parametrize("case", PROFILE_CASES)
def test_the_hypothesis_profile_is_chosen_and_shown(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, case: ProfileCase
) -> None:
    if case.ci:
        monkeypatch.setenv("CI", "true")
    source = f"""
        from hypothesis import settings

        def test_profile_in_force():
            assert settings.get_current_profile_name() == {case.profile!r}
            assert settings().max_examples == settings.get_profile({case.profile!r}).max_examples
        """
    # Nothing connects: the test takes no device, so any URL shows the choice for --device.
    device = ("--device", "http://127.0.0.1:9") if case.remote else ()
    result = run(project, source, *device, *case.args)
    result.assert_outcomes(passed=1)
    shown = next(line for line in result.outlines if line.startswith("snapcheck: hypothesis "))
    assert shown.startswith(f"snapcheck: hypothesis profile {case.profile}")
    # A derandomized profile draws from each test's name; the others are given a seed.
    assert ("seed" in shown) is (case.profile != "ci")


DRAWING = """
    import pytest
    from hypothesis import given, strategies as st

    @pytest.mark.clause("SNAP-WH-1", "ENV-STATUS-1")
    @given(width=st.integers(min_value=161, max_value=4096))
    def test_draws(device, width):
        with open("drawn.txt", "a") as out:
            out.write(f"{width}\\n")
        device.expect({"width": width, "height": 120})
    """
SEED_SHOWN = re.compile(r"seed (\d+) \(replay: --hypothesis-seed=(\d+)\)")


def drawn_with(project: pytest.Pytester, *args: str) -> tuple[str, list[str], dict[str, Any]]:
    """The seed the header showed, the examples drawn and the report's Hypothesis record."""
    drawn = project.path / "drawn.txt"
    drawn.unlink(missing_ok=True)
    result = run(project, DRAWING, "--hypothesis-profile", "device", *args)
    result.assert_outcomes(passed=1)
    found = next(filter(None, map(SEED_SHOWN.search, result.outlines)))
    assert found.group(1) == found.group(2)
    return found.group(1), drawn.read_text().split(), report(result)["hypothesis"]


def test_a_random_run_records_its_seed_and_the_seed_replays_it(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Hypothesis' own plugin forces --hypothesis-seed process-wide; keep it in this test.
    monkeypatch.setattr(hypothesis_core, "global_force_seed", None)
    seed, first, recorded = drawn_with(project)
    assert recorded == {"profile": "device", "seed": seed, "derandomize": False}
    assert len(first) == hypothesis_settings.get_profile("device").max_examples
    replayed_seed, replayed, _ = drawn_with(project, f"--hypothesis-seed={seed}")
    assert (replayed_seed, replayed) == (seed, first)
    monkeypatch.setattr(hypothesis_core, "global_force_seed", None)
    other_seed, other, _ = drawn_with(project)
    assert other_seed != seed
    assert other != first


UNREACHABLE_CASES = [
    pytest.param(1, GONE_HANG, id="hangs-after-one-snapshot"),
    pytest.param(1, GONE_RESET, id="resets-after-one-snapshot"),
    pytest.param(0, GONE_RESET, id="never-answers"),
]


@pytest.mark.parametrize(("answered", "gone"), UNREACHABLE_CASES)
def test_a_device_that_stops_answering_is_device_unreachable(
    project: pytest.Pytester, answered: int, gone: str
) -> None:
    tests = "\n".join(
        f'@pytest.mark.clause("JPEG-SIZE-1")\ndef test_snapshot_{n}(device):\n'
        f'    device.expect({{"width": 160, "height": 120}})\n'
        for n in range(5)
    )
    project.makepyfile(test_conformance="import pytest\n\n" + tests)
    with running_scripted_device(Faults(answered_before_gone=answered, gone=gone)) as server:
        # A subprocess, so that a run that never ends is cut off instead of hanging this one.
        result = project.runpytest_subprocess(
            "-p",
            "no:cacheprovider",
            "-rfEs",
            "--device",
            server.url,
            "--request-timeout",
            "0.5",
            "--report-dir",
            str(project.path / "reports"),
            timeout=60,
        )
        # Before the device goes: info and caps at connection time, then each snapshot.
        after_gone = len(server.connections) - (2 + answered if answered else 0)
    # A device silent from the start is exit 2 (nothing was judged); gone later, exit 1.
    assert result.ret == (2 if answered == 0 else pytest.ExitCode.TESTS_FAILED)
    result.assert_outcomes(passed=answered, failed=1, skipped=4 - answered)
    result.stdout.fnmatch_lines(
        [
            f"FAILED test_conformance.py::test_snapshot_{answered} - *",
            f"SKIPPED * DEVICE-UNREACHABLE: {server.url} stopped answering (*)",
        ]
    )
    result.stdout.fnmatch_lines([f"E *.DeviceUnreachable: {server.url} stopped answering (*)"])
    result.stdout.fnmatch_lines(
        ["SKIPPED [[]1[]] test_conformance.py:*: DEVICE-UNREACHABLE: *stopped answering*"]
        * (4 - answered)
    )
    counts = verdict_counts(result)
    assert (counts["FAIL"], counts["DEVICE-UNREACHABLE"]) == (0, 1)
    verdicts = [t["verdict"] for t in report(result)["tests"]]
    assert set(verdicts[:answered]) <= {"PASS", "INFORMATIONAL"}
    assert verdicts[answered:] == ["DEVICE-UNREACHABLE"] * (5 - answered)
    # The run gave up after a bounded number of attempts, not a few per remaining test.
    assert after_gone <= 4
