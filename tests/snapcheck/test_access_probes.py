"""The access probes (snapcheck/access.py; named apart from suites/test_access.py) against
the bundled device in each configuration, conforming and broken.

Each case starts a small reference device on 127.0.0.1 port 0 with the flags of
``python -m reference_device``, connects a DeviceUnderTest with the settings a user would
give, runs one probe and asserts what the user would read: the clause's verdict, or the
UNSUPPORTED reason. Broken devices (``--access-fault``) must FAIL the right clause.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest

from reference_device import DeviceThread
from reference_device.command_line import device_options
from snapcheck import access
from snapcheck.access import AccessSurvey, ServiceState
from snapcheck.device import DeviceUnderTest, Unsupported
from snapcheck.recorder import RunRecorder
from snapcheck.settings import Settings
from snapcheck.verdicts import Finding, Verdict, worst

# Settings as a user gives them (field names of snapcheck.settings.Settings).
Given = dict[str, Any]
ADMIN = ("--user", "admin:s3cret")
VIEWER = ("--user", "viewer:v1ew:nocamera")
DIGEST = ("--auth", "digest", *ADMIN, *VIEWER)
BASIC = ("--auth", "basic", *ADMIN, *VIEWER)
CREDENTIALS: Given = {"user": "admin", "password": "s3cret"}
UNPRIVILEGED: Given = {
    **CREDENTIALS,
    "unprivileged_user": "viewer",
    "unprivileged_password": "v1ew",
}

Probe = Callable[[DeviceUnderTest, AccessSurvey], list[Finding]]
PROBES: dict[str, tuple[str, Probe]] = {
    "open": ("AUTH-NONE-1", access.probe_open_service),
    "challenge": ("AUTH-CHALLENGE-1", access.probe_no_credentials),
    "algorithms": ("AUTH-ALGO-1", access.probe_algorithms),
    "wrong password": ("AUTH-WRONG-1", access.probe_wrong_password),
    "unknown user": ("AUTH-WRONG-1", access.probe_unknown_user),
    "downgrade": ("AUTH-DOWNGRADE-1", access.probe_downgrade),
    "unprivileged": ("AUTH-PRIV-1", access.probe_unprivileged),
    "url": ("AUTH-URL-1", access.probe_url_credentials),
    "replay": ("AUTH-REPLAY-1", access.probe_replay),
    "guard": ("AUTH-GUARD-1", access.probe_guard),
    "disabled": ("AUTH-DISABLED-1", access.probe_disabled),
    "info": ("AUTH-OPEN-1", lambda dut, found: access.probe_info_open(dut)),
}


@contextmanager
def device_under_test(*flags: str, **settings: Any) -> Iterator[DeviceUnderTest]:
    """A minimal reference device with ``flags``, seen through ``settings``."""
    with DeviceThread(device_options(["--profile", "minimal", *flags])) as running:
        chosen = Settings(rate_limit=0, plain_url=running.plain_url)
        yield DeviceUnderTest.connect(running.url, replace(chosen, **settings), RunRecorder())


def outcome(name: str, flags: tuple[str, ...], settings: Given) -> str:
    """The clause's worst verdict, or ``UNSUPPORTED: reason``."""
    clause, probe = PROBES[name]
    with device_under_test(*flags, **settings) as dut:
        try:
            findings = probe(dut, access.survey(dut))
        except Unsupported as unsupported:
            return f"UNSUPPORTED: {unsupported}"
    verdicts = [f.verdict for f in findings if f.clause == clause]
    assert verdicts, findings
    assert all(f.curl for f in findings)
    return worst(verdicts).value


@pytest.mark.parametrize(
    ("flags", "settings", "state", "schemes", "size"),
    [
        # The smallest pair of the minimal profile, once caps can be read.
        ((), {}, ServiceState.OPEN, frozenset(), (160, 120)),
        (BASIC, CREDENTIALS, ServiceState.GUARDED, frozenset({"basic"}), (160, 120)),
        (DIGEST, CREDENTIALS, ServiceState.GUARDED, frozenset({"digest"}), (160, 120)),
        # Without credentials, caps cannot be read: the size every device lists.
        (DIGEST, {}, ServiceState.GUARDED, frozenset({"digest"}), (640, 480)),
        ((*DIGEST, "--camera-api", "off"), {}, ServiceState.DISABLED, frozenset(), (640, 480)),
    ],
)
def test_the_survey_reads_the_service_state_and_its_challenges(
    flags: tuple[str, ...],
    settings: Given,
    state: ServiceState,
    schemes: frozenset[str],
    size: tuple[int, int],
) -> None:
    with device_under_test(*flags, **settings) as dut:
        found = access.survey(dut)
    assert (found.state, found.schemes, found.size) == (state, schemes, size)


def test_the_survey_sees_error_7_at_the_plain_address_of_an_https_only_device() -> None:
    with DeviceThread(device_options(["--profile", "minimal", "--https-only"])) as running:
        assert running.plain_url is not None
        dut = DeviceUnderTest.connect(running.plain_url, Settings(rate_limit=0), RunRecorder())
        assert access.survey(dut).state is ServiceState.HTTPS_ONLY


