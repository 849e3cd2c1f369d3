"""The device's limits: concurrent streams (error 18 beyond them) and a request's time to arrive.

``StreamLimit`` is tested on plain objects; the limit as a client meets it, over real
HTTP against the device on 127.0.0.1 port 0. Slow heads and bodies over raw sockets are
in tests/robustness/test_device_raw_http.py.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

import pytest

from reference_device import DeviceOptions, DeviceThread
from reference_device.envelope import ErrorCode
from reference_device.limits import StreamLimit
from reference_device.profile import load_profile
from reference_device.server import OptionsError

STREAM = "/api/camera/snapshot?width=160&height=120&fps=2"
TIMEOUT_S = 10.0


@dataclass(eq=False)
class Client:
    """A stand-in for a stream's request: open until it leaves."""

    open: bool = True


@dataclass
class Limited:
    """A limit over clients, and the clients it has seen."""

    limit: StreamLimit[Client]
    clients: list[Client] = field(default_factory=list)

    def ask(self) -> tuple[Client, bool]:
        client = Client()
        self.clients.append(client)
        return client, self.limit.admit(client) is None


def limited(limit: int | None) -> Limited:
    return Limited(StreamLimit[Client](limit, lambda client: client.open))


def test_streams_are_admitted_up_to_the_limit_then_refused_with_error_18() -> None:
    streams = limited(2)
    assert [streams.ask()[1] for _ in range(3)] == [True, True, False]
    refusal = streams.limit.admit(Client())
    assert refusal is not None
    assert refusal.code is ErrorCode.REJECTED
    assert refusal.param is None
    assert "at most 2 at once" in refusal.text
    assert streams.limit.open == 2


def test_a_client_that_left_frees_its_slot_before_its_stream_is_released() -> None:
    streams = limited(1)
    first, admitted = streams.ask()
    assert admitted
    first.open = False  # gone, but its handler has not noticed yet
    assert streams.ask()[1]


def test_a_released_stream_frees_its_slot_and_unknown_holders_are_ignored() -> None:
    streams = limited(1)
    first, _ = streams.ask()
    streams.limit.release(Client())
    assert not streams.ask()[1]
    streams.limit.release(first)
    assert streams.ask()[1]


def test_a_slot_is_released_when_its_block_ends_and_a_refusal_holds_none() -> None:
    streams = limited(1)
    with streams.limit.slot(Client()) as refusal:
        assert refusal is None
        with streams.limit.slot(Client()) as second:
            assert second is not None and second.code is ErrorCode.REJECTED
        assert streams.limit.open == 1
    assert streams.limit.open == 0


def test_without_a_limit_every_stream_is_admitted() -> None:
    streams = limited(None)
    assert all(streams.ask()[1] for _ in range(100))


@pytest.mark.parametrize("limit", [0, -1])
def test_a_limit_below_one_is_refused(limit: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        StreamLimit[Client](limit, lambda client: client.open)


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"max_streams": 0}, "--max-streams is >= 1"),
        ({"request_timeout_s": 0.0}, "the request timeout must be > 0"),
        ({"request_timeout_s": float("inf")}, "the request timeout must be > 0"),
    ],
)
def test_bad_limits_are_option_errors(options: dict[str, float], problem: str) -> None:
    with pytest.raises(OptionsError, match=problem):
        DeviceOptions(**options)  # type: ignore[arg-type]


# ---- over the wire


@dataclass
class Opened:
    """A stream request as the client sees it: status, media type, and a JSON body if any."""

    connection: http.client.HTTPConnection
    response: http.client.HTTPResponse
    status: int
    content_type: str
    document: object | None


def open_stream(url: str) -> Opened:
    """Ask for a stream and read its head (a JSON refusal is read whole); keep it open."""
    parts = urlsplit(url)
    assert parts.hostname is not None
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT_S)
    connection.request("GET", STREAM)
    response = connection.getresponse()
    content_type = response.getheader("Content-Type", "")
    document = json.loads(response.read()) if content_type == "application/json" else None
    return Opened(connection, response, response.status, content_type, document)


def close(opened: Opened) -> None:
    """Leave: the device sees the connection close."""
    opened.response.close()
    opened.connection.close()


@contextmanager
def streams(url: str, count: int) -> Iterator[list[Opened]]:
    """``count`` stream requests held open for the block."""
    with ExitStack() as stack:
        opened = []
        for _ in range(count):
            opened.append(open_stream(url))
            stack.callback(close, opened[-1])
        yield opened


