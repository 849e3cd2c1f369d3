"""What a JPEG's bytes say about themselves: a marker walk and a guarded decode.

Strategy: ``walk_jpeg`` reads markers and segment headers only (ITU-T T.81, Annex B)
and never trusts a number it reads: a segment length that runs past the end, a
marker where none may be, gigapixel dimensions in the frame header — each becomes an
entry in ``JpegInfo.errors`` and the walk stops or continues, but it never allocates
anything in proportion to a declared size and never raises on any input.
``decode_jpeg`` then lets Pillow decode the pixels, but only after the declared size
passed the pixel budget, and turns each Pillow error into a message. Judging (which
clause, which verdict) happens in ``snapcheck.checks``, not here.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from PIL import Image

# A camera frame is at most a few Mpx; 50 Mpx leaves room for any real device while a
# declared 65535x65535 frame (4.3 Gpx, ~13 GB of RGB) is refused before decoding.
MAX_PIXELS = 50_000_000
# The walk records at most this many segments; a real JPEG has a few dozen.
MAX_SEGMENTS = 256

SOI, EOI, SOS = 0xD8, 0xD9, 0xDA
# Markers without a length field (T.81 B.1.1.3): TEM, RST0-7, SOI, EOI.
STANDALONE = frozenset({0x01, *range(0xD0, 0xD8), SOI, EOI})
# Start-of-frame markers (T.81 Table B.1) and the coding process each names.
FRAME_KINDS: dict[int, str] = {
    0xC0: "baseline",
    0xC1: "extended sequential",
    0xC2: "progressive",
    0xC3: "lossless",
    0xC5: "differential sequential",
    0xC6: "differential progressive",
    0xC7: "differential lossless",
    0xC9: "extended sequential (arithmetic)",
    0xCA: "progressive (arithmetic)",
    0xCB: "lossless (arithmetic)",
    0xCD: "differential sequential (arithmetic)",
    0xCE: "differential progressive (arithmetic)",
    0xCF: "differential lossless (arithmetic)",
}
# Common chroma subsampling names by (Y sampling, Cb sampling, Cr sampling) factors.
SUBSAMPLING_NAMES: dict[tuple[tuple[int, int], ...], str] = {
    ((1, 1), (1, 1), (1, 1)): "4:4:4",
    ((2, 1), (1, 1), (1, 1)): "4:2:2",
    ((2, 2), (1, 1), (1, 1)): "4:2:0",
    ((1, 2), (1, 1), (1, 1)): "4:4:0",
    ((4, 1), (1, 1), (1, 1)): "4:1:1",
}
# In entropy-coded data a marker is 0xFF followed by anything but 0x00 (stuffing),
# RST0-7 (which belong to the scan) or 0xFF (fill); the lookahead keeps the match on
# the last 0xFF of a fill run, where the marker starts.
_NEXT_MARKER = re.compile(rb"\xff(?=[^\x00\xd0-\xd7\xff])")
# "<_io.BytesIO object at 0x7f...>" in Pillow's messages.
_OBJECT_ADDRESS = re.compile(r" ?<[^<>]* at 0x[0-9a-fA-F]+>")


@dataclass(frozen=True, slots=True)
class Segment:
    """One marker: its code, the offset of its 0xFF, and its length field (0 when it has none)."""

    marker: int
    offset: int
    length: int


@dataclass(frozen=True, slots=True)
class Component:
    """One colour component of the frame header: id, sampling factors, quantisation table."""

    ident: int
    horizontal: int
    vertical: int
    quant_table: int


@dataclass(frozen=True, slots=True)
class JpegInfo:
    """What the marker walk found. ``errors`` is empty for a well-formed stream.

    ``segments`` lists the first MAX_SEGMENTS markers; ``segment_count`` counts them all.
    """

    size: int
    has_soi: bool
    sof_marker: int | None
    width: int | None
    height: int | None
    precision: int | None
    components: tuple[Component, ...]
    eoi_offset: int | None
    segments: tuple[Segment, ...]
    segment_count: int
    errors: tuple[str, ...]

    @property
    def frame_kind(self) -> str:
        """baseline, progressive, ... from the SOF marker; "none" without a frame header."""
        if self.sof_marker is None:
            return "none"
        return FRAME_KINDS.get(self.sof_marker, f"other (0xFF{self.sof_marker:02X})")

    @property
    def trailing(self) -> int:
        """How many bytes follow the EOI marker (0 when there is no EOI)."""
        return 0 if self.eoi_offset is None else self.size - self.eoi_offset - 2

    @property
    def pixels(self) -> int:
        """Declared width x height (0 when unknown)."""
        return (self.width or 0) * (self.height or 0)

    @property
    def subsampling(self) -> str:
        """Chroma subsampling as usually written (4:2:0), "grayscale", or the raw factors."""
        factors = tuple((c.horizontal, c.vertical) for c in self.components)
        if len(factors) == 1:
            return "grayscale"
        named = SUBSAMPLING_NAMES.get(factors)
        return named or " ".join(f"{h}x{v}" for h, v in factors) or "unknown"


@dataclass(frozen=True, slots=True, eq=False)
class Decoded:
    """Pillow's reading of the pixels: the image, or why there is none."""

    image: Image.Image | None
    error: str | None


