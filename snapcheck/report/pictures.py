"""Thumbnails of real frames, small enough to live inside one HTML file.

Strategy: a frame the device sent becomes a JPEG data URI at most ``THUMB_WIDTH``
pixels wide (quality ``THUMB_QUALITY``), so a report with a hundred pictures stays a
few hundred kilobytes. Decoding goes through ``snapcheck.jpeg.open_image`` (which
refuses decompression bombs); a frame that does not decode has no thumbnail, never an
exception: judging it is the checks' business. Also here: the order in which the
report's galleries show frames. Nothing here knows about HTTP or verdicts.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable, Mapping
from typing import Any

from PIL import Image

from snapcheck.jpeg import open_image

THUMB_WIDTH = 160
THUMB_QUALITY = 70
DATA_URI_PREFIX = "data:image/jpeg;base64,"


def thumbnail_of(image: Image.Image) -> str:
    """A JPEG data URI of the image scaled down to at most THUMB_WIDTH pixels wide."""
    small = image.convert("RGB")
    if small.width > THUMB_WIDTH:
        height = max(1, round(small.height * THUMB_WIDTH / small.width))
        small = small.resize((THUMB_WIDTH, height), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    small.save(buffer, format="JPEG", quality=THUMB_QUALITY, optimize=True)
    return DATA_URI_PREFIX + base64.b64encode(buffer.getvalue()).decode("ascii")


def decode_frame(body: bytes) -> Image.Image | None:
    """The decoded frame, or None when the body is not an image this validator decodes."""
    return open_image(body).image


def _pixels(resolution: object) -> int:
    if not isinstance(resolution, str) or "x" not in resolution:
        return 0
    width, _, height = resolution.partition("x")
    return int(width) * int(height) if width.isdigit() and height.isdigit() else 0


def live_frames(frames: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Frames not shifted in time, by source, then largest resolution first, then delivery."""
    live = [f for f in frames if f.get("time_offset_s") is None]
    return sorted(
        live,
        key=lambda f: (str(f.get("source")), -_pixels(f.get("resolution")), str(f["delivery"])),
    )


def shifted_frames(frames: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Time-shifted frames, newest offset first (0, -1, ... -30), then by source."""
    shifted = [f for f in frames if f.get("time_offset_s") is not None]
    return sorted(shifted, key=lambda f: (-float(f["time_offset_s"]), str(f.get("source"))))
