"""Report documents and frames for the report's unit tests, built the way a run builds them.

``sample_document`` fills a ``RunRecorder`` as a run would (tests with findings of every
verdict, artifacts of every kind) and builds the document with the real builder, then
round-trips it through JSON as ``write_run_report`` does. ``frame_with_timecode`` draws a
frame carrying the documented time code (docs/timecode.md) for the collector's tests.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import segno
from PIL import Image

from snapcheck.recorder import RunRecorder
from snapcheck.report.model import HypothesisRun, build_report_data
from snapcheck.report.pictures import thumbnail_of
from snapcheck.settings import Settings
from snapcheck.verdicts import Finding, Verdict

STARTED = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
CURL = "curl -sS -D - 'http://127.0.0.1:8080/api/camera/snapshot?width=640&height=480'"
IDENTITY: dict[str, Any] = {
    "base_url": "http://127.0.0.1:8080",
    "system_info": {"variant": "2N IP Verso", "serialNumber": "54-0000-0001",
                    "swVersion": "2.35.0.45.0", "macAddr": "7C-1E-B3-00-00-01"},
    "server": "HIP2.35.0.45.0",
    "tls_certificate_sha256": "ab" * 32,
    "caps": {"resolutions": ["640x480", "320x240"], "sources": ["internal"]},
    "max_fps": 15,
}


def jpeg_frame(width: int, height: int, colour: tuple[int, int, int] = (30, 60, 120)) -> bytes:
    """A plain JPEG of the given size."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def frame_with_timecode(source: str, seq: int, captured_ms: int, size: tuple[int, int] = (
        640, 480)) -> bytes:
    """A JPEG frame with the time code QR centred in it, half the frame's height."""
    code = segno.make(f"SC1:{source.upper()}:{seq}:{captured_ms}", error="m", micro=False)
    drawn = io.BytesIO()
    code.save(drawn, kind="png", scale=8, border=4)
    width, height = size
    with Image.open(drawn) as qr:
        square = qr.convert("RGB").resize((height // 2, height // 2), Image.Resampling.NEAREST)
    frame = Image.new("RGB", size, (20, 30, 60))
    frame.paste(square, ((width - square.width) // 2, (height - square.height) // 2))
    buffer = io.BytesIO()
    frame.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _artifacts(recorder: RunRecorder) -> None:
    with Image.open(io.BytesIO(jpeg_frame(640, 480))) as image:
        thumbnail = thumbnail_of(image)
    base = {"source": "internal", "timecode_source": "internal", "thumbnail": thumbnail}
    recorder.add_artifact("frame", {**base, "resolution": "640x480", "delivery": "snapshot",
                                    "time_offset_s": None, "width": 640, "height": 480})
    recorder.add_artifact("frame", {**base, "resolution": "640x480", "delivery": "snapshot",
                                    "time_offset_s": None, "width": 320, "height": 240,
                                    "source": "default"})
    recorder.add_artifact("frame", {**base, "resolution": "640x480", "delivery": "snapshot",
                                    "time_offset_s": -5.0, "decoded_age_s": 5.02,
                                    "width": 640, "height": 480})
    recorder.add_artifact("stream", {"resolution": "640x480", "source": "internal",
                                     "requested_fps": 5.0, "achieved_fps": 4.9, "parts": 5,
                                     "window_s": 1.0, "arrivals_s": [0.1, 0.3, 0.5, 0.7, 0.9]})
    for latency in (0.02, 0.03, 0.05):
        recorder.add_artifact("snapshot", {"resolution": "640x480", "source": "internal",
                                           "time_offset_s": None, "latency_s": latency,
                                           "first_byte_s": latency / 2, "bytes": 30000})
    recorder.add_artifact("time_shift", {"resolution": "640x480", "source": "internal",
                                         "requested_offset_s": -5.0, "decoded_age_s": 5.02,
                                         "timecode_source": "internal"})


def sample_recorder() -> RunRecorder:
    """A recorder holding three tests (PASS, FAIL with a curl line, UNSUPPORTED) and artifacts."""
    recorder = RunRecorder()
    recorder.begin("suites/test_snap.py::test_pair[640x480]", ["JPEG-SIZE-1", "JPEG-CT-1"])
    recorder.record([Finding("JPEG-CT-1", Verdict.PASS, "Content-Type: image/jpeg", curl=CURL),
                     Finding("JPEG-SIZE-1", Verdict.FAIL, "the image is 320x240, expected "
                             "640x480 <b>", evidence="size decoded: 320x240", curl=CURL)])
    recorder.end(None, 0.25)
    recorder.begin("suites/test_caps.py::test_caps", ["CAPS-SCHEMA-1"])
    recorder.record([Finding("CAPS-SCHEMA-1", Verdict.PASS, "caps match the schema"),
                     Finding("CAPS-ORDER-1", Verdict.INFORMATIONAL, "caps are sorted")])
    recorder.end(None, 0.01)
    recorder.begin("suites/test_src.py::test_external", ["SNAP-SRC-2"])
    recorder.end(Verdict.UNSUPPORTED, 0.0, "caps lists no 'external' source")
    _artifacts(recorder)
    return recorder


def sample_document(**settings: Any) -> dict[str, Any]:
    """A report document as report.json holds it (see the module docstring)."""
    document = build_report_data(
        Settings(**settings), sample_recorder(), IDENTITY, STARTED,
        STARTED + timedelta(seconds=83.5),
        hypothesis=HypothesisRun(profile="ci", seed=None, derandomize=True),
    )
    loaded = json.loads(json.dumps(document))
    assert isinstance(loaded, dict)
    return loaded