CONFORMING: list[tuple[str, tuple[str, ...], Given, str]] = [
    ("info", (), {}, "PASS"),
    ("info", (*DIGEST, "--camera-api", "off"), {}, "PASS"),
    ("open", (), {}, "PASS"),
    ("open", DIGEST, CREDENTIALS, "UNSUPPORTED: the Camera service asks for credentials"),
    ("challenge", (), {}, "UNSUPPORTED: the Camera service serves caps without credentials"),
    ("challenge", BASIC, {}, "PASS"),
    ("challenge", DIGEST, {"auth_method": "digest"}, "PASS"),
    ("challenge", BASIC, {"auth_method": "digest"}, "FAIL"),
    ("challenge", (), {"auth_method": "digest"}, "FAIL"),
    ("algorithms", DIGEST, {}, "INFORMATIONAL"),
    ("algorithms", BASIC, {}, "UNSUPPORTED: the device does not challenge with Digest"),
    ("wrong password", DIGEST, CREDENTIALS, "PASS"),
    ("wrong password", BASIC, CREDENTIALS, "PASS"),
    ("wrong password", DIGEST, {}, "UNSUPPORTED: needs the suite's credentials"),
    ("unknown user", DIGEST, {}, "PASS"),
    ("unknown user", BASIC, {}, "PASS"),
    ("downgrade", DIGEST, CREDENTIALS, "PASS"),
    ("downgrade", BASIC, CREDENTIALS, "UNSUPPORTED: the device is not Digest-only"),
    ("unprivileged", DIGEST, UNPRIVILEGED, "PASS"),
    ("unprivileged", BASIC, UNPRIVILEGED, "PASS"),
    ("unprivileged", DIGEST, CREDENTIALS, "UNSUPPORTED: needs an account without Camera"),
    ("unprivileged", (), UNPRIVILEGED, "UNSUPPORTED: the Camera service serves caps"),
    ("url", (), {}, "PASS"),
    ("url", BASIC, CREDENTIALS, "PASS"),
    ("url", DIGEST, CREDENTIALS, "PASS"),
    ("url", DIGEST, {}, "UNSUPPORTED: needs the suite's credentials"),
    ("replay", DIGEST, CREDENTIALS, "PASS"),
    ("replay", BASIC, CREDENTIALS, "UNSUPPORTED: the device does not challenge with Digest"),
    ("guard", DIGEST, CREDENTIALS, "PASS"),
    ("guard", BASIC, {}, "PASS"),
    ("guard", (*DIGEST, "--camera-api", "off"), {}, "PASS"),
    ("guard", (), {}, "UNSUPPORTED: the Camera service serves caps without credentials"),
    ("guard", (), {"auth_method": "basic"}, "FAIL"),
    ("disabled", (*DIGEST, "--camera-api", "off"), CREDENTIALS, "PASS"),
    ("disabled", ("--camera-api", "off"), {}, "PASS"),
    ("disabled", DIGEST, CREDENTIALS, "UNSUPPORTED: the Camera service is not switched off"),
]


@pytest.mark.parametrize(
    ("probe", "flags", "settings", "expected"),
    CONFORMING,
    ids=[f"{p}-{' '.join(f[:2]) or 'open'}-{'+'.join(s) or 'anon'}" for p, f, s, _ in CONFORMING],
)
def test_each_probe_on_a_conforming_device(
    probe: str, flags: tuple[str, ...], settings: Given, expected: str
) -> None:
    assert outcome(probe, flags, settings).startswith(expected)


BROKEN: list[tuple[str, str, tuple[str, ...], Given]] = [
    ("privilege-ignored", "unprivileged", DIGEST, UNPRIVILEGED),
    ("privilege-ignored", "unprivileged", BASIC, UNPRIVILEGED),
    ("basic-on-digest", "downgrade", DIGEST, CREDENTIALS),
    ("basic-on-digest", "url", DIGEST, CREDENTIALS),
]


@pytest.mark.parametrize(("fault", "probe", "flags", "settings"), BROKEN)
def test_a_broken_rule_fails_its_clause(
    fault: str, probe: str, flags: tuple[str, ...], settings: Given
) -> None:
    assert outcome(probe, (*flags, "--access-fault", fault), settings) == "FAIL"


def test_each_finding_says_what_was_sent_and_a_query_password_is_masked() -> None:
    with device_under_test(*DIGEST, **CREDENTIALS) as dut:
        findings = access.probe_url_credentials(dut, access.survey(dut))
    messages = [f.message for f in findings]
    assert any(m.startswith("http://admin:****@host/") for m in messages), messages
    assert any(m.startswith("credentials as query parameters: refused") for m in messages)
    assert not any("s3cret" in (f.curl or "") + f.message for f in findings)


def test_the_guard_tries_every_spelling_with_and_without_a_wrong_password() -> None:
    with device_under_test(*BASIC, **CREDENTIALS) as dut:
        findings = access.probe_guard(dut, access.survey(dut))
    assert len(findings) == 2 * len(access.GUARD_PROBES)
    assert all(f.verdict is Verdict.PASS for f in findings)
    assert sum("with a wrong password" in f.message for f in findings) == len(access.GUARD_PROBES)


def test_a_replay_names_each_attempt() -> None:
    with device_under_test(*DIGEST, **CREDENTIALS) as dut:
        findings = access.probe_replay(dut, access.survey(dut))
    assert [f.message.split(":")[0] for f in findings] == [
        "the Authorization header just accepted, sent again",
        "an answer to a nonce the device never issued",
        "an answer computed for caps, sent to a snapshot",
    ]
    assert "stale=true" in findings[1].message
