"""How real MJPEG producers frame their streams, as byte layouts to replay from loopback.

Strategy: each ``ProducerShape`` is one table row written from the producer's public
source (the bytes it writes, not its code): the status line, the Content-Type with its
boundary, whether the body is chunked, what precedes the first part, and each part's
head and tail. ``stream_script`` turns a shape, a list of JPEGs and a rate into a
``Script`` for ``loopback_producer``; ``file_script`` replays a file (ffmpeg's own
mpjpeg output) slice by slice. What snapcheck must say about each shape is the tests'
business, not this module's.

Where each shape comes from:

- mjpg-streamer (plugins/output_http/httpd.c, send_stream): HTTP/1.0, the body opens
  with the boundary, each part carries Content-Type, Content-Length and X-Timestamp, and
  the boundary follows each JPEG (``\\r\\n--boundarydonotcross\\r\\n``).
- go2rtc (pkg/mjpeg/writer.go): ``boundary=frame``; each part is ``--frame``, its
  headers with Content-Length, the JPEG and a CRLF; Go's HTTP/1.1 server chunks it.
- Motion (webu_stream.c, webu_stream_mjpeg_getimg): ``boundary=BoundaryString``, a
  lower-case ``Content-type`` and a Content-Length padded to nine characters
  (``%9ld``), served chunked by libmicrohttpd.
- Frigate (frigate/api/media.py, imagestream): ``boundary=frame`` with no space after
  the semicolon, no Content-Length, and an empty line after each JPEG; chunked.
- Network cameras that declare the boundary with its dashes (``boundary=--myboundary``
  and ``--myboundary`` in the body; field reports of Panasonic and Sony cameras, with
  ``Content-length`` before ``Content-type``).
- ESP32-CAM's CameraWebServer before arduino-esp32 pull request 3720, and Tasmota's
  webcam driver: no boundary before the first part, a boundary after each part.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from loopback_producer import Script
from PIL import Image, ImageDraw

# Seconds of stream a script offers; the client leaves long before that.
STREAM_LENGTH_S = 15.0
# Bytes per piece when a file is replayed (so pieces never line up with parts).
FILE_SLICE_BYTES = 4096


@dataclass(frozen=True, slots=True)
class ProducerShape:
    """One producer's framing: the bytes it writes around each JPEG."""

    name: str
    status_line: bytes
    content_type: str
    chunked: bool
    preamble: bytes
    part_head: str  # format fields: {length}, {timestamp}
    part_tail: bytes

    def part(self, jpeg: bytes, timestamp: float) -> bytes:
        """One part of this producer's stream."""
        head = self.part_head.format(length=len(jpeg), timestamp=f"{timestamp:.6f}")
        return head.encode("ascii") + jpeg + self.part_tail


MJPG_STREAMER = ProducerShape(
    name="mjpg-streamer",
    status_line=b"HTTP/1.0 200 OK",
    content_type="multipart/x-mixed-replace;boundary=boundarydonotcross",
    chunked=False,
    preamble=b"--boundarydonotcross\r\n",
    part_head="Content-Type: image/jpeg\r\nContent-Length: {length}\r\n"
    "X-Timestamp: {timestamp}\r\n\r\n",
    part_tail=b"\r\n--boundarydonotcross\r\n",
)
GO2RTC = ProducerShape(
    name="go2rtc",
    status_line=b"HTTP/1.1 200 OK",
    content_type="multipart/x-mixed-replace; boundary=frame",
    chunked=True,
    preamble=b"",
    part_head="--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {length}\r\n\r\n",
    part_tail=b"\r\n",
)
MOTION = ProducerShape(
    name="Motion",
    status_line=b"HTTP/1.1 200 OK",
    content_type="multipart/x-mixed-replace; boundary=BoundaryString",
    chunked=True,
    preamble=b"",
    part_head="--BoundaryString\r\nContent-type: image/jpeg\r\nContent-Length: {length:9d}\r\n\r\n",
    part_tail=b"\r\n",
)
FRIGATE = ProducerShape(
    name="Frigate",
    status_line=b"HTTP/1.1 200 OK",
    content_type="multipart/x-mixed-replace;boundary=frame",
    chunked=True,
    preamble=b"",
    part_head="--frame\r\nContent-Type: image/jpeg\r\n\r\n",
    part_tail=b"\r\n\r\n",
)
DASHED_BOUNDARY_CAMERA = ProducerShape(
    name="camera declaring boundary=--myboundary",
    status_line=b"HTTP/1.0 200 OK",
    content_type="multipart/x-mixed-replace; boundary=--myboundary",
    chunked=False,
    preamble=b"",
    part_head="--myboundary\r\nContent-length: {length}\r\nContent-type: image/jpeg\r\n\r\n",
    part_tail=b"\r\n",
)
BOUNDARY_AFTER_ONLY = ProducerShape(
    name="ESP32-CAM before the fix (boundary only after each part)",
    status_line=b"HTTP/1.1 200 OK",
    content_type="multipart/x-mixed-replace;boundary=123456789000000000000987654321",
    chunked=True,
    preamble=b"",
    part_head="Content-Type: image/jpeg\r\nContent-Length: {length}\r\n\r\n",
    part_tail=b"\r\n--123456789000000000000987654321\r\n",
)


def distinct_jpegs(count: int, width: int, height: int) -> list[bytes]:
    """``count`` different JPEGs of one size (a bar moves across a gradient)."""
    frames: list[bytes] = []
    for index in range(count):
        image = Image.new("RGB", (width, height), (40, 80 + index * 7 % 120, 160))
        draw = ImageDraw.Draw(image)
        left = index * width // max(count, 1)
        draw.rectangle((left, 0, left + width // 8, height), fill=(250, 250, 250))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=80)
        frames.append(buffer.getvalue())
    return frames


def stream_script(shape: ProducerShape, jpegs: Sequence[bytes], rate: float) -> Script:
    """The shape's stream: ``rate`` parts per second, the JPEGs in turn, for a while."""
    if not jpegs or not rate > 0:
        raise ValueError("a stream needs at least one JPEG and a positive rate")

    def pieces() -> Iterator[tuple[float, bytes]]:
        yield 0.0, shape.preamble
        for index in range(int(STREAM_LENGTH_S * rate)):
            due = index / rate
            yield due, shape.part(jpegs[index % len(jpegs)], due)

    headers = (("Content-Type", shape.content_type), ("Cache-Control", "no-cache"))
    return Script(shape.status_line, headers, pieces(), chunked=shape.chunked)


def file_script(content_type: str, data: bytes, duration_s: float) -> Script:
    """A file's bytes as an HTTP/1.0 stream, in slices spread evenly over ``duration_s``."""
    if not duration_s > 0:
        raise ValueError("duration_s must be positive")
    offsets = range(0, len(data), FILE_SLICE_BYTES)
    pieces = [
        (offset / len(data) * duration_s, data[offset : offset + FILE_SLICE_BYTES])
        for offset in offsets
    ]
    return Script(b"HTTP/1.0 200 OK", (("Content-Type", content_type),), pieces)
