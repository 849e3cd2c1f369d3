"""ffprobe and ffmpeg (Debian's ffmpeg) read the reference device's snapshots and streams.

ffmpeg's mpjpeg demuxer is the strictest common MJPEG client (API-FACTS: it needs the
body to start with "--" and every part to carry Content-Type: image/jpeg); with
``-strict_mime_boundary 1`` it also takes the boundary from the Content-Type header, as
RFC 2046 says. Each frame ffmpeg decodes must have the size asked for and a readable
time code, and the codes must advance.
"""

from __future__ import annotations

import json

import pytest
from device_target import DeviceTarget
from frame_codes import assert_frames_advance, gray_frames, time_codes
from programs import require_program, run_program, stderr_tail

FRAMES = 5


def test_ffprobe_reads_a_snapshot_as_one_jpeg_of_the_size_asked(target: DeviceTarget) -> None:
    ffprobe = require_program("ffprobe")
    done = run_program(
        [ffprobe, "-v", "error", "-show_entries", "stream=codec_name,width,height",
         "-of", "json", target.snapshot_url]
    )  # fmt: skip
    assert done.returncode == 0, stderr_tail(done)
    streams = json.loads(done.stdout)["streams"]
    assert streams == [{"codec_name": "mjpeg", "width": target.width, "height": target.height}]


@pytest.mark.parametrize(
    "demuxer_options",
    [
        pytest.param([], id="boundary-from-the-body"),
        pytest.param(["-strict_mime_boundary", "1"], id="strict-mime-boundary"),
    ],
)
def test_ffmpeg_decodes_stream_frames_of_the_size_asked(
    target: DeviceTarget, demuxer_options: list[str]
) -> None:
    ffmpeg = require_program("ffmpeg")
    done = run_program(
        [ffmpeg, "-nostdin", "-v", "error", "-f", "mpjpeg", *demuxer_options,
         "-i", target.stream_url, "-frames:v", str(FRAMES),
         "-f", "rawvideo", "-pix_fmt", "gray", "-"]
    )  # fmt: skip
    assert done.returncode == 0, stderr_tail(done)
    # Raw gray frames are width x height bytes each: the byte count proves the size.
    assert len(done.stdout) == FRAMES * target.width * target.height
    assert_frames_advance(time_codes(gray_frames(done.stdout, target.width, target.height)))


def test_ffprobe_lists_each_stream_frame_with_the_size_asked(target: DeviceTarget) -> None:
    ffprobe = require_program("ffprobe")
    done = run_program(
        [ffprobe, "-v", "error", "-f", "mpjpeg", "-read_intervals", f"%+#{FRAMES}",
         "-show_entries", "frame=width,height", "-of", "csv=p=0", target.stream_url]
    )  # fmt: skip
    assert done.returncode == 0, stderr_tail(done)
    frames = done.stdout.decode().split()
    assert frames == [f"{target.width},{target.height}"] * FRAMES
