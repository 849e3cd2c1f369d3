"""Tests of reference_device.capture: frames on the source's clock, pre-roll, real cameras."""

from __future__ import annotations

import io
import itertools
import math

import pytest
import zxingcpp
from PIL import Image

from reference_device.capture import (
    ArrivalCapture,
    Frame,
    SyntheticProducer,
    encode_jpeg,
    fit_inside,
)
from reference_device.clock import AnchoredClock, ManualClock
from reference_device.profile import SourceMode
from reference_device.ring_buffer import HISTORY_S, RingBuffer
from reference_device.scene import timecode_payload

T0 = 1_764_000_000.0
INTERNAL = SourceMode("internal", 1920, 1080, 15.0)


def producer_for(mode: SourceMode = INTERNAL) -> tuple[SyntheticProducer, ManualClock]:
    clock = ManualClock(T0)
    device = AnchoredClock(clock)
    buffer: RingBuffer[Frame] = RingBuffer.for_rate(mode.fps, device)
    return SyntheticProducer(mode, device, buffer), clock


def time_code(jpeg: bytes) -> str:
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(jpeg)))
    return str(code.text)


@pytest.mark.parametrize(
    ("size", "fitted"),
    [
        ((1920, 1080), (1280, 720)),
        ((1280, 960), (1280, 960)),
        ((640, 480), (640, 480)),
        ((4000, 3000), (1280, 960)),
        ((960, 1280), (720, 960)),
        ((2000, 500), (1280, 320)),
    ],
)
def test_masters_fit_inside_1280x960_keeping_the_aspect_ratio(
    size: tuple[int, int], fitted: tuple[int, int]
) -> None:
    assert fit_inside(size) == fitted


def test_fit_inside_refuses_empty_sizes() -> None:
    with pytest.raises(ValueError, match="positive"):
        fit_inside((0, 480))


def test_begin_captures_the_first_frame_at_once() -> None:
    producer, _ = producer_for()
    producer.begin(preroll=False)
    frame = producer.buffer.latest()
    assert (frame.seq, frame.captured_at) == (0, T0)
    assert (frame.master_size, frame.native_size) == ((1280, 720), (1920, 1080))


@pytest.mark.parametrize("fps", [15.0, 10.0, 8.0, 2.0, 0.5])
def test_advancing_the_clock_captures_exactly_the_frames_due(fps: float) -> None:
    producer, clock = producer_for(SourceMode("internal", 320, 240, fps))
    producer.begin(preroll=False)
    captured = 1
    for step in (0.3, 1.0, 0.05, 2.65):
        clock.advance(step)
        captured += producer.capture_due()
        elapsed = clock.monotonic()
        assert captured == math.floor(elapsed * fps + 1e-6) + 1
    frames = producer.buffer.items()
    assert [frame.seq for frame in frames] == list(range(captured))
    for number, frame in enumerate(frames):
        assert frame.captured_at == pytest.approx(T0 + number / fps, abs=1e-6)


def test_a_frame_is_due_exactly_one_period_after_the_last() -> None:
    producer, clock = producer_for()
    producer.begin(preroll=False)
    clock.advance(1 / 15 - 0.001)
    assert producer.capture_due() == 0
    assert producer.next_due() == pytest.approx(1 / 15)
    clock.advance(0.001)
    assert producer.capture_due() == 1


def test_every_frame_carries_its_own_time_code() -> None:
    producer, clock = producer_for()
    producer.begin(preroll=False)
    clock.advance(0.2)
    producer.capture_due()
    for frame in producer.buffer.items():
        assert time_code(frame.master) == timecode_payload("internal", frame.seq, frame.captured_at)


def test_preroll_fills_30_s_of_back_dated_history_without_rendering_it_yet() -> None:
    producer, _ = producer_for()
    producer.begin(preroll=True)
    frames = producer.buffer.items()
    assert [frame.seq for frame in frames] == list(range(len(frames)))
    assert frames[-1].captured_at == T0
    assert T0 - frames[0].captured_at >= HISTORY_S
    for earlier, later in itertools.pairwise(frames):
        # Wall times near 1.7e9 s carry about 2e-7 s of float resolution.
        assert later.captured_at - earlier.captured_at == pytest.approx(1 / 15, abs=1e-6)
    assert not any(frame.stored.is_encoded for frame in frames[:-1])
    oldest = frames[0]
    assert time_code(oldest.master) == timecode_payload("internal", 0, oldest.captured_at)
    assert oldest.stored.is_encoded


def test_a_late_producer_renders_only_the_newest_of_the_frames_it_missed() -> None:
    producer, clock = producer_for()
    producer.begin(preroll=False)
    clock.advance(2.0)  # the capture thread got no CPU for thirty periods
    assert producer.capture_due() == 30
    missed = producer.buffer.items()[1:]
    assert [frame.stored.is_encoded for frame in missed] == [False] * 29 + [True]
    between = missed[10]
    assert time_code(between.master) == timecode_payload(
        "internal", between.seq, between.captured_at
    )


