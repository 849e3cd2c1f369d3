"""The fault behaviours as pure functions: each rewrite, rule and style, and how they combine."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from typing import Any

import pytest
from PIL import Image

from reference_device.envelope import ApiError
from reference_device.fault_behaviours import NO_FAULTS, FaultSet, Payload
from reference_device.faults import fault_set
from reference_device.params import (
    STRICT_RULES,
    Mode,
    SnapshotRequest,
    parse_snapshot,
    parse_urlencoded,
)
from reference_device.profile import load_profile
from reference_device.streaming import BOUNDARY, STRICT_STYLE, multipart_part

PROFILE = load_profile("default")
SNAPSHOT = "/api/camera/snapshot"


def jpeg(size: tuple[int, int] = (32, 24)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 20, 30)).save(out, "JPEG")
    return out.getvalue()


def json_payload(document: object, path: str = SNAPSHOT, status: int = 200) -> Payload:
    return Payload("GET", path, status, "application/json", json.dumps(document).encode())


def error(code: int, param: str | None = None) -> Payload:
    member: dict[str, object] = {"code": code, "description": "x"}
    if param is not None:
        member["param"] = param
    return json_payload({"success": False, "error": member})


CAPS = {
    "success": True,
    "result": {
        "jpegResolution": [{"width": 640, "height": 480}, {"width": 320, "height": 240}],
        "sources": [{"source": "internal"}],
    },
}
INFO = {"success": True, "result": {"serialNumber": "1", "variant": "v"}}
PICTURE = Payload("GET", SNAPSHOT, 200, "image/jpeg", jpeg())


def test_without_faults_the_device_consults_its_strict_behaviour() -> None:
    assert fault_set(()) is NO_FAULTS
    assert FaultSet() == NO_FAULTS
    assert NO_FAULTS.rules is STRICT_RULES and NO_FAULTS.stream_style is STRICT_STYLE
    assert NO_FAULTS.methods(frozenset({"GET", "POST"})) == {"GET", "POST"}
    assert NO_FAULTS.rewrite_reply(PICTURE) is PICTURE
    request = SnapshotRequest(640, 480, "internal")
    assert NO_FAULTS.rewrite_request(request, PROFILE) is request


def body(payload: Payload) -> Any:
    return json.loads(payload.body)


@pytest.mark.parametrize(
    ("fault", "before", "after"),
    [
        ("jpeg-as-text-plain", PICTURE, lambda p: p.content_type == "text/plain"),
        ("jpeg-as-text-plain", error(12), lambda p: p.content_type == "application/json"),
        ("error-as-text-html", error(12), lambda p: p.content_type == "text/html"),
        ("error-as-text-html", json_payload(CAPS), lambda p: p.content_type == "application/json"),
        ("truncated-eoi", PICTURE, lambda p: not p.body.endswith(b"\xff\xd9")),
        ("trailing-garbage", PICTURE, lambda p: p.body.startswith(PICTURE.body) and
         len(p.body) > len(PICTURE.body)),
        ("png-bytes", PICTURE, lambda p: p.body.startswith(b"\x89PNG")),
        ("caps-phantom-pair", json_payload(CAPS, "/api/camera/caps"),
         lambda p: {"width": 2048, "height": 1536} in body(p)["result"]["jpegResolution"]),
        ("caps-duplicates", json_payload(CAPS, "/api/camera/caps"),
         lambda p: len(body(p)["result"]["sources"]) == 2),
        ("caps-wrong-keys", json_payload(CAPS, "/api/camera/caps"),
         lambda p: body(p)["result"]["resolutions"][0] == {"w": 640, "h": 480}),
        ("caps-wrong-keys", json_payload(CAPS, SNAPSHOT), lambda p: p.body == json_payload(
            CAPS).body),
        ("missing-width-code-12", error(11, "width"), lambda p: body(p)["error"]["code"] == 12),
        ("missing-width-code-12", error(12, "width"), lambda p: body(p)["error"]["code"] == 12),
        ("missing-param-name", error(11, "width"), lambda p: "param" not in body(p)["error"]),
        ("missing-param-name", error(12, "width"), lambda p: body(p)["error"]["param"] ==
         "width"),
        ("status-500-on-error", error(12), lambda p: p.status == 500),
        ("status-500-on-error", replace(error(9), status=401), lambda p: p.status == 401),
        ("success-true-on-error", error(12), lambda p: body(p)["success"] is True),
        ("code-as-string", error(12), lambda p: body(p)["error"]["code"] == "12"),
        ("undefined-error-code", error(12), lambda p: body(p)["error"]["code"] == 16),
        ("unknown-path-404", error(2), lambda p: (p.status, p.content_type) == (404,
                                                                               "text/html")),
        ("unknown-path-404", error(3), lambda p: p.status == 200),
        ("slow-snapshot", PICTURE, lambda p: p.delay_s >= 30 and p.body == PICTURE.body),
        ("slow-snapshot", error(12), lambda p: p.delay_s == 0),
        ("length-lie-hang", PICTURE, lambda p: p.declared_length == len(PICTURE.body) + 1),
        ("info-missing-serial", json_payload(INFO, "/api/system/info"),
         lambda p: "serialNumber" not in body(p)["result"]),
    ],
)
def test_a_reply_fault_rewrites_only_the_replies_it_concerns(
    fault: str, before: Payload, after: object
) -> None:
    rewritten = fault_set([fault]).rewrite_reply(before)
    assert callable(after) and after(rewritten)


@pytest.mark.parametrize(
    ("fault", "query", "mode", "size", "source"),
    [
        ("size-off-by-one", "width=640&height=480", Mode.SINGLE, (639, 480), "internal"),
        ("size-off-by-one", "width=640&height=480&fps=2", Mode.STREAM, (639, 480), "internal"),
        ("upscaled-past-clamp", "width=640&height=480&time=-1", Mode.HISTORY, (1600, 1200),
         "internal"),
        ("upscaled-past-clamp", "width=640&height=480", Mode.SINGLE, (640, 480), "internal"),
        ("clamp-missing", "width=1920&height=1080&time=-1", Mode.HISTORY, (1920, 1080),
         "internal"),
        ("history-upscaled", "width=640&height=480&time=-1", Mode.HISTORY, (1280, 960),
         "internal"),
        ("time-ignored", "width=1920&height=1080&time=-1", Mode.SINGLE, (1920, 1080), "internal"),
        ("time-ignored", "width=640&height=480&time=-1&fps=5", Mode.STREAM, (640, 480),
         "internal"),
        ("fps-with-time-streams", "width=1920&height=1080&time=-1&fps=5", Mode.STREAM,
         (1280, 960), "internal"),
        ("fps-with-time-streams", "width=640&height=480&time=-1", Mode.HISTORY, (640, 480),
         "internal"),
        ("stale-live-snapshot", "width=1920&height=1080", Mode.HISTORY, (1920, 1080), "internal"),
        ("stale-live-snapshot", "width=640&height=480&fps=2", Mode.STREAM, (640, 480),
         "internal"),
        ("external-serves-internal", "width=640&height=480&source=external", Mode.SINGLE,
         (640, 480), "internal"),
        ("fps-fraction-streams", "width=640&height=480&fps=0.5", Mode.STREAM, (640, 480),
         "internal"),
        ("fps-fraction-streams", "width=640&height=480&fps=0", Mode.SINGLE, (640, 480),
         "internal"),
    ],
)
def test_a_request_fault_changes_what_is_served(
    fault: str, query: str, mode: Mode, size: tuple[int, int], source: str
) -> None:
    request = parse_snapshot(parse_urlencoded(query), PROFILE)
    assert isinstance(request, SnapshotRequest)
    served = fault_set([fault]).rewrite_request(request, PROFILE)
    assert (served.mode, served.served_size, served.source) == (mode, size, source)


@pytest.mark.parametrize(
    ("fault", "query", "strict_code", "served"),
    [
        ("width-unchecked", "width=641&height=480", 12, (640, 480)),
        ("height-unchecked", "width=640&height=481", 12, (640, 480)),
        ("source-any-case", "width=640&height=480&source=INTERNAL", 12, (640, 480)),
        ("fps-negative-accepted", "width=640&height=480&fps=-1", 12, (640, 480)),
        ("time-positive-accepted", "width=640&height=480&time=5", 12, (640, 480)),
        ("time-beyond-memory", "width=640&height=480&time=-45", 12, (640, 480)),
    ],
)
def test_a_lenient_parameter_fault_serves_what_the_contract_refuses(
    fault: str, query: str, strict_code: int, served: tuple[int, int]
) -> None:
    params = parse_urlencoded(query)
    refused = parse_snapshot(params, PROFILE)
    assert isinstance(refused, ApiError) and refused.code == strict_code
    request = parse_snapshot(params, PROFILE, fault_set([fault]).rules)
    assert isinstance(request, SnapshotRequest)
    assert request.served_size == served
    assert request.time is None or -30 <= request.time <= 0


@pytest.mark.parametrize(
    ("fault", "query"),
    [
        ("width-unchecked", "width=641&height=481"),
        ("height-unchecked", "width=641&height=481"),
        ("source-any-case", "width=640&height=480&source=front"),
        ("fps-negative-accepted", "width=640&height=480&fps=16"),
        ("time-positive-accepted", "width=640&height=480&time=-31"),
        ("time-beyond-memory", "width=640&height=480&time=-61"),
    ],
)
def test_a_lenient_parameter_fault_still_refuses_the_rest(fault: str, query: str) -> None:
    assert isinstance(parse_snapshot(parse_urlencoded(query), PROFILE, fault_set([fault]).rules),
                      ApiError)


DELIMITER = b"--" + BOUNDARY.encode() + b"\r\n"


@pytest.mark.parametrize(
    ("fault", "part"),
    [
        ("part-without-content-type", b"Content-Length: 4\r\n\r\nJPEG\r\n" + DELIMITER),
        ("part-length-wrong",
         b"Content-Type: image/jpeg\r\nContent-Length: 104\r\n\r\nJPEG\r\n" + DELIMITER),
        ("boundary-mismatch",
         b"Content-Type: image/jpeg\r\nContent-Length: 4\r\n\r\nJPEG\r\n--otherframe\r\n"),
    ],
)
def test_a_framing_fault_changes_each_part(fault: str, part: bytes) -> None:
    assert multipart_part(b"JPEG", fault_set([fault]).stream_style) == part


@pytest.mark.parametrize(
    ("fault", "field", "value"),
    [
        ("no-leading-boundary", "leading_boundary", False),
        ("half-rate", "rate_factor", 0.5),
        ("double-rate", "rate_factor", 2.0),
        ("stall-after-parts", "parts_before_stall", 3),
        ("silent-stream", "parts_before_stall", 0),
        ("frozen-stream", "frozen", True),
    ],
)
def test_a_pacing_fault_sets_its_style(fault: str, field: str, value: object) -> None:
    assert getattr(fault_set([fault]).stream_style, field) == value


def test_method_guard_and_access_faults_fold_together() -> None:
    faults = fault_set(["post-refused", "put-served", "snapshot-unguarded", "basic-on-digest",
                        "privilege-ignored"])
    assert faults.methods(frozenset({"GET", "POST"})) == {"GET", "PUT"}
    assert faults.unguarded == {SNAPSHOT}
    assert faults.access == {"basic-on-digest", "privilege-ignored"}


def test_faults_compose_in_table_order() -> None:
    both = fault_set(["truncated-eoi", "jpeg-as-text-plain"]).rewrite_reply(PICTURE)
    assert both.content_type == "text/plain" and both.body == PICTURE.body[:-2]
    framing = fault_set(["half-rate", "no-leading-boundary"]).stream_style
    assert (framing.rate_factor, framing.leading_boundary) == (0.5, False)
