"""Fuzzing the reference device's HTTP surface: whatever a client sends, a correct answer.

Hypothesis builds whole requests as bytes (raw_http.py sends them): query strings and
form bodies of any bytes in any encoding, percent-encoded or not, with repeated keys
and lengths up to past the device's limits (aiohttp's 8190-byte request line and header
line, the device's 64 KiB form body); methods; paths; headers huge, malformed and
repeated; and, against devices with Digest and with Basic authentication, Authorization headers.

Each answer must be one ``raw_http.answer_problems`` allows (a JSON envelope validated
against its schema, an image or stream for a request that happened to be valid, or a
protocol-level refusal: aiohttp's 400/413/431 or a closed connection), with no stack
trace or exception name in it. Right after each case the device must serve a correct
snapshot, and must have kept no error of its own (``Device.errors``: an exception a
handler did not expect, answered as error 14). The devices run in-process on
127.0.0.1, port 0, one per module.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from raw_http import answer_problems, send_raw, snapshot_problems

from benchmarks.wire import loopback_address
from reference_device import DeviceOptions, DeviceThread
from reference_device.access import Account, Authentication
from reference_device.server import MAX_BODY_BYTES
from snapcheck.transport import Transport

FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# aiohttp's limits: a request line or header line, and the number of header lines.
LINE_LIMIT = 8190
HEADER_COUNT_LIMIT = 128
SNAPSHOT = "/api/camera/snapshot"
PATHS = (SNAPSHOT, "/api/camera/caps", "/api/system/info")
NAMES = ("width", "height", "fps", "time", "source", "quality", "Width", "width[]", "")
VALUES = ("640", "480", "160", "120", "-5", "0", "2.5", "internal", "external", "", "1e3")
TOKEN = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
METHODS = ("GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "get")
ENCODINGS = ("utf-8", "latin-1", "utf-16", "utf-32", "cp1252", "shift_jis")
CONTENT_TYPES = (
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-8",
    "APPLICATION/X-WWW-FORM-URLENCODED",
    "multipart/form-data; boundary=x",
    "text/plain",
    "application/json",
)
HEADER_NAMES = (
    "Host",
    "Content-Length",
    "Transfer-Encoding",
    "Content-Type",
    "Content-Encoding",
    "Connection",
    "Expect",
    "Authorization",
    "Cookie",
    "Range",
    "Upgrade",
    "Accept-Encoding",
)
ACCOUNT = Account("admin", "fuzz-secret")
DIGEST_PARAMS = tuple(
    b"username realm nonce uri response qop nc cnonce algorithm opaque userhash x".split()
)
# Every malformed request is logged by aiohttp with its traceback; thousands of them.
logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)


def _repeat(pattern: bytes, length: int) -> bytes:
    return (pattern * (length // len(pattern) + 1))[:length]


@st.composite
def encoded_text(draw: st.DrawFn) -> bytes:
    """Text or bytes as a client might put them in a query or form: encoded any way."""
    raw = draw(
        st.one_of(
            st.sampled_from(VALUES).map(str.encode),
            st.binary(max_size=24),
            st.builds(
                lambda text, encoding: text.encode(encoding, "replace"),
                st.text(max_size=12),
                st.sampled_from(ENCODINGS),
            ),
        )
    )
    how = draw(st.sampled_from(("quote", "quote_plus", "raw", "broken escape")))
    if how == "quote":
        return quote(raw, safe="").encode()
    if how == "quote_plus":
        return quote_plus(raw).encode()
    if how == "broken escape":
        return quote(raw, safe="").encode() + draw(st.sampled_from((b"%", b"%Z", b"%4", b"%%")))
    # Raw bytes, kept only where a request line can carry them (no space, CR, LF, #).
    return bytes(b for b in raw if 0x21 <= b <= 0x7E and b != 0x23)


@st.composite
def urlencoded(draw: st.DrawFn) -> bytes:
    """A form-urlencoded string: known and unknown names, repeats, odd separators, filler."""
    names = st.one_of(st.sampled_from(NAMES).map(str.encode), encoded_text())
    pairs = draw(st.lists(st.tuples(names, encoded_text()), max_size=10))
    separator = draw(st.sampled_from((b"&", b"&", b"&", b";", b"&&")))
    pieces = [
        name + draw(st.sampled_from((b"=", b"=", b"", b"=="))) + value for name, value in pairs
    ]
    text = separator.join(pieces)
    filler = draw(st.sampled_from((0, 0, 0, 100, LINE_LIMIT - 200, LINE_LIMIT, LINE_LIMIT + 50)))
    return text + (b"&pad=" + _repeat(b"a", filler) if filler else b"")


def request_bytes(
    method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes = b""
) -> bytes:
    """A request as written on the wire (Connection: close unless the headers say)."""
    lines = [method + b" " + target + b" HTTP/1.1", b"Host: device"]
    lines += [name + b": " + value for name, value in headers]
    if not any(name.lower() == b"connection" for name, _ in headers):
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


@pytest.fixture(scope="module")
def device() -> Iterator[DeviceThread]:
    """The default reference device, without authentication."""
    with DeviceThread(DeviceOptions()) as running:
        yield running


@pytest.fixture(scope="module", params=[Authentication.DIGEST, Authentication.BASIC])
def guarded_device(request: pytest.FixtureRequest) -> Iterator[DeviceThread]:
    """The default reference device behind Digest, then Basic, authentication (one account)."""
    options = DeviceOptions(auth=request.param, users=(ACCOUNT,))
    with DeviceThread(options) as running:
        yield running


def assert_answered_and_still_serving(running: DeviceThread, sent: bytes) -> None:
    """The answer to ``sent`` is allowed; the device kept no error and serves a snapshot."""
    address = loopback_address(running.url)
    reply = send_raw(address, sent)
    assert answer_problems(reply, sent) == [], reply.raw[:300]
    assert running.call(lambda: list(running.device.errors)) == []
    assert snapshot_problems(address) == []


@FUZZ
@given(method=st.sampled_from((b"GET", b"POST")), path=st.sampled_from(PATHS), query=urlencoded())
def test_any_query_string_is_answered(
    device: DeviceThread, method: bytes, path: str, query: bytes
) -> None:
    target = path.encode() + b"?" + query
    assert_answered_and_still_serving(device, request_bytes(method, target, []))


@FUZZ
@given(
    content_type=st.sampled_from(CONTENT_TYPES),
    body=st.one_of(
        urlencoded(),
        st.binary(max_size=256),
        st.builds(
            _repeat,
            st.binary(min_size=1, max_size=8),
            st.sampled_from((MAX_BODY_BYTES - 1, MAX_BODY_BYTES, MAX_BODY_BYTES + 1)),
        ),
    ),
    chunked=st.booleans(),
    query=st.sampled_from((b"", b"width=160", b"width=160&height=120&fps=0")),
)
def test_any_form_body_is_answered(
    device: DeviceThread, content_type: str, body: bytes, chunked: bool, query: bytes
) -> None:
    if chunked:
        framing = [(b"Transfer-Encoding", b"chunked")]
        sent = (b"%x\r\n" % len(body) + body + b"\r\n" if body else b"") + b"0\r\n\r\n"
    else:
        framing = [(b"Content-Length", str(len(body)).encode())]
        sent = body
    headers = [(b"Content-Type", content_type.encode()), *framing]
    target = SNAPSHOT.encode() + (b"?" + query if query else b"")
    assert_answered_and_still_serving(device, request_bytes(b"POST", target, headers, sent))


@FUZZ
@given(
    method=st.one_of(
        st.sampled_from(METHODS).map(str.encode),
        st.text(TOKEN, min_size=1, max_size=24).map(str.encode),
        st.binary(min_size=1, max_size=12).filter(lambda b: b" " not in b and b"\n" not in b),
    ),
    path=st.sampled_from(PATHS),
)
def test_any_method_is_answered(device: DeviceThread, method: bytes, path: str) -> None:
    target = path.encode() + b"?width=160&height=120"
    assert_answered_and_still_serving(device, request_bytes(method, target, []))


@st.composite
def paths(draw: st.DrawFn) -> bytes:
    """A path: segments of encoded bytes, dot segments, empty segments, very long ones."""
    segment = st.one_of(
        st.sampled_from((b"api", b"camera", b"snapshot", b"caps", b".", b"..", b"", b"%2e%2e")),
        encoded_text(),
    )
    path = b"/" + b"/".join(draw(st.lists(segment, max_size=8)))
    long = draw(st.sampled_from((0, 0, 0, 2000, LINE_LIMIT - 40, LINE_LIMIT + 10)))
    return path + _repeat(b"/x", long)


@FUZZ
@given(path=paths(), query=st.sampled_from((b"", b"?width=160&height=120", b"?")))
def test_any_path_is_answered(device: DeviceThread, path: bytes, query: bytes) -> None:
    assert_answered_and_still_serving(device, request_bytes(b"GET", path + query, []))


@st.composite
def header_lines(draw: st.DrawFn) -> list[tuple[bytes, bytes]]:
    """Headers known and unknown, repeated, huge, and malformed in the ways clients get wrong."""
    names = st.one_of(
        st.sampled_from(HEADER_NAMES).map(str.encode),
        st.text(TOKEN, min_size=1, max_size=20).map(str.encode),
        st.binary(min_size=1, max_size=10),
    )
    values = st.one_of(
        st.sampled_from((b"", b"close", b"keep-alive", b"chunked", b"100-continue", b"0", b"-1")),
        st.binary(max_size=40),
        st.builds(
            _repeat,
            st.binary(min_size=1, max_size=4),
            st.sampled_from((LINE_LIMIT - 100, LINE_LIMIT, 20_000)),
        ),
    )
    headers = draw(st.lists(st.tuples(names, values), max_size=12))
    count = draw(st.sampled_from((0, 0, 0, HEADER_COUNT_LIMIT - 5, HEADER_COUNT_LIMIT + 5)))
    headers += [(b"X-Many", b"%d" % index) for index in range(count)]
    malformed = draw(
        st.sampled_from((None, b"NoColon", b"Space : before", b" folded", b"Nul: a\x00b"))
    )
    if malformed is not None:
        name, _, value = malformed.partition(b":")
        headers.append((name, value.strip()) if value else (malformed, b""))
    return headers


@FUZZ
@given(headers=header_lines(), path=st.sampled_from(PATHS))
def test_any_headers_are_answered(
    device: DeviceThread, headers: list[tuple[bytes, bytes]], path: str
) -> None:
    target = path.encode() + b"?width=160&height=120"
    assert_answered_and_still_serving(device, request_bytes(b"GET", target, headers))


@st.composite
def authorizations(draw: st.DrawFn) -> bytes:
    """An Authorization value: a scheme, then parameters half right, half garbage."""
    scheme = draw(st.sampled_from((b"Digest", b"Basic", b"digest", b"Bearer", b"", b"Digest ")))
    params = draw(
        st.lists(
            st.tuples(
                st.sampled_from(DIGEST_PARAMS),
                st.one_of(
                    st.sampled_from((b'"admin"', b"auth", b"00000001", b"SHA-256", b'""')),
                    st.binary(max_size=30).map(lambda b: b'"' + b.replace(b"\r", b"") + b'"'),
                    st.binary(max_size=30),
                ),
            ),
            max_size=10,
        )
    )
    text = b", ".join(name + b"=" + value for name, value in params)
    return (scheme + b" " + text).replace(b"\n", b" ").replace(b"\r", b" ")


@FUZZ
@given(authorization=authorizations(), path=st.sampled_from(PATHS[:2]))
def test_any_authorization_is_answered_by_a_guarded_device(
    guarded_device: DeviceThread, authorization: bytes, path: str
) -> None:
    address = loopback_address(guarded_device.url)
    target = path.encode() + b"?width=160&height=120"
    sent = request_bytes(b"GET", target, [(b"Authorization", authorization)])
    reply = send_raw(address, sent)
    assert answer_problems(reply, sent) == [], reply.raw[:300]
    assert guarded_device.call(lambda: list(guarded_device.device.errors)) == []
    transport = Transport(
        guarded_device.url, user=ACCOUNT.name, password=ACCOUNT.password, auth_method="auto"
    )
    snapshot = transport.exchange(
        transport.request(SNAPSHOT, (("width", "160"), ("height", "120")))
    )
    assert (snapshot.status, snapshot.content_type) == (200, "image/jpeg")
    assert snapshot.body.startswith(b"\xff\xd8") and snapshot.body.endswith(b"\xff\xd9")
