"""The reference device over real HTTP: every row of the decision table from its side.

The device runs in-process on 127.0.0.1, port 0, with the real camera. A ManualClock keeps
the frames still unless a test moves time, so what a reply shows is exactly predictable.
"""

from __future__ import annotations

import asyncio
import http.client
import io
import json
import socket
import string
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from reference_device import DeviceOptions, DeviceThread
from reference_device.clock import ManualClock
from reference_device.profile import Profile, SourceMode
from reference_device.streaming import CONTENT_TYPE as MULTIPART

SOURCE_FPS = 2.0
PROFILE = Profile(
    name="server-test",
    variant="2N IP Test",
    resolutions=((1920, 1080), (1280, 960), (1280, 720), (640, 480), (320, 240), (160, 120)),
    sources=(
        SourceMode("internal", 1280, 960, SOURCE_FPS),
        SourceMode("external", 640, 480, SOURCE_FPS),
    ),
    default_source="internal",
    max_fps=15,
    sustainable_fps={},
    system_info={"variant": "2N IP Test", "swVersion": "2.35.0.45.0"},
    server_header="HIP2.35.0.45.0",
)
SNAPSHOT = "/api/camera/snapshot"
SIZE = "width=640&height=480"
TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    content_type: str
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> dict[str, object]:
        value = json.loads(self.body)
        assert isinstance(value, dict)
        return value

    def error(self) -> tuple[int, str | None]:
        """(code, param) of a JSON error reply, after checking the envelope's shape."""
        envelope = self.json()
        assert envelope["success"] is False
        assert set(envelope) == {"success", "error"}
        error = envelope["error"]
        assert isinstance(error, dict)
        assert set(error) <= {"code", "param", "description"}
        assert isinstance(error["description"], str)
        return error["code"], error.get("param")


def exchange(
    url: str,
    method: str,
    target: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One request; a stream's body is its first multipart bytes, then the client leaves."""
    parts = urlsplit(url)
    assert parts.hostname is not None
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT_S)
    try:
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        content_type = response.getheader("Content-Type", "")
        data = response.read(4096) if content_type.startswith("multipart/") else response.read()
        return Reply(response.status, content_type, response.headers, data)
    finally:
        connection.close()


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def timecode(jpeg: bytes) -> tuple[str, int, int]:
    """(SOURCE, SEQ, CAPTURE_MS) read from the frame's QR code (docs/timecode.md)."""
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(jpeg)))
    texts = [r.text for r in results if r.text.startswith("SC1:")]
    assert len(texts) == 1, texts
    _, source, seq, capture_ms = texts[0].split(":")
    return source, int(seq), int(capture_ms)


def jpeg_size(reply: Reply) -> tuple[int, int]:
    assert reply.content_type == "image/jpeg"
    assert reply.body.startswith(b"\xff\xd8")
    assert reply.body.endswith(b"\xff\xd9")
    assert reply.headers["Content-Length"] == str(len(reply.body))
    with Image.open(io.BytesIO(reply.body)) as image:
        image.load()
        return image.size


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="module")
def device(clock: ManualClock) -> Iterator[DeviceThread]:
    """A device with 30 s of history whose time moves only when a test says so."""
    with DeviceThread(DeviceOptions(profile=PROFILE, preroll=True, clock=clock)) as running:
        yield running


@pytest.fixture(scope="module")
def url(device: DeviceThread) -> str:
    return device.url