def is_stream(opened: Opened) -> bool:
    return opened.status == 200 and opened.content_type.startswith("multipart/x-mixed-replace")


def is_refusal(opened: Opened) -> bool:
    """HTTP 200 with the envelope and code 18, as limits.py decides."""
    document = opened.document
    return (
        opened.status == 200
        and isinstance(document, dict)
        and document.get("success") is False
        and isinstance(document.get("error"), dict)
        and document["error"].get("code") == 18
    )


@pytest.fixture(scope="module")
def limited_device() -> Iterator[DeviceThread]:
    """The default profile limited to two streams by DeviceOptions."""
    with DeviceThread(DeviceOptions(max_streams=2)) as running:
        yield running


def test_the_stream_beyond_the_limit_is_refused_with_json_error_18(
    limited_device: DeviceThread,
) -> None:
    with streams(limited_device.url, 3) as opened:
        assert [is_stream(o) for o in opened] == [True, True, False]
        assert is_refusal(opened[2])
        assert limited_device.call(lambda: limited_device.device.stream_limit.open) == 2


def test_a_client_that_ends_its_stream_may_open_the_next_at_once(
    limited_device: DeviceThread,
) -> None:
    with streams(limited_device.url, 2) as opened:
        close(opened[1])
        with streams(limited_device.url, 1) as again:
            assert is_stream(again[0])


def test_snapshots_are_served_while_every_stream_slot_is_taken(
    limited_device: DeviceThread,
) -> None:
    with streams(limited_device.url, 2):
        parts = urlsplit(limited_device.url)
        assert parts.hostname is not None
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT_S)
        try:
            connection.request("GET", "/api/camera/snapshot?width=160&height=120")
            response = connection.getresponse()
            assert (response.status, response.getheader("Content-Type")) == (200, "image/jpeg")
            assert response.read().startswith(b"\xff\xd8")
        finally:
            connection.close()


def test_the_profile_limit_applies_unless_the_options_set_another() -> None:
    profile = replace(load_profile("minimal"), max_streams=1)
    with DeviceThread(DeviceOptions(profile=profile)) as running, streams(running.url, 2) as got:
        assert [is_stream(o) for o in got] == [True, False]
    with (
        DeviceThread(DeviceOptions(profile=profile, max_streams=2)) as running,
        streams(running.url, 2) as got,
    ):
        assert [is_stream(o) for o in got] == [True, True]


# ---- a request's time to arrive

SHORT_TIMEOUT_S = 0.5
HEAD = b"GET /api/camera/caps HTTP/1.1\r\nHost: device\r\n"
SLOW_BODY = (
    b"POST /api/camera/snapshot HTTP/1.1\r\nHost: device\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nwidth="
)


@pytest.fixture(scope="module")
def impatient_device() -> Iterator[DeviceThread]:
    """A device that waits only half a second for a request's head and for its body."""
    with DeviceThread(DeviceOptions(request_timeout_s=SHORT_TIMEOUT_S)) as running:
        yield running


def connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return socket.create_connection((parts.hostname, parts.port), timeout=TIMEOUT_S)


def read_all(sock: socket.socket) -> bytes:
    """Everything the device sends until it closes (bounded by the socket's timeout)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_a_head_dribbled_past_the_timeout_is_cut_off_without_a_reply(
    impatient_device: DeviceThread,
) -> None:
    with connect(impatient_device.url) as sock:
        sock.sendall(HEAD)
        sock.settimeout(SHORT_TIMEOUT_S / 5)
        received = b""
        # One header line per tenth of a second, never the blank line that ends the head.
        for index in range(int(TIMEOUT_S / (SHORT_TIMEOUT_S / 5))):
            try:
                sock.sendall(f"X-Dribble-{index}: 1\r\n".encode())
                received = sock.recv(1)
            except TimeoutError:
                continue
            except ConnectionError:
                received = b""
            break
        assert received == b""  # closed by the device, nothing sent


def test_an_idle_connection_is_closed_by_the_device(impatient_device: DeviceThread) -> None:
    with connect(impatient_device.url) as sock:
        assert read_all(sock) == b""


def test_a_form_body_that_stops_short_is_answered_with_error_14(
    impatient_device: DeviceThread,
) -> None:
    with connect(impatient_device.url) as sock:
        sock.sendall(SLOW_BODY)
        # aiohttp lingers a while for the unread body before closing: read the reply only.
        reply = http.client.HTTPResponse(sock)
        reply.begin()
        body = reply.read()
    assert reply.status == 200
    assert json.loads(body)["error"]["code"] == 14
