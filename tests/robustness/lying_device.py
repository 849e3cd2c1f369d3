"""A scripted intercom that conforms except for one lie: to run the real suite against.

Strategy: the device answers what a conformance run asks the way the contract says
(system info, caps with two sizes and the internal source, JSON errors with their
codes and ``param``, a JPEG of the size asked, an MJPEG stream at the rate asked with
a different frame in every part), on ``hostile_server.running_server`` (127.0.0.1,
port 0, one thread per connection). One ``Lie`` replaces how single JPEGs, streams, or
both are sent, the way devices in the field (or an attacker) get it wrong:

=====================  ======================================================
lie                    what the device does instead
=====================  ======================================================
content-length-long    declares 1000 bytes more than the JPEG, then closes
content-length-short   declares 100 bytes fewer than the JPEG it sends
endless-headers        header lines, one after another, that never end
endless-header-line    one header line that never ends
part-never-ends        a stream whose first part never ends (no boundary)
gigapixel-jpeg         JPEGs whose frame header declares 65535x65535
reset-mid-stream       two parts (or half a JPEG), then a TCP reset
tls-garbage            over HTTPS, bytes that are not TLS after the request
redirect-elsewhere     302 to the same path on another host
=====================  ======================================================

Endless replies are sent at ``ENDLESS_BYTES_PER_S`` until the client leaves (or the
server stops), so what bounds them is the client's deadlines and limits.

What never belongs here: running the suite, judging what it says (the tests).
"""

from __future__ import annotations

import io
import os
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from hostile_server import Connection, Server, response, running_server
from PIL import Image, ImageDraw
from scripted_device import CAPS, INFO, SIZES, json_reply

BOUNDARY = "lyingframe"
MAX_FPS = 15
ENDLESS_CHUNK = 16 * 1024
ENDLESS_BYTES_PER_S = 32 * 1024 * 1024
# A stream ends when its client leaves; this only bounds a thread the test forgot.
STREAM_LIMIT_S = 60.0
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_SOF0 = b"\xff\xc0"


@dataclass(frozen=True, slots=True)
class Ask:
    """A valid snapshot request: the size, and the rate when it asks for a stream."""

    size: tuple[int, int]
    fps: float | None


def _error(code: int, param: str | None = None, description: str = "refused") -> bytes:
    error: dict[str, object] = {"code": code, "description": description}
    if param is not None:
        error["param"] = param
    return json_reply({"success": False, "error": error})


class _Frames:
    """JPEGs of a size, each new one a different picture (a moving bar)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    def next(self, size: tuple[int, int]) -> bytes:
        with self._lock:
            self._count += 1
            count = self._count
        image = Image.new("RGB", size, (70, 110, 90))
        x = count * 7 % size[0]
        ImageDraw.Draw(image).rectangle((x, 0, x + 9, size[1]), fill=(240, 240, 240))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=80)
        return out.getvalue()


def _read_number(raw: str, low: float, high: float) -> float | None:
    if not _DECIMAL.fullmatch(raw):
        return None
    value = float(raw)
    return value if low <= value <= high else None


def validate(params: Mapping[str, str]) -> Ask | bytes:
    """The request, or the error reply the contract asks for (first fault in table order)."""
    for name in ("width", "height"):
        if not params.get(name):
            return _error(11, name)
    width, height = params["width"], params["height"]
    if not (width.isdigit() and height.isdigit()):
        return _error(12, "width" if not width.isdigit() else "height")
    size = (int(width), int(height))
    if size not in SIZES:
        return _error(12, "width")
    if params.get("source", "internal") not in ("internal", ""):
        return _error(12, "source")
    fps = _read_number(params["fps"], 0, MAX_FPS) if params.get("fps") else 0.0
    if fps is None:
        return _error(12, "fps")
    if params.get("time") and _read_number(params["time"], -30, 0) is None:
        return _error(12, "time")
    streams = fps >= 1 and not params.get("time")
    return Ask(size, fps if streams else None)


@dataclass(frozen=True, slots=True)
class Scene:
    """What every sender may use: the pictures, and where a redirect points."""

    frames: _Frames
    elsewhere: str


Sender = Callable[[Connection, Ask, Scene], None]


def send_jpeg(conn: Connection, ask: Ask, scene: Scene) -> None:
    """The contract's single JPEG."""
    conn.send(response(headers=(("Content-Type", "image/jpeg"),), body=scene.frames.next(ask.size)))