# (method, path, query, form body) -> (code, param) of the JSON error, HTTP 200.
ERROR_ROWS: list[tuple[tuple[str, str, str, str | None], tuple[int, str | None]]] = [
    (("GET", SNAPSHOT, "width=641&height=480", None), (12, "width")),
    (("GET", SNAPSHOT, "width=480&height=640", None), (12, "width")),
    (("GET", SNAPSHOT, "height=480", None), (11, "width")),
    (("GET", SNAPSHOT, "width=640", None), (11, "height")),
    (("GET", SNAPSHOT, "", None), (11, "width")),
    (("GET", SNAPSHOT, "width=&height=480", None), (11, "width")),
    (("GET", SNAPSHOT, "width=abc&height=480", None), (12, "width")),
    (("GET", SNAPSHOT, "width=640&height=4.5", None), (12, "height")),
    (("GET", SNAPSHOT, "width=%FF&height=480", None), (12, "width")),
    (("GET", SNAPSHOT, "width=%ZZ&height=480", None), (12, "width")),
    (("GET", SNAPSHOT, SIZE + "&source=usb", None), (12, "source")),
    (("GET", SNAPSHOT, SIZE + "&source=Internal", None), (12, "source")),
    (("GET", SNAPSHOT, SIZE + "&fps=16", None), (12, "fps")),
    (("GET", SNAPSHOT, SIZE + "&fps=-1", None), (12, "fps")),
    (("GET", SNAPSHOT, SIZE + "&fps=fast", None), (12, "fps")),
    (("GET", SNAPSHOT, SIZE + "&time=-31", None), (12, "time")),
    (("GET", SNAPSHOT, SIZE + "&time=5", None), (12, "time")),
    (("GET", SNAPSHOT, SIZE + "&time=1764000000", None), (12, "time")),
    (("GET", SNAPSHOT, SIZE + "&time=now", None), (12, "time")),
    (("GET", SNAPSHOT, "width=320&width=640&height=480", None), (12, "width")),
    (("POST", SNAPSHOT, "", "width=641&height=480"), (12, "width")),
    (("POST", SNAPSHOT, "", "height=480"), (11, "width")),
    (("POST", SNAPSHOT, "", "width=640&height=480&source=%FF"), (12, "source")),
    (("POST", SNAPSHOT, "width=320", "width=640&height=480"), (12, "width")),
    (("PUT", SNAPSHOT, SIZE, None), (3, None)),
    (("DELETE", SNAPSHOT, SIZE, None), (3, None)),
    (("PATCH", SNAPSHOT, SIZE, None), (3, None)),
    (("OPTIONS", SNAPSHOT, SIZE, None), (3, None)),
    (("PUT", "/api/camera/caps", "", None), (3, None)),
    (("DELETE", "/api/system/info", "", None), (3, None)),
    (("GET", "/api/camera/snapshots", SIZE, None), (2, None)),
    (("GET", SNAPSHOT + "/", SIZE, None), (2, None)),
    (("GET", "/API/camera/snapshot", SIZE, None), (2, None)),
    (("GET", "/api", "", None), (2, None)),
    (("GET", "/", "", None), (2, None)),
    (("GET", "/index.html", "", None), (2, None)),
    (("PUT", "/nowhere", "", None), (2, None)),
    (("OPTIONS", "*", "", None), (2, None)),
]


@pytest.mark.parametrize(("ask", "expected"), ERROR_ROWS)
def test_errors_are_json_envelopes_with_http_200(
    url: str, ask: tuple[str, str, str, str | None], expected: tuple[int, str | None]
) -> None:
    method, path, query, body = ask
    target = f"{path}?{query}" if query else path
    headers = FORM if body is not None else None
    reply = exchange(url, method, target, body.encode() if body else None, headers)
    assert reply.status == 200
    assert reply.content_type == "application/json"
    assert reply.error() == expected


# (method, query, form body) -> the size of the single JPEG served.
JPEG_ROWS: list[tuple[str, str, str | None, tuple[int, int]]] = [
    ("GET", SIZE, None, (640, 480)),
    ("POST", SIZE, None, (640, 480)),
    ("POST", "", SIZE, (640, 480)),
    ("POST", "width=640", "height=480", (640, 480)),
    ("POST", SIZE, "width=320&height=240", (640, 480)),
    ("GET", SIZE + "&fps=0", None, (640, 480)),
    ("GET", SIZE + "&fps=0.5", None, (640, 480)),
    ("GET", SIZE + "&fps=", None, (640, 480)),
    ("GET", SIZE + "&source=external", None, (640, 480)),
    ("GET", SIZE + "&quality=50&foo", None, (640, 480)),
    ("GET", "width=640&width=320&height=480", None, (640, 480)),
    ("GET", SIZE + "&time=-5", None, (640, 480)),
    ("GET", SIZE + "&time=-5&fps=5", None, (640, 480)),
    ("GET", SIZE + "&time=-2.5", None, (640, 480)),
    ("GET", SIZE + "&time=0", None, (640, 480)),
    ("GET", SIZE + "&time=-30", None, (640, 480)),
    ("GET", "width=1280&height=960&time=-5", None, (1280, 960)),
    ("GET", "width=1280&height=720&time=-5", None, (1280, 720)),
    ("GET", "width=1920&height=1080&time=-5", None, (1280, 960)),
    ("GET", "width=1920&height=1080&time=-1&fps=10", None, (1280, 960)),
    ("GET", "width=1920&height=1080", None, (1920, 1080)),
]


