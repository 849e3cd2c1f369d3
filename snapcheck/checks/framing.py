"""Verdicts on a multipart stream's framing, as the parser meets each deviation.

Strategy: ``snapcheck.multipart`` finds parts; this module says what each thing it
meets means for a client (the API-FACTS rows on MJPEG in practice) and at which level.
The parser calls one method per kind of event; the texts, clauses and verdicts live
here, in one place. Deviations are tallied per clause (first evidence and a count), so
memory does not grow with the stream. ``findings()`` gives one finding per clause
evaluated, PASS included.
"""

from __future__ import annotations

from snapcheck.checks.clause_ids import (
    STREAM_BOUNDARY_1,
    STREAM_BOUNDARY_2,
    STREAM_END_1,
    STREAM_FRAMING_1,
    STREAM_LEAD_1,
    STREAM_PART_CL_1,
    STREAM_PART_CL_2,
    STREAM_PART_CT_1,
)
from snapcheck.checks.tally import SHOWN_BYTES, Tally, shown
from snapcheck.exchange import Headers, header_values
from snapcheck.verdicts import Finding, Verdict

# Tolerated variants (NON-STRICT): what separates a body read by its Content-Length from
# the next delimiter, when it is not the CRLF RFC 2046 asks for.
GAP_PROBLEMS: dict[bytes, str] = {
    b"": "no line break between a part's body and the next boundary",
    b"\n": "lines end in LF only, not CRLF",
}
PADDING = "empty lines (padding) between a part's body and the next boundary"
LF_ONLY = "lines end in LF only, not CRLF"


