"""snapcheck accepts the MJPEG streams real producers send, with the right NON-STRICT findings.

Each producer's framing (producer_shapes.py, written from its public source) is served
from loopback at 5 fps and read by snapcheck's transport and judge exactly as a device's
stream would be; so is the output of ffmpeg's own mpjpeg muxer, served with the muxer's
own Content-Type. The table gives, per shape, every framing finding that is not PASS;
a shape that any client reads is never FAIL. Where a NON-STRICT finding names a client
it would break, ffmpeg is run against the same server to show that it does: the
validator's claim and the client agree.

The timing clauses (liveness, rate) are judged but not compared here: they measure the
pace of a loopback server on a shared machine, not the framing, and the reference
device's pace is proved by the conformance suite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from loopback_producer import Script, loopback_producer
from producer_shapes import (
    BOUNDARY_AFTER_ONLY,
    DASHED_BOUNDARY_CAMERA,
    FRIGATE,
    GO2RTC,
    MJPG_STREAMER,
    MOTION,
    ProducerShape,
    distinct_jpegs,
    file_script,
    stream_script,
)
from programs import require_program, run_program, stderr_tail

from snapcheck.checks.clause_ids import (
    STREAM_BOUNDARY_2,
    STREAM_END_1,
    STREAM_FRAMING_1,
    STREAM_LEAD_1,
    STREAM_PART_CL_1,
    STREAM_PART_JPEG_1,
)
from snapcheck.exchange import Reply
from snapcheck.expected import Caps, DeviceConfig
from snapcheck.judge import TIMING_CLAUSES, analyse_part, judge
from snapcheck.transport import Transport
from snapcheck.verdicts import Finding, Verdict

WIDTH, HEIGHT, FPS = 320, 240, 5
WINDOW_S = 2.0
CAPS = Caps(resolutions=((WIDTH, HEIGHT),), sources=("internal",))
PARAMS = (("width", str(WIDTH)), ("height", str(HEIGHT)), ("fps", str(FPS)))
MUXED_FRAMES = 15  # 3 s at 5 fps: longer than the read window
NS = Verdict.NON_STRICT


@dataclass(frozen=True, slots=True)
class Expected:
    """What snapcheck says about a shape, and whether ffmpeg reads it (lenient, strict)."""

    findings: dict[str, Verdict]
    ffmpeg_reads: bool
    ffmpeg_strict_reads: bool


SHAPES = [
    pytest.param(MJPG_STREAMER, Expected({}, True, True), id="mjpg-streamer"),
    pytest.param(GO2RTC, Expected({}, True, True), id="go2rtc"),
    # A padded Content-Length is legal (optional whitespace around a field value).
    pytest.param(MOTION, Expected({}, True, True), id="motion-padded-length"),
    pytest.param(
        FRIGATE,
        Expected({STREAM_PART_CL_1: NS, STREAM_FRAMING_1: NS}, True, True),
        id="frigate-no-length",
    ),
    # STREAM-BOUNDARY-2: a client that follows RFC 2046 (ffmpeg with a strict boundary)
    # looks for "----myboundary" and finds nothing.
    pytest.param(
        DASHED_BOUNDARY_CAMERA,
        Expected({STREAM_BOUNDARY_2: NS}, True, False),
        id="dashed-boundary",
    ),
    # STREAM-LEAD-1: ffmpeg (and OpenCV through it) refuses a body that does not open
    # with the boundary.
    pytest.param(
        BOUNDARY_AFTER_ONLY,
        Expected({STREAM_LEAD_1: NS}, False, False),
        id="boundary-after-each-part-only",
    ),
]


def _judged(base_url: str) -> tuple[Reply, list[Finding]]:
    """Read the stream at ``base_url`` for the window and judge it as a device's stream."""
    transport = Transport(base_url)
    request = transport.request("/api/camera/snapshot", PARAMS)
    reply = transport.stream(request, WINDOW_S, analyse=analyse_part)
    return reply, judge(reply, caps=CAPS, config=DeviceConfig(), window_s=WINDOW_S)