@pytest.mark.parametrize(("method", "query", "body", "size"), JPEG_ROWS)
def test_single_jpeg_replies(
    url: str, method: str, query: str, body: str | None, size: tuple[int, int]
) -> None:
    headers = FORM if body is not None else None
    reply = exchange(url, method, f"{SNAPSHOT}?{query}", body.encode() if body else None, headers)
    assert reply.status == 200
    assert jpeg_size(reply) == size


@pytest.mark.parametrize("size", PROFILE.resolutions)
def test_every_advertised_size_is_served_exactly(url: str, size: tuple[int, int]) -> None:
    width, height = size
    assert jpeg_size(exchange(url, "GET", f"{SNAPSHOT}?width={width}&height={height}")) == size


@pytest.mark.parametrize(
    ("query", "source"),
    [
        (SIZE, "INTERNAL"),
        (SIZE + "&source=internal", "INTERNAL"),
        (SIZE + "&source=external", "EXTERNAL"),
    ],
)
def test_the_source_served_is_the_one_asked_or_the_default(
    url: str, query: str, source: str
) -> None:
    assert timecode(exchange(url, "GET", f"{SNAPSHOT}?{query}").body)[0] == source


@pytest.mark.parametrize(
    ("method", "query", "body"),
    [
        ("GET", SIZE + "&fps=5", None),
        ("GET", SIZE + "&fps=1", None),
        ("GET", SIZE + "&fps=2.5", None),
        ("GET", "width=160&height=120&fps=15", None),
        ("POST", "", SIZE + "&fps=5"),
    ],
)
def test_fps_of_one_or_more_streams_multipart(
    url: str, method: str, query: str, body: str | None
) -> None:
    headers = FORM if body is not None else None
    reply = exchange(url, method, f"{SNAPSHOT}?{query}", body.encode() if body else None, headers)
    assert reply.status == 200
    assert reply.content_type == MULTIPART
    assert reply.body.startswith(
        b"--snapcheckframe\r\nContent-Type: image/jpeg\r\nContent-Length: "
    )


def test_head_is_refused_as_a_method_with_headers_only(url: str) -> None:
    reply = exchange(url, "HEAD", f"{SNAPSHOT}?{SIZE}")
    assert (reply.status, reply.content_type, reply.body) == (200, "application/json", b"")


def test_caps_lists_the_profile_in_profile_order(url: str) -> None:
    for method in ("GET", "POST"):
        reply = exchange(url, method, "/api/camera/caps")
        assert (reply.status, reply.content_type) == (200, "application/json")
        assert reply.json() == {
            "success": True,
            "result": {
                "jpegResolution": [{"width": w, "height": h} for w, h in PROFILE.resolutions],
                "sources": [{"source": "internal"}, {"source": "external"}],
            },
        }


def test_system_info_carries_the_profile_fields(url: str) -> None:
    reply = exchange(url, "GET", "/api/system/info?ignored=1")
    assert reply.json() == {"success": True, "result": dict(PROFILE.system_info)}


@pytest.mark.parametrize(
    "target",
    [
        "/api/system/info",
        "/api/camera/caps",
        f"{SNAPSHOT}?{SIZE}",
        f"{SNAPSHOT}?{SIZE}&fps=5",
        f"{SNAPSHOT}?width=1&height=1",
        "/nowhere",
    ],
)
def test_every_reply_names_the_firmware_in_the_server_header(url: str, target: str) -> None:
    assert exchange(url, "GET", target).headers.get_all("Server") == [PROFILE.server_header]


