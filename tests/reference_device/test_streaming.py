"""MJPEG streaming: pacing by absolute deadlines (injected clock), framing, and live
streams over HTTP (rate, disconnects that leave nothing behind)."""

from __future__ import annotations

import asyncio
import http.client
import io
import itertools
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from urllib.parse import urlsplit

import pytest
import zxingcpp
from PIL import Image

from reference_device import DeviceOptions, DeviceThread
from reference_device.clock import ManualClock
from reference_device.params import SnapshotRequest, parse_snapshot, parse_urlencoded
from reference_device.profile import load_profile
from reference_device.streaming import (
    BOUNDARY,
    CONTENT_TYPE,
    Pacer,
    StreamPlan,
    multipart_part,
    stream_plan,
)

READ_TIMEOUT_S = 10.0


def test_first_frame_is_due_at_once_and_the_next_one_period_later() -> None:
    clock = ManualClock()
    pacer = Pacer(clock, 5.0)
    assert pacer.delay() == 0.0
    pacer.sent()
    assert pacer.delay() == pytest.approx(0.2)
    clock.advance(0.15)
    assert pacer.delay() == pytest.approx(0.05)


def test_deadlines_are_absolute_so_time_spent_sending_does_not_drift() -> None:
    clock = ManualClock()
    pacer = Pacer(clock, 4.0)
    for _ in range(100):
        clock.advance(pacer.delay())
        clock.advance(0.03)  # encoding and writing take time after each deadline
        pacer.sent()
    # 100 frames at 4 fps: the 101st is due at exactly 25 s whatever the sending cost.
    assert clock.monotonic() + pacer.delay() == pytest.approx(25.0)


def test_a_stalled_client_gets_no_burst_of_catch_up_frames() -> None:
    clock = ManualClock()
    pacer = Pacer(clock, 5.0)
    pacer.sent()
    clock.advance(1.05)  # the client did not read for five periods
    pacer.sent()
    assert (pacer.index, pacer.delay()) == (5, 0.0)  # the slot of 1.0 s, due already
    pacer.sent()
    assert pacer.delay() == pytest.approx(0.15)  # the slot at 1.2 s: slots 2..4 skipped


def test_a_hiccup_shorter_than_a_period_costs_no_part() -> None:
    clock = ManualClock()
    pacer = Pacer(clock, 5.0)
    pacer.sent()
    clock.advance(0.41)  # slot 1 (due at 0.2 s) went out after slot 2's deadline
    pacer.sent()
    assert (pacer.index, pacer.delay()) == (2, 0.0)
    pacer.sent()
    assert pacer.delay() == pytest.approx(0.19)  # back on schedule: slot 3 at 0.6 s


def test_never_more_frames_than_the_rate_allows_in_any_window() -> None:
    clock = ManualClock()
    pacer = Pacer(clock, 5.0)
    sent_at: list[float] = []
    for stall in [0.0, 0.5, 0.0, 0.01, 1.3, 0.0, 0.25, 0.0, 0.0, 0.7] * 5:
        clock.advance(pacer.delay())
        sent_at.append(clock.monotonic())
        clock.advance(stall)
        pacer.sent()
    for start in sent_at:
        in_window = [t for t in sent_at if start <= t < start + 1.0]
        assert len(in_window) <= 5


@pytest.mark.parametrize("rate", [0.0, -1.0, math.inf, math.nan])
def test_a_rate_must_be_positive_and_finite(rate: float) -> None:
    with pytest.raises(ValueError, match="positive and finite"):
        Pacer(ManualClock(), rate)


@pytest.mark.parametrize(
    ("query", "sustainable", "plan"),
    [
        ("width=640&height=480&fps=5", {}, StreamPlan("internal", 640, 480, 5.0)),
        ("width=640&height=480&fps=2.5", {}, StreamPlan("internal", 640, 480, 2.5)),
        ("width=640&height=480&fps=15", {}, StreamPlan("internal", 640, 480, 15.0)),
        ("width=640&height=480&fps=15", {(640, 480): 8.0}, StreamPlan("internal", 640, 480, 8.0)),
        ("width=640&height=480&fps=5", {(640, 480): 8.0}, StreamPlan("internal", 640, 480, 5.0)),
        # The default profile captures external at 10 fps: the stream still runs at 15.
        (
            "width=320&height=240&fps=15&source=external",
            {(640, 480): 8.0},
            StreamPlan("external", 320, 240, 15.0),
        ),
    ],
)
def test_the_rate_is_the_lower_of_fps_and_what_the_model_sustains(
    query: str, sustainable: dict[tuple[int, int], float], plan: StreamPlan
) -> None:
    profile = replace(load_profile("default"), sustainable_fps=sustainable)
    request = parse_snapshot(parse_urlencoded(query), profile)
    assert isinstance(request, SnapshotRequest)
    assert stream_plan(request, profile) == plan


