"""The only place that talks to a device: HTTP/1.1 over a socket, with a deadline on every read.

Strategy: one ``Transport`` per device. Each exchange opens a fresh connection (sent
with ``Connection: close``, so no state leaks between exchanges), is paced by a shared
token bucket (``snapcheck.pacing``), answers authentication challenges through
``snapcheck.auth``, and ends
as a ``Reply`` — whatever the device does. A slow, hanging or lying device is the
device's fault, so it becomes ``Reply.transport_error`` plus whatever arrived, never an
exception; only a malformed base URL or request (our side) raises ``UsageError``.

Every read goes through ``snapcheck.deadline_io``: each ``recv`` waits at most the
per-read timeout *and* never past the exchange's overall deadline, so a device that
dribbles a byte a second is cut off at ``timeout_s`` in total. http.client already bounds a header
line (64 KiB) and the number of headers (100). Redirects are recorded, never followed.
Stream bodies go straight into ``MultipartReader`` (bounded memory), never into a buffer.
"""

from __future__ import annotations

import hashlib
import http.client
import re
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import cast
from urllib.parse import urlencode, urlsplit

from snapcheck.auth import Credentials, DigestAuth
from snapcheck.deadline_io import DeadlineExceeded, DeadlineSocket, Wire, describe_failure
from snapcheck.exchange import Headers, PartImage, Reply, Request, StreamPart, header_values
from snapcheck.multipart import END_EOF, END_WINDOW, MultipartReader
from snapcheck.pacing import CircuitBreaker, TokenBucket
from snapcheck.verdicts import Finding, UsageError

DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024
# A reply that should have been one image but is a stream is read this long, then dropped.
UNEXPECTED_STREAM_WINDOW_S = 2.0
# After a body framed by Content-Length, how long to look for bytes the device sent beyond it.
LINGER_S = 0.25
MAX_TRAILING_BYTES = 64 * 1024
READ_CHUNK = 64 * 1024
DEVICE_UNREACHABLE = "device unreachable"
USER_AGENT = "snapcheck/0.1"
AUTH_METHODS = ("none", "basic", "digest", "auto")


@dataclass(slots=True)
class _Outcome:
    """What one attempt learnt, filled in as the reply is read."""

    status: int = 0
    reason: str = ""
    headers: Headers = ()
    body: bytes = b""
    parts: tuple[StreamPart, ...] = ()
    stream_findings: tuple[Finding, ...] = ()
    stream_ended_by: str | None = None
    errors: list[str] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Target:
    scheme: str
    host: str
    port: int
    prefix: str