def test_live_frames_continue_the_numbering_after_preroll() -> None:
    producer, clock = producer_for()
    producer.begin(preroll=True)
    before = producer.buffer.latest().seq
    clock.advance(1.0)
    assert producer.capture_due() == 15
    assert producer.buffer.latest().seq == before + 15


def test_a_producer_far_behind_skips_frames_the_buffer_would_drop() -> None:
    producer, clock = producer_for(SourceMode("internal", 320, 240, 15.0))
    producer.begin(preroll=False)
    clock.advance(1000.0)
    assert producer.capture_due() == producer.buffer.capacity
    frames = producer.buffer.items()
    assert frames[-1].captured_at == pytest.approx(T0 + 1000.0, abs=1e-6)
    assert frames[-1].seq == producer.buffer.capacity  # numbering stays contiguous


def test_the_raw_picture_is_kept_for_the_newest_frame_only() -> None:
    producer, clock = producer_for()
    producer.begin(preroll=False)
    first = producer.buffer.latest()
    render = producer.raw_for(first)
    assert render is not None and render().size == (1920, 1080)
    clock.advance(1 / 15)
    producer.capture_due()
    assert producer.raw_for(first) is None
    assert producer.raw_for(producer.buffer.latest()) is not None


def test_begin_twice_and_capture_before_begin_are_refused() -> None:
    producer, _ = producer_for()
    with pytest.raises(ValueError, match="has not begun"):
        producer.capture_due()
    producer.begin(preroll=False)
    with pytest.raises(ValueError, match="already begun"):
        producer.begin(preroll=False)


def test_the_capture_thread_follows_the_clock() -> None:
    producer, clock = producer_for(SourceMode("internal", 320, 240, 15.0))
    producer.begin(preroll=False)
    producer.start_thread()
    try:
        clock.advance(1.0)
        assert producer.buffer.wait_appended(16, timeout_s=30)
    finally:
        producer.stop()
    assert producer.failure is None
    assert [frame.seq for frame in producer.buffer.items()] == list(range(16))


# --- frames from a real camera ---------------------------------------------------------


def camera_jpeg(
    size: tuple[int, int] = (1920, 1080), colour: tuple[int, int, int] = (200, 30, 30)
) -> bytes:
    return encode_jpeg(Image.new("RGB", size, colour))


def arrival_for(fps: float = 10.0) -> tuple[ArrivalCapture, ManualClock]:
    clock = ManualClock(T0)
    device = AnchoredClock(clock)
    buffer: RingBuffer[Frame] = RingBuffer.for_rate(fps, device)
    return ArrivalCapture(SourceMode("external", 1280, 720, fps), device, buffer), clock


def test_arrivals_are_numbered_stamped_and_stored_as_masters() -> None:
    capture, clock = arrival_for()
    first = capture.accept(camera_jpeg())
    clock.advance(0.1)
    second = capture.accept(camera_jpeg())
    assert first is not None and second is not None
    assert [(f.seq, f.captured_at) for f in (first, second)] == [(0, T0), (1, T0 + 0.1)]
    assert (second.native_size, second.master_size) == ((1920, 1080), (1280, 720))
    master = Image.open(io.BytesIO(second.master))
    assert master.size == (1280, 720)
    red, green, blue = master.getpixel((640, 360))  # type: ignore[misc]
    assert red > 180 and green < 60 and blue < 60
    assert zxingcpp.read_barcodes(master) == []  # the camera's own picture: no time code
    render = capture.raw_for(second)
    assert render is not None and render().size == (1920, 1080)
    assert capture.raw_for(first) is None


def test_a_picture_that_does_not_decode_is_refused_and_uses_no_number() -> None:
    capture, _ = arrival_for()
    with pytest.raises(ValueError, match="not a decodable image"):
        capture.accept(b"\xff\xd8 not really a jpeg")
    frame = capture.accept(camera_jpeg((320, 240)))
    assert frame is not None and frame.seq == 0


def test_a_faster_camera_is_thinned_to_the_native_rate() -> None:
    capture, clock = arrival_for(fps=10.0)
    kept = 0
    for _ in range(40):  # 2 s at 20 fps
        kept += capture.accept(camera_jpeg((64, 48))) is not None
        clock.advance(0.05)
    assert kept == 20


def test_a_camera_at_the_native_rate_with_jitter_keeps_every_frame() -> None:
    capture, clock = arrival_for(fps=10.0)
    kept = 0
    for jitter in [0.0, 0.02, -0.02, 0.015, -0.01, 0.0, 0.02, -0.02] * 3:
        clock.advance(0.1 + jitter)
        kept += capture.accept(camera_jpeg((64, 48))) is not None
    assert kept == 24
