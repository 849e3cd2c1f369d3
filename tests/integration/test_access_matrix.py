"""The access matrix: the real access suite against the bundled device in every combination.

Authentication (none, basic, digest) x connection (HTTP, HTTPS-only with a generated
certificate) x an account without Camera Monitoring given to the suite or not x the Camera
service enabled or disabled: 24 runs, plus HTTPS with plain HTTP accepted beside it, all
on 127.0.0.1. Each run is ``suites/test_access.py`` (and, while the service is enabled,
the caps smoke test ``suites/test_caps.py::test_caps_reply_conforms``) through the
snapcheck plugin, in-process with ``pytester`` so the interpreter's imports are paid once;
the bundled device is configured with ``--reference-args`` exactly as a user would, and
the suite gets the credentials a user would give. The conforming device must pass every
run with the verdict per AUTH clause the catalogue's decisions predict (``expected``);
a device with a deliberately broken rule must fail the run on the right clause and keep
every other verdict.

A disabled service fails the caps smoke test by design (caps is error 4), so disabled
runs are the access suite alone.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

import reference_device.command_line
import reference_device.tls
import snapcheck.access
import snapcheck.access_https

pytest_plugins = ["pytester"]

# pytester drops the modules first imported inside an in-process run when it ends, and
# cryptography's bindings cannot be imported a second time: import them all here, once.
PRELOADED = (reference_device.command_line, reference_device.tls, snapcheck.access,
             snapcheck.access_https)  # fmt: skip

SUITES = Path(__file__).resolve().parents[2] / "suites"
SMOKE = "test_caps.py::test_caps_reply_conforms"
ADMIN, VIEWER = ("admin", "s3cret"), ("viewer", "v1ew")
PASS, INFO, UNSUPPORTED, FAIL = "PASS", "INFORMATIONAL", "UNSUPPORTED", "FAIL"
REPORT_LINE = "snapcheck: report in "


@dataclass(frozen=True, slots=True)
class Combination:
    """One configuration of the bundled device and of the suite pointed at it."""

    auth: str  # none, basic, digest
    connection: str  # http, https (plain HTTP accepted too), https-only
    unprivileged: bool  # the device has a nocamera account and the suite is given it
    enabled: bool  # the Camera service is on
    fault: str | None = None

    @property
    def guarded(self) -> bool:
        """Whether the device asks for credentials."""
        return self.auth != "none"

    def reference_args(self) -> str:
        """The bundled device's flags, as ``python -m reference_device`` takes them."""
        flags = [] if self.connection == "http" else [f"--{self.connection}"]
        if self.guarded:
            flags += ["--auth", self.auth, "--user", ":".join(ADMIN)]
        if self.unprivileged:
            flags += ["--user", ":".join(VIEWER) + ":nocamera"]
        if not self.enabled:
            flags += ["--camera-api", "off"]
        if self.fault:
            flags += ["--access-fault", self.fault]
        return " ".join(flags)

    def suite_args(self) -> list[str]:
        """The options a user gives the suite for this device."""
        # "=": the value starts with "--", which pytest would read as an option of its own.
        args = ["--reference-profile", "minimal", f"--reference-args={self.reference_args()}"]
        if self.guarded:
            args += ["--user", ADMIN[0], "--password", ADMIN[1], "--auth-method", self.auth]
        if self.unprivileged:
            args += ["--unprivileged-user", VIEWER[0], "--unprivileged-password", VIEWER[1]]
        return args

    def expected(self) -> dict[str, str]:
        """The verdict of each AUTH clause, as the catalogue's decisions predict."""
        on, guarded, digest = self.enabled, self.guarded, self.auth == "digest"
        https, only = self.connection != "http", self.connection == "https-only"

        def verdict(judged: bool, when: str = PASS) -> str:
            return when if judged else UNSUPPORTED

        return {
            "AUTH-OPEN-1": PASS,
            "AUTH-NONE-1": verdict(on and not guarded),
            "AUTH-CHALLENGE-1": verdict(on and guarded),
            "AUTH-ALGO-1": verdict(on and digest, INFO),
            "AUTH-WRONG-1": verdict(on and guarded),
            "AUTH-DOWNGRADE-1": verdict(on and digest),
            "AUTH-PRIV-1": verdict(on and guarded and self.unprivileged),
            "AUTH-URL-1": verdict(on),
            "AUTH-REPLAY-1": verdict(on and digest),
            "AUTH-GUARD-1": verdict(guarded or not on),
            "AUTH-DISABLED-1": verdict(not on),
            "AUTH-TLS-1": verdict(https, INFO),
            # The plain listener of an HTTPS-only device answers error 7 before anything;
            # beside plain HTTPS it serves, or says error 4 when the service is off.
            "AUTH-HTTPS-1": verdict(only),
            "AUTH-HTTPS-2": verdict(only or (https and on)),
        }

    def __str__(self) -> str:
        parts = [self.auth, self.connection, "unprivileged" if self.unprivileged else "admin"]
        parts += ["enabled" if self.enabled else "disabled"] + ([self.fault] if self.fault else [])
        return "-".join(parts)


