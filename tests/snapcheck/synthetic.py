"""Synthetic replies for the tests of the wire checks: JPEGs, JSON bodies and MJPEG streams.

Strategy: everything a device could send, built from Pillow images and byte strings, so
the checks are tested without a network. Streams come in the framings servers in the
field use (see API-FACTS, "How MJPEG over HTTP looks in practice"); each framing is a
function from frames to (Content-Type, body bytes).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence

import segno
from PIL import Image

from snapcheck.checks.stream_reply import describe_part
from snapcheck.exchange import Headers, Reply, Request
from snapcheck.multipart import MultipartReader

BASE_URL = "http://127.0.0.1:8080"
SNAPSHOT = "/api/camera/snapshot"
EPOCH_MS = 1_764_036_000_000


def jpeg_bytes(
    size: tuple[int, int] = (64, 48),
    *,
    colour: tuple[int, int, int] = (40, 120, 200),
    progressive: bool = False,
    subsampling: int = -1,
) -> bytes:
    """A plain JPEG of ``size`` (subsampling as Pillow numbers it: 0 4:4:4, 1 4:2:2, 2 4:2:0)."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(
        out, "JPEG", progressive=progressive, subsampling=subsampling
    )
    return out.getvalue()


def timecoded_jpeg(
    seq: int, size: tuple[int, int] = (160, 120), *, source: str = "INTERNAL", quality: int = 50
) -> bytes:
    """A frame carrying the documented time code (docs/timecode.md), centred, half the height."""
    frame = Image.new("L", size, 170)
    code = segno.make(f"SC1:{source}:{seq}:{EPOCH_MS + seq * 200}", error="m", micro=False)
    png = io.BytesIO()
    code.save(png, kind="png", scale=4, border=4)
    side = size[1] // 2
    symbol = Image.open(png).convert("L").resize((side, side), Image.Resampling.NEAREST)
    frame.paste(symbol, ((size[0] - side) // 2, (size[1] - side) // 2))
    out = io.BytesIO()
    frame.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def request(path: str = SNAPSHOT, **params: str) -> Request:
    """A GET request with query parameters in the order given."""
    return Request("GET", BASE_URL, path, params=tuple(params.items()))


def reply(
    body: bytes,
    *,
    content_type: str | None = "image/jpeg",
    status: int = 200,
    content_length: bool = True,
    sent: Request | None = None,
) -> Reply:
    """A single-body reply with the headers a device would send."""
    headers: list[tuple[str, str]] = []
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    if content_length:
        headers.append(("Content-Length", str(len(body))))
    return Reply(
        sent or request(width="640", height="480"),
        status,
        "OK" if status == 200 else "Error",
        tuple(headers),
        body,
    )


def json_reply(
    document: object, *, status: int = 200, content_type: str = "application/json"
) -> Reply:
    """A JSON reply; ``document`` is serialised unless it is already bytes."""
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return reply(body, content_type=content_type, status=status, sent=request(width="641"))


def error_document(code: object, param: str | None = None) -> dict[str, object]:
    """The manual's error envelope."""
    error: dict[str, object] = {"code": code, "description": "invalid parameter value"}
    if param is not None:
        error["param"] = param
    return {"success": False, "error": error}


# ---------------------------------------------------------------- stream framings

Framing = Callable[[Sequence[bytes]], tuple[str, bytes]]
MULTIPART = "multipart/x-mixed-replace"


def mjpg_streamer(frames: Sequence[bytes]) -> tuple[str, bytes]:
    """mjpg-streamer / ustreamer: a boundary line first and after every frame."""
    body = b"--boundarydonotcross\r\n"
    for frame in frames:
        body += (
            b"Content-Type: image/jpeg\r\nContent-Length: %d\r\nX-Timestamp: 1.000\r\n\r\n"
            % len(frame)
        )
        body += frame + b"\r\n--boundarydonotcross\r\n"
    return f"{MULTIPART};boundary=boundarydonotcross", body


def ffmpeg_mpjpeg(frames: Sequence[bytes]) -> tuple[str, bytes]:
    """ffmpeg's mpjpeg muxer: "--ffmpeg" before each part, lower-case header names."""
    body = b"".join(
        b"--ffmpeg\r\nContent-type: image/jpeg\r\nContent-length: %d\r\n\r\n" % len(f) + f + b"\r\n"
        for f in frames
    )
    return f"{MULTIPART};boundary=ffmpeg", body


def go2rtc(frames: Sequence[bytes]) -> tuple[str, bytes]:
    """go2rtc's MJPEG output."""
    body = b"".join(
        b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(f) + f + b"\r\n"
        for f in frames
    )
    return f"{MULTIPART}; boundary=frame", body


def axis(frames: Sequence[bytes]) -> tuple[str, bytes]:
    """Axis VAPIX mjpg/video.cgi."""
    body = b"".join(
        b"--myboundary\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(f)
        + f
        + b"\r\n"
        for f in frames
    )
    return f"{MULTIPART}; boundary=myboundary", body


def boundary_after(frames: Sequence[bytes]) -> tuple[str, bytes]:
    """Servers that send the boundary after each frame and no Content-Length."""
    body = b"".join(b"Content-Type: image/jpeg\r\n\r\n" + f + b"\r\n--frame\r\n" for f in frames)
    return f"{MULTIPART}; boundary=frame", body


def esp32_cam(frames: Sequence[bytes]) -> tuple[str, bytes]:
    """ESP32-CAM's example server: CRLF before every boundary line, the first one too."""
    boundary = b"123456789000000000000987654321"
    body = b"".join(
        b"\r\n--"
        + boundary
        + b"\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(f)
        + f
        for f in frames
    )
    return f"{MULTIPART};boundary={boundary.decode()}", body


def dashed_declaration(frames: Sequence[bytes]) -> tuple[str, bytes]:
    """Cameras that declare boundary=--myboundary and send "--myboundary" lines."""
    body = b"".join(
        b"--myboundary\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(f)
        + f
        + b"\r\n"
        for f in frames
    )
    return f"{MULTIPART}; boundary=--myboundary", body


def lf_only(frames: Sequence[bytes]) -> tuple[str, bytes]:
    """Line ends of LF alone, and a closing boundary."""
    body = b"".join(
        b"--frame\nContent-Type: image/jpeg\nContent-Length: %d\n\n" % len(f) + f + b"\n"
        for f in frames
    )
    return f"{MULTIPART}; boundary=frame", body + b"--frame--\n"


def no_length(frames: Sequence[bytes]) -> tuple[str, bytes]:
    """Boundary before each part, no Content-Length: parts end at the next boundary."""
    body = b"".join(b"--frame\r\nContent-Type: image/jpeg\r\n\r\n" + f + b"\r\n" for f in frames)
    return f"{MULTIPART}; boundary=frame", body + b"--frame--\r\n"


FRAMINGS: dict[str, Framing] = {
    "mjpg-streamer": mjpg_streamer,
    "ffmpeg": ffmpeg_mpjpeg,
    "go2rtc": go2rtc,
    "axis": axis,
    "boundary-after": boundary_after,
    "esp32-cam": esp32_cam,
    "dashed-declaration": dashed_declaration,
    "lf-only": lf_only,
    "no-length": no_length,
}


def read_stream(
    content_type: str,
    chunks: Sequence[tuple[bytes, float]],
    *,
    ended_by: str = "window",
    end: float | None = None,
) -> MultipartReader:
    """Feed (bytes, arrival time) chunks to a reader with ``describe_part``, then close it."""
    parser = MultipartReader(content_type, on_part=describe_part)
    for data, at in chunks:
        parser.feed(data, at)
    last = chunks[-1][1] if chunks else 0.0
    parser.close(last if end is None else end, ended_by)
    return parser


def stream_reply(
    content_type: str,
    chunks: Sequence[tuple[bytes, float]],
    *,
    window_s: float,
    ended_by: str = "window",
    headers: Headers | None = None,
    sent: Request | None = None,
) -> Reply:
    """The Reply a transport would build for a stream read for ``window_s`` from time 0."""
    parser = read_stream(content_type, chunks, ended_by=ended_by, end=window_s)
    return Reply(
        sent or request(width="160", height="120", fps="5"),
        200,
        "OK",
        headers if headers is not None else (("Content-Type", content_type),),
        started_at=0.0,
        elapsed_s=window_s,
        parts=parser.parts,
        stream_findings=tuple(parser.findings),
        stream_ended_by=ended_by,
    )


def paced(
    content_type_and_body: tuple[str, bytes], frames: Sequence[bytes], times: Sequence[float]
) -> list[tuple[bytes, float]]:
    """Split a framed body into one chunk per frame, each arriving at its time."""
    _, body = content_type_and_body
    chunks: list[tuple[bytes, float]] = []
    start = 0
    for frame, at in zip(frames, times, strict=True):
        end = body.index(frame, start) + len(frame)
        chunks.append((body[start:end], at))
        start = end
    if start < len(body):
        chunks.append((body[start:], times[-1] if times else 0.0))
    return chunks