class FramingJudge:
    """Collects framing deviations as the parser reports them; renders findings."""

    def __init__(self, content_type: str, boundary: str | None) -> None:
        self._tally = Tally()
        self._boundary = boundary
        self._lead: bool | None = None
        self._bytes_read = 0
        self._first_bytes = b""
        self._delimiter: bytes | None = None
        self._delimiters = 0
        self._closing: int | None = None
        self._after_closing = 0
        self._dropped = 0
        self._ended_by: str | None = None
        if boundary is None:
            self._tally.note(
                STREAM_BOUNDARY_1,
                Verdict.FAIL,
                "the Content-Type declares no boundary (no client can find the parts)",
                f"Content-Type: {content_type!r}",
            )
        elif boundary.startswith("--"):
            self._tally.note(
                STREAM_BOUNDARY_2,
                Verdict.NON_STRICT,
                "the boundary is declared with a leading '--' (a client that follows"
                " RFC 2046 looks for lines of '--' + boundary)",
                f"Content-Type: {content_type!r}",
            )

    def arrived(self, data: bytes) -> None:
        """Count bytes as they arrive (the first few are kept for evidence)."""
        self._bytes_read += len(data)
        if len(self._first_bytes) < SHOWN_BYTES:
            self._first_bytes += data[: SHOWN_BYTES - len(self._first_bytes)]

    def delimiter(self, line: bytes) -> None:
        """A delimiter line was read (``line`` is the delimiter itself)."""
        self._delimiter = self._delimiter or line
        self._delimiters += 1

    def closing(self, offset: int) -> None:
        """The closing delimiter was read at ``offset``."""
        self._closing = offset

    def after_closing(self, count: int) -> None:
        """Bytes that followed the closing delimiter (the epilogue)."""
        self._after_closing += count

    def ended(self, reason: str, *, dropped: int) -> None:
        """The stream ended; ``dropped`` bytes of a part in flight were not judged."""
        self._ended_by = reason
        self._dropped = dropped
        if self._boundary is not None and not self._delimiters and self._bytes_read:
            self._tally.note(
                STREAM_BOUNDARY_1,
                Verdict.FAIL,
                "the body never contains the declared boundary line",
                f"{self._bytes_read} bytes read, no line {shown(b'--' + self._boundary.encode())}",
            )

    def lead(self, *, starts_with_delimiter: bool, expected: bytes) -> None:
        """How the body began: with a delimiter line, or not (ffmpeg then refuses it)."""
        self._lead = starts_with_delimiter
        if not starts_with_delimiter:
            self._tally.note(
                STREAM_LEAD_1,
                Verdict.NON_STRICT,
                "the body does not start with the boundary line (ffmpeg, ffprobe and"
                " OpenCV do not recognise such a stream)",
                f"expected the body to start with {shown(expected)}",
            )

    def fatal(self, problem: str, offset: int) -> None:
        """A deviation after which no client can find the parts: reading stops here."""
        self._tally.note(
            STREAM_BOUNDARY_1,
            Verdict.FAIL,
            f"{problem}: no client can find the parts from here on",
            f"at stream offset {offset}",
        )

    def line_break(self, line: bytes, where: str, offset: int) -> None:
        """A line (without its LF) ended; CRLF is the norm, LF only is tolerated."""
        if not line.endswith(b"\r"):
            self._tally.note(
                STREAM_FRAMING_1, Verdict.NON_STRICT, LF_ONLY, f"{where} at stream offset {offset}"
            )

    def slack(self, problem: str, evidence: str) -> None:
        """A tolerated irregularity between parts (padding, blank lines, empty parts)."""
        self._tally.note(STREAM_FRAMING_1, Verdict.NON_STRICT, problem, evidence)

    def gap(self, gap: bytes, offset: int) -> None:
        """What separated a Content-Length body from the next delimiter."""
        if gap != b"\r\n":
            problem = GAP_PROBLEMS.get(gap, PADDING)
            self.slack(problem, f"{shown(gap)} before the boundary at stream offset {offset}")

    def broken_header(self, line: bytes, offset: int) -> None:
        """A line among a part's headers is not a header: ffmpeg refuses such a part."""
        self._tally.note(
            STREAM_PART_CT_1,
            Verdict.FAIL,
            "a part's header block holds a line that is not a header (ffmpeg and OpenCV"
            " reject such a part)",
            f"line {shown(line)} at stream offset {offset}",
        )

    def unbounded(self, index: int, offset: int, limit: int) -> None:
        """A part ran past the parser's cap without a delimiter (its defect says the rest)."""
        self._tally.note(
            STREAM_BOUNDARY_1,
            Verdict.FAIL,
            f"no boundary within {limit} bytes: a part never ends (it was skipped)",
            f"part {index} starts at stream offset {offset}",
        )

    def length_too_long(self, index: int, declared: int, actual: int) -> None:
        """The next delimiter came before the declared Content-Length was reached."""
        self._tally.note(
            STREAM_PART_CL_2,
            Verdict.FAIL,
            "a part's Content-Length is longer than its body (a client that trusts it,"
            " such as go2rtc, swallows the next boundary)",
            f"part {index} declares {declared} bytes; the next boundary starts after {actual}",
        )

    def length_too_short(self, index: int, declared: int | None, came: bytes) -> None:
        """After the declared Content-Length came something other than a delimiter."""
        self._tally.note(
            STREAM_PART_CL_2,
            Verdict.FAIL,
            "a part's Content-Length is shorter than its body (a client that trusts it,"
            " such as go2rtc, loses the rest of the frame and the stream's framing)",
            f"after the {declared} declared bytes of part {index} came {shown(came)},"
            " not a boundary",
        )

    def part_headers(self, index: int, headers: Headers, length_ok: bool) -> None:
        """Judge one part's Content-Type and Content-Length headers."""
        types = header_values(headers, "Content-Type")
        if [value.lower() for value in types] != ["image/jpeg"]:
            self._tally.note(
                STREAM_PART_CT_1,
                Verdict.FAIL,
                "a part does not carry exactly Content-Type: image/jpeg (ffmpeg and"
                " OpenCV reject such a part)",
                f"part {index} Content-Type: {types or 'absent'}",
            )
        lengths = header_values(headers, "Content-Length")
        if not lengths:
            self._tally.note(
                STREAM_PART_CL_1,
                Verdict.NON_STRICT,
                "a part carries no Content-Length (go2rtc needs it)",
                f"part {index} headers: {list(headers)}",
            )
        elif not length_ok:
            self._tally.note(
                STREAM_PART_CL_2,
                Verdict.FAIL,
                "a part's Content-Length is not one decimal number",
                f"part {index} Content-Length: {lengths}",
            )

    def findings(self, parts: int) -> list[Finding]:
        """One finding per clause evaluated so far (STREAM-END-1 once the stream ended)."""
        delimiter = shown(self._delimiter) if self._delimiter else "none"
        table = (
            (STREAM_BOUNDARY_1, self._delimiters > 0, "the declared boundary frames the body",
             f"delimiter line {delimiter}, seen {self._delimiters} times"),
            (STREAM_BOUNDARY_2, self._boundary is not None,
             "the boundary is declared without a leading '--'", ""),
            (STREAM_LEAD_1, self._lead is not None, "the body starts with the boundary line",
             f"the body starts with {shown(self._first_bytes)}"),
            (STREAM_PART_CT_1, parts > 0, f"all {parts} parts carry Content-Type: image/jpeg", ""),
            (STREAM_PART_CL_1, parts > 0, f"all {parts} parts carry Content-Length", ""),
            (STREAM_PART_CL_2, parts > 0, "every Content-Length equals its part's body", ""),
            (STREAM_FRAMING_1, self._bytes_read > 0,
             "CRLF line breaks, no padding, every part within limits",
             f"{self._bytes_read} bytes, {parts} parts"),
        )  # fmt: skip
        findings = [
            self._tally.finding(clause, passed, evidence)
            for clause, evaluated, passed, evidence in table
            if evaluated or self._tally.has(clause)
        ]
        if self._ended_by is not None:
            findings.append(self._end_finding(parts))
        return findings

    def _end_finding(self, parts: int) -> Finding:
        """STREAM-END-1 (INFORMATIONAL): how the stream ended."""
        if self._closing is not None:
            message = "the stream ended with a closing boundary"
            evidence = f"closing boundary at stream offset {self._closing}"
            if self._after_closing:
                evidence += f"; {self._after_closing} bytes followed it"
        else:
            message = f"no closing boundary; the stream ended by {self._ended_by}"
            evidence = f"{parts} parts"
        if self._dropped:
            evidence += f"; {self._dropped} bytes of a part in flight when the window closed"
        return Finding(STREAM_END_1, Verdict.INFORMATIONAL, message, evidence)
