"""Parameter parsing: every decision of the table, and no input that makes it raise."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference_device.envelope import ApiError, ErrorCode
from reference_device.params import (
    Mode,
    RawParams,
    SnapshotRequest,
    Undecodable,
    parse_snapshot,
    parse_urlencoded,
)
from reference_device.profile import Profile, SourceMode

PROFILE = Profile(
    name="params-test",
    variant="2N IP Test",
    resolutions=((640, 480), (320, 240), (1280, 960), (1920, 1080)),
    sources=(SourceMode("internal", 1280, 960, 10.0), SourceMode("external", 640, 480, 5.0)),
    default_source="internal",
    max_fps=15,
    sustainable_fps={},
    system_info={"variant": "2N IP Test"},
    server_header="HIP2.35.0.45.0",
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("width=640&height=480", (("width", "640"), ("height", "480"))),
        ("a=1&&b=", (("a", "1"), ("b", ""))),
        ("flag", (("flag", ""),)),
        ("source=in+ternal", (("source", "in ternal"),)),
        ("source=%69nternal", (("source", "internal"),)),
        ("a=1;b=2", (("a", "1;b=2"),)),
        ("width=%ZZ", (("width", "%ZZ"),)),
        ("width=%", (("width", "%"),)),
        ("w=%C3%A9", (("w", "é"),)),
        ("w=%FF", (("w", Undecodable(b"\xff")),)),
        ("%FF=1&a=2", (("a", "2"),)),
        (b"w=\xc3\xa9&x=\xff", (("w", "é"), ("x", Undecodable(b"\xff")))),
    ],
)
def test_parse_urlencoded(text: str | bytes, expected: tuple[tuple[str, object], ...]) -> None:
    assert parse_urlencoded(text).items == expected


def test_first_value_wins_and_the_query_comes_before_the_form() -> None:
    params = parse_urlencoded("width=640&width=320") + parse_urlencoded(b"width=160")
    assert params.first("width") == "640"
    assert params.first("height") is None


def ok(
    width: int,
    height: int,
    source: str = "internal",
    *,
    fps: float | None = None,
    time: float | None = None,
) -> SnapshotRequest:
    return SnapshotRequest(width, height, source, fps=fps, time=time)


def err(code: int, param: str | None) -> tuple[int, str | None]:
    return code, param


SIZE = "width=640&height=480"

# query -> the request the device serves, or (error code, param) it answers.
CASES: list[tuple[str, SnapshotRequest | tuple[int, str | None]]] = [
    (SIZE, ok(640, 480)),
    ("", err(11, "width")),
    ("height=480", err(11, "width")),
    ("width=640", err(11, "height")),
    ("width=&height=480", err(11, "width")),
    ("width=640&height=", err(11, "height")),
    ("Width=640&height=480", err(11, "width")),
    ("width=abc", err(12, "width")),
    ("height=abc", err(11, "width")),
    ("width=640.0&height=480", err(12, "width")),
    ("width=-640&height=480", err(12, "width")),
    ("width=+640&height=480", err(12, "width")),
    ("width=%20640&height=480", err(12, "width")),
    ("width=%EF%BC%96%EF%BC%94%EF%BC%90&height=480", err(12, "width")),
    ("width=640&height=4_80", err(12, "height")),
    ("width=640&height=481", err(12, "width")),
    ("width=480&height=640", err(12, "width")),
    ("width=0&height=0", err(12, "width")),
    ("width=1" + "0" * 40 + "&height=480", err(12, "width")),
    ("width=0640&height=480", ok(640, 480)),
    ("width=%ZZ&height=480", err(12, "width")),
    ("width=%FF&height=480", err(12, "width")),
    (SIZE + "&source=external", ok(640, 480, "external")),
    (SIZE + "&source=", ok(640, 480)),
    (SIZE + "&source=INTERNAL", err(12, "source")),
    (SIZE + "&source=usb", err(12, "source")),
    (SIZE + "&source=%C3%28", err(12, "source")),
    (SIZE + "&fps=5", ok(640, 480, fps=5.0)),
    (SIZE + "&fps=2.5", ok(640, 480, fps=2.5)),
    (SIZE + "&fps=0", ok(640, 480, fps=0.0)),
    (SIZE + "&fps=0.5", ok(640, 480, fps=0.5)),
    (SIZE + "&fps=15", ok(640, 480, fps=15.0)),
    (SIZE + "&fps=", ok(640, 480)),
    (SIZE + "&fps=16", err(12, "fps")),
    (SIZE + "&fps=15.5", err(12, "fps")),
    (SIZE + "&fps=-1", err(12, "fps")),
    (SIZE + "&fps=abc", err(12, "fps")),
    (SIZE + "&fps=nan", err(12, "fps")),
    (SIZE + "&fps=inf", err(12, "fps")),
    (SIZE + "&fps=1e1", err(12, "fps")),
    (SIZE + "&time=-5", ok(640, 480, time=-5.0)),
    (SIZE + "&time=0", ok(640, 480, time=0.0)),
    (SIZE + "&time=-30", ok(640, 480, time=-30.0)),
    (SIZE + "&time=-2.5", ok(640, 480, time=-2.5)),
    (SIZE + "&time=-5&fps=5", ok(640, 480, fps=5.0, time=-5.0)),
    (SIZE + "&time=-30.5", err(12, "time")),
    (SIZE + "&time=1", err(12, "time")),
    (SIZE + "&time=1764000000", err(12, "time")),
    (SIZE + "&time=abc", err(12, "time")),
    ("width=640&width=320&height=480", ok(640, 480)),
    ("width=320&width=640&height=480", err(12, "width")),
    (SIZE + "&quality=50&foo", ok(640, 480)),
    ("fps=99&width=641&height=480", err(12, "fps")),
]


@pytest.mark.parametrize(("query", "expected"), CASES)
def test_parse_snapshot(query: str, expected: SnapshotRequest | tuple[int, str | None]) -> None:
    result = parse_snapshot(parse_urlencoded(query), PROFILE)
    if isinstance(expected, SnapshotRequest):
        assert result == expected
    else:
        assert isinstance(result, ApiError)
        assert (int(result.code), result.param) == expected


@pytest.mark.parametrize(
    ("query", "mode", "size"),
    [
        (SIZE, Mode.SINGLE, (640, 480)),
        (SIZE + "&fps=0.99", Mode.SINGLE, (640, 480)),
        (SIZE + "&fps=1", Mode.STREAM, (640, 480)),
        (SIZE + "&time=-1&fps=5", Mode.HISTORY, (640, 480)),
        ("width=1280&height=960&time=-5", Mode.HISTORY, (1280, 960)),
        ("width=1920&height=1080&time=-5", Mode.HISTORY, (1280, 960)),
        ("width=1920&height=1080", Mode.SINGLE, (1920, 1080)),
        ("width=1920&height=1080&fps=2", Mode.STREAM, (1920, 1080)),
    ],
)
def test_mode_and_served_size(query: str, mode: Mode, size: tuple[int, int]) -> None:
    request = parse_snapshot(parse_urlencoded(query), PROFILE)
    assert isinstance(request, SnapshotRequest)
    assert (request.mode, request.served_size) == (mode, size)


def test_error_descriptions_name_the_parameter_and_the_reason() -> None:
    result = parse_snapshot(parse_urlencoded(SIZE + "&fps=16"), PROFILE)
    assert isinstance(result, ApiError)
    assert result.code is ErrorCode.INVALID_PARAMETER
    assert result.text == "invalid parameter value: fps is above the maximum of 15"


@given(st.binary(max_size=200))
def test_any_bytes_parse_without_raising(data: bytes) -> None:
    params = parse_urlencoded(data)
    assert all(isinstance(name, str) for name, _ in params.items)


NAMES = st.sampled_from(["width", "height", "source", "fps", "time", "quality", "Width"])
VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["640", "480", "internal", "-5", "2.5", "15", "%FF", "1e9", "-0"]),
)


@given(st.lists(st.tuples(NAMES, VALUES), max_size=8))
def test_any_parameters_give_a_request_or_a_parameter_error(
    pairs: list[tuple[str, str]],
) -> None:
    result = parse_snapshot(RawParams(tuple(pairs)), PROFILE)
    if isinstance(result, ApiError):
        assert result.code in (ErrorCode.MISSING_PARAMETER, ErrorCode.INVALID_PARAMETER)
        assert result.param in ("width", "height", "source", "fps", "time")
    else:
        assert (result.width, result.height) in PROFILE.resolutions
