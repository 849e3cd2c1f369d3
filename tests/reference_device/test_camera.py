"""Tests of reference_device.camera: the whole pipeline, stepped by a manual clock."""

from __future__ import annotations

import io
import socket
import threading
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from reference_device import capture, scene
from reference_device.camera import Camera, NoFrameError
from reference_device.clock import ManualClock, SystemClock
from reference_device.profile import load_profile
from reference_device.scene import timecode_payload

T0 = 1_764_000_000.0


def time_code(jpeg: bytes) -> str:
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(jpeg)))
    return str(code.text)


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/snapshot.jpg"


def stepped_camera(
    profile: str = "default", *, preroll: bool = False
) -> tuple[Camera, ManualClock]:
    clock = ManualClock(T0)
    camera = Camera(load_profile(profile), clock, preroll=preroll)
    camera.start(threads=False)
    return camera, clock


def test_start_and_stop_leave_no_thread_behind() -> None:
    before = set(threading.enumerate())
    camera = Camera(
        load_profile("default"), SystemClock(), preroll=True, external_url=closed_port_url()
    )
    camera.start()
    assert len(set(threading.enumerate()) - before) == 2  # one capture thread, one puller
    assert camera.wait_captured("internal", camera.captured("internal") + 2, timeout_s=30)
    camera.stop()
    assert set(threading.enumerate()) == before


def test_the_context_manager_starts_and_stops() -> None:
    before = set(threading.enumerate())
    with Camera(load_profile("minimal"), SystemClock()) as camera:
        assert camera.latest("internal").seq == 0
    assert set(threading.enumerate()) == before


def test_each_source_captures_at_its_native_rate() -> None:
    camera, clock = stepped_camera()
    assert camera.sources == ("internal", "external")
    clock.advance(2.0)
    assert camera.tick() == 2 * 15 + 2 * 10
    assert (camera.latest("internal").seq, camera.latest("external").seq) == (30, 20)
    assert camera.latest("internal").captured_at == T0 + 2.0


def test_a_fresh_camera_has_history_only_since_its_start() -> None:
    camera, clock = stepped_camera("minimal")
    clock.advance(5.0)
    camera.tick()
    assert camera.history_s("internal") == 5.0
    assert camera.at("internal", -5).seq == 0
    with pytest.raises(NoFrameError):
        camera.at("internal", -10)


def test_time_zero_is_the_latest_frame_even_when_capture_runs_late() -> None:
    camera, clock = stepped_camera("minimal")
    clock.advance(5.0)
    camera.tick()
    latest = camera.latest("internal")
    clock.advance(2.0)  # the capture thread got no CPU for two seconds
    assert camera.at("internal", 0) == latest
    with pytest.raises(NoFrameError):
        camera.at("internal", -0.5)  # a moment the camera did not capture: no data


def test_preroll_gives_30_s_of_history_at_once() -> None:
    camera, _ = stepped_camera(preroll=True)
    for source in camera.sources:
        assert camera.history_s(source) >= 30.0
        oldest = camera.at(source, -30)
        assert oldest.captured_at == pytest.approx(T0 - 30, abs=1e-6)
        assert time_code(camera.jpeg(oldest, 640, 480)) == timecode_payload(
            source, oldest.seq, oldest.captured_at
        )


def test_a_time_shifted_frame_is_the_one_captured_that_long_ago() -> None:
    camera, clock = stepped_camera(preroll=True)
    clock.advance(3.0)
    camera.tick()
    frame = camera.at("internal", -5)
    assert frame.captured_at == pytest.approx(T0 - 2.0, abs=1 / 30)
    payload = time_code(camera.jpeg(frame, 1280, 960))
    assert payload == timecode_payload("internal", frame.seq, frame.captured_at)


def test_a_live_full_resolution_frame_carries_the_latest_time_code() -> None:
    camera, _ = stepped_camera()
    frame = camera.latest("internal")
    image = camera.jpeg(frame, 1920, 1080)
    assert Image.open(io.BytesIO(image)).size == (1920, 1080)
    assert time_code(image) == timecode_payload("internal", frame.seq, frame.captured_at)
    assert camera.encode_count == 1
    assert camera.jpeg(frame, 1920, 1080) is image
    assert camera.encode_count == 1


def test_unknown_sources_and_impossible_setups_are_refused() -> None:
    camera, _ = stepped_camera("minimal")
    with pytest.raises(ValueError, match="no source 'external'"):
        camera.latest("external")
    with pytest.raises(ValueError, match="already started"):
        camera.start()
    with pytest.raises(ValueError, match="no external source"):
        Camera(load_profile("minimal"), ManualClock(), external_url="http://127.0.0.1:9/x.jpg")


def test_synthetic_sources_are_always_reachable() -> None:
    camera, _ = stepped_camera()
    assert camera.reachable("internal") and camera.reachable("external")
    assert camera.wait_reachable("internal", True, timeout_s=0)


def test_stop_re_raises_a_capture_thread_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = ManualClock(T0)
    camera = Camera(load_profile("minimal"), clock)
    before = set(threading.enumerate())
    camera.start()
    # This camera's thread: other cameras (another test's, a session-wide device) run too.
    [thread] = [
        t for t in set(threading.enumerate()) - before if t.name == "capture-internal"
    ]
    working_render = scene.render_frame

    def broken_render(*args: Any) -> Image.Image:
        # Only this camera's sensor fails; every other camera in the process renders on.
        if threading.current_thread() is thread:
            raise OSError("sensor failure")
        return working_render(*args)

    monkeypatch.setattr(capture, "render_frame", broken_render)
    clock.advance(1.0)
    thread.join(timeout=30)  # it ends at its next capture, which now fails
    assert not thread.is_alive()
    with pytest.raises(OSError, match="sensor failure"):
        camera.stop()