CONFORMING = [
    Combination(auth, connection, unprivileged, enabled)
    for auth in ("none", "basic", "digest")
    for connection in ("http", "https-only")
    for unprivileged in (False, True)
    for enabled in (True, False)
] + [Combination("digest", "https", True, enabled) for enabled in (True, False)]

# Each broken device, and the clauses it must fail (every other verdict unchanged).
BROKEN = [
    (Combination("digest", "http", True, True, "privilege-ignored"), {"AUTH-PRIV-1"}),
    (Combination("basic", "https-only", True, True, "privilege-ignored"), {"AUTH-PRIV-1"}),
    (
        Combination("digest", "https-only", False, True, "basic-on-digest"),
        {"AUTH-DOWNGRADE-1", "AUTH-URL-1"},
    ),
]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No SNAPCHECK_* from the outer run; the inner runs load Hypothesis profiles."""
    for name in list(os.environ):
        if name.startswith("SNAPCHECK_"):
            monkeypatch.delenv(name)
    profile = hypothesis_settings.get_current_profile_name()
    yield
    hypothesis_settings.load_profile(profile)


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """The access suite and the caps suite, with the plugin loaded as the root conftest does."""
    pytester.makeconftest('pytest_plugins = ["snapcheck.plugin"]\n')
    for name in ("test_access.py", "test_caps.py"):
        (pytester.path / name).write_text((SUITES / name).read_text())
    return pytester


def run(project: pytest.Pytester, combination: Combination) -> tuple[int, dict[str, str], str]:
    """Run the access suite (and the smoke test when enabled): exit status, verdicts, output."""
    paths = ["test_access.py"] + ([SMOKE] if combination.enabled else [])
    reports = project.path / "reports"
    result = project.runpytest_inprocess(
        *paths, "-p", "no:cacheprovider", "-q", "-rfs", "--report-dir", str(reports),
        *combination.suite_args(),
    )  # fmt: skip
    text = "\n".join(result.outlines + result.errlines)
    line = next((x for x in result.outlines if x.startswith(REPORT_LINE)), None)
    assert line is not None, text
    document = json.loads((Path(line.removeprefix(REPORT_LINE)) / "report.json").read_text())
    return int(result.ret), document["clauses"], text


def auth_verdicts(clauses: dict[str, str]) -> dict[str, str]:
    return {clause: v for clause, v in clauses.items() if clause.startswith("AUTH-")}


@pytest.mark.parametrize("combination", CONFORMING, ids=str)
def test_the_conforming_device_passes_with_the_predicted_verdicts(
    project: pytest.Pytester, combination: Combination
) -> None:
    status, clauses, text = run(project, combination)
    assert status == 0, text
    assert FAIL not in clauses.values(), text
    assert auth_verdicts(clauses) == combination.expected(), text
    if combination.enabled:
        assert clauses["CAPS-SCHEMA-1"] == PASS, text


@pytest.mark.parametrize(("combination", "broken"), BROKEN, ids=str)
def test_a_broken_rule_fails_the_run_on_its_clause(
    project: pytest.Pytester, combination: Combination, broken: set[str]
) -> None:
    status, clauses, text = run(project, combination)
    expected = {
        clause: FAIL if clause in broken else verdict
        for clause, verdict in combination.expected().items()
    }
    assert status == 1, text
    assert auth_verdicts(clauses) == expected, text
    assert all(f"[FAIL] {clause}" in text for clause in broken), text


def test_a_bad_reference_flag_is_a_usage_error_before_anything_runs(
    project: pytest.Pytester,
) -> None:
    six = " ".join(f"--user=u{i}:p" for i in range(6))
    # A subprocess: an in-process run cannot report a usage error raised while configuring.
    result = project.runpytest_subprocess(
        "test_access.py", "-p", "no:cacheprovider", f"--reference-args=--auth digest {six}"
    )
    text = "\n".join(result.outlines + result.errlines)
    assert result.ret == 2, text
    assert "at most 5 user accounts, got 6" in text, text
    assert "passed" not in text and "failed" not in text, text
