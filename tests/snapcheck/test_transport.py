"""Tests of the transport against tiny scripted servers: correct, slow, lying and hostile."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from hostile_server import Connection, DigestDevice, response, running_server, self_signed_tls

from snapcheck.exchange import PartImage, Request
from snapcheck.transport import DEVICE_UNREACHABLE, Transport
from snapcheck.verdicts import UsageError

JPEG = b"\xff\xd8" + b"\x00" * 100 + b"\xff\xd9"
SNAPSHOT = "/api/camera/snapshot"
DEADLINE_S = 0.4


def _snapshot(transport: Transport, **params: str) -> Request:
    return transport.request(SNAPSHOT, tuple(params.items()))


def answer_jpeg(conn: Connection) -> None:
    conn.read_request()
    conn.send(response(headers=(("Content-Type", "image/jpeg"),), body=JPEG))


def test_a_correct_device_gives_a_clean_reply() -> None:
    with running_server(answer_jpeg) as server:
        transport = Transport(server.url)
        reply = transport.exchange(_snapshot(transport, width="640", height="480"))
    assert reply.transport_error is None
    assert (reply.status, reply.content_type, reply.body) == (200, "image/jpeg", JPEG)
    assert reply.first_byte_s is not None and reply.elapsed_s >= reply.first_byte_s >= 0
    assert reply.extra["after_body"] == "closed"
    sent = server.connections[0]
    assert sent.request_line == f"GET {SNAPSHOT}?width=640&height=480 HTTP/1.1"
    assert sent.header("Connection") == "close"
    assert sent.header("Authorization") is None


def test_a_raw_query_is_sent_exactly_as_given() -> None:
    with running_server(answer_jpeg) as server:
        transport = Transport(server.url + "/")
        raw = "width=640&width=320&fps=2.5&source=%41"
        transport.exchange(transport.request(SNAPSHOT, raw_query=raw))
    assert server.connections[0].request_line == f"GET {SNAPSHOT}?{raw} HTTP/1.1"


def test_post_with_a_form_sends_an_urlencoded_body() -> None:
    with running_server(answer_jpeg) as server:
        transport = Transport(server.url)
        form = (("width", "640"), ("height", "480"))
        reply = transport.exchange(transport.request(SNAPSHOT, method="POST", form=form))
    sent = server.connections[0]
    assert reply.status == 200
    assert sent.request_line == f"POST {SNAPSHOT} HTTP/1.1"
    assert sent.header("Content-Type") == "application/x-www-form-urlencoded"
    assert sent.body == b"width=640&height=480"


def test_a_chunked_body_is_reassembled() -> None:
    def chunked(conn: Connection) -> None:
        conn.read_request()
        head = response(headers=(("Transfer-Encoding", "chunked"),))
        conn.send(head + b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")

    with running_server(chunked) as server:
        transport = Transport(server.url)
        reply = transport.exchange(_snapshot(transport))
    assert (reply.body, reply.transport_error) == (b"abcde", None)


def stall(conn: Connection) -> None:
    conn.read_request()
    conn.wait(10)


def dribble_headers(conn: Connection) -> None:
    conn.read_request()
    for byte in response(body=JPEG):
        conn.send(bytes([byte]))
        if conn.wait(0.02):
            return


def long_content_length_then_close(conn: Connection) -> None:
    conn.read_request()
    conn.send(response(headers=(("Content-Length", "100"),), body=b"0123456789"))


def long_content_length_then_hang(conn: Connection) -> None:
    long_content_length_then_close(conn)
    conn.wait(10)


def short_content_length(conn: Connection) -> None:
    conn.read_request()
    conn.send(response(headers=(("Content-Length", "10"),), body=b"0123456789abcde"))


def endless_headers(conn: Connection) -> None:
    conn.read_request()
    conn.send(b"HTTP/1.1 200 OK\r\n")
    for index in range(1000):
        conn.send(f"X-Filler-{index}: yes\r\n".encode())


def endless_header_line(conn: Connection) -> None:
    conn.read_request()
    conn.send(b"HTTP/1.1 200 OK\r\nX-Long: ")
    for _ in range(100):
        conn.send(b"a" * 1024)


def reset_mid_body(conn: Connection) -> None:
    conn.read_request()
    conn.send(response(headers=(("Content-Length", "1000"),), body=b"x" * 300))
    conn.reset()


def garbage_status(conn: Connection) -> None:
    conn.read_request()
    conn.send(b"ICY 200 OK\r\n\r\n")


def close_without_reply(conn: Connection) -> None:
    conn.read_request()


@pytest.mark.parametrize(
    ("handler", "error", "body"),
    [
        (stall, r"(exceeded the overall deadline of 0.4 s|no byte for 0.4 s) while waiting", b""),
        (dribble_headers, r"exceeded the overall deadline of 0.4 s while reading the status", b""),
        (long_content_length_then_close, r"after 10 of the 100 bytes", b"0123456789"),
        (
            long_content_length_then_hang,
            r"(deadline of 0.4 s|no byte for 0.4 s) while reading the body \(after 10 bytes\)",
            b"0123456789",
        ),
        (short_content_length, r"5 bytes followed the 10 bytes", b"0123456789"),
        (endless_headers, r"malformed HTTP .*got more than 100 headers", b""),
        (endless_header_line, r"a status or header line is too long", b""),
        (reset_mid_body, r"connection reset by the device while reading the body", b"x" * 300),
        (garbage_status, r"malformed status line", b""),
        (close_without_reply, r"closed the connection without replying", b""),
    ],
)
def test_a_misbehaving_device_yields_a_reply_with_a_transport_error(
    handler: object, error: str, body: bytes
) -> None:
    with running_server(handler) as server:  # type: ignore[arg-type]
        transport = Transport(server.url, timeout_s=DEADLINE_S)
        reply = transport.exchange(_snapshot(transport))
    assert reply.transport_error is not None
    assert re.search(error, reply.transport_error), reply.transport_error
    assert reply.body == body


def test_a_body_over_the_limit_is_cut_off() -> None:
    def big(conn: Connection) -> None:
        conn.read_request()
        conn.send(response(body=b"z" * 5000))

    with running_server(big) as server:
        transport = Transport(server.url, max_body_bytes=1000)
        reply = transport.exchange(_snapshot(transport))
    assert reply.transport_error == "the body is larger than 1000 bytes; cut off"
    assert len(reply.body) == 1000


def test_a_redirect_is_recorded_and_not_followed() -> None:
    def redirect(conn: Connection) -> None:
        conn.read_request()
        conn.send(response("302 Found", (("Location", "http://elsewhere.invalid/x"),)))

    with running_server(redirect) as server:
        transport = Transport(server.url)
        reply = transport.exchange(_snapshot(transport))
    assert reply.status == 302
    assert reply.transport_error == "redirect (302) to http://elsewhere.invalid/x not followed"
    assert len(server.connections) == 1


def test_tls_without_verification_records_the_certificate_fingerprint(tmp_path: Path) -> None:
    context, fingerprint = self_signed_tls(tmp_path)
    with running_server(answer_jpeg, tls=context) as server:
        transport = Transport(server.url)
        reply = transport.exchange(_snapshot(transport))
    assert (reply.status, reply.transport_error) == (200, None)
    assert reply.tls_certificate_sha256 == fingerprint


def test_tls_with_verification_refuses_a_self_signed_certificate(tmp_path: Path) -> None:
    context, _ = self_signed_tls(tmp_path)
    with running_server(answer_jpeg, tls=context) as server:
        transport = Transport(server.url, verify_tls=True, timeout_s=2)
        reply = transport.exchange(_snapshot(transport))
    assert reply.status == 0
    assert reply.transport_error is not None
    assert reply.transport_error.startswith("TLS error while connecting")
    assert "CERTIFICATE_VERIFY_FAILED" in reply.transport_error


def test_the_breaker_declares_a_silent_device_unreachable() -> None:
    with running_server(stall) as server:
        transport = Transport(server.url, timeout_s=0.2, failure_threshold=3)
        replies = [transport.exchange(_snapshot(transport)) for _ in range(5)]
        assert transport.unreachable
        assert len(server.connections) == 3
    assert [r.transport_error == DEVICE_UNREACHABLE for r in replies] == [False] * 3 + [True] * 2


def test_a_refused_connection_counts_towards_the_breaker() -> None:
    with running_server(answer_jpeg) as server:
        url = server.url
    transport = Transport(url, failure_threshold=2)
    first = transport.exchange(_snapshot(transport))
    assert first.transport_error == "connection refused while connecting"
    assert not transport.unreachable
    transport.exchange(_snapshot(transport))
    assert transport.unreachable


def test_any_reply_resets_the_breaker() -> None:
    calls = iter(["stall", "answer", "stall", "answer", "stall"])

    def sometimes(conn: Connection) -> None:
        (stall if next(calls) == "stall" else answer_jpeg)(conn)

    with running_server(sometimes) as server:
        transport = Transport(server.url, timeout_s=0.2, failure_threshold=2)
        for _ in range(5):
            transport.exchange(_snapshot(transport))
        assert not transport.unreachable


def test_the_rate_limit_paces_exchanges_with_the_injected_clock() -> None:
    slept: list[float] = []
    with running_server(answer_jpeg) as server:
        transport = Transport(
            server.url, rate_limit_per_s=2.0, clock=lambda: 50.0, sleep=slept.append
        )
        for _ in range(3):
            assert transport.exchange(_snapshot(transport)).status == 200
    assert slept == [0.5, 1.0]


def test_concurrent_exchanges_from_threads_all_complete() -> None:
    with running_server(answer_jpeg) as server:
        transport = Transport(server.url)
        statuses: list[int] = []
        threads = [
            threading.Thread(
                target=lambda: statuses.append(transport.exchange(_snapshot(transport)).status)
            )
            for _ in range(6)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert statuses == [200] * 6


@pytest.mark.parametrize(
    "base_url",
    [
        "ftp://device",
        "http://",
        "http://device:99999",
        "http://device/?q=1",
        "device:80",
        "http://admin:secret@device",
    ],
)
def test_a_malformed_base_url_is_a_usage_error(base_url: str) -> None:
    with pytest.raises(UsageError):
        Transport(base_url)


@pytest.mark.parametrize(
    "request_",
    [
        Request("GET", "http://127.0.0.1:9", "/a b"),
        Request("GET", "http://127.0.0.1:9", "/a", raw_query="x=\r\n"),
        Request("GET", "http://127.0.0.1:9", "/a", headers=(("X-Bad", "a\r\nb"),)),
        Request("GET", "http://127.0.0.1:9", "/a", headers=(("Bad Name", "v"),)),
    ],
)
def test_a_request_that_cannot_be_sent_is_a_usage_error(request_: Request) -> None:
    transport = Transport("http://127.0.0.1:9")
    with pytest.raises(UsageError, match="cannot send"):
        transport.exchange(request_)


def test_a_request_for_another_device_is_refused() -> None:
    with pytest.raises(ValueError, match="transport for"):
        Transport("http://127.0.0.1:9").exchange(Request("GET", "http://other:9", "/"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"auth_method": "ntlm"}, "auth_method"), ({"timeout_s": 0}, "positive")],
)
def test_bad_transport_settings_are_our_error(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Transport("http://127.0.0.1:9", **kwargs)  # type: ignore[arg-type]


def test_the_password_never_appears_in_the_transport_or_its_replies() -> None:
    with running_server(answer_jpeg) as server:
        transport = Transport(server.url, user="admin", password="s3cret", auth_method="basic")
        reply = transport.exchange(_snapshot(transport))
    assert "s3cret" not in repr(transport)
    assert "s3cret" not in repr(reply.request)
    assert reply.request.user == "admin" and reply.request.auth_method == "basic"
    assert server.connections[0].header("Authorization") == "Basic YWRtaW46czNjcmV0"


@pytest.mark.parametrize("method", ["auto", "digest"])
@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_digest_answers_the_challenge_and_counts_nonces(method: str, algorithm: str) -> None:
    device = DigestDevice(algorithm)
    with running_server(device) as server:
        transport = Transport(
            server.url, user=device.user, password=device.password, auth_method=method
        )
        first = transport.exchange(_snapshot(transport, width="640"))
        second = transport.exchange(_snapshot(transport, width="320"))
    assert (first.status, second.status) == (200, 200)
    assert first.request.auth_method == "digest" and first.request.user == "Mufasa"
    assert len(server.connections) == 3, "one challenge, then pre-emptive answers"
    assert [seen["nc"] for seen in device.seen] == ["00000001", "00000002"]
    assert device.seen[0]["algorithm"] == algorithm


def test_a_stale_nonce_is_renewed_once() -> None:
    device = DigestDevice()
    with running_server(device) as server:
        transport = Transport(
            server.url, user=device.user, password=device.password, auth_method="auto"
        )
        transport.exchange(_snapshot(transport))
        device.rotate()
        reply = transport.exchange(_snapshot(transport))
    assert reply.status == 200
    assert [seen["nonce"] == device.nonce for seen in device.seen] == [False, False, True]


def test_a_wrong_password_ends_with_the_devices_401() -> None:
    device = DigestDevice()
    with running_server(device) as server:
        transport = Transport(server.url, user=device.user, password="wrong", auth_method="digest")
        reply = transport.exchange(_snapshot(transport))
    assert reply.status == 401
    assert reply.transport_error is None
    assert len(server.connections) == 2


def test_a_replayed_nonce_count_can_be_sent_on_purpose() -> None:
    device = DigestDevice()
    with running_server(device) as server:
        transport = Transport(
            server.url, user=device.user, password=device.password, auth_method="auto"
        )
        request = _snapshot(transport)
        assert transport.exchange(request).status == 200
        digest = transport.digest_auth
        assert digest is not None
        replay = digest.authorization("GET", transport.target(request), nc=1)
        reply = transport.exchange(request, authorization=replay)
    assert reply.status == 401, "the device refused the replayed nc"
    assert reply.request.auth_method == "digest"
    assert device.seen[-1]["nc"] == "00000001"


def test_basic_refused_by_a_digest_only_device_is_final_and_noted() -> None:
    device = DigestDevice()
    with running_server(device) as server:
        transport = Transport(server.url, user="Mufasa", password="x", auth_method="basic")
        reply = transport.exchange(_snapshot(transport))
    assert reply.status == 401
    assert len(server.connections) == 1
    assert (server.connections[0].header("Authorization") or "").startswith("Basic ")
    assert reply.extra["auth_notes"] == ("cannot answer with basic: the device offered digest",)


def test_a_malformed_challenge_becomes_a_note() -> None:
    def broken(conn: Connection) -> None:
        conn.read_request()
        conn.send(response("401 Unauthorized", (("WWW-Authenticate", 'Digest realm="x'),)))

    with running_server(broken) as server:
        transport = Transport(server.url, user="u", password="p", auth_method="auto")
        reply = transport.exchange(_snapshot(transport))
    assert reply.status == 401
    notes = reply.extra["auth_notes"]
    assert isinstance(notes, tuple) and any("unterminated" in note for note in notes)


BOUNDARY = "frame"
STREAM_TYPE = f"multipart/x-mixed-replace; boundary={BOUNDARY}"


def _part(body: bytes = JPEG) -> bytes:
    head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body + b"\r\n"


def _stream_head() -> bytes:
    return f"HTTP/1.1 200 OK\r\nContent-Type: {STREAM_TYPE}\r\nConnection: close\r\n\r\n".encode()


def three_parts(conn: Connection) -> None:
    conn.read_request()
    conn.send(_stream_head() + _part() * 3)


def endless_stream(conn: Connection) -> None:
    conn.read_request()
    conn.send(_stream_head())
    while not conn.wait(0.02):
        conn.send(_part())


def one_part_then_reset(conn: Connection) -> None:
    conn.read_request()
    conn.send(_stream_head() + _part() + _part()[:40])
    conn.reset()


def one_part_then_stall(conn: Connection) -> None:
    conn.read_request()
    conn.send(_stream_head() + _part())
    conn.wait(10)


def test_a_stream_is_read_part_by_part_until_the_device_closes() -> None:
    seen: list[int] = []
    analysed: list[bytes] = []

    def analyse(body: bytes) -> PartImage:
        analysed.append(body)
        return PartImage(width=len(body))

    with running_server(three_parts) as server:
        transport = Transport(server.url)
        request = _snapshot(transport, width="640", height="480", fps="5")
        reply = transport.stream(
            request,
            5.0,
            lambda part: seen.append(part.index),
            analyse=analyse,
        )
    assert (reply.status, reply.content_type, reply.transport_error) == (
        200,
        "multipart/x-mixed-replace",
        None,
    )
    assert reply.stream_ended_by == "eof"
    assert [part.size for part in reply.parts] == [len(JPEG)] * 3
    assert seen == [0, 1, 2]
    assert analysed == [JPEG] * 3
    assert [part.image for part in reply.parts] == [PartImage(width=len(JPEG))] * 3
    assert reply.body == b""
    assert reply.request.timeout_s == 5.0


def test_an_endless_stream_is_cut_at_the_window() -> None:
    with running_server(endless_stream) as server:
        transport = Transport(server.url)
        reply = transport.stream(_snapshot(transport, fps="5"), 0.3)
    assert reply.stream_ended_by == "window"
    assert reply.transport_error is None
    assert len(reply.parts) >= 1


@pytest.mark.parametrize(
    ("handler", "ended_by", "error"),
    [
        (one_part_then_reset, "error", "connection reset by the device while reading the stream"),
        (one_part_then_stall, "timeout", "no byte for 0.3 s while reading the stream"),
    ],
)
def test_a_stream_that_breaks_says_how(handler: object, ended_by: str, error: str) -> None:
    with running_server(handler) as server:  # type: ignore[arg-type]
        transport = Transport(server.url, timeout_s=0.3)
        reply = transport.stream(_snapshot(transport, fps="5"), 5.0)
    assert reply.stream_ended_by == ended_by
    assert reply.transport_error is not None and reply.transport_error.startswith(error)
    assert len(reply.parts) >= 1


def test_a_stream_where_one_image_was_expected_is_read_briefly() -> None:
    with running_server(endless_stream) as server:
        transport = Transport(server.url, timeout_s=0.3)
        reply = transport.exchange(_snapshot(transport))
    assert reply.extra["unexpected_stream"] is True
    assert reply.stream_ended_by == "window"
    assert len(reply.parts) >= 1


def test_a_single_image_where_a_stream_was_asked_is_a_single_body() -> None:
    with running_server(answer_jpeg) as server:
        transport = Transport(server.url)
        reply = transport.stream(_snapshot(transport, fps="5"), 2.0)
    assert (reply.body, reply.parts, reply.stream_ended_by) == (JPEG, (), None)