class _Walk:
    """Mutable state of one marker walk; ``info()`` freezes it."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.segments: list[Segment] = []
        self.segment_count = 0
        self.errors: list[str] = []
        self.sof: tuple[int, int, int, int, tuple[Component, ...]] | None = None
        self.eoi: int | None = None

    def error(self, message: str) -> None:
        """Note what is wrong with the bytes."""
        self.errors.append(message)

    def record(self, marker: int, offset: int, length: int) -> None:
        """Count a marker; list it while the list is short."""
        self.segment_count += 1
        if self.segment_count <= MAX_SEGMENTS:
            self.segments.append(Segment(marker, offset, length))

    def info(self) -> JpegInfo:
        """The frozen result of the walk."""
        marker, precision, height, width, components = self.sof or (None, None, None, None, ())
        return JpegInfo(
            size=len(self.data),
            has_soi=self.data[:2] == b"\xff\xd8",
            sof_marker=marker,
            width=width,
            height=height,
            precision=precision,
            components=components,
            eoi_offset=self.eoi,
            segments=tuple(self.segments),
            segment_count=self.segment_count,
            errors=tuple(self.errors),
        )


def walk_jpeg(data: bytes) -> JpegInfo:
    """Walk the markers of ``data`` (any bytes at all) and report what they declare."""
    walk = _Walk(bytes(data))
    if not walk.data.startswith(b"\xff\xd8"):
        walk.error(f"no SOI marker: the body starts with {walk.data[:4].hex(' ') or 'nothing'}")
        return walk.info()
    walk.record(SOI, 0, 0)
    position: int | None = 2
    while position is not None and walk.eoi is None:
        position = _step(walk, position)
    if walk.eoi is None and not walk.errors:
        walk.error("the data ended before an EOI marker")
    return walk.info()


def _step(walk: _Walk, position: int) -> int | None:
    """Read the marker at ``position``; the position of the next one, or None to stop."""
    data = walk.data
    if position + 2 > len(data):
        walk.error(f"the data ends at byte {len(data)}, inside the marker sequence")
        return None
    if data[position] != 0xFF:
        found = data[position : position + 4].hex(" ")
        walk.error(f"expected a marker at byte {position}, found {found}")
        return None
    while position + 1 < len(data) and data[position + 1] == 0xFF:
        position += 1  # fill bytes before a marker (T.81 B.1.1.2)
    if position + 1 >= len(data):
        walk.error(f"the data ends inside fill bytes at byte {len(data)}")
        return None
    marker = data[position + 1]
    if marker in STANDALONE:
        return _standalone(walk, marker, position)
    if position + 4 > len(data):
        walk.error(f"the data ends inside the length of marker FF{marker:02X} at byte {position}")
        return None
    length = int.from_bytes(data[position + 2 : position + 4], "big")
    walk.record(marker, position, length)
    end = position + 2 + length
    if length < 2:
        walk.error(
            f"marker FF{marker:02X} at byte {position} declares the impossible length {length}"
        )
        return None
    if end > len(data):
        walk.error(
            f"marker FF{marker:02X} at byte {position} declares {length} bytes,"
            f" only {len(data) - position - 2} remain"
        )
        return None
    if marker in FRAME_KINDS:
        _frame_header(walk, marker, position, data[position + 4 : end])
    if marker == SOS:
        return _skip_scan(walk, end)
    return end


def _standalone(walk: _Walk, marker: int, position: int) -> int | None:
    walk.record(marker, position, 0)
    if marker == EOI:
        walk.eoi = position
        return None
    if marker == SOI:
        walk.error(f"a second SOI marker at byte {position}")
        return None
    return position + 2


def _skip_scan(walk: _Walk, start: int) -> int | None:
    """Skip entropy-coded data after SOS; the position of the marker that ends it."""
    match = _NEXT_MARKER.search(walk.data, start)
    if match is None:
        walk.error(f"the scan starting at byte {start} runs to the end without an EOI marker")
        return None
    return match.start()


def _frame_header(walk: _Walk, marker: int, position: int, payload: bytes) -> None:
    """Read a start-of-frame segment (T.81 B.2.2) into the walk; the first one counts."""
    if walk.sof is not None:
        walk.error(f"a second frame header FF{marker:02X} at byte {position}")
        return
    if len(payload) < 6:
        walk.error(f"frame header at byte {position} is {len(payload)} bytes, shorter than 6")
        return
    precision = payload[0]
    height = int.from_bytes(payload[1:3], "big")
    width = int.from_bytes(payload[3:5], "big")
    count = payload[5]
    fields = payload[6 : 6 + 3 * count]
    if len(fields) < 3 * count:
        room = len(fields) // 3
        walk.error(f"frame header at byte {position} declares {count} components, room for {room}")
    components = tuple(
        Component(fields[i], fields[i + 1] >> 4, fields[i + 1] & 0x0F, fields[i + 2])
        for i in range(0, len(fields) - len(fields) % 3, 3)
    )
    if width == 0 or height == 0:
        walk.error(f"frame header at byte {position} declares {width}x{height}")
    walk.sof = (marker, precision, height, width, components)


def decode_jpeg(
    data: bytes, info: JpegInfo | None = None, *, max_pixels: int = MAX_PIXELS
) -> Decoded:
    """Decode the pixels with Pillow after checking the declared size against ``max_pixels``."""
    declared = info if info is not None else walk_jpeg(data)
    if declared.pixels > max_pixels:
        return Decoded(None, _too_big(declared.width, declared.height, max_pixels))
    return open_image(data, max_pixels=max_pixels)


def open_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> Decoded:
    """Open and fully load an image, refusing more than ``max_pixels`` before loading it."""
    # Pillow's own guard (Image.MAX_IMAGE_PIXELS) and the warnings filters are
    # process-wide, and streams are decoded in threads, so neither is changed here: the
    # size Pillow parsed from the header is held against our budget before load()
    # allocates anything, and Pillow's own DecompressionBombError (twice its limit,
    # should our budget be raised above it) is caught like any decoding error.
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > max_pixels:
            return Decoded(None, _too_big(image.width, image.height, max_pixels))
        image.load()
    except Image.DecompressionBombError as exc:
        return Decoded(None, f"Pillow refused a decompression bomb: {exc}")
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # OSError covers UnidentifiedImageError and truncated or broken data streams.
        # Pillow names the file object by its address: drop it, so messages repeat.
        message = _OBJECT_ADDRESS.sub("", str(exc))
        return Decoded(None, f"Pillow cannot decode it: {type(exc).__name__}: {message}")
    return Decoded(image, None)


def _too_big(width: int | None, height: int | None, max_pixels: int) -> str:
    pixels = (width or 0) * (height or 0)
    return (
        f"declares {width}x{height} = {pixels / 1e6:.1f} Mpx, more than the"
        f" {max_pixels / 1e6:.0f} Mpx this validator decodes; not decoded"
    )