def test_history_is_the_frame_captured_k_seconds_ago(
    device: DeviceThread, clock: ManualClock
) -> None:
    period_ms = 1000 / SOURCE_FPS
    for offset in (0, -1, -5, -12.5, -29):
        reply = exchange(device.url, "GET", f"{SNAPSHOT}?{SIZE}&time={offset}")
        _, _, capture_ms = timecode(reply.body)
        wanted_ms = (clock.now() + offset) * 1000
        assert abs(capture_ms - wanted_ms) <= period_ms, (offset, capture_ms, wanted_ms)


def test_live_frames_follow_the_clock(device: DeviceThread, clock: ManualClock) -> None:
    camera = device.device.camera
    _, before, _ = timecode(exchange(device.url, "GET", f"{SNAPSHOT}?{SIZE}").body)
    captured = camera.captured("internal")
    clock.advance(2 / SOURCE_FPS)
    assert camera.wait_captured("internal", captured + 2, TIMEOUT_S)
    _, after, _ = timecode(exchange(device.url, "GET", f"{SNAPSHOT}?{SIZE}").body)
    assert after == before + 2


def test_concurrent_identical_snapshots_share_one_encode(
    device: DeviceThread, clock: ManualClock
) -> None:
    camera = device.device.camera
    captured = camera.captured("internal")
    clock.advance(1 / SOURCE_FPS)  # a fresh frame nobody has asked for yet
    assert camera.wait_captured("internal", captured + 1, TIMEOUT_S)
    before = camera.encode_count
    barrier = threading.Barrier(2)
    bodies: list[bytes] = []

    def fetch() -> None:
        barrier.wait(TIMEOUT_S)
        bodies.append(exchange(device.url, "GET", f"{SNAPSHOT}?width=320&height=240").body)

    threads = [threading.Thread(target=fetch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT_S)
    assert len(bodies) == 2
    assert bodies[0] == bodies[1]
    assert camera.encode_count - before == 1


def test_history_shorter_than_asked_is_error_15() -> None:
    # Time has not moved since the device started: it remembers nothing yet.
    with DeviceThread(DeviceOptions(profile=PROFILE, clock=ManualClock())) as fresh:
        for query in (SIZE + "&time=-5", SIZE + "&time=-30"):
            reply = exchange(fresh.url, "GET", f"{SNAPSHOT}?{query}")
            assert (reply.content_type, reply.error()) == ("application/json", (15, None))


def test_an_unreachable_external_camera_is_error_15() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody answers
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    options = DeviceOptions(
        profile=PROFILE, clock=ManualClock(), external_url=f"http://127.0.0.1:{closed_port}/"
    )
    with DeviceThread(options) as unreachable:
        for query in (SIZE + "&source=external", SIZE + "&source=external&fps=5"):
            reply = exchange(unreachable.url, "GET", f"{SNAPSHOT}?{query}")
            assert (reply.content_type, reply.error()) == ("application/json", (15, None))
        assert jpeg_size(exchange(unreachable.url, "GET", f"{SNAPSHOT}?{SIZE}")) == (640, 480)


def test_a_form_body_too_big_is_error_13(url: str) -> None:
    body = SIZE + "&pad=" + "x" * (128 * 1024)
    reply = exchange(url, "POST", SNAPSHOT, body.encode(), FORM)
    assert (reply.status, reply.content_type, reply.error()) == (
        200,
        "application/json",
        (13, None),
    )


def test_a_multipart_form_body_is_not_read(url: str) -> None:
    body = '--b\r\nContent-Disposition: form-data; name="width"\r\n\r\n640\r\n--b--\r\n'
    headers = {"Content-Type": "multipart/form-data; boundary=b"}
    reply = exchange(url, "POST", f"{SNAPSHOT}?height=480", body.encode(), headers)
    assert reply.error() == (11, "width")


def send_raw(url: str, head: bytes, body: bytes) -> socket.socket:
    """Open a connection and write a hand-made request (for what http.client refuses)."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    connection = socket.create_connection((parts.hostname, parts.port), timeout=TIMEOUT_S)
    connection.sendall(head + b"\r\n\r\n" + body)
    return connection


def test_a_body_that_does_not_decode_is_error_12_not_a_device_fault() -> None:
    head = (
        b"POST /api/camera/snapshot HTTP/1.1\r\nHost: device\r\nConnection: close\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Encoding: gzip\r\n"
        b"Content-Length: 20"
    )
    with DeviceThread(DeviceOptions(profile=PROFILE, clock=ManualClock())) as running:
        with send_raw(running.url, head, b"width=640&height=480") as connection:
            reply = connection.makefile("rb").read()
        assert reply.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"\r\nContent-Type: application/json\r\n" in reply
        assert json.loads(reply.partition(b"\r\n\r\n")[2])["error"]["code"] == 12
        assert running.shutdown() == []


def test_a_client_leaving_mid_body_is_not_a_device_fault() -> None:
    head = (
        b"POST /api/camera/snapshot HTTP/1.1\r\nHost: device\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100"
    )
    with DeviceThread(DeviceOptions(profile=PROFILE, clock=ManualClock())) as running:
        idle = running.call(lambda: len(asyncio.all_tasks()))
        send_raw(running.url, head, b"width=640").close()
        deadline = time.monotonic() + TIMEOUT_S
        while running.call(lambda: len(asyncio.all_tasks())) > idle:
            assert time.monotonic() < deadline, "the request's task never ended"
            time.sleep(0.02)
        assert running.shutdown() == []


def test_an_unexpected_error_is_json_14_and_kept_for_the_caller(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken_encoder(*args: object) -> bytes:
        raise RuntimeError("encoder exploded")

    with DeviceThread(DeviceOptions(profile=PROFILE, clock=ManualClock())) as running:
        monkeypatch.setattr(running.device.camera, "jpeg", broken_encoder)
        reply = exchange(running.url, "GET", f"{SNAPSHOT}?{SIZE}")
        assert (reply.status, reply.content_type, reply.error()) == (
            200,
            "application/json",
            (14, None),
        )
        assert b"Traceback" not in reply.body
        assert b"exploded" not in reply.body
        errors = running.shutdown()
    assert [str(error) for error in errors] == ["encoder exploded"]


QUERY_CHARS = string.ascii_letters + string.digits + "%&=+-._~;,/ !*'()é"
NAMES = st.sampled_from(["width", "height", "source", "fps", "time", "quality"])
VALUES = st.sampled_from(
    ["640", "480", "320", "240", "internal", "external", "-5", "2.5", "0", "15", "16", "%FF"]
)
PAIR = st.tuples(
    st.one_of(NAMES, st.text(QUERY_CHARS, max_size=6)),
    st.one_of(VALUES, st.text(QUERY_CHARS, max_size=8)),
)


@settings(max_examples=150, deadline=None)
@given(
    pairs=st.lists(PAIR, max_size=6),
    raw=st.booleans(),
    where=st.sampled_from(["GET query", "POST query", "POST form"]),
    junk=st.binary(max_size=6),
)
def test_any_parameters_give_json_or_an_image_never_a_5xx(
    url: str, pairs: list[tuple[str, str]], raw: bool, where: str, junk: bytes
) -> None:
    # raw: the pieces go on the wire as generated (odd escapes and all), else percent-encoded.
    text = "&".join(f"{name}={value}" for name, value in pairs) if raw else urlencode(pairs)
    method, _, place = where.partition(" ")
    if place == "form":
        # A body may carry any bytes at all, invalid UTF-8 included.
        body = text.encode() + b"&source=" + junk
        reply = exchange(url, method, SNAPSHOT, body, FORM)
    else:
        query = text.replace(" ", "%20").replace("é", "%C3%A9")
        reply = exchange(url, method, f"{SNAPSHOT}?{query}")
    assert reply.status == 200
    if reply.content_type == "application/json":
        code, param = reply.error()
        assert code in (11, 12)
        assert param in ("width", "height", "source", "fps", "time")
    elif reply.content_type == MULTIPART:
        assert reply.body.startswith(b"--snapcheckframe\r\n")
    else:
        assert reply.content_type == "image/jpeg"
        assert reply.body.startswith(b"\xff\xd8")


def test_connect_is_refused_at_the_protocol_level_not_with_a_tunnel(url: str) -> None:
    reply = exchange(url, "CONNECT", "/api/camera/caps")
    assert (reply.status, reply.content_type) == (400, "text/plain; charset=utf-8")
    assert reply.headers["Connection"] == "close"
