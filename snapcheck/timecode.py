"""Read the time code a frame carries (the QR code described in docs/timecode.md).

Strategy: one pure function, ``read_timecode``, that takes a JPEG (or any image Pillow
opens) or an already decoded image and answers a ``TimeCode`` or ``None``. The payload
is matched against a strict pattern, so a QR code that merely looks similar is ``None``,
never a guess. Bad input of any kind is ``None`` as well: a frame without a readable
code is a normal event that callers judge, not an error of ours. Nothing here compares
time codes with each other or with a clock; the checks do that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import zxingcpp
from PIL import Image

from snapcheck.jpeg import MAX_PIXELS, open_image

# docs/timecode.md: SC1:<SOURCE>:<SEQ>:<CAPTURE_MS>. Digits are ASCII only and at most
# 19 long (an int64), which also keeps int() away from its huge-string limit.
PAYLOAD = re.compile(r"SC1:([A-Z0-9]{1,64}):([0-9]{1,19}):([0-9]{1,19})")

# zxing finds the code (half the frame's height) well at this width and is ~3x faster
# than at 1280x960; larger frames are reduced before decoding.
MAX_DECODE_WIDTH = 640


@dataclass(frozen=True, slots=True)
class TimeCode:
    """A decoded time code: source (lower-case), sequence number, capture time in ms."""

    source: str
    seq: int
    captured_ms: int


def parse_timecode(text: str) -> TimeCode | None:
    """The time code a payload text spells, or None when it does not match the format."""
    match = PAYLOAD.fullmatch(text)
    if match is None:
        return None
    source, seq, captured_ms = match.groups()
    return TimeCode(source=source.lower(), seq=int(seq), captured_ms=int(captured_ms))


def read_timecode(image: bytes | Image.Image) -> TimeCode | None:
    """The time code burned into a frame, or None when there is none (never raises on bad input)."""
    if isinstance(image, Image.Image):
        picture: Image.Image | None = image
    else:
        picture = open_image(bytes(image), max_pixels=MAX_PIXELS).image
    if picture is None or picture.width * picture.height > MAX_PIXELS:
        return None
    try:
        gray = _reduced(picture.convert("L"))
    except (OSError, ValueError):
        # A lazily loaded image can still fail here (truncated data): it has no code to read.
        return None
    found = {parse_timecode(code.text) for code in _read_qr(gray)}
    codes = {code for code in found if code is not None}
    # Two different valid codes in one frame cannot both be this frame's time: refuse.
    return codes.pop() if len(codes) == 1 else None


def _read_qr(gray: Image.Image) -> list[zxingcpp.Barcode]:
    # Looking for QR codes only is faster and keeps other symbologies from matching.
    # The format set is built per call: a zxingcpp object held by the module outlives
    # the interpreter's teardown and makes nanobind print leak warnings at exit.
    qr_only = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    return list(zxingcpp.read_barcodes(gray, formats=qr_only))


def _reduced(gray: Image.Image) -> Image.Image:
    """The image reduced by an integer factor so that it is at most MAX_DECODE_WIDTH wide."""
    factor = -(-gray.width // MAX_DECODE_WIDTH)
    return gray.reduce(factor) if factor > 1 else gray
