"""The artifact collector: what a report keeps of each reply, measured on the device's clock.

Replies are built here as the transport builds them (synthetic ``Reply`` values with real
JPEG bodies, some carrying the documented time code), with transport-clock times chosen
so that the expected ages are exact.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from PIL import Image
from report_documents import frame_with_timecode, jpeg_frame

from snapcheck.exchange import PartImage, Reply, Request, StreamPart
from snapcheck.recorder import RunRecorder
from snapcheck.report import artifacts
from snapcheck.report.artifacts import ArtifactCollector, Asked
from snapcheck.report.pictures import DATA_URI_PREFIX, THUMB_WIDTH
from snapcheck.timecode import TimeCode

BASE = "http://127.0.0.1:8080"
SNAPSHOT = "/api/camera/snapshot"
JPEG_HEADERS = (("Content-Type", "image/jpeg"),)
STREAM_HEADERS = (("Content-Type", "multipart/x-mixed-replace; boundary=frame"),)


def _request(*params: tuple[str, str], path: str = SNAPSHOT) -> Request:
    return Request("GET", BASE, path, params)


def _snapshot(body: bytes, *params: tuple[str, str], at: float = 10.0, took: float = 0.1,
              status: int = 200, headers: tuple[tuple[str, str], ...] = JPEG_HEADERS) -> Reply:
    return Reply(_request(*params), status, "OK", headers, body, started_at=at,
                 first_byte_s=took / 2, elapsed_s=took)


def _collector() -> tuple[RunRecorder, ArtifactCollector]:
    recorder = RunRecorder()
    return recorder, ArtifactCollector(recorder)


def _kind(recorder: RunRecorder, kind: str) -> list[dict[str, Any]]:
    return [dict(item) for item in recorder.artifacts.get(kind, [])]


ASKED = [
    ((("width", "640"), ("height", "480")), Asked("640x480", "default", None, None)),
    ((("width", "640"), ("height", "480"), ("source", "external"), ("fps", "5")),
     Asked("640x480", "external", 5.0, None)),
    ((("width", "1280"), ("height", "960"), ("time", "-5")), Asked("1280x960", "default", None,
                                                                   -5.0)),
    ((("width", "640"),), Asked(None, "default", None, None)),
    ((("width", "6x0"), ("height", "480")), Asked(None, "default", None, None)),
    ((("width", "320"), ("width", "640"), ("height", "480")), Asked("640x480", "default", None,
                                                                   None)),
    ((("width", "640"), ("height", "480"), ("fps", "abc"), ("time", "nan")),
     Asked("640x480", "default", None, None)),
    ((("width", "640"), ("height", "480"), ("fps", "inf"), ("time", "-2.5")),
     Asked("640x480", "default", None, -2.5)),
]


@pytest.mark.parametrize(("params", "asked"), ASKED)
def test_a_request_is_labelled_by_what_it_asked_for(
    params: tuple[tuple[str, str], ...], asked: Asked
) -> None:
    assert Asked.of(_request(*params)) == asked


IGNORED = [
    pytest.param(_snapshot(b"{}", ("width", "640"),
                           headers=(("Content-Type", "application/json"),)), id="json-reply"),
    pytest.param(_snapshot(jpeg_frame(64, 48), ("width", "64"), status=401), id="refused"),
    pytest.param(Reply(_request(path="/api/camera/caps"), 200, "OK", JPEG_HEADERS,
                       jpeg_frame(64, 48)), id="other-path"),
    pytest.param(_snapshot(b"", ("width", "64")), id="empty-body"),
]


@pytest.mark.parametrize("reply", IGNORED)
def test_replies_without_a_picture_leave_nothing(reply: Reply) -> None:
    recorder, collector = _collector()
    collector.observe(reply)
    collector.finish()
    assert recorder.artifacts == {}


def test_a_snapshot_gives_its_latency_and_one_thumbnail_per_kind_of_request() -> None:
    recorder, collector = _collector()
    size = (("width", "640"), ("height", "480"))
    for _ in range(3):
        collector.observe(_snapshot(jpeg_frame(640, 480), *size, took=0.25))
    collector.observe(_snapshot(jpeg_frame(640, 480), *size, ("source", "external")))
    latencies = _kind(recorder, "snapshot")
    assert [s["latency_s"] for s in latencies] == [0.25, 0.25, 0.25, 0.1]
    assert latencies[0]["first_byte_s"] == 0.125
    frames = _kind(recorder, "frame")
    assert [(f["source"], f["delivery"], f["width"]) for f in frames] == [
        ("default", "snapshot", 640), ("external", "snapshot", 640)]
    with Image.open(io.BytesIO(base64.b64decode(
            frames[0]["thumbnail"].removeprefix(DATA_URI_PREFIX)))) as thumb:
        assert (thumb.format, thumb.size) == ("JPEG", (THUMB_WIDTH, 120))


def test_a_frame_of_the_wrong_size_is_pictured_with_the_size_it_had() -> None:
    recorder, collector = _collector()
    collector.observe(_snapshot(jpeg_frame(320, 240), ("width", "640"), ("height", "480")))
    (frame,) = _kind(recorder, "frame")
    assert (frame["resolution"], frame["width"], frame["height"]) == ("640x480", 320, 240)


def test_a_body_that_does_not_decode_is_timed_but_not_pictured() -> None:
    recorder, collector = _collector()
    collector.observe(_snapshot(b"\xff\xd8 not a jpeg", ("width", "640"), ("height", "480")))
    assert len(_kind(recorder, "snapshot")) == 1
    assert _kind(recorder, "frame") == []


def test_a_time_shifted_frame_is_aged_on_the_devices_clock() -> None:
    recorder, collector = _collector()
    size = (("width", "640"), ("height", "480"))
    # A live frame captured at device time 1000.0 s arrived at 100.0 s (10.0 + 90): the
    # device's clock is at most 900 s ahead of the transport's.
    collector.observe(_snapshot(frame_with_timecode("internal", 1, 1_000_000), *size,
                                at=99.9, took=0.1))
    # Asked at 200.0 s (device 1100.0 s) for time=-5; the frame was captured at 1095.0 s.
    collector.observe(_snapshot(frame_with_timecode("internal", 2, 1_095_000), *size,
                                ("time", "-5"), at=200.0))
    assert _kind(recorder, "time_shift") == []  # kept until the best clock bound is known
    collector.finish()
    (shift,) = _kind(recorder, "time_shift")
    assert shift == {"resolution": "640x480", "source": "default", "requested_offset_s": -5.0,
                     "decoded_age_s": 5.0, "timecode_source": "internal"}
    shifted = [f for f in _kind(recorder, "frame") if f["time_offset_s"] is not None]
    assert [(f["time_offset_s"], f["decoded_age_s"]) for f in shifted] == [(-5.0, 5.0)]


def test_the_tightest_clock_bound_wins() -> None:
    recorder, collector = _collector()
    size = (("width", "640"), ("height", "480"))
    # Bounds of 850 s (a frame already old when it arrived) and 900 s: the larger is tighter.
    collector.observe(_snapshot(frame_with_timecode("internal", 1, 950_000), *size, at=99.9))
    collector.observe(_snapshot(frame_with_timecode("internal", 2, 1_000_000), *size, at=99.9))
    collector.observe(_snapshot(frame_with_timecode("internal", 3, 1_097_000), *size,
                                ("time", "-3"), at=200.0))
    collector.finish()
    assert [s["decoded_age_s"] for s in _kind(recorder, "time_shift")] == [3.0]


def test_without_a_live_frame_a_shifted_frame_has_no_age() -> None:
    recorder, collector = _collector()
    collector.observe(_snapshot(frame_with_timecode("external", 2, 1_095_000), ("width", "640"),
                                ("height", "480"), ("time", "-5")))
    collector.observe(_snapshot(jpeg_frame(640, 480), ("width", "640"), ("height", "480"),
                                ("time", "-7")))
    collector.finish()
    assert [(s["requested_offset_s"], s["decoded_age_s"], s["timecode_source"])
            for s in _kind(recorder, "time_shift")] == [(-5.0, None, "external"),
                                                        (-7.0, None, None)]


def _part(index: int, at: float, *, code: TimeCode | None = None, body: bytes | None = None
          ) -> StreamPart:
    return StreamPart(index, JPEG_HEADERS, 1000, first_byte_at=at - 0.01, completed_at=at,
                      body=body, image=PartImage(640, 480, (), code))


def test_a_stream_gives_its_arrivals_a_clock_bound_and_its_last_frame() -> None:
    recorder, collector = _collector()
    parts = (
        _part(0, 100.2, code=TimeCode("internal", 1, 1_000_150)),
        _part(1, 100.4, code=TimeCode("internal", 2, 1_000_350)),
        _part(2, 100.6, body=jpeg_frame(640, 480)),
    )
    request = _request(("width", "640"), ("height", "480"), ("fps", "5"))
    collector.observe(Reply(request, 200, "OK", STREAM_HEADERS, started_at=100.0,
                            elapsed_s=1.0, parts=parts))
    (stream,) = _kind(recorder, "stream")
    assert stream["arrivals_s"] == [0.2, 0.4, 0.6]
    assert (stream["requested_fps"], stream["parts"], stream["achieved_fps"]) == (5.0, 3, 5.0)
    (frame,) = _kind(recorder, "frame")
    assert (frame["delivery"], frame["resolution"]) == ("stream", "640x480")
    # The stream bounded the device's clock at 900.0 - 0.05 s: a shifted frame is aged by it.
    collector.observe(_snapshot(frame_with_timecode("internal", 9, 1_097_000), ("width", "640"),
                                ("height", "480"), ("time", "-3"), at=200.0))
    collector.finish()
    assert [s["decoded_age_s"] for s in _kind(recorder, "time_shift")] == [2.95]


def test_pictures_stop_at_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(artifacts, "MAX_FRAMES", 2)
    recorder, collector = _collector()
    for source in ("a", "b", "c"):
        collector.observe(_snapshot(jpeg_frame(64, 48), ("width", "64"), ("height", "48"),
                                    ("source", source)))
    assert [f["source"] for f in _kind(recorder, "frame")] == ["a", "b"]
    assert len(_kind(recorder, "snapshot")) == 3
