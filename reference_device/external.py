"""The external source as a real camera: pull its JPEGs over HTTP, in a thread of its own.

Strategy: one thread runs its own asyncio loop with one aiohttp session. Each attempt
requests the URL and decides by the reply's Content-Type how to read it (``_READERS``):
``multipart/x-mixed-replace`` is an MJPEG stream read part by part until it ends;
``image/jpeg`` is one snapshot, and the next attempt polls again one frame period later.
Every read has a deadline: connecting, and each part or snapshot, must finish within
``read_timeout_s``. Any failure (refused, timed out, bad status, bad framing) marks the
camera unreachable, is recorded in ``last_error``, and is retried after a backoff that
doubles up to ``backoff_max_s`` and resets once a frame arrives again.

Multipart parsing is tolerant in the ways cameras differ (see API-FACTS.md): the boundary
may be declared with a leading ``--``, parts may lack ``Content-Length`` (the body then
ends at the next delimiter), and the stream may end without a closing delimiter.

Pictures are handed to ``deliver`` (the capture stage) untouched; this module never
decodes, numbers, stamps or stores frames, and never adds a time code.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.message import Message

import aiohttp

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PullOptions:
    """Deadlines and retry pacing of the external camera puller."""

    read_timeout_s: float = 5.0
    backoff_initial_s: float = 0.25
    backoff_max_s: float = 5.0
    max_part_bytes: int = 8 * 1024 * 1024

    def __post_init__(self) -> None:
        for name in ("read_timeout_s", "backoff_initial_s", "backoff_max_s", "max_part_bytes"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if self.backoff_max_s < self.backoff_initial_s:
            raise ValueError("backoff_max_s must not be below backoff_initial_s")


class ExternalPuller:
    """Pulls a camera's JPEGs from ``url`` at up to ``fps`` and hands them to ``deliver``.

    ``deliver`` may raise ValueError for a picture it cannot use; that is recorded and the
    stream goes on.
    """

    def __init__(
        self,
        url: str,
        *,
        fps: float,
        deliver: Callable[[bytes], object],
        options: PullOptions | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"external camera URL must be http:// or https://, got {url!r}")
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps!r}")
        self.url = url
        self._period = 1.0 / fps
        self._deliver = deliver
        self._options = options or PullOptions()
        self._state = threading.Condition()
        self._reachable = False
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._attempts = 0
        self.last_error: str | None = None
        self.failures = 0
        self.rejected = 0
        self.failure: BaseException | None = None

    @property
    def reachable(self) -> bool:
        """Whether the camera delivered a frame since the last failed attempt."""
        with self._state:
            return self._reachable

    @property
    def attempts(self) -> int:
        """How many requests to the camera have ended, successfully or not."""
        with self._state:
            return self._attempts

    def wait_attempts(self, count: int, timeout_s: float) -> bool:
        """Block until ``count`` requests have ended, or ``timeout_s`` elapsed."""
        with self._state:
            return self._state.wait_for(lambda: self._attempts >= count, timeout_s)

    def wait_reachable(self, reachable: bool, timeout_s: float) -> bool:
        """Block until the camera is (or is not) reachable, or ``timeout_s`` elapsed."""
        with self._state:
            return self._state.wait_for(lambda: self._reachable is reachable, timeout_s)

    def start(self) -> None:
        """Start pulling in a thread of its own."""
        if self._thread is not None:
            raise ValueError("the external camera puller is already started")
        self._thread = threading.Thread(target=self._run, name="external-camera", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop pulling and wait for the thread to end."""
        with self._state:
            self._stopping = True
            if self._loop is not None and self._task is not None:
                self._loop.call_soon_threadsafe(self._task.cancel)
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._set_reachable(False)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except asyncio.CancelledError:
            log.debug("external camera puller for %s stopped", self.url)
        except Exception as exc:
            self.failure = exc
            log.exception("external camera puller for %s failed", self.url)

    async def _main(self) -> None:
        with self._state:
            if self._stopping:
                return
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.current_task()
        timeout = aiohttp.ClientTimeout(
            total=None, connect=self._options.read_timeout_s, sock_read=self._options.read_timeout_s
        )
        async with aiohttp.ClientSession(timeout=timeout) as session:
            await self._pull_forever(session)

    async def _pull_forever(self, session: aiohttp.ClientSession) -> None:
        loop = asyncio.get_running_loop()
        backoff = self._options.backoff_initial_s
        next_attempt = loop.time()
        while True:
            await asyncio.sleep(max(0.0, next_attempt - loop.time()))
            next_attempt = loop.time() + self._period
            try:
                await self._attempt(session)
            except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
                self._record_failure(exc)
                next_attempt = loop.time() + backoff
                backoff = min(2 * backoff, self._options.backoff_max_s)
            else:
                backoff = self._options.backoff_initial_s
            finally:
                with self._state:
                    self._attempts += 1
                    self._state.notify_all()

    async def _attempt(self, session: aiohttp.ClientSession) -> None:
        async with session.get(self.url) as response:
            if response.status != 200:
                raise ValueError(f"HTTP {response.status} {response.reason}")
            reader = _READERS.get(response.content_type)
            if reader is None:
                raise ValueError(
                    f"unsupported Content-Type {response.content_type!r}; "
                    f"expected one of {', '.join(_READERS)}"
                )
            await reader(self, response)

    async def _read_snapshot(self, response: aiohttp.ClientResponse) -> None:
        stream = _Buffered(response.content, self._options.max_part_bytes)
        async with asyncio.timeout(self._options.read_timeout_s):
            body = await stream.read_to_end()
        self._hand_over(body)

    async def _read_stream(self, response: aiohttp.ClientResponse) -> None:
        parts = _PartReader(
            _Buffered(response.content, self._options.max_part_bytes),
            _delimiters(response.headers.get(aiohttp.hdrs.CONTENT_TYPE, "")),
        )
        delivered = 0
        while True:
            async with asyncio.timeout(self._options.read_timeout_s):
                part = await parts.next_part()
            if part is None:
                break
            self._hand_over(part)
            delivered += 1
        if not delivered:
            raise ValueError("the MJPEG stream ended before its first part")

    def _hand_over(self, picture: bytes) -> None:
        try:
            self._deliver(picture)
        except ValueError as exc:
            # A bad picture is the camera's fault, not a broken link: count it, go on.
            self.rejected += 1
            self.last_error = f"rejected picture: {exc}"
            log.warning("external camera %s sent a bad picture: %s", self.url, exc)
            return
        self._set_reachable(True)

    def _record_failure(self, exc: BaseException) -> None:
        self.failures += 1
        self.last_error = f"{type(exc).__name__}: {exc}"
        log.info("external camera %s unreachable: %s", self.url, self.last_error)
        self._set_reachable(False)

    def _set_reachable(self, reachable: bool) -> None:
        with self._state:
            if self._reachable is not reachable:
                self._reachable = reachable
                self._state.notify_all()


