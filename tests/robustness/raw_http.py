"""HTTP/1.1 as a hostile client speaks it: any bytes out, whatever comes back, always bounded.

Strategy: the robustness tests must send what no HTTP library would (a head cut in two,
a header line of 100 KB, raw bytes in the target), so requests here are bytes written to
a socket. The answer is read with a deadline on every ``recv`` and on the whole
exchange, and at most ``MAX_REPLY_BYTES``: the head, then a body by its Content-Length
(or until the device closes); a multipart stream is read only as far as its head.

``answer_problems`` states what the issue allows a device to answer to anything: a JSON
reply in the envelope (an error validated against schemas/error-envelope.schema.json,
or a success), an image or a stream when the bytes happened to form a valid request,
an authentication refusal (HTTP 401, a challenge, the envelope with code 8 or 9), or a
protocol-level refusal (400, 413 or 431, as aiohttp sends them, or a closed
connection); never a 5xx, never a stack trace or an exception's name. A connection
that neither answers nor closes before the deadline is a problem too: a device that
hangs on bad input serves nobody.

What never belongs here: which requests to send (the test modules), starting a device.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO

from PIL import Image

from snapcheck.schemas import validate_json

Address = tuple[str, int]

MAX_REPLY_BYTES = 1 << 20
DEFAULT_TIMEOUT_S = 10.0
# aiohttp refuses malformed HTTP itself, before any handler runs, with these statuses.
PROTOCOL_REFUSALS = frozenset({400, 413, 431})
# What a leaked stack trace or exception shows; only a problem when we did not send it.
_LEAKS = re.compile(
    rb'Traceback \(most recent call last\)|File "[^"]*", line \d+|\b\w+(?:Error|Exception)\b'
)
# aiohttp answers in the version the request named (HTTP/0.9, HTTP/2.0 on an HTTP/1 line).
_STATUS_LINE = re.compile(rb"HTTP/\d\.\d (\d{3})[^\r\n]*")
_JPEG_SOI = b"\xff\xd8"


@dataclass(frozen=True, slots=True)
class RawReply:
    """What came back: the status (None: no status line), headers, body, and how it ended.

    ``ended`` is ``"complete"`` (the body as framed), ``"closed"`` (the device closed the
    connection), ``"timeout"`` (the deadline passed first) or ``"too big"``. ``bodiless``:
    the request was HEAD, whose reply has no body.
    """

    status: int | None
    headers: tuple[tuple[str, str], ...]
    body: bytes
    raw: bytes
    ended: str
    bodiless: bool = False

    def header(self, name: str) -> str | None:
        """The first value of a header (case-insensitive), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    @property
    def media_type(self) -> str:
        """The Content-Type without parameters, lower case ("" when absent)."""
        return (self.header("Content-Type") or "").split(";", 1)[0].strip().lower()


def _head_end(data: bytes) -> int:
    """Where the head ends (after its blank line), or -1 while it has not."""
    found = data.find(b"\r\n\r\n")
    return -1 if found < 0 else found + 4


def _parse_head(head: bytes) -> tuple[int | None, tuple[tuple[str, str], ...]]:
    lines = head.rstrip(b"\r\n").split(b"\r\n")
    status = _STATUS_LINE.fullmatch(lines[0])
    headers = []
    for line in lines[1:]:
        name, colon, value = line.decode("latin-1").partition(":")
        if colon:
            headers.append((name.strip(), value.strip()))
    return (int(status.group(1)) if status else None), tuple(headers)


def _final_head(data: bytes) -> int:
    """Where the final reply starts, past any interim 1xx replies (100 Continue)."""
    start = 0
    while (end := _head_end(data[start:])) >= 0:
        status, _ = _parse_head(data[start : start + end])
        if status is None or not 100 <= status < 200:
            break
        start += end
    return start


def _body_length(data: bytes, bodiless: bool) -> int | None:
    """The final reply's body length when its head is in ``data`` (None: until close)."""
    start = _final_head(data)
    end = _head_end(data[start:])
    if end < 0:
        return None
    status, headers = _parse_head(data[start : start + end])
    fields = {name.lower(): value for name, value in headers}
    if bodiless or status in (204, 304):
        return 0
    if fields.get("content-type", "").lower().startswith("multipart/"):
        return 0  # a stream never ends by itself: its head is enough
    length = fields.get("content-length")
    return int(length) if length is not None and length.isdigit() else None


def _complete(data: bytes, bodiless: bool) -> bool:
    """Whether ``data`` holds a whole reply: a head, then its body by Content-Length."""
    start = _final_head(data)
    end = _head_end(data[start:])
    length = _body_length(data, bodiless)
    return end >= 0 and length is not None and len(data) - start - end >= length


