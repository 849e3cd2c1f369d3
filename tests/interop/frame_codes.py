"""Read the time codes of frames a client decoded, and say whether the frames move.

Strategy: the reference device burns a time code (docs/timecode.md) into every frame.
A client that decoded a frame correctly shows a readable code, and a live stream's
codes advance. Reading them from the client's own pixels proves more than a frame
count: the client decoded real frames of this stream, in order, and they moved.
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image

from snapcheck.timecode import TimeCode, read_timecode


def gray_frames(raw: bytes, width: int, height: int) -> list[Image.Image]:
    """Split ffmpeg's ``-f rawvideo -pix_fmt gray`` output into images."""
    size = width * height
    if size <= 0 or len(raw) % size:
        raise ValueError(f"{len(raw)} bytes are not whole {width}x{height} gray frames")
    return [
        Image.frombytes("L", (width, height), raw[start : start + size])
        for start in range(0, len(raw), size)
    ]


def time_codes(frames: Sequence[Image.Image]) -> list[TimeCode | None]:
    """The time code of each frame (None where none could be read)."""
    return [read_timecode(frame) for frame in frames]


def assert_frames_advance(codes: Sequence[TimeCode | None]) -> None:
    """Every frame carries a time code of one source; they never go back and do move."""
    assert codes, "no frames"
    assert None not in codes, f"frames without a readable time code: {codes}"
    readable = [code for code in codes if code is not None]
    assert len({code.source for code in readable}) == 1, readable
    sequence = [code.seq for code in readable]
    assert sequence == sorted(sequence), f"frames go back in time: {sequence}"
    assert sequence[-1] > sequence[0], f"the frames do not move: {sequence}"
