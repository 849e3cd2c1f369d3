"""Content types: JPEG replies, JSON errors, unknown paths, one short stream, system info.

Strategy: each test asks for one kind of reply and lets the wire checks of that kind judge
it clause by clause (a single JPEG: type, SOI, EOI, decoding, size, Content-Length,
trailing bytes, format; a JSON error: type, syntax, envelope, code, status, param; a
stream: type, boundary, leading boundary, each part's type and length). Requests are built
from what the device advertises, on small pairs where the size is not the point.
What never belongs here: which parameters are refused (test_parameters.py) and a
stream's rate and liveness (test_fps.py).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from snapcheck.device import DeviceUnderTest
from snapcheck.expected import Caps
from snapcheck.judge import INFO_PATH
from snapcheck.strategies import Params, largest_pair, smallest_pair, unlisted_pairs

# One stream, read long enough for several parts at the rate asked, and shorter than the
# liveness bound 2/fps + 1 s, so its rate is judged only by test_fps.py.
STREAM_FPS = 2
STREAM_WINDOW_S = 1.6


@pytest.mark.quick
@pytest.mark.clause(
    "JPEG-CT-1",
    "JPEG-SOI-1",
    "JPEG-EOI-1",
    "JPEG-DECODE-1",
    "JPEG-SIZE-1",
    "JPEG-CL-1",
    "JPEG-TRAIL-1",
    "JPEG-FORMAT-1",
    "TRANSPORT-1",
)
@pytest.mark.parametrize("pick", [smallest_pair, largest_pair], ids=["smallest", "largest"])
def test_a_snapshot_is_one_well_formed_jpeg(
    device: DeviceUnderTest, pick: Callable[[Caps], tuple[int, int]]
) -> None:
    width, height = pick(device.caps)
    device.expect({"width": width, "height": height})


def _pair(pair: tuple[int, int]) -> Params:
    return [("width", str(pair[0])), ("height", str(pair[1]))]


def _wh(caps: Caps) -> Params:
    return _pair(smallest_pair(caps))


# Requests refused for one reason each, so that the error names one parameter.
ERRORS: dict[str, Callable[[Caps], Params]] = {
    "width missing": lambda caps: _wh(caps)[1:],
    "pair not in caps": lambda caps: _pair(unlisted_pairs(caps, "one wider")[0]),
    "source not in caps": lambda caps: [*_wh(caps), ("source", "snapcheck-none")],
    "fps negative": lambda caps: [*_wh(caps), ("fps", "-1")],
    "time out of range": lambda caps: [*_wh(caps), ("time", "-31")],
}


@pytest.mark.quick
@pytest.mark.clause(
    "ENV-JSON-1", "ENV-SYNTAX-1", "ENV-SCHEMA-2", "ENV-CODE-1", "ENV-STATUS-1", "ENV-PARAM-1"
)
@pytest.mark.parametrize("refusal", list(ERRORS), ids=lambda name: name.replace(" ", "-"))
def test_an_error_is_a_json_envelope_naming_the_parameter(
    device: DeviceUnderTest, refusal: str
) -> None:
    device.expect(ERRORS[refusal](device.caps))


@pytest.mark.clause("ENV-PATH-1", "ENV-JSON-1", "ENV-SCHEMA-2", "ENV-PARAM-1")
@pytest.mark.parametrize("path", ["/api/camera/snapcheck-unknown", "/api/snapcheck-unknown"])
def test_an_unknown_path_is_refused_with_error_2(device: DeviceUnderTest, path: str) -> None:
    device.expect(path=path)


@pytest.mark.clause(
    "STREAM-CT-1",
    "STREAM-BOUNDARY-1",
    "STREAM-BOUNDARY-2",
    "STREAM-LEAD-1",
    "STREAM-PART-CT-1",
    "STREAM-PART-CL-1",
    "STREAM-PART-CL-2",
    "STREAM-PART-JPEG-1",
    "STREAM-FRAMING-1",
    "STREAM-END-1",
)
def test_a_stream_is_multipart_jpeg_on_the_wire(device: DeviceUnderTest) -> None:
    maximum = device.max_fps()
    if maximum < 1:
        device.unsupported("the device streams at no fps from 1 up")
    width, height = smallest_pair(device.caps)
    fps = min(STREAM_FPS, maximum)
    device.expect({"width": width, "height": height, "fps": fps}, window_s=STREAM_WINDOW_S)


@pytest.mark.quick
@pytest.mark.clause(
    "AUTH-OPEN-1",
    "INFO-SCHEMA-1",
    "INFO-FIELDS-1",
    "INFO-SERVER-1",
    "INFO-METHOD-1",
    "ENV-JSON-1",
    "ENV-SCHEMA-1",
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_system_info_answers_without_credentials(device: DeviceUnderTest, method: str) -> None:
    reply = device.fetch(device.request(method=method, path=INFO_PATH), anonymous=True)
    device.check(reply)
