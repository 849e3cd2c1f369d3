"""The synthetic scene: what the reference device's image sensor sees.

Strategy: a frame is a pure function of (source, seq, capture time, size). The capture
stage therefore renders each frame straight at its master size, and the same frame can be
rendered again at the native size for a live full-resolution request, identical in
content. Everything is drawn in proportion to the frame, so any size looks the same.

Layout (W x H frame):

- centre: the time code of ``docs/timecode.md`` -- a QR code (model 2, level M,
  alphanumeric mode) with its 4-module quiet zone, a square of side H/2, black on white.
  Nothing moving ever enters the square or a margin around it, so the code stays readable
  in every centre crop and down to 160x120 at JPEG quality 50.
- top band: a bar sweeping left to right and a strip of cells showing ``seq`` in binary,
  so consecutive frames always differ and a frozen stream is obvious.
- bottom band: a bar sweeping right to left and the text ``SOURCE #seq time``.
- left and right of the code: a hand turning by 1/15 turn per frame.

The QR mask pattern is fixed rather than chosen per frame: choosing it costs about 85% of
segno's time, every reader decodes any of the eight masks, and the tests decode every
shipped size. What never belongs here: clocks, threads, buffers, JPEG encoding.
"""

from __future__ import annotations

import functools
import math
import re
import zlib
from datetime import UTC, datetime

import segno
from PIL import Image, ImageDraw, ImageFont

TIMECODE_TAG = "SC1"
QR_ERROR_LEVEL = "m"
QR_MASK = 4
QR_QUIET_ZONE = 4

_SOURCE_NAME = re.compile(r"[a-z0-9]+")
# Dark module -> black (0), light module -> white (255), for bytes.translate.
_MODULE_TO_LUMA = bytes([255, 0, *([0] * 254)])
_BACKGROUNDS = {"internal": (18, 32, 66), "external": (18, 60, 36)}
_BAR_PERIOD_S = 3.7  # not a multiple of any frame period, so the bar never looks parked
_HAND_STEPS = 15


def timecode_payload(source: str, seq: int, captured_at: float) -> str:
    """The QR text ``SC1:<SOURCE>:<SEQ>:<CAPTURE_MS>`` of ``docs/timecode.md``."""
    if not _SOURCE_NAME.fullmatch(source):
        raise ValueError(f"source must match [a-z0-9]+, got {source!r}")
    if seq < 0 or not math.isfinite(captured_at) or captured_at < 0:
        raise ValueError(f"seq and captured_at must be non-negative, got {seq}, {captured_at}")
    return f"{TIMECODE_TAG}:{source.upper()}:{seq}:{round(captured_at * 1000)}"


def timecode_box(width: int, height: int) -> tuple[int, int, int, int]:
    """Where the time code sits in a frame: (left, top, right, bottom), centred, side H/2."""
    side = height // 2
    left, top = (width - side) // 2, (height - side) // 2
    return left, top, left + side, top + side


def timecode_image(payload: str, side: int) -> Image.Image:
    """The QR code of ``payload`` with its quiet zone, as a ``side`` x ``side`` L image."""
    code = segno.make_qr(
        payload, error=QR_ERROR_LEVEL, mode="alphanumeric", mask=QR_MASK, boost_error=False
    )
    matrix = code.matrix
    n = len(matrix)
    modules = Image.frombytes("L", (n, n), b"".join(bytes(row) for row in matrix))
    framed = Image.new("L", (n + 2 * QR_QUIET_ZONE, n + 2 * QR_QUIET_ZONE), 255)
    framed.paste(modules.point(list(_MODULE_TO_LUMA)), (QR_QUIET_ZONE, QR_QUIET_ZONE))
    # NEAREST keeps modules sharp; at non-integer scales they differ by one pixel, which
    # every reader tolerates.
    return framed.resize((side, side), Image.Resampling.NEAREST)


