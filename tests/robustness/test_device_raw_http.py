"""The reference device against broken HTTP framing over raw sockets, slow clients and crowds.

Three kinds of abuse, each followed by a correct snapshot and no error kept by the device:

- Framing no library would send: a table of known cases (HTTP/2 and TLS bytes on the
  plain port, conflicting or negative lengths, bad chunks, a deflate bomb, pipelining,
  ...) and Hypothesis for requests cut at any byte and for garbage. Each answer is one
  ``raw_http.answer_problems`` allows.
- Slowloris: fifty clients dribble a header line at a time while another client takes
  snapshots; every snapshot is served, and every dribbler is cut off once the device's
  request timeout passes (2 s here, so that the test stays short; 10 s by default,
  limits.py), without any reply.
- A thousand idle connections: the device (its own process, so that the two ends of a
  thousand connections do not share one file limit) keeps serving, and releases the
  connections when their clients leave. The soft limit on open files is raised for the
  test when it is too low (``resource.setrlimit``), never above the hard limit.
"""

from __future__ import annotations

import contextlib
import resource
import selectors
import socket
import threading
import time
import zlib
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from raw_http import Address, answer_problems, send_raw, snapshot_problems

from benchmarks.device_process import DeviceProcess
from benchmarks.wire import loopback_address
from reference_device import DeviceOptions, DeviceThread

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FORM = b"Content-Type: application/x-www-form-urlencoded\r\n"
GET_SNAPSHOT = b"GET /api/camera/snapshot?width=160&height=120 HTTP/1.1\r\nHost: d\r\n\r\n"
POST_FORM = (
    b"POST /api/camera/snapshot HTTP/1.1\r\nHost: d\r\n" + FORM + b"Content-Length: 20\r\n\r\n"
    b"width=160&height=120"
)
POST_CHUNKED = (
    b"POST /api/camera/snapshot HTTP/1.1\r\nHost: d\r\n" + FORM
    + b"Transfer-Encoding: chunked\r\n\r\n14\r\nwidth=160&height=120\r\n0\r\n\r\n"
)  # fmt: skip
BOMB = zlib.compress(b"width=160&" * 2_000_000)  # 20 MB of form from 20 KB on the wire


def _post(headers: bytes, body: bytes) -> bytes:
    return b"POST /api/camera/snapshot HTTP/1.1\r\nHost: d\r\n" + FORM + headers + b"\r\n" + body


def _get(target: bytes, headers: bytes = b"Host: d\r\n", version: bytes = b" HTTP/1.1") -> bytes:
    return b"GET " + target + version + b"\r\n" + headers + b"\r\n"


