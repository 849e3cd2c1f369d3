"""DeviceUnderTest, the facade the suites judge through, against real servers on port 0.

The bundled reference device (one per profile, started once per module) shows the
facade on a conforming device: the maximum fps it learns, its identity, caps, verdicts.
The scripted device (``scripted_device``) shows what happens when caps cannot be read,
when the device hangs on one request, and when it is gone.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from scripted_device import GONE_RESET, Faults, running_scripted_device

from reference_device import DeviceOptions, DeviceThread, running_reference_device
from snapcheck.device import DeviceUnderTest, DeviceUnreachable, Unsupported
from snapcheck.recorder import RunRecorder
from snapcheck.settings import Settings
from snapcheck.verdicts import DeviceFailure, Finding, Verdict

PROFILES_MAX_FPS = [("default", 15), ("verso", 15), ("minimal", 10)]


def connect(url: str, *, strict: bool = False, request_timeout: float = 10.0) -> DeviceUnderTest:
    """A facade on ``url`` with its own recorder; no rate limit (these are local servers)."""
    settings = Settings(rate_limit=0, strict=strict, request_timeout=request_timeout)
    return DeviceUnderTest.connect(url, settings, RunRecorder())


@pytest.fixture(scope="module")
def reference_url() -> Iterator[str]:
    """The bundled reference device (default profile), started once for the module."""
    with running_reference_device() as url:
        yield url


@pytest.mark.parametrize(("profile", "maximum"), PROFILES_MAX_FPS)
def test_max_fps_finds_the_profiles_maximum_once(profile: str, maximum: int) -> None:
    with running_reference_device(profile) as url:
        dut = connect(url)
        dut.recorder.begin("probe", ("FPS-MAX-2",))
        assert dut.max_fps() == maximum
        assert dut.max_fps() == maximum
    # Learned once, recorded for every test that asks: the second call sent nothing.
    findings = dut.recorder.findings_so_far()
    assert [f.clause for f in findings] == ["FPS-MAX-2", "FPS-MAX-2"]
    assert findings[0].verdict is Verdict.INFORMATIONAL
    assert f"up to fps={maximum} and refuses fps={maximum + 1}" in findings[0].message
    assert dut.identity()["max_fps"] == maximum
    assert dut.config.max_fps == maximum


def test_identity_names_the_device(reference_url: str) -> None:
    dut = connect(reference_url)
    identity = dut.identity()
    assert identity["base_url"] == reference_url
    assert identity["system_info"]["serialNumber"] == "00-0000-0001"
    assert identity["system_info"]["variant"] == "snapcheck reference device"
    assert identity["server"] == "HIP2.35.0.45.0"
    assert identity["tls_certificate_sha256"] is None
    assert identity["caps"]["sources"] == ["internal", "external"]
    assert identity["caps"]["resolutions"][:2] == ["1920x1080", "1280x960"]
    assert "max_fps" not in identity
    assert "password" not in json.dumps(identity)


def test_caps_are_learned_at_connection_and_judged(reference_url: str) -> None:
    dut = connect(reference_url)
    assert (640, 480) in dut.caps.resolutions
    assert dut.caps_reply.status == dut.info_reply.status == 200
    dut.recorder.begin("caps", ("CAPS-SCHEMA-1",))
    findings = dut.check(dut.caps_reply)
    assert {f.clause: f.verdict for f in findings}["CAPS-SCHEMA-1"] is Verdict.PASS


def test_expect_returns_a_conforming_reply_and_records_it(reference_url: str) -> None:
    dut = connect(reference_url)
    dut.recorder.begin("snapshot", ("JPEG-SIZE-1",))
    reply = dut.expect({"width": 320, "height": 240})
    assert reply.content_type == "image/jpeg"
    verdicts = {f.clause: f.verdict for f in dut.recorder.findings_so_far()}
    assert verdicts["JPEG-SIZE-1"] is Verdict.PASS
    assert dut.timecode(reply) is not None


def test_require_source_is_unsupported_when_caps_lists_none() -> None:
    with running_scripted_device() as server:
        dut = connect(server.url)
        dut.require_source("internal")
        with pytest.raises(Unsupported, match="caps lists no 'external' source"):
            dut.require_source("external")


RECORD_CASES = [
    (Verdict.PASS, False, False),
    (Verdict.INFORMATIONAL, False, False),
    (Verdict.UNSUPPORTED, False, False),
    (Verdict.NON_STRICT, False, False),
    (Verdict.NON_STRICT, True, True),
    (Verdict.FAIL, False, True),
    (Verdict.FAIL, True, True),
    (Verdict.DEVICE_UNREACHABLE, False, True),
]


@pytest.mark.parametrize(("verdict", "strict", "raises"), RECORD_CASES)
def test_record_raises_only_for_findings_that_fail_the_run(
    reference_url: str, verdict: Verdict, strict: bool, raises: bool
) -> None:
    dut = connect(reference_url, strict=strict)
    dut.recorder.begin("record", ("JPEG-SIZE-1",))
    passing = Finding("JPEG-CT-1", Verdict.PASS, "image/jpeg")
    judged = Finding("JPEG-SIZE-1", verdict, "the verdict under test", curl="curl -sS x")
    if raises:
        with pytest.raises(DeviceFailure) as failure:
            dut.record([passing, judged])
        assert failure.value.findings == (judged,)
        assert "reproduce: curl -sS x" in str(failure.value)
    else:
        assert dut.record([passing, judged]) == [passing, judged]
    # Recorded either way: the report shows what passed beside what failed.
    assert dut.recorder.findings_so_far() == (passing, judged)


BROKEN_CAPS = [
    pytest.param(b'{"success": true, "result": {"jpegResolution": []}}', id="no-sources"),
    pytest.param(b'{"success": true, "result": {"resolutions": [{"w": 1}]}}', id="wrong-keys"),
    pytest.param(b"<html>caps</html>", id="not-json"),
]


@pytest.mark.parametrize("body", BROKEN_CAPS)
def test_caps_that_cannot_be_read_fail_the_tests_that_need_them(body: bytes) -> None:
    with running_scripted_device(Faults(caps_body=body)) as server:
        dut = connect(server.url)
        with pytest.raises(DeviceFailure) as failure:
            dut.caps  # noqa: B018 - reading caps is what fails
        with pytest.raises(DeviceFailure):
            dut.expect({"width": 160, "height": 120})
    clauses = {f.clause for f in failure.value.findings}
    assert clauses & {"CAPS-SCHEMA-1", "ENV-JSON-1", "ENV-SCHEMA-1"}
    assert all(f.verdict is Verdict.FAIL for f in failure.value.findings)
    assert dut.identity()["system_info"]["variant"] == "scripted intercom"
    assert "caps" not in dut.identity()


def test_a_device_gone_before_the_run_is_unreachable_from_the_start() -> None:
    with running_scripted_device(Faults(answered_before_gone=0, gone=GONE_RESET)) as server:
        dut = connect(server.url)
        assert dut.unreachable
        with pytest.raises(DeviceUnreachable, match="stopped answering"):
            dut.caps  # noqa: B018 - reading caps is what fails
        with pytest.raises(DeviceUnreachable):
            dut.expect({"width": 160, "height": 120})
    assert dut.identity() == {
        "base_url": server.url,
        "server": None,
        "tls_certificate_sha256": None,
    }


def test_a_device_hanging_on_one_request_fails_it_and_stays_reachable() -> None:
    with running_scripted_device(Faults(hang_on_param="quality")) as server:
        dut = connect(server.url, request_timeout=0.5)
        dut.recorder.begin("hang", ("TRANSPORT-1",))
        with pytest.raises(DeviceFailure) as failure:
            dut.expect({"width": 160, "height": 120, "quality": 50})
        assert not dut.unreachable
        dut.expect({"width": 160, "height": 120})
    assert [f.clause for f in failure.value.findings] == ["TRANSPORT-1"]
    assert "--max-time 0.5" in (failure.value.findings[0].curl or "")


def test_a_device_gone_mid_run_is_unreachable_after_one_silent_request() -> None:
    faults = Faults(answered_before_gone=1, gone=GONE_RESET)
    with running_scripted_device(faults) as server:
        dut = connect(server.url, request_timeout=0.5)
        dut.expect({"width": 160, "height": 120})
        with pytest.raises(DeviceUnreachable, match=r"stopped answering \(connection reset"):
            dut.expect({"width": 160, "height": 120})
        assert dut.unreachable


def test_a_device_that_streams_at_no_rate_fails_once_and_judging_goes_on() -> None:
    # The scripted device answers every fps with error 12: fps=1 must stream (STREAM-CT-1).
    with running_scripted_device() as server:
        dut = connect(server.url)
        dut.recorder.begin("probe", ("FPS-MAX-2",))
        with pytest.raises(DeviceFailure) as failure:
            dut.max_fps()
        assert [f.clause for f in failure.value.findings] == ["STREAM-CT-1"]
        assert "streams at no rate" in failure.value.findings[0].message
        # Later judgements still work: the unknown maximum is None, not 0.
        assert dut.config.max_fps is None
        dut.recorder.begin("snapshot", ("JPEG-SIZE-1",))
        reply = dut.expect({"width": 640, "height": 480})
        assert reply.status == 200


def _await_streams(running: DeviceThread, count: int, timeout_s: float = 10.0) -> None:
    """Return once the device serves ``count`` streams (AssertionError after ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    while running.call(lambda: running.device.stream_limit.open) < count:
        assert time.monotonic() < deadline, f"the device never served {count} streams"
        time.sleep(0.05)


def test_a_stream_refused_beside_another_of_the_suites_is_the_devices_limit() -> None:
    with DeviceThread(DeviceOptions(max_streams=1)) as running:
        dut = connect(running.url)
        dut.recorder.begin("limit", ("STREAM-LIMIT-1", "STREAM-CT-1"))
        asked = dut.request({"width": 160, "height": 120, "fps": 2})
        with ThreadPoolExecutor(1) as reader:
            first = reader.submit(dut.fetch, asked, window_s=2.0)
            _await_streams(running, 1)
            refused = dut.fetch(asked, window_s=0.5)
            streamed = first.result(timeout=30)
        alone = dut.fetch(asked, window_s=0.5)
    assert (refused.extra["streams_open"], streamed.extra["streams_open"]) == (1, 0)
    verdicts = {f.clause: f.verdict for f in dut.check(refused)}
    assert verdicts["STREAM-LIMIT-1"] is Verdict.INFORMATIONAL
    assert dut.check(streamed) and dut.check(alone)
    assert alone.content_type == "multipart/x-mixed-replace"