def test_a_part_carries_its_headers_and_opens_the_next_part() -> None:
    jpeg = b"\xff\xd8 data \xff\xd9"
    assert multipart_part(jpeg) == (
        b"Content-Type: image/jpeg\r\nContent-Length: 10\r\n\r\n"
        + jpeg
        + b"\r\n--"
        + BOUNDARY.encode()
        + b"\r\n"
    )


def read_line(response: http.client.HTTPResponse) -> bytes:
    line = response.readline(1024)
    if not line.endswith(b"\r\n"):
        raise AssertionError(f"a multipart line must end with CRLF, got {line!r}")
    return line[:-2]


def read_parts(response: http.client.HTTPResponse) -> Iterator[bytes]:
    """Yield the JPEG of every part, checking the framing on the way, until the stream ends."""
    assert read_line(response) == b"--" + BOUNDARY.encode()
    while line := response.readline(1024):  # b"" when the device ended the stream
        headers = {}
        while line != b"\r\n":
            assert line.endswith(b"\r\n"), line
            name, _, value = line.decode("ascii").partition(":")
            headers[name.strip().lower()] = value.strip()
            line = response.readline(1024)
        assert headers["content-type"] == "image/jpeg"
        body = response.read(int(headers["content-length"]))
        assert body.startswith(b"\xff\xd8")
        assert body.endswith(b"\xff\xd9")
        assert read_line(response) == b""
        assert read_line(response) == b"--" + BOUNDARY.encode()
        yield body


def open_stream(
    url: str, query: str
) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    parts = urlsplit(url)
    assert parts.hostname is not None
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=READ_TIMEOUT_S)
    connection.request("GET", f"/api/camera/snapshot?{query}")
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type") == CONTENT_TYPE
    return connection, response


def test_a_stream_is_delivered_at_the_requested_rate() -> None:
    with DeviceThread(DeviceOptions()) as device:
        connection, response = open_stream(device.url, "width=640&height=480&fps=5")
        try:
            parts = read_parts(response)
            next(parts)
            first = time.monotonic()
            count = 0
            while time.monotonic() - first < 3.0:
                next(parts)
                count += 1
            elapsed = time.monotonic() - first
        finally:
            connection.close()
    assert count / elapsed == pytest.approx(5.0, rel=0.10)


def seq_of(jpeg: bytes) -> int:
    """The SEQ field of the frame's time code (docs/timecode.md)."""
    texts = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(jpeg)))]
    assert len(texts) == 1, texts
    return int(texts[0].split(":")[2])


CAPTURE_FPS = 2.0  # a slow sensor: one new frame every two parts at 4 fps
SLOW_SENSOR = replace(
    load_profile("default"),
    sources=tuple(replace(mode, fps=CAPTURE_FPS) for mode in load_profile("default").sources),
)


def test_above_the_capture_rate_every_slot_gets_a_part_repeating_the_latest_frame() -> None:
    clock = ManualClock()
    with DeviceThread(DeviceOptions(profile=SLOW_SENSOR, clock=clock)) as device:
        connection, response = open_stream(device.url, "width=320&height=240&fps=4")
        try:
            parts = read_parts(response)
            seqs = [seq_of(next(parts))]
            for _ in range(8):
                clock.advance(0.25)  # one slot per quarter second of device time
                seqs.append(seq_of(next(parts)))
        finally:
            connection.close()
    # Nine parts for nine slots although the sensor captured only four new frames: the
    # latest frame went again, time codes never went back, and the picture kept moving.
    assert len(seqs) == 9
    assert all(after >= before for before, after in itertools.pairwise(seqs)), seqs
    assert len(set(seqs)) < len(seqs), seqs
    assert seqs[-1] > seqs[0], seqs


def server_tasks(device: DeviceThread) -> int:
    return device.call(lambda: len(asyncio.all_tasks()))


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + READ_TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.02)


def test_a_client_leaving_mid_stream_leaves_no_task_or_thread_behind() -> None:
    with DeviceThread(DeviceOptions()) as device:
        idle_tasks = server_tasks(device)
        connection, response = open_stream(device.url, "width=320&height=240&fps=10")
        parts = read_parts(response)
        for _ in range(3):
            next(parts)
        busy_tasks = server_tasks(device)
        threads = set(threading.enumerate())
        connection.close()
        wait_until(lambda: server_tasks(device) == idle_tasks, "the stream's task ended")
        wait_until(lambda: not device.device.streams, "the stream was unregistered")
        assert busy_tasks > idle_tasks
        assert set(threading.enumerate()) <= threads


def test_stopping_the_device_ends_its_open_streams() -> None:
    device = DeviceThread(DeviceOptions())
    device.start()
    connection, response = open_stream(device.url, "width=320&height=240&fps=10")
    try:
        parts = read_parts(response)
        next(parts)
        device.stop()
        # The device ends the stream: the client sees the end instead of waiting forever.
        for _ in parts:
            pass
    finally:
        connection.close()
    assert device.device.streams == set()
