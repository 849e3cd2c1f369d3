"""The normalised request and reply that every check reads.

Strategy: the transport builds these once per exchange (from the wire or from a HAR
file); checks read them and never touch an HTTP client. Headers keep their order
and duplicates, as the device sent them. A streamed reply carries the parts the
multipart parser saw instead of a body.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from snapcheck.verdicts import Finding

if TYPE_CHECKING:
    # Only a type: importing it for real would pull zxing-cpp into every user of Reply.
    from snapcheck.timecode import TimeCode

Headers = tuple[tuple[str, str], ...]


def header_values(headers: Headers, name: str) -> list[str]:
    """Every value of a header, case-insensitively, in the order sent."""
    wanted = name.lower()
    return [value for key, value in headers if key.lower() == wanted]


def header_value(headers: Headers, name: str) -> str | None:
    """The first value of a header, or None when absent."""
    values = header_values(headers, name)
    return values[0] if values else None


@dataclass(frozen=True, slots=True)
class Request:
    """A request exactly as sent: parameters keep their order, repeats and raw text.

    ``timeout_s`` is the client's deadline for the exchange (for a stream: its read
    window), when known; a reproducing curl line uses it as ``--max-time``.
    """

    method: str
    base_url: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    form: tuple[tuple[str, str], ...] | None = None
    headers: Headers = ()
    user: str | None = None
    auth_method: str | None = None
    raw_query: str | None = None
    timeout_s: float | None = None

    @property
    def query(self) -> str:
        """The query string as sent (raw_query wins, for deliberately odd encodings)."""
        if self.raw_query is not None:
            return self.raw_query
        return urlencode(self.params)

    @property
    def url(self) -> str:
        """The full URL of the request."""
        base = self.base_url.rstrip("/")
        query = self.query
        return f"{base}{self.path}" + (f"?{query}" if query else "")

    @property
    def host(self) -> str:
        """The device's host[:port] as in the URL."""
        return urlsplit(self.base_url).netloc

    def param_values(self, name: str) -> list[str]:
        """Every value sent for a parameter (query and form), in order."""
        pairs: Sequence[tuple[str, str]] = self.params + (self.form or ())
        return [value for key, value in pairs if key == name]


@dataclass(frozen=True, slots=True)
class PartImage:
    """What decoding one part's body found; kept after the body itself is dropped.

    ``problems`` is empty for a complete JPEG that decoded; ``timecode`` is the frame's
    time code when one could be read.
    """

    width: int | None = None
    height: int | None = None
    problems: tuple[str, ...] = ()
    timecode: TimeCode | None = None


@dataclass(frozen=True, slots=True)
class StreamPart:
    """One part of a multipart stream: its headers, its body (or a digest of it) and timing.

    ``body`` is kept only for the last few parts (bounded memory); ``digest`` (SHA-256),
    ``head`` (its first bytes) and ``image`` (what ``on_part`` found when the part
    completed) are kept for every part, so that every part can be judged. ``offset`` is
    the stream offset of the body's first byte. ``defect`` says why the body is missing
    or incomplete (larger than the parser's cap, cut off when the stream ended).
    """

    index: int
    headers: Headers
    size: int
    first_byte_at: float
    completed_at: float
    body: bytes | None = None
    declared_length: int | None = None
    offset: int = 0
    digest: str = ""
    head: bytes = b""
    defect: str | None = None
    image: PartImage | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """A device's reply, normalised once.

    ``body`` holds a single-body reply (JPEG or JSON). For a stream, ``parts`` holds
    the parts seen within the window and ``body`` is empty. ``transport_error`` says
    why the exchange ended early (timeout, reset, malformed HTTP), if it did.
    """

    request: Request
    status: int
    reason: str = ""
    headers: Headers = ()
    body: bytes = b""
    started_at: float = 0.0
    first_byte_s: float | None = None
    elapsed_s: float = 0.0
    parts: tuple[StreamPart, ...] = ()
    stream_findings: tuple[Finding, ...] = ()
    stream_ended_by: str | None = None
    transport_error: str | None = None
    tls_certificate_sha256: str | None = None
    extra: dict[str, object] = field(default_factory=dict, compare=False, hash=False)

    def header(self, name: str) -> str | None:
        """The first value of a reply header, or None."""
        return header_value(self.headers, name)

    @property
    def content_type(self) -> str | None:
        """The media type without parameters, lower-cased."""
        value = self.header("Content-Type")
        if value is None:
            return None
        return value.split(";", 1)[0].strip().lower()
