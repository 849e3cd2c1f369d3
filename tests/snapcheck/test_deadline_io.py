"""Tests of deadline-bounded socket reads and of the failure descriptions."""

from __future__ import annotations

import http.client
import socket
import ssl
import time

import pytest

from snapcheck.deadline_io import DeadlineExceeded, DeadlineSocket, Wire, describe_failure


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (DeadlineExceeded(), "exceeded the overall deadline of 2 s while x"),
        (ConnectionRefusedError(), "connection refused while x"),
        (
            http.client.RemoteDisconnected("gone"),
            "the device closed the connection without replying while x",
        ),
        (ConnectionResetError(), "connection reset by the device while x"),
        (ssl.SSLError(1, "[SSL] bad"), "TLS error while x ([SSL] bad)"),
        (TimeoutError(), "no byte for 2 s while x"),
        (http.client.LineTooLong("header line"), "a status or header line is too long while x"),
        (http.client.BadStatusLine("ICY"), "malformed status line while x (ICY)"),
        (
            http.client.HTTPException("got more than 100 headers"),
            "malformed HTTP while x (got more than 100 headers)",
        ),
        (OSError("weird"), "network error while x (weird)"),
        (KeyError("k"), "KeyError while x: 'k'"),
    ],
)
def test_failures_are_described_most_specific_first(exc: BaseException, expected: str) -> None:
    assert describe_failure(exc, phase="while x", timeout_s=2.0) == expected


def _pair(deadline_s: float, read_timeout_s: float) -> tuple[socket.socket, DeadlineSocket, Wire]:
    ours, theirs = socket.socketpair()
    wire = Wire(time.monotonic() + deadline_s, read_timeout_s, clock=lambda: 7.0)
    return theirs, DeadlineSocket(ours, wire), wire


def test_reads_record_the_first_byte_and_count_bytes() -> None:
    peer, sock, wire = _pair(5.0, 5.0)
    try:
        peer.sendall(b"hello\n")
        assert sock.makefile("rb").readline() == b"hello\n"
        assert (wire.first_byte_at, wire.received) == (7.0, 6)
    finally:
        peer.close()
        sock.shutdown()


def test_a_silent_peer_is_cut_off_at_the_overall_deadline() -> None:
    peer, sock, wire = _pair(0.1, 5.0)
    try:
        with pytest.raises(DeadlineExceeded):
            sock.makefile("rb").read1(10)
        assert wire.first_byte_at is None
    finally:
        peer.close()
        sock.shutdown()


def test_a_silent_read_times_out_before_the_deadline() -> None:
    peer, sock, _ = _pair(5.0, 0.1)
    try:
        with pytest.raises(TimeoutError) as caught:
            sock.makefile("rb").read1(10)
        assert not isinstance(caught.value, DeadlineExceeded)
    finally:
        peer.close()
        sock.shutdown()


def test_nothing_is_sent_or_read_after_the_deadline() -> None:
    peer, sock, _ = _pair(-1.0, 5.0)
    try:
        with pytest.raises(DeadlineExceeded):
            sock.sendall(b"x")
        with pytest.raises(DeadlineExceeded):
            sock.makefile("rb").read1(1)
    finally:
        peer.close()
        sock.shutdown()
