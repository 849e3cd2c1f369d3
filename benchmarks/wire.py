"""A minimal HTTP/1.1 client on raw asyncio streams: cheap load and unblurred timing.

Strategy: the benchmarks need keep-alive GETs whose timing no client library blurs, and
fifty MJPEG streams read at once by a load generator that must cost little. So one
``Connection`` is an asyncio stream pair; a reply's head is read up to the blank line and
parsed here (``parse_head``); a body is read by its Content-Length; a stream's parts are
counted by finding the boundary's delimiter across chunk edges (``PartCounter``), never
parsed. Every read has a deadline. Loopback only: the URL must name 127.0.0.1.

What never belongs here: timing, judging, anything about one benchmark.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import urlsplit

# Big enough for any reply head; a stream's parts are read in chunks, never as lines.
_READ_LIMIT = 1 << 20
CHUNK_BYTES = 1 << 18

logger = logging.getLogger(__name__)


def loopback_address(base_url: str) -> tuple[str, int]:
    """The (host, port) of an ``http://127.0.0.1:PORT`` URL; ValueError for anything else."""
    parts = urlsplit(base_url)
    if parts.scheme != "http" or parts.hostname != "127.0.0.1" or parts.port is None:
        raise ValueError(f"benchmarks talk to http://127.0.0.1:PORT only, got {base_url!r}")
    return parts.hostname, parts.port


@dataclass(frozen=True, slots=True)
class Head:
    """A reply's status code and headers (names in lower case, the last value wins)."""

    status: int
    headers: Mapping[str, str]

    @property
    def content_type(self) -> str:
        """The Content-Type header, or "" when absent."""
        return self.headers.get("content-type", "")


def parse_head(data: bytes) -> Head:
    """The status and headers of a reply head (up to and without the blank line)."""
    lines = data.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code = rest.partition(" ")[0]
    if not version.startswith("HTTP/1.") or not code.isdigit():
        raise ValueError(f"not an HTTP/1.x status line: {lines[0]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise ValueError(f"a header line without a colon: {line!r}")
        headers[name.strip().lower()] = value.strip()
    return Head(int(code), MappingProxyType(headers))


def boundary_of(content_type: str) -> str:
    """The boundary parameter of a multipart Content-Type; ValueError when it has none."""
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name.lower() == "boundary" and value:
            return value.strip('"')
    raise ValueError(f"no boundary in Content-Type {content_type!r}")


class PartCounter:
    """Counts the complete parts of a multipart body fed in chunks of any size."""

    def __init__(self, boundary: str) -> None:
        if not boundary:
            raise ValueError("a boundary must not be empty")
        self._delimiter = b"--" + boundary.encode("latin-1")
        self._tail = b""
        self._delimiters = 0

    @property
    def parts(self) -> int:
        """Complete parts so far: a part is complete once the next delimiter arrived."""
        return max(0, self._delimiters - 1)

    def feed(self, chunk: bytes) -> None:
        """Scan the next bytes of the body."""
        data = self._tail + chunk
        start = 0
        while (found := data.find(self._delimiter, start)) >= 0:
            self._delimiters += 1
            start = found + len(self._delimiter)
        # Keep what could be the start of a delimiter cut by the chunk's edge, but
        # never bytes of a delimiter already counted.
        self._tail = data[max(start, len(data) - len(self._delimiter) + 1) :]


@dataclass(frozen=True, slots=True)
class Reply:
    """A complete reply: its head and its body."""

    head: Head
    body: bytes


class Connection:
    """One keep-alive HTTP/1.1 connection to a loopback server."""

    def __init__(
        self, host: str, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._host = f"{host}:{port}"
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, base_url: str, timeout_s: float) -> Connection:
        """Connect to ``base_url`` within ``timeout_s``."""
        host, port = loopback_address(base_url)
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection(host, port, limit=_READ_LIMIT)
        return cls(host, port, reader, writer)

    async def get(self, target: str, timeout_s: float) -> Reply:
        """GET ``target`` (path and query) and read the whole reply within ``timeout_s``."""
        async with asyncio.timeout(timeout_s):
            head = await self.request_head(target)
            length = head.headers.get("content-length")
            if length is None or not length.isdigit():
                raise ValueError(f"GET {target}: a reply without a Content-Length")
            body = await self._reader.readexactly(int(length))
        return Reply(head, body)

    async def request_head(self, target: str) -> Head:
        """Send a GET for ``target`` and read the reply's head (the caller sets the deadline)."""
        request = f"GET {target} HTTP/1.1\r\nHost: {self._host}\r\nConnection: keep-alive\r\n\r\n"
        self._writer.write(request.encode("ascii"))
        await self._writer.drain()
        return parse_head((await self._reader.readuntil(b"\r\n\r\n"))[:-4])

    async def read_chunk(self, timeout_s: float) -> bytes:
        """The next bytes of the body, b"" when the server closed; within ``timeout_s``."""
        async with asyncio.timeout(timeout_s):
            return await self._reader.read(CHUNK_BYTES)

    async def close(self) -> None:
        """Close the connection (the server sees the client leave)."""
        self._writer.close()
        try:
            await asyncio.wait_for(self._writer.wait_closed(), 5.0)
        except (ConnectionError, TimeoutError) as exc:
            # A server that reset or never acknowledged the close: the socket is closed
            # on our side either way, which is all a departing client does.
            logger.debug("closing a connection to %s: %r", self._host, exc)