def render_frame(source: str, seq: int, captured_at: float, size: tuple[int, int]) -> Image.Image:
    """The scene for one frame at ``size``, time code included (an RGB image)."""
    width, height = size
    if width < 16 or height < 16:
        raise ValueError(f"a frame must be at least 16x16, got {width}x{height}")
    image = _background(source, width, height).copy()
    draw = ImageDraw.Draw(image)
    band = max(4, height // 6)
    _draw_bars(draw, captured_at, width, height, band)
    _draw_seq_cells(draw, seq, width, band)
    _draw_hand(draw, seq, width, height)
    _draw_caption(draw, _caption(source, seq, captured_at), width, height, band)
    left, top, _, _ = timecode_box(width, height)
    image.paste(
        timecode_image(timecode_payload(source, seq, captured_at), height // 2), (left, top)
    )
    return image


@functools.lru_cache(maxsize=16)
def _background(source: str, width: int, height: int) -> Image.Image:
    # Cached and only ever copied: the static part of the scene costs nothing per frame.
    colour = _BACKGROUNDS.get(source) or _colour_of(source)
    image = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(image)
    grid = tuple(min(255, c + 24) for c in colour)
    step = max(8, height // 12)
    for x in range(0, width, step):
        draw.line([(x, 0), (x, height)], fill=grid)
    for y in range(0, height, step):
        draw.line([(0, y), (width, y)], fill=grid)
    return image


def _colour_of(source: str) -> tuple[int, int, int]:
    # A stable dark colour for any other source name.
    digest = zlib.crc32(source.encode())
    return (16 + digest % 48, 16 + (digest >> 8) % 48, 16 + (digest >> 16) % 48)


def _draw_bars(
    draw: ImageDraw.ImageDraw, captured_at: float, width: int, height: int, band: int
) -> None:
    phase = (captured_at / _BAR_PERIOD_S) % 1.0
    bar = max(2, width // 24)
    x = round(phase * (width - bar))
    draw.rectangle([x, 0, x + bar, band - 1], fill=(250, 204, 40))
    x = round((1.0 - phase) * (width - bar))
    draw.rectangle([x, height - band, x + bar, height - 1], fill=(40, 200, 250))


def _draw_seq_cells(draw: ImageDraw.ImageDraw, seq: int, width: int, band: int) -> None:
    cell = max(2, band // 3)
    for bit in range(8):
        lit = (seq >> bit) & 1
        x = width - (bit + 1) * (cell + 1) - cell // 2
        draw.rectangle([x, cell, x + cell - 1, 2 * cell - 1], fill=(240, 240, 240) if lit else 0)


def _draw_hand(draw: ImageDraw.ImageDraw, seq: int, width: int, height: int) -> None:
    left, _, _, _ = timecode_box(width, height)
    radius = min(left * 0.4, height * 0.18)
    if radius < 4:
        return  # a frame narrower than 4:3 has no room beside the code
    angle = 2 * math.pi * (seq % _HAND_STEPS) / _HAND_STEPS
    tip = (math.sin(angle) * radius, -math.cos(angle) * radius)
    for cx in (left / 2, width - left / 2):
        cy = height / 2
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], outline=(200, 200, 200))
        draw.line(
            [cx, cy, cx + tip[0], cy + tip[1]], fill=(255, 80, 80), width=max(2, height // 90)
        )


def _caption(source: str, seq: int, captured_at: float) -> str:
    stamp = datetime.fromtimestamp(captured_at, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    return f"{source.upper()}  #{seq}  {stamp}Z"


def _draw_caption(draw: ImageDraw.ImageDraw, text: str, width: int, height: int, band: int) -> None:
    font = _font(max(8, band // 3))
    # The caption sits just above the bottom band, centred, clear of the code's square.
    draw.text((width / 2, height - band - 2), text, font=font, fill=(255, 255, 255), anchor="md")


@functools.lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)