def _framing(findings: list[Finding]) -> dict[str, Verdict]:
    """The findings that are neither PASS nor INFORMATIONAL, timing clauses left out."""
    return {
        finding.clause: finding.verdict
        for finding in findings
        if finding.clause not in TIMING_CLAUSES
        and finding.verdict not in (Verdict.PASS, Verdict.INFORMATIONAL)
    }


def _assert_accepted(reply: Reply, findings: list[Finding], expected: dict[str, Verdict]) -> None:
    verdicts = {finding.clause: finding.verdict for finding in findings}
    assert _framing(findings) == expected, [f.render() for f in findings]
    assert len(reply.parts) >= FPS, f"{len(reply.parts)} parts in {WINDOW_S} s"
    assert verdicts[STREAM_PART_JPEG_1] is Verdict.PASS
    assert verdicts[STREAM_END_1] is Verdict.INFORMATIONAL
    assert TIMING_CLAUSES & set(verdicts), "the stream's timing was not judged"


def _ffmpeg_reads(base_url: str, *options: str) -> tuple[bool, str]:
    """Whether ffmpeg's mpjpeg demuxer decodes three frames of the stream, and its log."""
    ffmpeg = require_program("ffmpeg")
    url = f"{base_url}/api/camera/snapshot?width={WIDTH}&height={HEIGHT}&fps={FPS}"
    done = run_program(
        [ffmpeg, "-nostdin", "-v", "error", "-f", "mpjpeg", *options, "-i", url,
         "-frames:v", "3", "-f", "rawvideo", "-pix_fmt", "gray", "-"]
    )  # fmt: skip
    decoded = done.returncode == 0 and len(done.stdout) == 3 * WIDTH * HEIGHT
    return decoded, stderr_tail(done)


@pytest.fixture(scope="module")
def jpegs() -> list[bytes]:
    """Different frames of the size asked for, for the producers to send."""
    return distinct_jpegs(10, WIDTH, HEIGHT)


@pytest.mark.parametrize(("shape", "expected"), SHAPES)
def test_snapcheck_accepts_the_producer_shape_with_the_right_findings(
    shape: ProducerShape, expected: Expected, jpegs: list[bytes]
) -> None:
    with loopback_producer(lambda _: stream_script(shape, jpegs, FPS)) as base_url:
        reply, findings = _judged(base_url)
        lenient, lenient_log = _ffmpeg_reads(base_url)
        strict, strict_log = _ffmpeg_reads(base_url, "-strict_mime_boundary", "1")
    _assert_accepted(reply, findings, expected.findings)
    assert lenient is expected.ffmpeg_reads, lenient_log
    assert strict is expected.ffmpeg_strict_reads, strict_log


def _muxer_content_type(ffmpeg: str) -> str:
    """The Content-Type ffmpeg's mpjpeg muxer declares (``ffmpeg -h muxer=mpjpeg``)."""
    done = run_program([ffmpeg, "-hide_banner", "-h", "muxer=mpjpeg"])
    found = re.search(r"Mime type: (\S+?)\.?$", done.stdout.decode(), re.MULTILINE)
    assert found, done.stdout.decode()
    return found.group(1)


@pytest.fixture(scope="module")
def muxed(tmp_path_factory: pytest.TempPathFactory) -> Script:
    """ffmpeg's mpjpeg muxer output (a moving test pattern), replayed over 3 s."""
    ffmpeg = require_program("ffmpeg")
    out = tmp_path_factory.mktemp("mpjpeg") / "stream.mjpeg"
    done = run_program(
        [ffmpeg, "-nostdin", "-v", "error", "-f", "lavfi",
         "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS}", "-frames:v", str(MUXED_FRAMES),
         "-f", "mpjpeg", str(out)]
    )  # fmt: skip
    assert done.returncode == 0, stderr_tail(done)
    return file_script(_muxer_content_type(ffmpeg), out.read_bytes(), MUXED_FRAMES / FPS)


def test_snapcheck_accepts_ffmpeg_mpjpeg_muxer_output_without_findings(muxed: Script) -> None:
    with loopback_producer(lambda _: muxed) as base_url:
        reply, findings = _judged(base_url)
    assert dict(muxed.headers)["Content-Type"] == "multipart/x-mixed-replace;boundary=ffmpeg"
    _assert_accepted(reply, findings, {})
