"""Tiny scripted HTTP servers on 127.0.0.1 port 0, for testing the transport and the CLI.

Each connection runs a handler in its own thread: it reads the request and then does
whatever the test scripts (answer well, stall, dribble, lie, reset). Errors raised in
a handler thread are kept and re-raised when the server stops, so a broken fixture
never passes silently. Handlers wait on ``server.stopping`` instead of sleeping, so
stopping the server releases them at once.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

Handler = Callable[["Connection"], None]
# A client that gave up (its deadline passed) closes its end: that is the point of the test.
_CLIENT_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, ssl.SSLEOFError)


@dataclass
class Connection:
    """One accepted connection, with what the client sent."""

    sock: socket.socket
    stopping: threading.Event
    request: bytes = b""
    body: bytes = b""

    def read_request(self) -> bytes:
        """Read the request head (and a Content-Length body); returns the head."""
        self.sock.settimeout(5.0)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(rest) < length:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            rest += chunk
        self.request, self.body = head, rest
        return head

    def header(self, name: str) -> str | None:
        """A request header's value, or None."""
        for line in self.request.split(b"\r\n")[1:]:
            key, _, value = line.decode("latin-1").partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None

    @property
    def request_line(self) -> str:
        """The request line, e.g. ``GET /x?y=1 HTTP/1.1``."""
        return self.request.split(b"\r\n", 1)[0].decode("latin-1")

    def send(self, data: bytes) -> None:
        """Send bytes."""
        self.sock.sendall(data)

    def reset(self) -> None:
        """Close with a TCP RST instead of a FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def wait(self, seconds: float) -> bool:
        """Wait (released early when the server stops); True when stopping."""
        return self.stopping.wait(seconds)


@dataclass
class Server:
    """A running scripted server: its URL and every connection it accepted."""

    url: str
    stopping: threading.Event
    connections: list[Connection] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)


def response(
    status: str = "200 OK", headers: tuple[tuple[str, str], ...] = (), body: bytes = b""
) -> bytes:
    """A complete HTTP/1.1 response with a correct Content-Length unless one is given."""
    lines = [f"HTTP/1.1 {status}"]
    names = {name.lower() for name, _ in headers}
    lines += [f"{name}: {value}" for name, value in headers]
    if "content-length" not in names and "transfer-encoding" not in names:
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@contextmanager
def running_server(handler: Handler, *, tls: ssl.SSLContext | None = None) -> Iterator[Server]:
    """Serve ``handler`` for every connection until the block ends; re-raise handler errors."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    scheme = "https" if tls is not None else "http"
    server = Server(f"{scheme}://127.0.0.1:{port}", threading.Event())
    threads: list[threading.Thread] = []

    def handle(raw: socket.socket) -> None:
        try:
            sock = tls.wrap_socket(raw, server_side=True) if tls is not None else raw
            connection = Connection(sock, server.stopping)
            server.connections.append(connection)
            handler(connection)
        except _CLIENT_GONE:
            pass
        except ssl.SSLError as exc:
            # A client refusing our self-signed certificate is what some tests want.
            if "CERTIFICATE_UNKNOWN" not in str(exc) and "UNKNOWN_CA" not in str(exc):
                server.errors.append(exc)
        except Exception as exc:  # noqa: BLE001 - kept and re-raised in the test's thread
            server.errors.append(exc)
        finally:
            raw.close()

    def accept() -> None:
        while True:
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            thread = threading.Thread(target=handle, args=(raw,), daemon=True)
            threads.append(thread)
            thread.start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield server
    finally:
        server.stopping.set()
        # shutdown() wakes the blocked accept() on Linux; close() alone would not.
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        acceptor.join(5)
        for thread in threads:
            thread.join(5)
    if server.errors:
        raise server.errors[0]
