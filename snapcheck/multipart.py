"""An incremental, bounded-memory parser for multipart/x-mixed-replace (MJPEG over HTTP).

Strategy: ``MultipartReader`` is fed the body as it arrives and hands back each part as
it completes. It accepts every variant servers in the field send (see API-FACTS, "How
MJPEG over HTTP looks in practice") and records each deviation against its clause with
the client it would break; it never raises on what the device sends.

Rules that keep memory bounded and time linear for an endless stream:

- Only the current part is buffered, and at most ``max_part_bytes`` of it; a larger
  part is reported and skipped up to the next delimiter. Header blocks are capped at
  ``max_header_bytes``; past that the reader reports and stops reading.
- The delimiter is searched for only in bytes not searched before, plus an overlap of
  one delimiter's length, so every byte is scanned a bounded number of times.
- Bodies are kept for the last ``keep_bodies`` parts only. Every part keeps its digest,
  first bytes and whatever ``on_part`` (called with the complete body) returned, so a
  check can judge every part without its body.

Every decision depends only on the bytes, never on how they were split into chunks:
fed at once or byte by byte, the reader yields the same parts and findings.
Judging a part's JPEG, timing and rate belongs to ``snapcheck.checks.stream_reply``.
"""

from __future__ import annotations

import enum
import hashlib
from collections import deque
from collections.abc import Callable
from dataclasses import replace

from snapcheck.checks.framing import PADDING, FramingJudge
from snapcheck.checks.tally import SHOWN_BYTES
from snapcheck.exchange import PartImage, StreamPart
from snapcheck.mime import (
    LINE_BREAKS,
    LineKind,
    boundary_of,
    content_end,
    content_length,
    delimiter_lines,
    line_kind,
)
from snapcheck.verdicts import Finding

MIB = 1024 * 1024
HEAD_BYTES = 16
# Why a stream ended, as the transport says it: the client's window closed (a part in
# flight then is ours to drop, not the device's fault) or the device closed (eof).
END_WINDOW = "window"
END_EOF = "eof"


class _State(enum.Enum):
    """Where the reader is in the stream; each state has one handler."""

    START = "start"
    HEADERS = "headers"
    BODY = "body"
    AFTER_LENGTH = "after-length"
    DELIMITER = "delimiter"
    DISCARD = "discard"


class _Part:
    """The part being read: its headers so far, its body bytes, and where it started.

    ``storing`` is False once the part outgrew the cap (its bytes are then only counted);
    ``emit`` is False for bytes that are no part at all (resynchronising after a lie).
    """

    def __init__(self, offset: int, *, emit: bool = True) -> None:
        self.headers: list[tuple[str, str]] = []
        self.header_bytes = 0
        self.started_at: float | None = None
        self.body = bytearray()
        self.size = 0
        self.offset = offset
        self.declared: int | None = None
        self.storing = emit
        self.emit = emit
        self.line_start = emit
        self.ends_in_cr = False

    def header(self, name: str) -> list[str]:
        """Every value of a header (name in lower case) the part carried so far."""
        return [value for key, value in self.headers if key.lower() == name]


