"""A small scripted intercom for the plugin's tests: conforming by default, broken on request.

Strategy: the device answers the three paths a conformance run touches (system info,
caps, snapshot) the way the contract asks, and each ``Faults`` field breaks exactly one
thing the way devices in the field do: errors sent as HTTP 500, a PNG labelled
``image/jpeg``, an image of the wrong size, an error without ``param``, caps that are not
caps, a snapshot parameter the device hangs on, or a device that stops answering after a
number of snapshots (hanging on every connection or resetting it). It runs on
``hostile_server.running_server`` (127.0.0.1, port 0, one thread per connection).
Streams are not offered: a request with ``fps`` is refused with error 12, so the
conformance files given to it never ask for one.
"""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from hostile_server import Connection, Server, response, running_server
from PIL import Image

SIZES = ((160, 120), (320, 240))
INFO = {
    "devType": "2-99-0-0",
    "variant": "scripted intercom",
    "variantId": "99",
    "customerId": "0",
    "serialNumber": "00-0000-0099",
    "macAddr": "02-00-00-00-00-99",
    "hwVersion": "t1",
    "swVersion": "9.9.9.9.9",
    "buildType": "release",
    "firmwarePackage": "scripted",
    "deviceName": "scripted intercom",
}
CAPS = {
    "jpegResolution": [{"width": w, "height": h} for w, h in SIZES],
    "sources": [{"source": "internal"}],
}
# How a device that stopped answering treats each new connection.
GONE_HANG = "hang"
GONE_RESET = "reset"
# Long enough that only the client's request timeout (or the server stopping) ends a hang.
HANG_S = 60.0


@dataclass(frozen=True, slots=True)
class Faults:
    """What the scripted device gets wrong; the default gets nothing wrong."""

    error_status: str = "200 OK"
    image_format: str = "JPEG"
    extra_width: int = 0
    omit_error_param: bool = False
    answered_before_gone: int | None = None
    gone: str = GONE_HANG
    basic: str | None = None
    caps_body: bytes | None = None
    hang_on_param: str | None = None


@dataclass
class _Counter:
    snapshots: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self) -> int:
        with self.lock:
            self.snapshots += 1
            return self.snapshots


def json_reply(document: object, status: str = "200 OK") -> bytes:
    """A JSON reply as the scripted devices send it (with a 2N-style Server header)."""
    headers = (("Content-Type", "application/json"), ("Server", "HIP9.9.9.9.9"))
    return response(status, headers, json.dumps(document).encode())


def _error(faults: Faults, code: int, param: str) -> bytes:
    error: dict[str, object] = {"code": code, "description": "invalid parameter value"}
    if not faults.omit_error_param:
        error["param"] = param
    return json_reply({"success": False, "error": error}, faults.error_status)


def _image(faults: Faults, size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size[0] + faults.extra_width, size[1]), (90, 120, 90)).save(
        out, faults.image_format
    )
    return response(headers=(("Content-Type", "image/jpeg"),), body=out.getvalue())


def _caps(faults: Faults) -> bytes:
    if faults.caps_body is None:
        return json_reply({"success": True, "result": CAPS})
    return response(headers=(("Content-Type", "application/json"),), body=faults.caps_body)


def _snapshot(faults: Faults, params: dict[str, str]) -> bytes:
    for name in ("width", "height"):
        if not params.get(name):
            return _error(faults, 11, name)
    try:
        size = (int(params["width"]), int(params["height"]))
    except ValueError:
        return _error(faults, 12, "width")
    if size not in SIZES:
        return _error(faults, 12, "width")
    if params.get("source", "internal") != "internal":
        return _error(faults, 12, "source")
    if "fps" in params:
        return _error(faults, 12, "fps")
    return _image(faults, size)


def _unauthorised(faults: Faults, conn: Connection, path: str) -> bool:
    if faults.basic is None or path == "/api/system/info":
        return False
    expected = "Basic " + base64.b64encode(faults.basic.encode()).decode()
    if conn.header("Authorization") == expected:
        return False
    challenge = (
        ("WWW-Authenticate", 'Basic realm="intercom"'),
        ("Content-Type", "application/json"),
    )
    body = {"success": False, "error": {"code": 9, "description": "authorisation required"}}
    conn.send(response("401 Unauthorized", challenge, json.dumps(body).encode()))
    return True


def _handler(faults: Faults, counter: _Counter) -> Callable[[Connection], None]:
    gone_after = faults.answered_before_gone

    def handle(conn: Connection) -> None:
        if gone_after is not None and counter.snapshots >= gone_after:
            if faults.gone == GONE_RESET:
                conn.reset()
                return
            conn.read_request()
            conn.wait(HANG_S)
            return
        conn.read_request()
        target = urlsplit(conn.request_line.split(" ")[1])
        if _unauthorised(faults, conn, target.path):
            return
        if target.path == "/api/system/info":
            conn.send(json_reply({"success": True, "result": INFO}))
        elif target.path == "/api/camera/caps":
            conn.send(_caps(faults))
        elif target.path == "/api/camera/snapshot":
            counter.next()
            params = dict(parse_qsl(target.query))
            if faults.hang_on_param is not None and faults.hang_on_param in params:
                conn.wait(HANG_S)
                return
            conn.send(_snapshot(faults, params))
        else:
            body = {"success": False, "error": {"code": 2, "description": "invalid path"}}
            conn.send(json_reply(body))

    return handle


@contextmanager
def running_scripted_device(faults: Faults = Faults()) -> Iterator[Server]:
    """Serve the scripted device with these faults; yield the server (its ``url``)."""
    with running_server(_handler(faults, _Counter())) as server:
        yield server