def length(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n" % len(body)


CHUNKED = b"Transfer-Encoding: chunked\r\n"
CAPS = b"/api/camera/caps"
# (case, bytes sent, whether to end our side after sending)
FRAMING: list[tuple[str, bytes, bool]] = [
    ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", False),
    ("TLS ClientHello on the plain port", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", True),
    ("HTTP/2.0 on an HTTP/1 line", _get(CAPS, version=b" HTTP/2.0"), False),
    ("HTTP/0.9 request", _get(CAPS, b"", version=b""), False),
    ("bare LF line ends", GET_SNAPSHOT.replace(b"\r\n", b"\n"), False),
    ("no Host, HTTP/1.0", _get(CAPS, b"", version=b" HTTP/1.0"), False),
    ("Content-Length and chunked", _post(b"Content-Length: 3\r\n" + CHUNKED, b"0\r\n\r\n"), False),
    ("two Content-Lengths", _post(b"Content-Length: 3\r\nContent-Length: 4\r\n", b"abcd"), False),
    ("negative Content-Length", _post(b"Content-Length: -1\r\n", b""), False),
    ("huge Content-Length", _post(b"Content-Length: 99999999999999999999\r\n", b""), True),
    ("bad chunk size", _post(CHUNKED, b"zz\r\nab\r\n0\r\n\r\n"), False),
    ("chunk without its end", _post(CHUNKED, b"ff\r\nwidth="), True),
    ("body shorter than its length", _post(b"Content-Length: 100\r\n", b"width=160"), True),
    ("a request smuggled after the body", POST_FORM + _get(CAPS), False),
    ("pipelined requests", GET_SNAPSHOT + GET_SNAPSHOT + _get(b"/api/system/info"), False),
    ("not gzip", _post(b"Content-Encoding: gzip\r\n" + length(b"abcd"), b"abcd"), False),
    ("deflate bomb", _post(b"Content-Encoding: deflate\r\n" + length(BOMB), BOMB), False),
    ("unknown Transfer-Encoding", _post(b"Transfer-Encoding: gzip, identity\r\n", b""), True),
    ("Expect: 100-continue", POST_FORM.replace(FORM, FORM + b"Expect: 100-continue\r\n"), False),
    ("absolute-form target", _get(b"http://elsewhere" + CAPS), False),
    ("CONNECT", b"CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: d\r\n\r\n", False),
    ("websocket upgrade", _get(CAPS, b"Upgrade: websocket\r\nConnection: Upgrade\r\n"), False),
    ("NUL in the target", _get(b"/api/camera/snap\x00shot"), False),
    ("only a blank line", b"\r\n\r\n", True),
    ("nothing, then close", b"", True),
]  # fmt: skip


@pytest.fixture(scope="module")
def device() -> Iterator[DeviceThread]:
    """The default reference device, waiting 2 s for a request's head and body."""
    with DeviceThread(DeviceOptions(request_timeout_s=SLOW_TIMEOUT_S)) as running:
        yield running


def assert_still_serving(running: DeviceThread) -> None:
    """No error kept by the device, and a correct snapshot now."""
    assert running.call(lambda: list(running.device.errors)) == []
    assert snapshot_problems(loopback_address(running.url)) == []


@pytest.mark.parametrize(
    ("sent", "half_close"), [c[1:] for c in FRAMING], ids=[c[0] for c in FRAMING]
)
def test_broken_framing_is_refused_or_answered(
    device: DeviceThread, sent: bytes, half_close: bool
) -> None:
    reply = send_raw(loopback_address(device.url), sent, half_close=half_close)
    assert answer_problems(reply, sent) == [], reply.raw[:300]
    assert_still_serving(device)


@FUZZ
@given(
    request=st.sampled_from((GET_SNAPSHOT, POST_FORM, POST_CHUNKED)),
    cut=st.floats(0.0, 1.0, exclude_max=True),
    half_close=st.booleans(),
)
def test_a_request_cut_anywhere_is_refused_or_dropped(
    device: DeviceThread, request: bytes, cut: float, half_close: bool
) -> None:
    sent = request[: int(len(request) * cut)]
    if half_close:
        reply = send_raw(loopback_address(device.url), sent, half_close=True)
        assert answer_problems(reply, sent) == [], reply.raw[:300]
    else:
        # The client vanishes: nobody reads an answer, and the device must not mind.
        with socket.create_connection(loopback_address(device.url), timeout=5) as sock:
            sock.sendall(sent)
    assert_still_serving(device)


@FUZZ
@given(garbage=st.binary(min_size=1, max_size=4096), prefix=st.sampled_from((b"", b"GET ")))
def test_garbage_is_refused(device: DeviceThread, garbage: bytes, prefix: bytes) -> None:
    sent = prefix + garbage
    reply = send_raw(loopback_address(device.url), sent, half_close=True)
    assert answer_problems(reply, sent) == [], reply.raw[:300]
    assert_still_serving(device)


# ---- slowloris

SLOW_TIMEOUT_S = 2.0
DRIBBLERS = 50
DRIBBLE_EVERY_S = 0.2
# How long a dribbler may outlive the device's timeout before the test calls it kept.
CUT_OFF_GRACE_S = 8.0


def _dribble_until_cut_off(address: Address) -> list[bytes]:
    """Fifty clients that send a header line every 0.2 s; what each got when cut off."""
    socks = [socket.create_connection(address, timeout=5) for _ in range(DRIBBLERS)]
    got: dict[socket.socket, bytes] = {}
    deadline = time.monotonic() + SLOW_TIMEOUT_S + CUT_OFF_GRACE_S
    with selectors.DefaultSelector() as selector:
        for sock in socks:
            sock.sendall(b"GET /api/camera/caps HTTP/1.1\r\nHost: d\r\n")
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
        line = 0
        while len(got) < DRIBBLERS and time.monotonic() < deadline:
            for key, _ in selector.select(DRIBBLE_EVERY_S):
                closing = key.fileobj
                assert isinstance(closing, socket.socket)
                got[closing] = _drain(closing)
                selector.unregister(closing)
            line += 1
            for sock in set(socks) - set(got):
                _send_quietly(sock, b"X-Dribble-%d: 1\r\n" % line)
    for sock in socks:
        sock.close()
    assert len(got) == DRIBBLERS, f"{DRIBBLERS - len(got)} dribblers still connected"
    return list(got.values())


def _drain(sock: socket.socket) -> bytes:
    """What a closing connection still delivers (b"" when it just closed)."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (BlockingIOError, ConnectionError):
        pass
    return data


def _send_quietly(sock: socket.socket, data: bytes) -> None:
    # Cut off meanwhile: the selector reports it.
    with contextlib.suppress(BlockingIOError, ConnectionError):
        sock.send(data)


def test_dribbling_clients_starve_nobody_and_are_cut_off(device: DeviceThread) -> None:
    address = loopback_address(device.url)
    served: list[list[str]] = []

    def snapshots() -> None:
        while len(served) < 10:
            served.append(snapshot_problems(address))

    taker = threading.Thread(target=snapshots)
    taker.start()
    answers = _dribble_until_cut_off(address)
    taker.join(30)
    assert not taker.is_alive()
    assert served == [[]] * 10
    assert answers == [b""] * DRIBBLERS  # cut off without a reply
    assert_still_serving(device)


# ---- a thousand idle connections

IDLE_CONNECTIONS = 1000
FILE_MARGIN = 200


@pytest.fixture
def enough_open_files() -> Iterator[None]:
    """Raise the soft limit on open files to what the test needs (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = IDLE_CONNECTIONS + FILE_MARGIN
    unlimited = resource.RLIM_INFINITY
    if soft != unlimited and soft < needed:
        if hard != unlimited and hard < needed:
            raise RuntimeError(f"the hard limit on open files ({hard}) is below {needed}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_thousand_idle_connections_do_not_stop_the_device(enough_open_files: None) -> None:
    with DeviceProcess("--profile", "minimal") as process:
        address = loopback_address(process.url)
        probe = process.probe
        before = probe.open_files()
        idle = [socket.create_connection(address, timeout=10) for _ in range(IDLE_CONNECTIONS)]
        try:
            assert snapshot_problems(address) == []
            held = probe.open_files()
        finally:
            for sock in idle:
                sock.close()
        assert held >= before + IDLE_CONNECTIONS
        deadline = time.monotonic() + 30
        while probe.open_files() > before + 10 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert probe.open_files() <= before + 10, "the device kept the closed connections"
        assert snapshot_problems(address) == []
