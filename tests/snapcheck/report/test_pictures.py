"""Thumbnails: small JPEG data URIs of real frames, and the order galleries show them in."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from PIL import Image
from report_documents import jpeg_frame

from snapcheck.report.pictures import (
    DATA_URI_PREFIX,
    THUMB_WIDTH,
    decode_frame,
    live_frames,
    shifted_frames,
    thumbnail_of,
)

SIZES = [
    ((1920, 1080), (160, 90)),
    ((1280, 960), (160, 120)),
    ((160, 120), (160, 120)),
    ((100, 50), (100, 50)),
    ((400, 1), (160, 1)),
]


@pytest.mark.parametrize(("size", "thumb"), SIZES)
@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA"])
def test_a_thumbnail_is_a_jpeg_at_most_160_wide(
    size: tuple[int, int], thumb: tuple[int, int], mode: str
) -> None:
    uri = thumbnail_of(Image.new(mode, size))
    assert uri.startswith(DATA_URI_PREFIX)
    with Image.open(io.BytesIO(base64.b64decode(uri.removeprefix(DATA_URI_PREFIX)))) as image:
        assert (image.format, image.size) == ("JPEG", thumb)
    assert thumb[0] <= THUMB_WIDTH


def test_a_large_frame_makes_a_small_thumbnail() -> None:
    image = decode_frame(jpeg_frame(1920, 1080))
    assert image is not None
    assert len(thumbnail_of(image)) < 4000


@pytest.mark.parametrize("body", [b"", b"\xff\xd8\xff", b"GIF89a", b"{\"success\": true}"])
def test_what_does_not_decode_has_no_picture(body: bytes) -> None:
    assert decode_frame(body) is None


FRAMES: list[dict[str, Any]] = [
    {"source": "internal", "resolution": "320x240", "delivery": "snapshot", "time_offset_s": None},
    {"source": "internal", "resolution": "1280x960", "delivery": "stream", "time_offset_s": None},
    {"source": "external", "resolution": "640x480", "delivery": "snapshot", "time_offset_s": None},
    {"source": "internal", "resolution": "1280x960", "delivery": "snapshot", "time_offset_s": None},
    {"source": "internal", "resolution": "640x480", "delivery": "snapshot", "time_offset_s": -5},
    {"source": "internal", "resolution": "640x480", "delivery": "snapshot", "time_offset_s": 0},
    {"source": "external", "resolution": "640x480", "delivery": "snapshot", "time_offset_s": -1},
]


def test_live_frames_go_by_source_then_largest_first() -> None:
    assert [(f["source"], f["resolution"], f["delivery"]) for f in live_frames(FRAMES)] == [
        ("external", "640x480", "snapshot"),
        ("internal", "1280x960", "snapshot"),
        ("internal", "1280x960", "stream"),
        ("internal", "320x240", "snapshot"),
    ]


def test_shifted_frames_go_from_the_newest_offset_to_the_oldest() -> None:
    assert [f["time_offset_s"] for f in shifted_frames(FRAMES)] == [0, -1, -5]
