"""fps: single frames below 1, streams from 1 up to the device's maximum, refusals beyond.

Strategy: streams are the expensive part of a run, so this module reads few of them, each
for ``--stream-seconds``, and lets every stream check judge every window it reads (parts,
framing, liveness, rate, jitter, freshness). Rates are chosen from what the device says of
itself: its caps, and the maximum fps learned once by ``device.max_fps()`` (FPS-MAX-2).
The MUST regime of the rate (fps <= 5 at up to 640x480) and the other regimes come from
the stream checks' own constants, never from what the bundled device happens to sustain.
What never belongs here: parameter spellings (the parameter suite) and time-shifted
snapshots with fps (test_time.py).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from snapcheck.checks.stream_reply import MUST_RATE_MAX_FPS, MUST_RATE_MAX_SIZE
from snapcheck.device import DeviceUnderTest
from snapcheck.exchange import Reply

# Every part-format clause the stream checks judge on each stream read here.
PART_FORMAT = (
    "STREAM-CT-1",
    "STREAM-BOUNDARY-1",
    "STREAM-LEAD-1",
    "STREAM-PART-CT-1",
    "STREAM-PART-CL-1",
    "STREAM-PART-CL-2",
    "STREAM-PART-JPEG-1",
    "STREAM-FRAMING-1",
)
# fps above the device's maximum, from the maximum: one above it, and a value above every
# maximum (the catalogue's FPS-MAX-1: no camera streams faster than 1000 fps).
ABOVE_THE_MAXIMUM: dict[str, Callable[[int], int]] = {
    "one above the maximum": lambda maximum: maximum + 1,
    "above every maximum": lambda maximum: 1001,
}


def small_size(device: DeviceUnderTest) -> tuple[int, int]:
    """The largest advertised pair of the MUST rate regime (up to 640x480); else UNSUPPORTED."""
    max_w, max_h = MUST_RATE_MAX_SIZE
    small = [(w, h) for w, h in device.caps.resolutions if w <= max_w and h <= max_h]
    if not small:
        device.unsupported(f"caps lists no size up to {max_w}x{max_h}")
    return max(small, key=lambda pair: pair[0] * pair[1])


def largest_size(device: DeviceUnderTest) -> tuple[int, int]:
    """The advertised pair with the most pixels."""
    return max(device.caps.resolutions, key=lambda pair: pair[0] * pair[1])


def stream(device: DeviceUnderTest, size: tuple[int, int], fps: int, **extra: str) -> Reply:
    """Read one stream for --stream-seconds and require it to conform."""
    # The stream checks judge the rate and put it with the jitter in their evidence; the
    # facade keeps every part's arrival for the report's timing plots.
    return device.expect({"width": size[0], "height": size[1], "fps": fps, **extra})


@pytest.mark.clause(
    "STREAM-RATE-1", "STREAM-RATE-3", "STREAM-LIVE-1", "STREAM-FRESH-1", *PART_FORMAT
)
@pytest.mark.parametrize("fps", [1, pytest.param(int(MUST_RATE_MAX_FPS), marks=pytest.mark.quick)])
def test_low_rates_at_a_small_size_are_met(device: DeviceUnderTest, fps: int) -> None:
    # fps <= 5 at up to 640x480: every real device sustains it, so the rate is a MUST.
    stream(device, small_size(device), fps)


@pytest.mark.clause(
    "FPS-MAX-2", "STREAM-RATE-2", "STREAM-RATE-3", "STREAM-LIVE-1", "STREAM-FRESH-1", *PART_FORMAT
)
def test_the_maximum_rate_at_the_largest_size(device: DeviceUnderTest) -> None:
    # Vendors publish lower sustainable rates at high resolution: a shortfall is NON-STRICT.
    stream(device, largest_size(device), device.max_fps())


@pytest.mark.clause(
    "CAPS-SOURCE-1",
    "FPS-MAX-2",
    "STREAM-RATE-2",
    "STREAM-RATE-3",
    "STREAM-LIVE-1",
    "STREAM-FRESH-1",
    "STREAM-PART-JPEG-1",
)
def test_the_external_camera_streams_at_the_maximum_rate(device: DeviceUnderTest) -> None:
    # An external IP camera often captures slower than the intercom may send: the stream
    # must still keep its rate and liveness and never freeze nor go back in time.
    device.require_source("external")
    stream(device, small_size(device), device.max_fps(), source="external")


@pytest.mark.clause("FPS-MAX-1", "FPS-MAX-2")
@pytest.mark.parametrize("above", ABOVE_THE_MAXIMUM)
def test_fps_above_the_maximum_is_refused(device: DeviceUnderTest, above: str) -> None:
    fps = ABOVE_THE_MAXIMUM[above](device.max_fps())
    width, height = device.caps.resolutions[0]  # the size the maximum was learned at
    device.expect({"width": width, "height": height, "fps": fps})


@pytest.mark.quick
@pytest.mark.clause("FPS-SINGLE-1", "JPEG-CT-1", "JPEG-SIZE-1")
@pytest.mark.parametrize("fps", ["0", "0.5"])
def test_fps_below_one_is_a_single_jpeg(device: DeviceUnderTest, fps: str) -> None:
    width, height = device.caps.resolutions[0]
    device.expect({"width": width, "height": height, "fps": fps})


@pytest.mark.quick
@pytest.mark.clause("FPS-NEG-1", "ENV-CODE-1", "ENV-JSON-1")
@pytest.mark.parametrize("fps", ["-1", "-15", "-0.5", "five"])
def test_a_negative_or_non_numeric_fps_is_error_12(device: DeviceUnderTest, fps: str) -> None:
    width, height = device.caps.resolutions[0]
    device.expect({"width": width, "height": height, "fps": fps})
