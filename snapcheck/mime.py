"""The small pieces of MIME grammar the multipart parser needs (RFC 2045/2046, RFC 9110).

Strategy: pure functions over strings and bytes, no state, no judgement: the
Content-Type's boundary parameter, the delimiter lines a boundary allows, whether the
bytes at a position form a header line, and the one value several Content-Length headers
agree on. What a deviation means is decided in ``snapcheck.checks.framing``.
"""

from __future__ import annotations

import enum
import re

# A header name longer than this is taken for binary data, not a header.
MAX_NAME = 256
# A header line starts with a field name (RFC 9110 token characters) and a colon.
HEADER_LINE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}:")
# As much of a field name as the bytes so far hold (to tell "not yet known" apart).
NAME_PREFIX = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]{0,257}")
# One ";name=value" parameter of a Content-Type, the value a token or a quoted string.
PARAMETER = re.compile(r';\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
# A Content-Length value; 15 digits is far beyond any part and keeps int() cheap.
LENGTH = re.compile(r"[0-9]{1,15}")
LINE_BREAKS = re.compile(rb"[\r\n]*")


class LineKind(enum.Enum):
    """What the line at a position is, as far as the bytes so far tell."""

    HEADER = "header"
    EMPTY = "empty"
    OTHER = "other"
    UNDECIDED = "undecided"


def boundary_of(content_type: str) -> str | None:
    """The boundary parameter of a Content-Type value (quotes removed), or None."""
    for match in PARAMETER.finditer(content_type):
        if match.group(1).lower() != "boundary":
            continue
        value = match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        return value or None
    return None


def line_kind(buf: bytearray, start: int) -> LineKind:
    """Classify the line starting at ``start``: a header, an empty line, or anything else."""
    if start >= len(buf):
        return LineKind.UNDECIDED
    if buf[start] == 0x0A:
        return LineKind.EMPTY
    if buf[start] == 0x0D:
        if start + 1 >= len(buf):
            return LineKind.UNDECIDED
        return LineKind.EMPTY if buf[start + 1] == 0x0A else LineKind.OTHER
    if HEADER_LINE.match(buf, start):
        return LineKind.HEADER
    prefix = NAME_PREFIX.match(buf, start)
    undecided = prefix is not None and prefix.end() == len(buf) and len(buf) - start <= MAX_NAME
    return LineKind.UNDECIDED if undecided else LineKind.OTHER


def content_length(values: list[str]) -> int | None:
    """The one length all Content-Length values agree on, or None when absent or malformed."""
    numbers = {int(value) for value in values if LENGTH.fullmatch(value)}
    if not values or len(numbers) != 1 or not all(LENGTH.fullmatch(v) for v in values):
        return None
    return numbers.pop()


def delimiter_lines(boundary: str | None) -> tuple[bytes, ...]:
    """Delimiter lines to look for: RFC 2046 "--" + boundary and, for a boundary declared
    with a leading "--", the boundary itself (what such cameras send)."""
    if boundary is None:
        return ()
    declared = boundary.encode("utf-8")
    rfc = b"--" + declared
    return (rfc, declared) if declared.startswith(b"--") else (rfc,)


def content_end(body: bytearray) -> int:
    """Where a body ends once trailing CR and LF bytes (padding) are left out."""
    end = len(body)
    while end and body[end - 1] in b"\r\n":
        end -= 1
    return end
