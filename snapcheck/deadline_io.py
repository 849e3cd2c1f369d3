"""Socket reads and writes with deadlines, and the words for how an exchange failed.

Strategy: http.client reads a reply through a file object made by ``sock.makefile``;
``DeadlineSocket`` hands it a buffered reader over ``DeadlineRaw``, whose every ``recv``
waits at most the per-read timeout *and* never past the exchange's overall deadline, so
a device that dribbles a byte a second is cut off in time. The transport opens the
socket; this module only bounds what is done with it. ``describe_failure`` turns the
exception that ended an exchange into one line for ``Reply.transport_error``.
"""

from __future__ import annotations

import http.client
import io
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass


class DeadlineExceeded(TimeoutError):
    """The exchange's overall deadline passed (as opposed to one silent read)."""


@dataclass(slots=True)
class Wire:
    """Mutable bookkeeping of one connection: deadlines and what arrived when."""

    deadline: float
    read_timeout: float
    clock: Callable[[], float]
    first_byte_at: float | None = None
    received: int = 0
    reader: io.BufferedReader | None = None
    certificate_sha256: str | None = None

    def remaining(self) -> float:
        """Seconds left before the overall deadline (real time, as sockets wait in real time)."""
        return self.deadline - time.monotonic()


class DeadlineRaw(io.RawIOBase):
    """A raw stream over a socket whose every read respects the wire's deadlines."""

    def __init__(self, sock: socket.socket, wire: Wire) -> None:
        super().__init__()
        self._sock = sock
        self._wire = wire

    def readable(self) -> bool:
        """Always: this stream only reads."""
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        """One recv into ``buffer``, bounded by the per-read timeout and the overall deadline."""
        remaining = self._wire.remaining()
        if remaining <= 0:
            raise DeadlineExceeded
        self._sock.settimeout(min(self._wire.read_timeout, remaining))
        try:
            count = self._sock.recv_into(buffer)
        except TimeoutError:
            if self._wire.remaining() <= 0:
                raise DeadlineExceeded from None
            raise
        if count and self._wire.first_byte_at is None:
            self._wire.first_byte_at = self._wire.clock()
        self._wire.received += count
        return count


class DeadlineSocket:
    """What http.client needs of a socket (sendall, makefile, close), with deadlines."""

    def __init__(self, sock: socket.socket, wire: Wire) -> None:
        self._sock = sock
        self._wire = wire

    def sendall(self, data: bytes) -> None:
        """Send everything, bounded like a read."""
        remaining = self._wire.remaining()
        if remaining <= 0:
            raise DeadlineExceeded
        self._sock.settimeout(min(self._wire.read_timeout, remaining))
        self._sock.sendall(data)

    def makefile(self, mode: str, *args: object, **kwargs: object) -> io.BufferedReader:
        """The buffered reader http.client reads the reply through."""
        self._wire.reader = io.BufferedReader(DeadlineRaw(self._sock, self._wire))
        return self._wire.reader

    def close(self) -> None:
        """Ignored: the transport closes the socket with ``shutdown`` when the exchange ends."""
        # http.client "closes" the connection as soon as a Connection: close reply's headers
        # are in, while the body is still to be read through makefile()'s reader.
        return

    def shutdown(self) -> None:
        """Really close the socket (the transport calls this when the exchange is over)."""
        self._sock.close()


# What a failure is called, most specific first (RemoteDisconnected is also a reset).
_FAILURES: tuple[tuple[type[BaseException], str, bool], ...] = (
    (DeadlineExceeded, "exceeded the overall deadline of {timeout:g} s", False),
    (ConnectionRefusedError, "connection refused", False),
    (socket.gaierror, "cannot resolve the host name", True),
    (http.client.RemoteDisconnected, "the device closed the connection without replying", False),
    (ConnectionResetError, "connection reset by the device", False),
    (ssl.SSLError, "TLS error", True),
    (TimeoutError, "no byte for {timeout:g} s", False),
    (http.client.LineTooLong, "a status or header line is too long", False),
    (http.client.BadStatusLine, "malformed status line", True),
    (http.client.HTTPException, "malformed HTTP", True),
    (OSError, "network error", True),
)


def describe_failure(exc: BaseException, *, phase: str, timeout_s: float) -> str:
    """A one-line account of why an exchange ended early."""
    for kind, label, with_detail in _FAILURES:
        if isinstance(exc, kind):
            text = f"{label.format(timeout=timeout_s)} {phase}"
            detail = str(exc).strip()
            return f"{text} ({detail})" if with_detail and detail else text
    return f"{type(exc).__name__} {phase}: {exc}"
