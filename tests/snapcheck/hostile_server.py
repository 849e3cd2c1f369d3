"""Tiny scripted HTTP servers on 127.0.0.1 port 0, for testing the transport and the CLI.

Each connection runs a handler in its own thread: it reads the request and then does
whatever the test scripts (answer well, stall, dribble, lie, reset). Errors raised in
a handler thread are kept and re-raised when the server stops, so a broken fixture
never passes silently. Handlers wait on ``server.stopping`` instead of sleeping, so
stopping the server releases them at once. ``DigestDevice`` is a handler that checks
Digest answers per RFC 7616, computed here independently of ``snapcheck.auth``;
``self_signed_tls`` makes a server TLS context for the TLS tests.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

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


class DigestDevice:
    """A device that checks Digest answers per RFC 7616, computed here independently."""

    realm = "http-auth@example.org"
    user = "Mufasa"
    password = "Circle of Life"

    def __init__(self, algorithm: str = "SHA-256", body: bytes = b"\xff\xd8\xff\xd9") -> None:
        self.algorithm = algorithm
        self.body = body
        self.nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
        self.old_nonces: set[str] = set()
        self.last_nc: dict[str, int] = {}
        self.seen: list[dict[str, str]] = []
        self.lock = threading.Lock()

    def rotate(self) -> None:
        """Issue a new nonce; the old one is answered with stale=true from now on."""
        self.old_nonces.add(self.nonce)
        self.nonce = self.nonce[::-1]

    def _h(self, text: str) -> str:
        name = "sha256" if self.algorithm.startswith("SHA-256") else "md5"
        return hashlib.new(name, text.encode()).hexdigest()

    def verdict(self, method: str, uri: str, header: str | None) -> str:
        """ok, stale, or challenge (no, wrong or replayed credentials)."""
        if header is None or not header.startswith("Digest "):
            return "challenge"
        fields = {k: v.strip('"') for k, v in re.findall(r'(\w+)=("[^"]*"|[^,\s]+)', header)}
        self.seen.append(fields)
        ha1 = self._h(f"{fields['username']}:{self.realm}:{self.password}")
        ha2 = self._h(f"{method}:{uri}")
        nonce, nc = fields["nonce"], fields["nc"]
        expected = self._h(f"{ha1}:{nonce}:{nc}:{fields['cnonce']}:auth:{ha2}")
        if fields["username"] != self.user or fields["response"] != expected:
            return "challenge"
        if nonce in self.old_nonces:
            return "stale"
        if nonce != self.nonce or int(nc, 16) <= self.last_nc.get(nonce, 0):
            return "challenge"
        self.last_nc[nonce] = int(nc, 16)
        return "ok"

    def __call__(self, conn: Connection) -> None:
        conn.read_request()
        method, uri, _ = conn.request_line.split(" ")
        with self.lock:
            verdict = self.verdict(method, uri, conn.header("Authorization"))
            challenge = (
                f'Digest realm="{self.realm}", qop="auth", algorithm={self.algorithm},'
                f' nonce="{self.nonce}"' + (", stale=true" if verdict == "stale" else "")
            )
        if verdict == "ok":
            conn.send(response(headers=(("Content-Type", "image/jpeg"),), body=self.body))
            return
        body = b'{"success": false, "error": {"code": 9}}'
        headers = (("WWW-Authenticate", challenge), ("Content-Type", "application/json"))
        conn.send(response("401 Unauthorized", headers, body))


def self_signed_tls(directory: Path) -> tuple[ssl.SSLContext, str]:
    """A server TLS context with a fresh self-signed certificate, and its SHA-256 fingerprint."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "intercom")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    der = certificate.public_bytes(serialization.Encoding.DER)
    return context, hashlib.sha256(der).hexdigest()
