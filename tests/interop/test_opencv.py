"""OpenCV (opencv-python-headless) reads the reference device's MJPEG stream.

OpenCV's VideoCapture opens an http:// URL through its bundled FFmpeg, whose mpjpeg
demuxer probes the body: the stream must start with the boundary line and every part
must carry Content-Type: image/jpeg (API-FACTS). Each frame must be a 3-channel image of
the size asked for, with a readable time code, and the codes must advance.

VideoCapture blocks inside native code, so it runs in a worker thread with a wall-clock
bound, besides OpenCV's own open and read timeouts.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest
from device_target import DeviceTarget
from frame_codes import assert_frames_advance, time_codes
from numpy.typing import NDArray
from PIL import Image

FRAMES = 5
OPEN_TIMEOUT_MS = 15_000
READ_TIMEOUT_MS = 10_000
WALL_CLOCK_S = 60.0


def _timeouts() -> list[int]:
    """OpenCV's open and read timeouts, where this build knows them."""
    names = (("CAP_PROP_OPEN_TIMEOUT_MSEC", OPEN_TIMEOUT_MS),
             ("CAP_PROP_READ_TIMEOUT_MSEC", READ_TIMEOUT_MS))  # fmt: skip
    params: list[int] = []
    for name, value in names:
        if hasattr(cv2, name):
            params += [int(getattr(cv2, name)), value]
    return params


def _read_frames(url: str, count: int) -> list[NDArray[np.uint8]]:
    """Up to ``count`` frames from ``url`` (fewer when OpenCV cannot read more)."""
    capture = cv2.VideoCapture(url, cv2.CAP_FFMPEG, _timeouts())
    try:
        if not capture.isOpened():
            return []
        frames: list[NDArray[np.uint8]] = []
        for _ in range(count):
            ok, frame = capture.read()
            if not ok or frame is None:
                break
            frames.append(np.asarray(frame, dtype=np.uint8))
        return frames
    finally:
        capture.release()


def test_opencv_video_capture_reads_stream_frames_of_the_size_asked(
    target: DeviceTarget,
) -> None:
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        frames = pool.submit(_read_frames, target.stream_url, FRAMES).result(WALL_CLOCK_S)
    except TimeoutError:
        pytest.fail(f"OpenCV did not read {FRAMES} frames within {WALL_CLOCK_S} s")
    finally:
        # Never wait for a capture stuck in native code: the device's end unblocks it.
        pool.shutdown(wait=False, cancel_futures=True)
    assert len(frames) == FRAMES, f"OpenCV read {len(frames)} of {FRAMES} frames"
    assert {frame.shape for frame in frames} == {(target.height, target.width, 3)}
    # OpenCV hands out BGR; the time code is read from the frame's gray levels.
    images = [Image.fromarray(frame[:, :, ::-1].copy()) for frame in frames]
    assert_frames_advance(time_codes(images))