def _parse_base_url(base_url: str) -> _Target:
    parts = urlsplit(base_url)
    try:
        port = parts.port
    except ValueError:
        raise UsageError(f"invalid port in device URL {base_url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"the device URL must be http:// or https://host, got {base_url!r}")
    if parts.query or parts.fragment:
        raise UsageError(f"the device URL must not carry a query or fragment: {base_url!r}")
    if parts.username is not None or parts.password is not None:
        # Credentials in the URL would end up in every Request.url, curl line and report.
        raise UsageError("give credentials as user and password, not inside the device URL")
    default_port = 443 if parts.scheme == "https" else 80
    return _Target(parts.scheme, parts.hostname, port or default_port, parts.path.rstrip("/"))


def _tls_context(verify: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not verify:
        # Intercoms ship self-signed certificates; we record the fingerprint instead.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


# What may be sent at all: a stray CR, LF or space would corrupt the request itself.
_REQUEST_LINE = re.compile(r"[!-~]+ [!-~\x80-\uffff]+")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE = re.compile(r"[^\x00-\x08\x0a-\x1f\x7f]*")


def _linger(wire: Wire) -> tuple[int, str]:
    """Bytes the device sent after a Content-Length body, looked for briefly before closing."""
    if wire.reader is None:
        return 0, "no reader"
    wire.deadline = min(wire.deadline, time.monotonic() + LINGER_S)
    extra = 0
    try:
        while extra < MAX_TRAILING_BYTES:
            data = wire.reader.read1(READ_CHUNK)
            if not data:
                return extra, "closed"
            extra += len(data)
    except (OSError, ValueError) as exc:
        # Keeping the connection open (or resetting it) after the body is allowed here.
        return extra, f"not closed: {type(exc).__name__}"
    return extra, "more bytes than looked for"


def _read_single(
    response: http.client.HTTPResponse, wire: Wire, limit: int, outcome: _Outcome
) -> None:
    """Read a single body: bounded in size and time, keeping whatever arrived."""
    declared = response.length
    chunks: list[bytes] = []
    total = 0
    try:
        while data := response.read1(READ_CHUNK):
            chunks.append(data)
            total += len(data)
            if total > limit:
                outcome.errors.append(f"the body is larger than {limit} bytes; cut off")
                break
    except http.client.IncompleteRead as exc:
        chunks.append(exc.partial)
        total += len(exc.partial)
        outcome.errors.append(f"the connection ended inside a chunk after {total} bytes")
    except (OSError, http.client.HTTPException) as exc:
        phase = f"while reading the body (after {total} bytes)"
        outcome.errors.append(describe_failure(exc, phase=phase, timeout_s=wire.read_timeout))
    outcome.body = b"".join(chunks)[:limit]
    if outcome.errors or declared is None:
        return
    if len(outcome.body) < declared:
        outcome.errors.append(
            f"the device closed the connection after {len(outcome.body)} of the {declared}"
            " bytes its Content-Length declared"
        )
        return
    extra, ending = _linger(wire)
    outcome.extra.update(after_body=ending, bytes_after_body=extra)
    if extra:
        outcome.errors.append(
            f"{extra} bytes followed the {declared} bytes its Content-Length declared"
        )


@dataclass(frozen=True, slots=True)
class StreamPlan:
    """How to read a multipart reply: for how long, and what to do with each part."""

    window_s: float
    on_part: Callable[[StreamPart], None] | None = None
    analyse: Callable[[bytes], PartImage] | None = None


def _read_stream(
    response: http.client.HTTPResponse, wire: Wire, plan: StreamPlan, outcome: _Outcome
) -> None:
    """Feed a multipart body to the reader until the window closes; keep only its parts."""
    reader = MultipartReader(response.getheader("Content-Type") or "", on_part=plan.analyse)
    wire.deadline = time.monotonic() + plan.window_s  # the window opens with the headers
    ended_by = END_WINDOW
    while True:
        try:
            data = response.read1(READ_CHUNK)
        except DeadlineExceeded:
            break
        except (OSError, http.client.HTTPException) as exc:
            ended_by = "timeout" if isinstance(exc, TimeoutError) else "error"
            phase = f"while reading the stream (after {wire.received} bytes)"
            outcome.errors.append(describe_failure(exc, phase=phase, timeout_s=wire.read_timeout))
            break
        if not data:
            ended_by = END_EOF
            break
        _deliver(reader.feed(data, wire.clock()), plan.on_part)
    _deliver(reader.close(wire.clock(), ended_by), plan.on_part)
    outcome.parts = reader.parts
    outcome.stream_findings = tuple(reader.findings)
    outcome.stream_ended_by = ended_by


def _deliver(parts: list[StreamPart], on_part: Callable[[StreamPart], None] | None) -> None:
    if on_part is not None:
        for part in parts:
            on_part(part)


def _redirect_note(status: int, headers: Headers) -> str | None:
    location = next(iter(header_values(headers, "Location")), None)
    if 300 <= status < 400 and location is not None:
        return f"redirect ({status}) to {location} not followed"
    return None


def _unreachable(request: Request, now: float) -> Reply:
    return Reply(request=request, status=0, started_at=now, transport_error=DEVICE_UNREACHABLE)


class Transport:
    """HTTP exchanges with one device: deadlines, pacing, authentication, circuit breaker."""

    def __init__(
        self,
        base_url: str,
        *,
        user: str | None = None,
        password: str | None = None,
        auth_method: str = "none",
        timeout_s: float = 10.0,
        rate_limit_per_s: float | None = None,
        verify_tls: bool = False,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        failure_threshold: int = 3,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self._target = _parse_base_url(base_url)
        if auth_method not in AUTH_METHODS:
            raise ValueError(f"auth_method must be one of {AUTH_METHODS}, got {auth_method!r}")
        if not timeout_s > 0 or max_body_bytes < 1:
            raise ValueError("timeout_s and max_body_bytes must be positive")
        self.base_url = base_url.rstrip("/")
        self.user = user
        self.auth_method = auth_method if user is not None else "none"
        self.timeout_s = timeout_s
        self._clock = clock
        self._max_body = max_body_bytes
        self._bucket = (
            TokenBucket(rate_limit_per_s, clock=clock, sleep=sleep) if rate_limit_per_s else None
        )
        self._breaker = CircuitBreaker(failure_threshold)
        self._tls = _tls_context(verify_tls) if self._target.scheme == "https" else None
        self._credentials = (
            Credentials(user, password or "", auth_method)
            if user is not None and auth_method != "none"
            else None
        )

    def __repr__(self) -> str:
        return f"Transport({self.base_url!r}, user={self.user!r}, auth={self.auth_method!r})"

    @property
    def unreachable(self) -> bool:
        """True once consecutive connection failures declared the device unreachable."""
        return self._breaker.open

    @property
    def digest_auth(self) -> DigestAuth | None:
        """The Digest state in use (to build a deliberately replayed nonce count), if any."""
        return None if self._credentials is None else self._credentials.digest

    def request(
        self,
        path: str,
        params: tuple[tuple[str, str], ...] = (),
        *,
        method: str = "GET",
        form: tuple[tuple[str, str], ...] | None = None,
        raw_query: str | None = None,
        headers: Headers = (),
    ) -> Request:
        """A Request for this device (a convenience; any Request with this base URL works)."""
        return Request(method, self.base_url, path, params, form, headers, raw_query=raw_query)

    def target(self, request: Request) -> str:
        """The request-target (path and query) as written on the request line."""
        query = request.query
        return f"{self._target.prefix}{request.path}" + (f"?{query}" if query else "")

    def exchange(self, request: Request, *, authorization: str | None = None) -> Reply:
        """One request and its single-body reply (a surprise stream is read briefly)."""
        return self._run(request, None, authorization)

    def stream(
        self,
        request: Request,
        window_s: float,
        on_part: Callable[[StreamPart], None] | None = None,
        *,
        analyse: Callable[[bytes], PartImage] | None = None,
        authorization: str | None = None,
    ) -> Reply:
        """One request whose multipart reply is read for ``window_s`` seconds, then closed.

        ``on_part`` sees each part as it completes; ``analyse`` gets every part's body
        (bodies are then dropped, to bound memory) and what it returns is kept per part.
        """
        if not window_s > 0:
            raise ValueError("window_s must be positive")
        return self._run(request, StreamPlan(window_s, on_part, analyse), authorization)

    def _check(self, request: Request) -> None:
        if request.base_url.rstrip("/") != self.base_url:
            raise ValueError(f"request for {request.base_url}, transport for {self.base_url}")
        line = f"{request.method} {self.target(request)}"
        if _REQUEST_LINE.fullmatch(line) is None:
            raise UsageError(f"cannot send a request line with spaces or controls: {line!r}")
        for name, value in request.headers:
            if _HEADER_NAME.fullmatch(name) is None or _HEADER_VALUE.fullmatch(value) is None:
                raise UsageError(f"cannot send the header {name!r}: {value!r}")

    def _run(
        self,
        request: Request,
        plan: StreamPlan | None,
        authorization: str | None,
    ) -> Reply:
        self._check(request)
        if self._breaker.open:
            return _unreachable(request, self._clock())
        notes: list[str] = []
        answered = False
        for _ in range(3):  # first try, an answer to a challenge, one stale-nonce renewal
            header = authorization if authorization is not None else self._authorization(request)
            reply = self._attempt(request, plan, header)
            if authorization is not None or reply.status != 401 or self._credentials is None:
                break
            retry, found = self._credentials.answer(
                header_values(reply.headers, "WWW-Authenticate"),
                sent=header is not None,
                answered=answered,
            )
            notes.extend(found)
            answered = answered or retry
            if not retry:
                break
        if notes:
            reply.extra["auth_notes"] = tuple(notes)
        return reply

    def _authorization(self, request: Request) -> str | None:
        if self._credentials is None:
            return None
        body = urlencode(request.form).encode() if request.form is not None else b""
        return self._credentials.header(request.method, self.target(request), body=body)

    def _connect(self, wire: Wire) -> DeadlineSocket:
        timeout = min(self.timeout_s, max(wire.remaining(), 0.001))
        sock = socket.create_connection((self._target.host, self._target.port), timeout=timeout)
        if self._tls is not None:
            try:
                sock = self._tls.wrap_socket(sock, server_hostname=self._target.host)
            except OSError:
                sock.close()
                raise
            certificate = sock.getpeercert(binary_form=True)
            if certificate:
                wire.certificate_sha256 = hashlib.sha256(certificate).hexdigest()
        return DeadlineSocket(sock, wire)

    def _send(self, conn: http.client.HTTPConnection, request: Request, auth: str | None) -> None:
        names = {name.lower() for name, _ in request.headers}
        conn.putrequest(
            request.method,
            self.target(request),
            skip_host="host" in names,
            skip_accept_encoding="accept-encoding" in names,
        )
        body = urlencode(request.form).encode() if request.form is not None else None
        extra: list[tuple[str, str]] = [("Connection", "close")]
        if "user-agent" not in names:
            extra.append(("User-Agent", USER_AGENT))
        if auth is not None:
            extra.append(("Authorization", auth))
        if body is not None:
            extra += [
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Content-Length", str(len(body))),
            ]
        for name, value in (*request.headers, *extra):
            conn.putheader(name, value)
        conn.endheaders(body)

    def _attempt(self, request: Request, plan: StreamPlan | None, auth: str | None) -> Reply:
        if self._bucket is not None:
            self._bucket.acquire()
        started = self._clock()
        wire = Wire(time.monotonic() + self.timeout_s, self.timeout_s, self._clock)
        conn = http.client.HTTPConnection(self._target.host, self._target.port)
        outcome = _Outcome()
        phase = "while connecting"
        sock: DeadlineSocket | None = None
        try:
            sock = self._connect(wire)
            # http.client needs only sendall, makefile and close of its socket.
            conn.sock = cast(socket.socket, sock)
            phase = "while sending the request"
            self._send(conn, request, auth)
            phase = "while waiting for the reply"
            response = conn.getresponse()
            self._read_reply(response, wire, plan, outcome)
        except (OSError, http.client.HTTPException) as exc:
            if wire.first_byte_at is not None:
                phase = "while reading the status line and headers"
            outcome.errors.append(describe_failure(exc, phase=phase, timeout_s=self.timeout_s))
        finally:
            conn.close()
            if sock is not None:
                sock.shutdown()
        self._breaker.record(connection_failed=wire.first_byte_at is None)
        sent = replace(
            request,
            user=self.user if auth is not None else None,
            auth_method=auth.split(" ", 1)[0].lower() if auth is not None else None,
            timeout_s=plan.window_s if plan is not None else self.timeout_s,
        )
        return Reply(
            request=sent,
            status=outcome.status,
            reason=outcome.reason,
            headers=outcome.headers,
            body=outcome.body,
            started_at=started,
            first_byte_s=None if wire.first_byte_at is None else wire.first_byte_at - started,
            elapsed_s=self._clock() - started,
            parts=outcome.parts,
            stream_findings=outcome.stream_findings,
            stream_ended_by=outcome.stream_ended_by,
            transport_error="; ".join(outcome.errors) or None,
            tls_certificate_sha256=wire.certificate_sha256,
            extra=outcome.extra,
        )

    def _read_reply(
        self,
        response: http.client.HTTPResponse,
        wire: Wire,
        plan: StreamPlan | None,
        outcome: _Outcome,
    ) -> None:
        outcome.status = response.status
        outcome.reason = response.reason
        outcome.headers = tuple(response.msg.items())
        media_type = (response.getheader("Content-Type") or "").split(";", 1)[0].strip().lower()
        if media_type.startswith("multipart/"):
            if plan is None:
                outcome.extra["unexpected_stream"] = True
                plan = StreamPlan(min(UNEXPECTED_STREAM_WINDOW_S, self.timeout_s))
            _read_stream(response, wire, plan, outcome)
        else:
            _read_single(response, wire, self._max_body, outcome)
        redirect = _redirect_note(response.status, outcome.headers)
        if redirect is not None:
            outcome.errors.append(redirect)