_Reader = Callable[[ExternalPuller, aiohttp.ClientResponse], Awaitable[None]]

# How to read a reply, by its Content-Type.
_READERS: Mapping[str, _Reader] = {
    "multipart/x-mixed-replace": ExternalPuller._read_stream,
    "image/jpeg": ExternalPuller._read_snapshot,
}


def _delimiters(content_type: str) -> tuple[bytes, ...]:
    """The delimiter lines a multipart Content-Type announces (tolerating ``boundary=--x``)."""
    message = Message()
    message["content-type"] = content_type
    boundary = message.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise ValueError(f"multipart reply without a boundary: {content_type!r}")
    candidates = [b"--" + boundary.encode("latin-1")]
    if boundary.startswith("--"):
        candidates.append(boundary.encode("latin-1"))
    return tuple(candidates)


class _Buffered:
    """Line and length reads over an aiohttp stream, never holding more than a limit."""

    def __init__(self, stream: aiohttp.StreamReader, limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._buffer = bytearray()
        self._eof = False

    async def readline(self) -> bytes | None:
        """The next line with its end, or None at the end of the stream."""
        searched = 0  # never rescan bytes already searched: a JPEG line can be long
        while (end := self._buffer.find(b"\n", searched)) < 0:
            searched = len(self._buffer)
            if not await self._fill():
                return self._take(len(self._buffer)) or None
        return self._take(end + 1)

    async def readexactly(self, count: int) -> bytes:
        """Exactly ``count`` bytes; ValueError if the stream ends first."""
        if count > self._limit:
            raise ValueError(f"a part of {count} bytes exceeds the limit of {self._limit}")
        while len(self._buffer) < count:
            if not await self._fill():
                raise ValueError(f"the stream ended {count - len(self._buffer)} bytes early")
        return self._take(count)

    async def read_until(self, markers: tuple[bytes, ...]) -> tuple[bytes, bool]:
        """Bytes up to the first marker (consumed too), and whether a marker was found."""
        searched = 0
        while True:
            found = [(i, m) for m in markers if (i := self._buffer.find(m, searched)) >= 0]
            if found:
                start, marker = min(found)
                body = self._take(start)
                self._take(len(marker))
                return body, True
            # A marker may straddle the next chunk: rescan only the tail it could start in.
            searched = max(0, len(self._buffer) - max(map(len, markers)) + 1)
            if not await self._fill():
                return self._take(len(self._buffer)), False

    async def read_to_end(self) -> bytes:
        """Everything until the stream ends."""
        while await self._fill():
            pass
        return self._take(len(self._buffer))

    async def _fill(self) -> bool:
        if self._eof:
            return False
        chunk = await self._stream.readany()
        if not chunk:
            self._eof = True
            return False
        self._buffer += chunk
        if len(self._buffer) > self._limit:
            raise ValueError(f"more than {self._limit} bytes without the end of a part")
        return True

    def _take(self, count: int) -> bytes:
        taken = bytes(self._buffer[:count])
        del self._buffer[:count]
        return taken


class _PartReader:
    """The JPEG bodies of a multipart/x-mixed-replace stream, one part at a time."""

    def __init__(self, stream: _Buffered, delimiters: tuple[bytes, ...]) -> None:
        self._stream = stream
        self._delimiters = delimiters
        self._closing = tuple(d + b"--" for d in delimiters)
        # Set when reading a body without Content-Length consumed the next delimiter.
        self._at_headers = False

    async def next_part(self) -> bytes | None:
        """The next part's body, or None when the stream ends."""
        if not self._at_headers and not await self._skip_to_delimiter():
            return None
        self._at_headers = False
        headers = await self._headers()
        if headers is None:
            return None
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                raise ValueError(f"bad part Content-Length {length!r}")
            return await self._stream.readexactly(int(length))
        # No length: the body ends at the CRLF that precedes the next delimiter.
        markers = tuple(prefix + d for d in self._delimiters for prefix in (b"\r\n", b"\n"))
        body, found = await self._stream.read_until(markers)
        if found:
            rest = await self._stream.readline()
            self._at_headers = rest is not None and not rest.startswith(b"--")
        return body

    async def _skip_to_delimiter(self) -> bool:
        while (line := await self._stream.readline()) is not None:
            stripped = line.rstrip(b"\r\n")
            if stripped in self._closing:
                return False
            if stripped in self._delimiters:
                return True
        return False

    async def _headers(self) -> dict[str, str] | None:
        headers: dict[str, str] = {}
        while (line := await self._stream.readline()) is not None:
            text = line.decode("latin-1").strip()
            if not text:
                return headers
            name, _, value = text.partition(":")
            headers[name.strip().lower()] = value.strip()
        return None
