"""Tests of judge: synthetic replies of every kind, conforming and violating."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import pytest
from synthetic import (
    error_document,
    go2rtc,
    jpeg_bytes,
    paced,
    reply,
    request,
    stream_reply,
    timecoded_jpeg,
)

from snapcheck.exchange import Reply, Request
from snapcheck.expected import Caps, DeviceConfig
from snapcheck.judge import (
    STREAMS_OPEN,
    UNTIMED,
    Kind,
    caps_from_reply,
    classify,
    judge,
    judge_caps,
    judge_system_info,
    one_per_clause,
    stream_window,
)
from snapcheck.transport import DEVICE_UNREACHABLE
from snapcheck.verdicts import Finding, Verdict

CAPS = Caps(resolutions=((160, 120), (640, 480)), sources=("internal", "external"))
CONFIG = DeviceConfig(default_source="internal", max_fps=10)
INFO_RESULT: dict[str, object] = {
    "devType": "IP intercom",
    "variant": "2N IP Verso",
    "variantId": 1,
    "customerId": 0,
    "serialNumber": "00-0000-0005",
    "macAddr": "7C-1E-B3-00-00-12",
    "hwVersion": "535v1",
    "swVersion": "2.35.0.45.0",
    "buildType": "release",
    "firmwarePackage": "2N IP Verso",
    "deviceName": "Gate",
}
INFO = {"success": True, "result": INFO_RESULT}


def _by_clause(findings: list[Finding]) -> dict[str, Finding]:
    assert all(finding.curl for finding in findings), "every finding carries its curl line"
    assert len({f.clause for f in findings}) == len(findings), "one finding per clause"
    return {finding.clause: finding for finding in findings}


def _json(document: object, sent: Request, *, status: int = 200) -> Reply:
    body = json.dumps(document).encode()
    return reply(body, content_type="application/json", status=status, sent=sent)


def _stream(fps: str, interval_s: float, count: int) -> Reply:
    frames = [timecoded_jpeg(seq) for seq in range(count)]
    times = [0.1 + interval_s * index for index in range(count)]
    framed = go2rtc(frames)
    window = times[-1] + interval_s / 2
    sent = request(width="160", height="120", fps=fps)
    return stream_reply(framed[0], paced(framed, frames, times), window_s=window, sent=sent)


SNAP_640 = request(width="640", height="480")
SNAP_641 = request(width="641", height="480")


@pytest.mark.parametrize(
    ("made", "expected"),
    [
        (
            lambda: reply(jpeg_bytes((640, 480)), sent=SNAP_640),
            {"CAPS-PAIR-1": Verdict.PASS, "JPEG-SIZE-1": Verdict.PASS, "JPEG-CT-1": Verdict.PASS},
        ),
        (
            lambda: reply(jpeg_bytes((320, 240)), sent=SNAP_640),
            {"CAPS-PAIR-1": Verdict.FAIL, "JPEG-SIZE-1": Verdict.FAIL},
        ),
        (
            lambda: reply(jpeg_bytes((640, 480)), content_type="text/plain", sent=SNAP_640),
            {"JPEG-CT-1": Verdict.FAIL, "JPEG-SIZE-1": Verdict.PASS},
        ),
        (
            lambda: _json(error_document(12, "width"), SNAP_641),
            {"SNAP-WH-1": Verdict.PASS, "ENV-SCHEMA-2": Verdict.PASS},
        ),
        (lambda: _json(error_document(12), SNAP_641), {"SNAP-WH-1": Verdict.NON_STRICT}),
        (lambda: _json(error_document(14), SNAP_641), {"SNAP-WH-1": Verdict.FAIL}),
        (
            lambda: _json(error_document(12, "width"), SNAP_641, status=500),
            {"ENV-STATUS-1": Verdict.FAIL},
        ),
        (lambda: reply(jpeg_bytes((640, 480)), sent=SNAP_641), {"SNAP-WH-1": Verdict.FAIL}),
        (
            lambda: _stream("5", 0.2, 8),
            {
                "STREAM-CT-1": Verdict.PASS,
                "STREAM-RATE-1": Verdict.PASS,
                "STREAM-PART-JPEG-1": Verdict.PASS,
            },
        ),
        (lambda: _stream("5", 1.0, 4), {"STREAM-RATE-1": Verdict.FAIL}),
        (
            lambda: reply(
                b"<html>oops</html>", content_type="text/html", status=500, sent=SNAP_640
            ),
            {"CAPS-PAIR-1": Verdict.FAIL},
        ),
    ],
    ids=[
        "jpeg-ok",
        "jpeg-wrong-size",
        "jpeg-wrong-type",
        "error-ok",
        "error-without-param",
        "error-wrong-code",
        "error-with-5xx",
        "image-instead-of-error",
        "stream-ok",
        "stream-too-slow",
        "html-instead-of-image",
    ],
)
def test_replies_are_judged_against_the_model_and_their_kind(
    made: Callable[[], Reply], expected: dict[str, Verdict]
) -> None:
    findings = _by_clause(judge(made(), caps=CAPS, config=CONFIG))
    assert {clause: findings[clause].verdict for clause in expected} == expected


WIDE_CAPS = Caps(resolutions=((640, 480), (1920, 1080)), sources=("internal",))
SHIFTED_1080 = request(width="1920", height="1080", time="-5")


@pytest.mark.parametrize(
    ("sent", "size", "expected"),
    [
        (
            SHIFTED_1080,
            (1280, 960),
            dict.fromkeys(("TIME-SINGLE-1", "TIME-CLAMP-1", "JPEG-SIZE-1"), Verdict.PASS),
        ),
        (
            SHIFTED_1080,
            (1920, 1080),
            dict.fromkeys(("TIME-SINGLE-1", "TIME-CLAMP-1", "JPEG-SIZE-1"), Verdict.FAIL),
        ),
        (
            request(width="640", height="480", time="-5"),
            (320, 240),
            {"TIME-SIZE-1": Verdict.FAIL, "JPEG-SIZE-1": Verdict.FAIL},
        ),
    ],
    ids=["clamped", "not-clamped", "wrong-size"],
)
def test_a_time_shifted_frame_is_judged_under_its_own_size_clause(
    sent: Request, size: tuple[int, int], expected: dict[str, Verdict]
) -> None:
    findings = _by_clause(judge(reply(jpeg_bytes(size), sent=sent), caps=WIDE_CAPS, config=CONFIG))
    assert {clause: findings[clause].verdict for clause in expected} == expected


def test_a_mismatch_says_what_was_expected_and_what_came() -> None:
    findings = _by_clause(
        judge(reply(jpeg_bytes((640, 480)), sent=SNAP_641), caps=CAPS, config=CONFIG)
    )
    message = findings["SNAP-WH-1"].message
    assert message == (
        "expected error 12 naming height or width or error 12 (param: any); got a 640x480 JPEG"
    )


def test_a_tolerated_answer_names_the_preferred_one() -> None:
    findings = _by_clause(judge(_json(error_document(12), SNAP_641), caps=CAPS, config=CONFIG))
    assert "the preferred answer: error 12 naming height or width" in findings["SNAP-WH-1"].message


def test_a_form_body_mismatch_is_non_strict() -> None:
    sent = Request(
        "POST", SNAP_640.base_url, SNAP_640.path, form=(("width", "640"), ("height", "480"))
    )
    findings = _by_clause(judge(_json(error_document(11, "width"), sent), caps=CAPS, config=CONFIG))
    assert findings["SNAP-METHOD-2"].verdict is Verdict.NON_STRICT


def test_without_caps_only_caps_independent_checks_run() -> None:
    findings = _by_clause(
        judge(reply(jpeg_bytes((320, 240)), sent=SNAP_640), caps=None, config=CONFIG)
    )
    assert findings["JPEG-DECODE-1"].verdict is Verdict.PASS
    assert "JPEG-SIZE-1" not in findings and "CAPS-PAIR-1" not in findings


def test_a_stream_without_caps_is_judged_at_its_own_size_and_the_asked_rate() -> None:
    findings = _by_clause(judge(_stream("5", 1.0, 4), caps=None, config=CONFIG))
    assert findings["STREAM-PART-JPEG-1"].verdict is Verdict.PASS
    assert findings["STREAM-RATE-1"].verdict is Verdict.FAIL


def test_a_capture_without_arrival_times_does_not_judge_timing() -> None:
    captured = _stream("5", 1.0, 4)
    captured = replace(captured, extra={"source": "har", "timings_known": False})
    findings = _by_clause(judge(captured, caps=CAPS, config=CONFIG))
    for clause in ("STREAM-LIVE-1", "STREAM-RATE-1", "STREAM-RATE-3"):
        assert (findings[clause].verdict, findings[clause].message) == (
            Verdict.INFORMATIONAL,
            UNTIMED,
        )
    assert "TRANSPORT-1" not in findings


@pytest.mark.parametrize(
    ("status", "error", "verdict"),
    [
        (0, DEVICE_UNREACHABLE, Verdict.DEVICE_UNREACHABLE),
        (0, "connection refused while connecting", Verdict.FAIL),
    ],
)
def test_no_reply_is_only_a_transport_finding(status: int, error: str, verdict: Verdict) -> None:
    broken = Reply(SNAP_640, status, transport_error=error)
    (finding,) = judge(broken, caps=CAPS, config=CONFIG)
    assert (finding.clause, finding.verdict) == ("TRANSPORT-1", verdict)


def test_a_broken_exchange_fails_transport_and_is_still_judged() -> None:
    truncated = jpeg_bytes((640, 480))[:200]
    broken = replace(reply(truncated, sent=SNAP_640), transport_error="connection reset")
    findings = _by_clause(judge(broken, caps=CAPS, config=CONFIG))
    assert findings["TRANSPORT-1"].verdict is Verdict.FAIL
    assert findings["JPEG-EOI-1"].verdict is Verdict.FAIL


def test_authentication_notes_are_recorded() -> None:
    noted = replace(reply(jpeg_bytes((640, 480)), sent=SNAP_640), extra={"auth_notes": ("bad",)})
    findings = _by_clause(judge(noted, caps=CAPS, config=CONFIG))
    assert findings["AUTH-CHALLENGE-1"].verdict is Verdict.INFORMATIONAL
    assert findings["AUTH-CHALLENGE-1"].evidence == "bad"


@pytest.mark.parametrize(
    ("made", "kind"),
    [
        (lambda: reply(jpeg_bytes(), content_type=None), Kind.SINGLE_JPEG),
        (lambda: reply(b'{"a": 1}', content_type="text/plain"), Kind.JSON),
        (lambda: _stream("5", 0.2, 2), Kind.STREAM),
        (lambda: reply(b"", content_type="multipart/x-mixed-replace; boundary=x"), Kind.STREAM),
        (lambda: reply(b"hello", content_type="text/plain"), Kind.OTHER),
    ],
)
def test_replies_are_classified_by_parts_type_and_first_bytes(
    made: Callable[[], Reply], kind: Kind
) -> None:
    assert classify(made()) is kind


def test_one_finding_per_clause_keeps_the_worst() -> None:
    findings = [
        Finding("A-1", Verdict.PASS, "fine"),
        Finding("B-1", Verdict.NON_STRICT, "meh"),
        Finding("A-1", Verdict.FAIL, "bad"),
        Finding("A-1", Verdict.NON_STRICT, "so-so"),
    ]
    assert [(f.clause, f.message) for f in one_per_clause(findings)] == [
        ("A-1", "bad"),
        ("B-1", "meh"),
    ]


@pytest.mark.parametrize(
    ("params", "caps", "window"),
    [
        ({"width": "160", "height": "120", "fps": "5"}, CAPS, 3.0),
        ({"width": "160", "height": "120"}, CAPS, None),
        ({"width": "160", "height": "120", "fps": "5", "time": "-5"}, CAPS, None),
        ({"fps": "2"}, None, 3.0),
        ({"fps": "0.5"}, None, None),
        ({"fps": "2", "time": "-1"}, None, None),
        ({"fps": "fast"}, None, None),
    ],
)
def test_a_stream_is_read_only_when_one_is_acceptable(
    params: dict[str, str], caps: Caps | None, window: float | None
) -> None:
    assert stream_window(request(**params), caps, CONFIG, 3.0) == window


CAPS_SENT = request("/api/camera/caps")
CAPS_DOCUMENT = {
    "success": True,
    "result": {
        "jpegResolution": [{"width": 160, "height": 120}, {"width": 640, "height": 480}],
        "sources": [{"source": "internal"}],
    },
}


def test_valid_caps_are_judged_and_read() -> None:
    caps_reply = _json(CAPS_DOCUMENT, CAPS_SENT)
    findings = _by_clause(judge_caps(caps_reply))
    assert findings["CAPS-SCHEMA-1"].verdict is Verdict.PASS
    assert caps_from_reply(caps_reply) == Caps(((160, 120), (640, 480)), ("internal",))


def test_malformed_caps_fail_and_are_not_trusted() -> None:
    broken = {"success": True, "result": {"resolutions": [], "sources": []}}
    caps_reply = _json(broken, CAPS_SENT)
    assert _by_clause(judge_caps(caps_reply))["CAPS-SCHEMA-1"].verdict is Verdict.FAIL
    assert caps_from_reply(caps_reply) is None


INFO_SENT = request("/api/system/info")


def test_complete_system_info_passes_and_the_server_header_is_recorded() -> None:
    info = _json(INFO, INFO_SENT)
    info = replace(info, headers=(*info.headers, ("Server", "HIP2.35.0.45.0")))
    findings = _by_clause(judge_system_info(info))
    expected = {
        "AUTH-OPEN-1": Verdict.PASS,
        "INFO-SCHEMA-1": Verdict.PASS,
        "INFO-FIELDS-1": Verdict.PASS,
    }
    assert {clause: findings[clause].verdict for clause in expected} == expected
    assert findings["INFO-SERVER-1"].message == (
        "Server: 'HIP2.35.0.45.0' carries the firmware version swVersion '2.35.0.45.0'"
    )


def test_system_info_behind_a_password_fails_auth_open() -> None:
    refused = _json(error_document(9), INFO_SENT, status=401)
    findings = _by_clause(judge_system_info(refused))
    assert findings["AUTH-OPEN-1"].verdict is Verdict.FAIL
    assert findings["INFO-SCHEMA-1"].verdict is Verdict.FAIL


def test_partial_system_info_is_non_strict() -> None:
    partial = {
        "success": True,
        "result": {
            k: INFO_RESULT[k] for k in ("variant", "serialNumber", "swVersion", "buildType")
        },
    }
    findings = _by_clause(judge_system_info(_json(partial, INFO_SENT)))
    assert findings["INFO-SCHEMA-1"].verdict is Verdict.PASS
    assert findings["INFO-FIELDS-1"].verdict is Verdict.NON_STRICT


def _sent(method: str, path: str, **params: str) -> Request:
    return replace(request(path, **params), method=method)


def _verdicts(findings: list[Finding]) -> dict[str, Verdict]:
    return {clause: finding.verdict for clause, finding in _by_clause(findings).items()}


UNKNOWN = "/api/camera/nothing"
# None: the clause must not be judged at all (the reply is not what that clause is about).
REFUSALS: list[tuple[str, Callable[[], list[Finding]], dict[str, Verdict | None]]] = [
    ("unknown path, error 2", lambda: judge(_json(error_document(2), _sent("GET", UNKNOWN)),
     caps=CAPS, config=CONFIG), {"ENV-PATH-1": Verdict.PASS, "ENV-PARAM-1": Verdict.PASS,
     "SNAP-WH-3": None}),
    ("unknown path, an HTML 404", lambda: judge(reply(b"<h1>404</h1>", content_type="text/html",
     status=404, sent=_sent("GET", UNKNOWN)), caps=CAPS, config=CONFIG),
     {"ENV-PATH-1": Verdict.NON_STRICT, "SNAP-WH-3": None}),
    ("unknown path, error 2 naming a param", lambda: judge(_json(error_document(2, "path"),
     _sent("GET", UNKNOWN)), caps=CAPS, config=CONFIG), {"ENV-PARAM-1": Verdict.NON_STRICT}),
    ("caps PUT, error 3", lambda: judge_caps(_json(error_document(3),
     _sent("PUT", "/api/camera/caps"))), {"CAPS-METHOD-2": Verdict.PASS, "CAPS-SCHEMA-1": None,
     "ENV-SCHEMA-1": None}),
    ("caps DELETE answered with caps", lambda: judge_caps(_json(CAPS_DOCUMENT,
     _sent("DELETE", "/api/camera/caps"))), {"CAPS-METHOD-2": Verdict.NON_STRICT}),
    ("caps GET", lambda: judge_caps(_json(CAPS_DOCUMENT, CAPS_SENT)),
     {"CAPS-METHOD-1": Verdict.PASS, "CAPS-SCHEMA-1": Verdict.PASS}),
    ("caps POST refused", lambda: judge_caps(_json(error_document(3),
     _sent("POST", "/api/camera/caps"))), {"CAPS-METHOD-1": Verdict.FAIL}),
    ("caps HEAD", lambda: judge_caps(reply(b"", content_type="application/json",
     sent=_sent("HEAD", "/api/camera/caps"))), {"CAPS-METHOD-2": Verdict.INFORMATIONAL,
     "ENV-SCHEMA-2": None}),
    ("snapshot HEAD", lambda: judge(reply(b"", content_type="application/json",
     sent=_sent("HEAD", SNAP_640.path, width="640", height="480")), caps=CAPS, config=CONFIG),
     {"SNAP-METHOD-4": Verdict.INFORMATIONAL, "ENV-SCHEMA-2": None, "ENV-CODE-1": None}),
    ("system info POST", lambda: judge_system_info(_json(INFO,
     _sent("POST", "/api/system/info"))), {"INFO-METHOD-1": Verdict.PASS,
     "INFO-SCHEMA-1": Verdict.PASS}),
    ("system info GET refused", lambda: judge_system_info(_json(error_document(3), INFO_SENT)),
     {"INFO-METHOD-1": Verdict.NON_STRICT, "INFO-SCHEMA-1": Verdict.FAIL}),
    ("system info POST refused", lambda: judge_system_info(_json(error_document(3),
     _sent("POST", "/api/system/info"))), {"INFO-METHOD-1": Verdict.NON_STRICT,
     "ENV-SCHEMA-2": Verdict.PASS, "INFO-SCHEMA-1": None, "ENV-SCHEMA-1": None}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("judged", "expected"),
    [case[1:] for case in REFUSALS],
    ids=[case[0] for case in REFUSALS],
)
def test_paths_and_methods_outside_the_snapshot_are_judged_by_their_own_clauses(
    judged: Callable[[], list[Finding]], expected: dict[str, Verdict | None]
) -> None:
    verdicts = _verdicts(judged())
    assert {clause: verdicts.get(clause) for clause in expected} == expected


def test_an_error_naming_the_parameter_at_fault_passes_env_param() -> None:
    refused = _json(error_document(12, "width"), SNAP_641)
    assert _verdicts(judge(refused, caps=CAPS, config=CONFIG))["ENV-PARAM-1"] is Verdict.PASS


@pytest.mark.parametrize(
    ("streams_open", "clause", "verdict"),
    [(0, "STREAM-CT-1", Verdict.FAIL), (1, "STREAM-LIMIT-1", Verdict.INFORMATIONAL)],
)
def test_a_stream_refused_for_a_limit_is_informational_only_beside_another_stream(
    streams_open: int, clause: str, verdict: Verdict
) -> None:
    refused = _json(error_document(18), request(width="640", height="480", fps="5"))
    refused.extra[STREAMS_OPEN] = streams_open
    findings = _by_clause(judge(refused, caps=CAPS, config=CONFIG))
    assert findings[clause].verdict is verdict
    assert findings["ENV-STATUS-1"].verdict is Verdict.PASS