def read_reply(sock: socket.socket, deadline: float, *, bodiless: bool = False) -> RawReply:
    """Read one reply from ``sock`` until it is complete, closed, too big, or the deadline.

    ``bodiless``: the request was HEAD, so the reply ends with its head.
    """
    data = b""
    ended = "timeout"
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionError:
            ended = "closed"  # a reset is a closed connection too
            break
        if not chunk:
            ended = "closed"
            break
        data += chunk
        if _complete(data, bodiless):
            ended = "complete"
            break
        if len(data) > MAX_REPLY_BYTES:
            ended = "too big"
            break
    start = _final_head(data)
    end = _head_end(data[start:])
    if end < 0:
        return RawReply(None, (), b"", data, ended, bodiless)
    status, headers = _parse_head(data[start : start + end])
    length = _body_length(data, bodiless)
    body = data[start + end :]
    body = body if length is None else body[:length]
    return RawReply(status, headers, body, data, ended, bodiless)


def send_raw(
    address: Address,
    pieces: bytes | Sequence[bytes],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    half_close: bool = False,
) -> RawReply:
    """Connect, send ``pieces`` one by one (``half_close``: then end our side), read the reply."""
    deadline = time.monotonic() + timeout_s
    with socket.create_connection(address, timeout=timeout_s) as sock:
        try:
            for piece in [pieces] if isinstance(pieces, bytes) else pieces:
                sock.sendall(piece)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except ConnectionError:
            pass  # the device closed while we were still sending: read what it said
        first = pieces if isinstance(pieces, bytes) else b"".join(pieces[:1])
        return read_reply(sock, deadline, bodiless=first.startswith(b"HEAD "))


AUTH_CODES = frozenset({8, 9})


def _json_problems(body: bytes) -> list[str]:
    try:
        document = json.loads(body)
    except ValueError as error:
        return [f"a JSON reply that does not parse: {error}"]
    if isinstance(document, dict) and document.get("success") is True:
        return [f"success envelope: {m}" for m in validate_json(document, "success-envelope")]
    return [f"error envelope: {m}" for m in validate_json(document, "error-envelope")]


def _ok_200(reply: RawReply) -> list[str]:
    """An HTTP 200 is a JSON envelope, a JPEG, or a stream."""
    if reply.media_type == "application/json":
        return _json_problems(reply.body)
    if reply.media_type == "image/jpeg":
        return [] if reply.body.startswith(_JPEG_SOI) else ["an image/jpeg that is no JPEG"]
    if reply.media_type == "multipart/x-mixed-replace":
        return []
    return [f"HTTP 200 with Content-Type {reply.media_type or '(none)'}"]


def _ok_401(reply: RawReply) -> list[str]:
    """An HTTP 401 challenges, with the envelope and code 8 or 9."""
    problems = [] if reply.header("WWW-Authenticate") else ["HTTP 401 without a challenge"]
    if reply.media_type != "application/json":
        return [*problems, f"HTTP 401 with Content-Type {reply.media_type or '(none)'}"]
    problems += _json_problems(reply.body)
    if not problems and json.loads(reply.body)["error"]["code"] not in AUTH_CODES:
        problems.append(f"HTTP 401 with {reply.body[:120]!r}")
    return problems


# The statuses a device may answer the API with, and what each must carry.
OK_STATUSES: Mapping[int, Callable[[RawReply], list[str]]] = {200: _ok_200, 401: _ok_401}


def answer_problems(reply: RawReply, sent: bytes = b"") -> list[str]:
    """Why an answer is not one a device may give to anything (empty: it may)."""
    problems = []
    if reply.status is None:
        if reply.ended != "closed":
            problems.append(f"no status line and the connection {reply.ended}: {reply.raw[:80]!r}")
    elif reply.status in OK_STATUSES:
        problems += [] if reply.bodiless else OK_STATUSES[reply.status](reply)
    elif reply.status not in PROTOCOL_REFUSALS:
        problems.append(f"HTTP {reply.status}")
    elif reply.ended not in ("complete", "closed"):
        problems.append(f"a refusal that neither completed nor closed ({reply.ended})")
    leaked = {m.group(0) for m in _LEAKS.finditer(reply.raw)} - {
        m.group(0) for m in _LEAKS.finditer(sent)
    }
    if leaked:
        problems.append(f"a stack trace or exception on the wire: {sorted(leaked)}")
    return problems


def snapshot_problems(address: Address, width: int = 160, height: int = 120) -> list[str]:
    """Why the device does not serve a correct snapshot right now (empty: it does)."""
    request = (
        f"GET /api/camera/snapshot?width={width}&height={height} HTTP/1.1\r\n"
        "Host: device\r\nConnection: close\r\n\r\n"
    ).encode()
    reply = send_raw(address, request)
    if (reply.status, reply.media_type, reply.ended) != (200, "image/jpeg", "complete"):
        return [f"a snapshot got {reply.status} {reply.media_type!r} ({reply.ended})"]
    size = jpeg_size(reply.body)
    return [] if size == (width, height) else [f"a snapshot of {size}, not {width}x{height}"]


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """The size a JPEG declares and decodes to, or None when it does not decode."""
    try:
        with Image.open(BytesIO(data)) as image:
            image.load()
            return image.size
    except (OSError, ValueError):
        return None
