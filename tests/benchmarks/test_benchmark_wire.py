"""The benchmarks' raw HTTP client: URLs, heads, boundaries, part counting, real sockets.

Servers are real, on 127.0.0.1 and a port the OS picks; nothing here times anything.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.wire import (
    Connection,
    PartCounter,
    boundary_of,
    loopback_address,
    parse_head,
)

# --- wire ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("http://127.0.0.1:8080/x", ("127.0.0.1", 8080)),
        ("http://example.com:80", None),
        ("https://127.0.0.1:443", None),
        ("http://127.0.0.1", None),
    ],
)
def test_only_loopback_urls_with_a_port_are_accepted(
    url: str, address: tuple[str, int] | None
) -> None:
    if address is None:
        with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
            loopback_address(url)
    else:
        assert loopback_address(url) == address


def test_a_head_gives_status_and_lower_case_headers() -> None:
    head = parse_head(b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nX-A:  1 \r\nx-a: 2")
    assert head.status == 200
    assert head.content_type == "image/jpeg"
    assert head.headers["x-a"] == "2"


@pytest.mark.parametrize(
    "data", [b"ICY 200 OK", b"HTTP/1.1 abc", b"HTTP/1.1 200 OK\r\nno colon here"]
)
def test_a_broken_head_is_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match=r"status line|colon"):
        parse_head(data)


@pytest.mark.parametrize(
    ("content_type", "boundary"),
    [
        ("multipart/x-mixed-replace; boundary=frame", "frame"),
        ('multipart/x-mixed-replace;BOUNDARY="--my frame"', "--my frame"),
        ("multipart/x-mixed-replace; charset=x; boundary=b", "b"),
        ("multipart/x-mixed-replace", None),
        ("multipart/x-mixed-replace; boundary=", None),
    ],
)
def test_the_boundary_is_read_from_the_content_type(
    content_type: str, boundary: str | None
) -> None:
    if boundary is None:
        with pytest.raises(ValueError, match="no boundary"):
            boundary_of(content_type)
    else:
        assert boundary_of(content_type) == boundary


def _stream(parts: list[bytes], boundary: bytes) -> bytes:
    # The reference device's framing: a leading delimiter, then part + delimiter.
    body = b"--" + boundary + b"\r\n"
    for part in parts:
        body += b"Content-Type: image/jpeg\r\n\r\n" + part + b"\r\n--" + boundary + b"\r\n"
    return body


@given(
    parts=st.lists(st.binary(max_size=40).filter(lambda b: b"--" not in b), max_size=6),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8),
    boundary=st.sampled_from([b"frame", b"-", b"snapcheckframe"]),
)
def test_parts_are_counted_however_the_stream_is_cut(
    parts: list[bytes], cuts: list[int], boundary: bytes
) -> None:
    body = _stream(parts, boundary)
    counter = PartCounter(boundary.decode())
    edges = sorted({0, len(body), *(c for c in cuts if c < len(body))})
    for start, end in itertools.pairwise(edges):
        counter.feed(body[start:end])
    assert counter.parts == len(parts)


def test_a_part_counts_only_once_its_closing_delimiter_arrives() -> None:
    counter = PartCounter("b")
    counter.feed(b"--b\r\nContent-Type: image/jpeg\r\n\r\nJPEG\r\n-")
    assert counter.parts == 0
    counter.feed(b"-b\r\n")
    assert counter.parts == 1
    with pytest.raises(ValueError, match="empty"):
        PartCounter("")


@asynccontextmanager
async def _server(replies: list[bytes]) -> AsyncIterator[str]:
    """A loopback server that answers each request head with the next of ``replies``."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for reply in replies:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(reply)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"


def test_keep_alive_gets_read_each_body_by_its_length() -> None:
    replies = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ]

    async def scenario() -> None:
        async with _server(replies) as url:
            connection = await Connection.open(url, 5.0)
            try:
                assert (await connection.get("/a", 5.0)).body == b"abc"
                assert (await connection.get("/b", 5.0)).body == b""
                with pytest.raises(ValueError, match="Content-Length"):
                    await connection.get("/c", 5.0)
            finally:
                await connection.close()

    asyncio.run(scenario())


def test_a_stream_is_read_in_chunks_until_the_server_closes() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=b\r\n\r\n"

    async def scenario() -> int:
        async with _server([head + _stream([b"one", b"two"], b"b")]) as url:
            connection = await Connection.open(url, 5.0)
            try:
                got = await connection.request_head("/stream")
                counter = PartCounter(boundary_of(got.content_type))
                while chunk := await connection.read_chunk(5.0):
                    counter.feed(chunk)
                return counter.parts
            finally:
                await connection.close()

    assert asyncio.run(scenario()) == 2
