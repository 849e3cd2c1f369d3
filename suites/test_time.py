"""time: frames from the device's memory, their size, their range, and how old they are.

Strategy: every request goes through ``device.expect``, so the expected-outcome model
judges what the contract allows (a single JPEG, the 1280x960 clamp, error 12 outside
[-30, 0], error 15 or a frame past the device's history). What the model cannot see from
one reply, the age of a time-shifted frame, is judged here from the time codes frames
carry (docs/timecode.md): a frame at ``time=-k`` against a live frame fetched right after
it, device clock against device clock, never against the tester's clock. A device whose
frames carry no time code is recorded as not judgeable, never as passing.
What never belongs here: fps without time (test_fps.py) and parameter spellings.
"""

from __future__ import annotations

import pytest

from snapcheck.checks.findings import violation_verdict
from snapcheck.curl import curl_for
from snapcheck.device import DeviceUnderTest
from snapcheck.expected import HISTORY_MAX_SIZE
from snapcheck.timecode import TimeCode
from snapcheck.verdicts import Finding, Verdict

# API-FACTS: a frame for time=-k SHOULD have been captured k s ago, within 1 s.
AGE_TOLERANCE_S = 1.0
OLDEST = -30


def within_history_size(device: DeviceUnderTest) -> list[tuple[int, int]]:
    """The advertised pairs a time request serves at their own size (up to 1280x960)."""
    max_w, max_h = HISTORY_MAX_SIZE
    return [(w, h) for w, h in device.caps.resolutions if w <= max_w and h <= max_h]


def middle_size(device: DeviceUnderTest) -> tuple[int, int]:
    """A middle-sized pair within 1280x960: a readable time code, cheap to encode."""
    pairs = sorted(within_history_size(device), key=lambda pair: pair[0] * pair[1])
    if not pairs:
        device.unsupported(f"caps lists no size up to {HISTORY_MAX_SIZE[0]}x{HISTORY_MAX_SIZE[1]}")
    return pairs[len(pairs) // 2]


def sized(device: DeviceUnderTest, **params: str | int) -> dict[str, str | int]:
    """Parameters for a middle-sized snapshot, plus ``params``."""
    width, height = middle_size(device)
    return {"width": width, "height": height, **params}


@pytest.mark.clause("TIME-SINGLE-1", "TIME-SIZE-1", "TIME-RANGE-1", "JPEG-SIZE-1")
@pytest.mark.parametrize(
    "time",
    [
        pytest.param("0", marks=pytest.mark.quick),
        "-1",
        pytest.param("-5", marks=pytest.mark.quick),
        "-15",
        str(OLDEST),
    ],
)
def test_every_offset_in_memory_is_a_single_jpeg(device: DeviceUnderTest, time: str) -> None:
    device.expect(sized(device, time=time))


@pytest.mark.clause("TIME-FRAC-1")
def test_a_fractional_offset_is_recorded(device: DeviceUnderTest) -> None:
    device.expect(sized(device, time="-2.5"))


@pytest.mark.clause("TIME-SINGLE-1", "TIME-SIZE-1")
@pytest.mark.parametrize(
    ("time", "fps"), [("0", "5"), pytest.param("-5", "5", marks=pytest.mark.quick), ("-1", "1")]
)
def test_fps_is_ignored_with_time(device: DeviceUnderTest, time: str, fps: str) -> None:
    device.expect(sized(device, time=time, fps=fps))


@pytest.mark.clause("TIME-CLAMP-1", "TIME-SINGLE-1")
@pytest.mark.parametrize("time", ["0", "-5"])
def test_sizes_beyond_1280x960_are_served_at_1280x960(device: DeviceUnderTest, time: str) -> None:
    beyond = set(device.caps.resolutions) - set(within_history_size(device))
    if not beyond:
        device.unsupported("caps lists no size wider than 1280 or taller than 960")
    for width, height in sorted(beyond):
        device.expect({"width": width, "height": height, "time": time})


@pytest.mark.clause("TIME-SIZE-1", "JPEG-SIZE-1")
def test_every_size_within_1280x960_is_kept(device: DeviceUnderTest) -> None:
    for width, height in within_history_size(device):
        device.expect({"width": width, "height": height, "time": "-1"})


@pytest.mark.quick
@pytest.mark.clause("TIME-RANGE-1", "ENV-CODE-1")
@pytest.mark.parametrize("time", [str(OLDEST - 1), "-300", "1"])
def test_offsets_outside_memory_are_refused(device: DeviceUnderTest, time: str) -> None:
    device.expect(sized(device, time=time))


@pytest.mark.clause("TIME-HISTORY-1", "TIME-SINGLE-1")
def test_the_oldest_offset_is_a_frame_or_no_data(device: DeviceUnderTest) -> None:
    # The suite cannot make a device forget; it asks for the edge of memory, where a
    # device with less history must answer error 15 or its oldest frame (the model judges).
    reply = device.expect(sized(device, time=str(OLDEST)))
    served = "a frame" if reply.content_type == "image/jpeg" else "no data (error 15)"
    device.record(
        [
            Finding(
                "TIME-HISTORY-1",
                Verdict.PASS,
                f"time={OLDEST}, the edge of memory, was answered with {served}",
                "error 15 and the oldest frame are both acceptable",
                curl=curl_for(reply.request),
            )
        ]
    )


def age_finding(k: int, shifted: TimeCode | None, live: TimeCode | None, curl: str) -> Finding:
    """TIME-AGE-1 from a time=-k frame's time code and a live frame's fetched right after."""
    if shifted is None or live is None or shifted.source != live.source:
        why = (
            "frames carry no time code"
            if shifted is None or live is None
            else ("the two frames come from different sources")
        )
        return Finding(
            "TIME-AGE-1",
            Verdict.INFORMATIONAL,
            f"not judgeable: {why}",
            f"time code of the time=-{k} frame: {shifted}; of the live frame: {live}",
            curl=curl,
        )
    age_s = (live.captured_ms - shifted.captured_ms) / 1000
    ok = abs(age_s - k) <= AGE_TOLERANCE_S
    return Finding(
        "TIME-AGE-1",
        Verdict.PASS if ok else violation_verdict("TIME-AGE-1"),
        f"the time=-{k} frame is {age_s:.2f} s older than a live frame fetched right after it"
        f" ({k} ± {AGE_TOLERANCE_S:g} s expected)",
        f"time=-{k}: {shifted.source} seq {shifted.seq} captured at {shifted.captured_ms} ms;"
        f" live: seq {live.seq} captured at {live.captured_ms} ms (device clock)",
        curl=curl,
    )


@pytest.mark.clause("TIME-AGE-1", "TIME-SINGLE-1")
@pytest.mark.parametrize("k", [1, pytest.param(5, marks=pytest.mark.quick), 15])
def test_a_shifted_frame_is_as_old_as_asked(device: DeviceUnderTest, k: int) -> None:
    shifted = device.expect(sized(device, time=-k))
    live = device.expect(sized(device))
    found = age_finding(
        k, device.timecode(shifted), device.timecode(live), curl_for(shifted.request)
    )
    device.record([found])