def _part(jpeg: bytes) -> bytes:
    head = f"Content-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode()
    return head + jpeg + f"\r\n--{BOUNDARY}\r\n".encode()


def _stream_head() -> bytes:
    head = (
        "HTTP/1.1 200 OK\r\n"
        f"Content-Type: multipart/x-mixed-replace; boundary={BOUNDARY}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + f"--{BOUNDARY}\r\n".encode()


def send_stream(
    conn: Connection, ask: Ask, scene: Scene, parts: int | None = None, *, giant: bool = False
) -> None:
    """The contract's stream at the asked rate (``parts``: stop after so many)."""
    assert ask.fps is not None
    conn.send(_stream_head())
    start = time.monotonic()
    sent = 0
    while (parts is None or sent < parts) and time.monotonic() - start < STREAM_LIMIT_S:
        jpeg = scene.frames.next(ask.size)
        conn.send(_part(gigapixel(jpeg) if giant else jpeg))
        sent += 1
        if conn.wait(max(0.0, start + sent / ask.fps - time.monotonic())):
            return


def _endless(conn: Connection, head: bytes, filler: bytes) -> None:
    """Send ``head``, then ``filler`` again and again, until the client or the server leaves."""
    conn.send(head)
    pause = len(filler) / ENDLESS_BYTES_PER_S
    started = time.monotonic()
    while time.monotonic() - started < STREAM_LIMIT_S:
        conn.send(filler)
        if conn.wait(pause):
            return


def gigapixel(jpeg: bytes) -> bytes:
    """The same JPEG, its frame header declaring 65535x65535 pixels."""
    at = jpeg.find(_SOF0)
    if at < 0:
        raise ValueError("no baseline frame header in the JPEG")
    # SOF0: marker, length (2), precision (1), height (2), width (2).
    return jpeg[: at + 5] + b"\xff\xff\xff\xff" + jpeg[at + 9 :]


def _declaring(error: int) -> Sender:
    """A sender of single JPEGs whose Content-Length is ``error`` bytes off the body sent."""

    def send(conn: Connection, ask: Ask, scene: Scene) -> None:
        body = scene.frames.next(ask.size)
        length = ("Content-Length", str(len(body) + error))
        conn.send(response(headers=(("Content-Type", "image/jpeg"), length), body=body))

    return send


def _endless_headers(conn: Connection, ask: Ask, scene: Scene) -> None:
    _endless(
        conn, b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n", b"X-Padding: 0123456789\r\n" * 700
    )


def _endless_line(conn: Connection, ask: Ask, scene: Scene) -> None:
    _endless(conn, b"HTTP/1.1 200 OK\r\nX-Endless: ", b"a" * ENDLESS_CHUNK)


def _endless_part(conn: Connection, ask: Ask, scene: Scene) -> None:
    part = b"Content-Type: image/jpeg\r\n\r\n" + scene.frames.next(ask.size)[:-2]
    _endless(conn, _stream_head() + part, b"\x00" * ENDLESS_CHUNK)


def _giant_jpeg(conn: Connection, ask: Ask, scene: Scene) -> None:
    conn.send(
        response(
            headers=(("Content-Type", "image/jpeg"),), body=gigapixel(scene.frames.next(ask.size))
        )
    )


def _giant_stream(conn: Connection, ask: Ask, scene: Scene) -> None:
    send_stream(conn, ask, scene, giant=True)


def _reset_jpeg(conn: Connection, ask: Ask, scene: Scene) -> None:
    body = scene.frames.next(ask.size)
    conn.send(response(headers=(("Content-Type", "image/jpeg"),), body=body)[: -len(body) // 2])
    conn.reset()


def _reset_stream(conn: Connection, ask: Ask, scene: Scene) -> None:
    send_stream(conn, ask, scene, parts=2)
    conn.reset()


def _not_tls(conn: Connection, ask: Ask, scene: Scene) -> None:
    # Written beneath the TLS layer: the client reads a record that is no TLS record.
    os.write(conn.sock.fileno(), b"HTTP/1.1 200 OK\r\n\r\nthis is not TLS at all\r\n")


def _redirect(conn: Connection, ask: Ask, scene: Scene) -> None:
    target = conn.request_line.split(" ")[1]
    location = f"{scene.elsewhere}{target}"
    conn.send(response("302 Found", (("Location", location),)))


@dataclass(frozen=True, slots=True)
class Lie:
    """How a lying device sends single JPEGs and streams (None: as the contract says)."""

    name: str
    single: Sender | None = None
    stream: Sender | None = None
    tls: bool = False


LIES: Mapping[str, Lie] = {
    lie.name: lie
    for lie in (
        Lie("content-length-long", single=_declaring(+1000)),
        Lie("content-length-short", single=_declaring(-100)),
        Lie("endless-headers", single=_endless_headers, stream=_endless_headers),
        Lie("endless-header-line", single=_endless_line, stream=_endless_line),
        Lie("part-never-ends", stream=_endless_part),
        Lie("gigapixel-jpeg", single=_giant_jpeg, stream=_giant_stream),
        Lie("reset-mid-stream", single=_reset_jpeg, stream=_reset_stream),
        Lie("tls-garbage", single=_not_tls, stream=_not_tls, tls=True),
        Lie("redirect-elsewhere", single=_redirect, stream=_redirect),
    )
}
TRUTH = Lie("none")

SERVED_METHODS = ("GET", "POST")
TLS_HANDSHAKE = b"\x16"
FORM = "application/x-www-form-urlencoded"


def _request(conn: Connection) -> tuple[str, str, dict[str, str]] | None:
    """(method, path, parameters: query then form body, first wins), or None: not HTTP."""
    conn.sock.settimeout(5.0)
    plain = not isinstance(conn.sock, ssl.SSLSocket)
    if plain and conn.sock.recv(1, socket.MSG_PEEK) == TLS_HANDSHAKE:
        # A TLS client on the plain port: refused in plain HTTP, as web servers do.
        conn.send(response("400 Bad Request", body=b"TLS on a plain HTTP port"))
        return None
    try:
        conn.read_request()
    except (TimeoutError, ValueError):
        return None  # a TLS hello on the plain port, a client that left: nothing to answer
    parts = conn.request_line.split(" ")
    if len(parts) != 3:
        return None
    method, target, _ = parts
    url = urlsplit(target)
    pairs = parse_qsl(url.query, keep_blank_values=True)
    if method == "POST" and (conn.header("Content-Type") or "").startswith(FORM):
        pairs += parse_qsl(conn.body.decode("latin-1"), keep_blank_values=True)
    params: dict[str, str] = {}
    for name, value in pairs:
        params.setdefault(name, value)
    return method, url.path, params


def _handler(lie: Lie, scene: Scene) -> Callable[[Connection], None]:
    def handle(conn: Connection) -> None:
        asked = _request(conn)
        if asked is None:
            return
        method, path, params = asked
        if path not in ("/api/system/info", "/api/camera/caps", "/api/camera/snapshot"):
            conn.send(_error(2))
        elif method not in SERVED_METHODS:
            conn.send(_error(3))
        elif path == "/api/system/info":
            conn.send(json_reply({"success": True, "result": INFO}))
        elif path == "/api/camera/caps":
            conn.send(json_reply({"success": True, "result": CAPS}))
        else:
            checked = validate(params)
            if isinstance(checked, bytes):
                conn.send(checked)
            elif checked.fps is None:
                (lie.single or send_jpeg)(conn, checked, scene)
            else:
                (lie.stream or send_stream)(conn, checked, scene)

    return handle


@contextmanager
def running_lying_device(
    lie: Lie, *, tls: ssl.SSLContext | None = None, elsewhere: str = "http://127.0.0.1:9"
) -> Iterator[Server]:
    """Serve a device that tells ``lie`` (``TRUTH``: none); a redirect points to ``elsewhere``."""
    with running_server(_handler(lie, Scene(_Frames(), elsewhere)), tls=tls) as server:
        yield server