class MultipartReader:
    """Feed a multipart/x-mixed-replace body chunk by chunk; get parts and framing findings."""

    def __init__(
        self,
        content_type: str,
        *,
        max_part_bytes: int = 8 * MIB,
        max_header_bytes: int = 16 * 1024,
        keep_bodies: int = 8,
        on_part: Callable[[bytes], PartImage] | None = None,
    ) -> None:
        if max_part_bytes < 1 or max_header_bytes < 1 or keep_bodies < 0:
            raise ValueError("max_part_bytes and max_header_bytes must be >= 1, keep_bodies >= 0")
        self.max_part_bytes = max_part_bytes
        self.max_header_bytes = max_header_bytes
        self.keep_bodies = keep_bodies
        self._on_part = on_part
        self._boundary = boundary_of(content_type)
        self._tokens = delimiter_lines(self._boundary)
        self._buf = bytearray()
        self._consumed = 0
        self._state = _State.START
        self._part = _Part(0)
        self._at = 0.0
        self._parts: list[StreamPart] = []
        self._with_body: deque[int] = deque()
        self._judge = FramingJudge(content_type, self._boundary)
        self._closing = False
        self._ended = False

    @property
    def parts_seen(self) -> int:
        """How many parts completed so far."""
        return len(self._parts)

    @property
    def parts(self) -> tuple[StreamPart, ...]:
        """Every part so far; bodies only on the last ``keep_bodies``."""
        return tuple(self._parts)

    def feed(self, data: bytes, at: float) -> list[StreamPart]:
        """Add bytes that arrived at time ``at``; the parts they completed (without bodies)."""
        if self._ended:
            raise ValueError("feed() after close()")
        self._at = at
        before = len(self._parts)
        self._buf += data
        self._judge.arrived(data)
        handlers = self._handlers()
        while self._buf and handlers[self._state]():
            pass
        return [replace(part, body=None) for part in self._parts[before:]]

    def close(self, at: float, reason: str) -> list[StreamPart]:
        """The stream ended (``reason``: window, eof, timeout, ...); the parts that completed."""
        if self._ended:
            raise ValueError("close() called twice")
        self._at, self._ended = at, True
        before = len(self._parts)
        dropped = 0
        if self._state is _State.DELIMITER and reason != END_WINDOW:
            self._last_delimiter()
        elif self._state in (_State.HEADERS, _State.BODY):
            dropped = self._close_part(reason)
        self._judge.ended(reason, dropped=dropped)
        return [replace(part, body=None) for part in self._parts[before:]]

    @property
    def findings(self) -> list[Finding]:
        """The framing findings, one per clause evaluated (complete once close() was called)."""
        return self._judge.findings(len(self._parts))

    def _handlers(self) -> dict[_State, Callable[[], bool]]:
        return {
            _State.START: self._start,
            _State.HEADERS: self._headers,
            _State.BODY: self._body,
            _State.AFTER_LENGTH: self._after_length,
            _State.DELIMITER: self._delimiter,
            _State.DISCARD: self._discard,
        }

    def _consume(self, count: int) -> None:
        del self._buf[:count]
        self._consumed += count

    def _stop(self, problem: str) -> bool:
        """A fatal framing error: report it and read no further."""
        self._judge.fatal(problem, self._consumed)
        self._state = _State.DISCARD
        return True

    def _start(self) -> bool:
        """Decide how the body begins: with a delimiter line (as ffmpeg needs) or not."""
        if not self._tokens:
            return self._sniff_boundary()
        breaks = LINE_BREAKS.match(self._buf)
        width = breaks.end() if breaks else 0  # CRLF before the first boundary (ESP32-CAM)
        if width > self.max_header_bytes:
            return self._stop("endless line breaks before the first boundary")
        for token in self._tokens:
            if self._buf.startswith(token, width):
                self._judge.lead(starts_with_delimiter=width == 0, expected=token)
                self._consume(width)
                self._tokens = (token,)
                self._state = _State.DELIMITER
                return True
            if token.startswith(self._buf[width : width + len(token)]):
                return False
        self._judge.lead(starts_with_delimiter=False, expected=self._tokens[0])
        self._begin_part()
        return True

    def _sniff_boundary(self) -> bool:
        """Without a declared boundary, take the body's first line if it starts with "--"."""
        newline = self._buf.find(b"\n", 0, self.max_header_bytes)
        if (
            newline < 0
            and len(self._buf) < self.max_header_bytes
            and b"--".startswith(self._buf[:2])
        ):
            return False
        token = bytes(self._buf[: max(newline, 0)]).rstrip(b"\r \t")
        if not token.startswith(b"--") or len(token) <= 2:
            return self._stop("no boundary declared, and the body does not start with one")
        self._tokens = (token,)
        self._judge.lead(starts_with_delimiter=True, expected=token)
        self._state = _State.DELIMITER
        return True

    def _begin_part(self) -> None:
        self._part = _Part(self._consumed)
        self._state = _State.HEADERS

    def _headers(self) -> bool:
        """Read one header line (or the blank line that ends them, or find there are none)."""
        part = self._part
        if part.started_at is None:
            part.started_at = self._at
        kind = line_kind(self._buf, 0)
        if kind is LineKind.EMPTY:
            return self._blank_line()
        if kind is LineKind.UNDECIDED:
            return False  # at most MAX_NAME bytes: _line_kind decides past that
        if kind is LineKind.OTHER and not part.headers:
            self._begin_body()  # a part without headers: its body starts right here
            return True
        budget = self.max_header_bytes - part.header_bytes
        newline = self._buf.find(b"\n", 0, max(budget, 0))
        if newline < 0:
            if len(self._buf) >= budget:
                return self._stop(f"part headers exceed {self.max_header_bytes} bytes")
            return False
        line = bytes(self._buf[:newline])
        self._judge.line_break(line, "a part header line", self._consumed)
        if kind is LineKind.HEADER:
            name, _, value = line.decode("latin-1").partition(":")
            part.headers.append((name.strip(), value.strip()))
        else:
            self._judge.broken_header(line, self._consumed)
        part.header_bytes += newline + 1
        self._consume(newline + 1)
        return True

    def _blank_line(self) -> bool:
        """The empty line after the headers; before any header it may be mere slack."""
        width = 1 if self._buf[0] == 0x0A else 2
        if self._part.header_bytes + width > self.max_header_bytes:
            return self._stop(f"part headers exceed {self.max_header_bytes} bytes")
        if not self._part.headers:
            following = line_kind(self._buf, width)
            if following is LineKind.UNDECIDED:
                return False
            if following is LineKind.HEADER:
                self._judge.slack(
                    "an empty line between the boundary and the part headers",
                    f"at stream offset {self._consumed}",
                )
                self._part.header_bytes += width
                self._consume(width)
                return True
        blank = bytes(self._buf[: width - 1])
        self._judge.line_break(blank, "the blank line after the part headers", self._consumed)
        self._consume(width)
        self._begin_body()
        return True

    def _begin_body(self) -> None:
        part = self._part
        part.offset = self._consumed
        part.declared = content_length(part.header("content-length"))
        self._state = _State.BODY
        if part.declared is not None and part.declared > self.max_part_bytes:
            self._oversized()
        elif part.declared == 0:
            self._finish_part()
            self._state = _State.AFTER_LENGTH

    def _oversized(self) -> None:
        part = self._part
        if part.declared is None:
            self._judge.unbounded(len(self._parts), part.offset, self.max_part_bytes)
        part.storing = part.line_start = False
        part.declared = None
        part.body = bytearray()

    def _body(self) -> bool:
        """Take body bytes up to the declared length or the next delimiter."""
        part = self._part
        remaining = None if part.declared is None else part.declared - part.size
        end = len(self._buf) if remaining is None else min(len(self._buf), remaining)
        at_start = self._delimiter_at_start(remaining) if part.line_start else False
        if at_start is None:
            return False
        hit = (0, 0) if at_start else self._find_delimiter(end)
        if hit is not None:
            return self._body_ends_at_delimiter(*hit)
        if remaining is not None and end == remaining:
            self._take(end)
            self._finish_part()
            self._state = _State.AFTER_LENGTH
            return True
        overlap = max(len(token) for token in self._tokens)
        return self._take(end - overlap)

    def _delimiter_at_start(self, remaining: int | None) -> bool | None:
        """Whether the body is empty, a delimiter following at once (None: not yet known)."""
        fits = [t for t in self._tokens if remaining is None or len(t) <= remaining]
        if any(self._buf.startswith(t) for t in fits):
            return True
        if any(len(self._buf) < len(t) and t.startswith(self._buf) for t in fits):
            return None
        self._part.line_start = False
        return False

    def _find_delimiter(self, end: int) -> tuple[int, int] | None:
        """(body end, delimiter start) of the first delimiter line wholly inside buf[:end]."""
        hits = [self._buf.find(b"\n" + token, 0, end) for token in self._tokens]
        found = [hit for hit in hits if hit >= 0]
        return (min(found), min(found) + 1) if found else None

    def _body_ends_at_delimiter(self, body_end: int, delimiter: int) -> bool:
        part = self._part
        self._take(body_end)
        self._consume(delimiter - body_end)
        self._state = _State.DELIMITER
        part.size -= part.ends_in_cr  # the CR of the delimiter's CRLF is not the body's
        if part.declared is not None:
            self._judge.length_too_long(len(self._parts), part.declared, part.size)
        self._trim_line_break()
        self._finish_part()
        return True

    def _take(self, count: int) -> bool:
        """Move ``count`` bytes from the buffer into the body (or past it when skipping)."""
        part = self._part
        if count <= 0:
            return False
        if part.storing and len(part.body) + count > self.max_part_bytes:
            self._oversized()
        if part.storing:
            part.body += self._buf[:count]
        part.ends_in_cr = self._buf[count - 1] == 0x0D
        part.size += count
        part.line_start = False
        self._consume(count)
        return True

    def _trim_line_break(self) -> None:
        """Drop the line break that belongs to the delimiter, and any padding, in place."""
        body = self._part.body
        if not self._part.storing:
            return
        if body.endswith(b"\r"):
            del body[-1:]
        elif body:
            self._judge.line_break(b"", "the line break before a boundary", self._consumed)
        end = content_end(body)
        if end < len(body):
            padding = bytes(body[end : end + SHOWN_BYTES])
            self._judge.slack(PADDING, f"{padding!r} after part {len(self._parts)}")
            del body[end:]

    def _finish_part(self) -> None:
        """Record the part that just completed, unless it was no part at all."""
        part = self._part
        if not part.emit:
            return
        if part.storing and not part.headers and not part.body:
            self._judge.slack(
                "an empty part (two boundaries with only line breaks between them)",
                f"at stream offset {part.offset}",
            )
            return
        if not part.storing:
            self._record(None, f"larger than {self.max_part_bytes} bytes; skipped")
            return
        self._make_room()
        body = bytes(part.body)
        part.body = bytearray()  # the bytes live on in ``body``; never hold them twice
        self._record(body, None)

    def _make_room(self) -> None:
        """Drop the oldest kept body before the next one is copied (bounds peak memory)."""
        while self._with_body and len(self._with_body) >= self.keep_bodies:
            old = self._with_body.popleft()
            self._parts[old] = replace(self._parts[old], body=None)

    def _record(self, body: bytes | None, defect: str | None) -> None:
        part = self._part
        index = len(self._parts)
        lengths = part.header("content-length")
        self._judge.part_headers(index, tuple(part.headers), content_length(lengths) is not None)
        image = self._on_part(body) if body is not None and self._on_part else None
        keep = body is not None and self.keep_bodies > 0
        self._parts.append(
            StreamPart(
                index=index,
                headers=tuple(part.headers),
                size=part.size if body is None else len(body),
                first_byte_at=self._at if part.started_at is None else part.started_at,
                completed_at=self._at,
                body=body if keep else None,
                declared_length=content_length(part.header("content-length")),
                offset=part.offset,
                digest="" if body is None else hashlib.sha256(body).hexdigest(),
                head=(body or b"")[:HEAD_BYTES],
                defect=defect,
                image=image,
            )
        )
        if keep:
            self._with_body.append(index)

    def _after_length(self) -> bool:
        """After a body read by its Content-Length: line breaks, then the next delimiter."""
        breaks = LINE_BREAKS.match(self._buf)
        width = breaks.end() if breaks else 0
        if width > self.max_header_bytes:
            return self._stop("endless line breaks after a part")
        if len(self._buf) - width < max(len(token) for token in self._tokens):
            return False  # decide on a whole delimiter's worth of bytes, however they came
        for token in self._tokens:
            if self._buf.startswith(token, width):
                self._judge.gap(bytes(self._buf[:width]), self._consumed + width)
                self._consume(width)
                self._tokens = (token,)
                self._state = _State.DELIMITER
                return True
        came = bytes(self._buf[width : width + len(self._tokens[0])])
        self._judge.length_too_short(len(self._parts) - 1, self._part.declared, came)
        self._part = _Part(self._consumed, emit=False)
        self._state = _State.BODY
        return True

    def _delimiter(self) -> bool:
        """A delimiter line: "--boundary", or "--boundary--" that closes the stream."""
        limit = len(self._tokens[0]) + self.max_header_bytes
        newline = self._buf.find(b"\n", 0, limit)
        if newline < 0:
            if len(self._buf) >= limit:
                return self._stop("a boundary line does not end")
            return False
        line = bytes(self._buf[:newline])
        self._judge.line_break(line, "a boundary line", self._consumed)
        self._delimiter_line(line.rstrip(b"\r"))
        self._consume(newline + 1)
        if not self._closing:
            self._begin_part()
        return True

    def _delimiter_line(self, line: bytes) -> None:
        rest = line[len(self._tokens[0]) :]
        self._judge.delimiter(self._tokens[0])
        if rest.startswith(b"--"):
            self._judge.closing(self._consumed)
            self._closing = True
            self._state = _State.DISCARD
        elif rest.strip(b" \t"):
            self._judge.slack(
                "text follows the boundary on its line",
                f"{line[:SHOWN_BYTES]!r} at stream offset {self._consumed}",
            )

    def _last_delimiter(self) -> None:
        """The device closed inside a delimiter line: judge the line it sent."""
        self._delimiter_line(bytes(self._buf).rstrip(b"\r\n"))
        self._consume(len(self._buf))

    def _discard(self) -> bool:
        """After the closing delimiter (epilogue) or a fatal framing error: count and drop."""
        if self._closing:
            self._judge.after_closing(len(self._buf))
        self._consume(len(self._buf))
        return False

    def _close_part(self, reason: str) -> int:
        """The stream ended inside a part: complete it, report it cut off, or drop it.

        Returns how many bytes of it were dropped because the client's window closed."""
        part = self._part
        if self._state is _State.BODY:
            self._take(len(self._buf))
        content = part.headers or part.size or bytes(self._buf).strip(b"\r\n")
        if not part.emit or not content:
            return 0
        if reason == END_WINDOW:
            return part.header_bytes + part.size + len(self._buf)
        if self._state is _State.BODY and part.declared is None and reason == END_EOF:
            del part.body[content_end(part.body) :]
            self._finish_part()
        else:
            expected = f" of {part.declared}" if part.declared is not None else ""
            self._record(None, f"cut off ({reason}) after {part.size}{expected} body bytes")
        return 0
