"""A tiny HTTP server on 127.0.0.1, port 0, that sends scripted bytes at scripted times.

Strategy: the interop tests need servers that frame MJPEG exactly as real producers do
(byte for byte, HTTP/1.0 or chunked, paced), which no HTTP framework lets one write, so
this server writes the status line, the headers and each piece of the body itself.
``Script`` says what one request gets; a ``Responder`` picks the script from the request
target. Each piece of the body has a due time (seconds after the request), kept as an
absolute deadline so that the pace never drifts; the server stops when the client
leaves or the script ends (a script is finite: an "endless" stream is a long one).
Every socket operation has a timeout. An error in a handler thread other than the
client leaving is kept and re-raised when the server stops, so a broken script fails
the test that used it.

What never belongs here: the producers' shapes (producer_shapes.py) or any judgement.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

IO_TIMEOUT_S = 10.0
MAX_REQUEST_BYTES = 64 * 1024
# A client that leaves mid-stream is the normal end of an endless stream, not an error.
CLIENT_LEFT = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


@dataclass(frozen=True, slots=True)
class Script:
    """What one request gets: a status line, headers, and body pieces with due times."""

    status_line: bytes
    headers: tuple[tuple[str, str], ...]
    pieces: Iterable[tuple[float, bytes]]
    chunked: bool = False


Responder = Callable[[str], Script]


class _Server(socketserver.ThreadingTCPServer):
    # server_close() joins every handler thread, so their errors are all in before the
    # check; scripts are finite, so a handler ends even when a client never leaves.
    daemon_threads = False
    block_on_close = True

    def __init__(self, respond: Responder) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.respond = respond
        self.errors: list[BaseException] = []
        self.errors_lock = threading.Lock()

    def keep(self, error: BaseException) -> None:
        with self.errors_lock:
            self.errors.append(error)


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        connection: socket.socket = self.request
        connection.settimeout(IO_TIMEOUT_S)
        try:
            target = _read_target(connection)
            _send(connection, self.server.respond(target))
        except CLIENT_LEFT:
            return
        except Exception as exc:  # noqa: BLE001 - kept and re-raised by the test's thread
            self.server.keep(exc)


def _read_target(connection: socket.socket) -> str:
    """The request-target of the request line, once the whole header block arrived."""
    received = b""
    while b"\r\n\r\n" not in received:
        data = connection.recv(4096)
        if not data:
            raise ConnectionResetError("the client closed before its request was complete")
        received += data
        if len(received) > MAX_REQUEST_BYTES:
            raise ValueError(f"a request header block over {MAX_REQUEST_BYTES} bytes")
    request_line = received.split(b"\r\n", 1)[0].decode("latin-1")
    _method, target, _version = request_line.split(" ", 2)
    return target


def _send(connection: socket.socket, script: Script) -> None:
    head = [script.status_line, *(f"{k}: {v}".encode("latin-1") for k, v in script.headers)]
    if script.chunked:
        head.append(b"Transfer-Encoding: chunked")
    connection.sendall(b"\r\n".join(head) + b"\r\n\r\n")
    start = time.monotonic()
    for due, data in script.pieces:
        delay = start + due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if data:
            connection.sendall(_chunk(data) if script.chunked else data)
    if script.chunked:
        connection.sendall(b"0\r\n\r\n")


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode("ascii") + data + b"\r\n"


@contextmanager
def loopback_producer(respond: Responder) -> Iterator[str]:
    """Serve ``respond``'s scripts on 127.0.0.1, port 0; yield the base URL."""
    server = _Server(respond)
    thread = threading.Thread(target=server.serve_forever, name="loopback-producer", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(IO_TIMEOUT_S)
    if server.errors:
        raise server.errors[0]
