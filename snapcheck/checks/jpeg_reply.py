"""Checks of a reply that should be one JPEG image (the success of /api/camera/snapshot).

Strategy: one pass over the body (``walk_jpeg``), one guarded decode, then one finding
per clause in a fixed order: ENV-STATUS-1, JPEG-CT-1, JPEG-CL-1, JPEG-SOI-1, JPEG-EOI-1,
JPEG-TRAIL-1, JPEG-DECODE-1, JPEG-SIZE-1 (and any clause the caller adds for the size,
such as CAPS-PAIR-1 or TIME-CLAMP-1), JPEG-FORMAT-1. Which size is right is the caller's
knowledge (the expected-outcome model); this module only compares.
"""

from __future__ import annotations

from collections.abc import Sequence

from snapcheck.checks.clause_ids import (
    ENV_STATUS_1,
    JPEG_CL_1,
    JPEG_CT_1,
    JPEG_DECODE_1,
    JPEG_EOI_1,
    JPEG_FORMAT_1,
    JPEG_SIZE_1,
    JPEG_SOI_1,
    JPEG_TRAIL_1,
)
from snapcheck.checks.findings import ReplyFindings, hex_head
from snapcheck.exchange import Reply
from snapcheck.jpeg import Decoded, JpegInfo, decode_jpeg, walk_jpeg
from snapcheck.verdicts import Finding, Verdict

JPEG_MEDIA_TYPE = "image/jpeg"


def check_jpeg_reply(
    reply: Reply,
    *,
    expected_size: tuple[int, int] | None = None,
    size_clauses: Sequence[str] = (),
) -> list[Finding]:
    """Judge a reply that should be one JPEG (of ``expected_size``, when given).

    The size is judged under JPEG-SIZE-1 and under each of ``size_clauses`` once.
    """
    out = ReplyFindings(reply)
    body = reply.body
    info = walk_jpeg(body)
    decoded = decode_jpeg(body, info) if info.has_soi else Decoded(None, "no SOI marker")
    _status(out, reply)
    _headers(out, reply)
    _markers(out, body, info)
    _decode(out, info, decoded)
    if expected_size is not None:
        for clause in dict.fromkeys((JPEG_SIZE_1, *size_clauses)):
            _size(out, clause, expected_size, info, decoded)
    _format(out, info)
    return out.items


def _status(out: ReplyFindings, reply: Reply) -> None:
    out.judge(
        ENV_STATUS_1,
        reply.status == 200,
        "HTTP 200 for an image",
        f"an image is a success and must come with HTTP 200, not {reply.status} {reply.reason}",
        f"status line: {reply.status} {reply.reason}",
    )


def _headers(out: ReplyFindings, reply: Reply) -> None:
    declared = reply.header("Content-Type")
    out.judge(
        JPEG_CT_1,
        reply.content_type == JPEG_MEDIA_TYPE,
        "Content-Type: image/jpeg",
        f"the image comes as {declared!r}, not image/jpeg",
        f"Content-Type: {declared!r}",
    )
    lengths = [value.strip() for key, value in reply.headers if key.lower() == "content-length"]
    body = len(reply.body)
    matches = all(value == str(body) for value in lengths)
    passed = (
        f"Content-Length {body} equals the body"
        if lengths
        else "no Content-Length (nothing to compare)"
    )
    evidence = f"Content-Length: {lengths or 'absent'}; body: {body} bytes"
    if reply.transport_error:
        evidence += f"; transport: {reply.transport_error}"
    out.judge(
        JPEG_CL_1, matches, passed, f"Content-Length {lengths} but {body} body bytes", evidence
    )


def _markers(out: ReplyFindings, body: bytes, info: JpegInfo) -> None:
    out.judge(
        JPEG_SOI_1,
        info.has_soi,
        "the body starts with SOI (ff d8)",
        "the body does not start with the SOI marker ff d8",
        f"first bytes: {hex_head(body)}",
    )
    found = info.eoi_offset is not None
    out.judge(
        JPEG_EOI_1,
        found,
        f"the marker walk reaches EOI (ff d9) at byte {info.eoi_offset}",
        "the marker walk never reaches an EOI marker ff d9 (truncated or malformed image)",
        f"last bytes: {body[-8:].hex(' ') or '(none)'}; walk: {'; '.join(info.errors) or 'clean'}",
    )
    if info.eoi_offset is not None:
        trailing = body[info.eoi_offset + 2 :]
        out.judge(
            JPEG_TRAIL_1,
            not trailing,
            "nothing follows EOI",
            f"{len(trailing)} bytes follow the EOI marker",
            f"after EOI at byte {info.eoi_offset}: {hex_head(trailing)}",
        )


def _decode(out: ReplyFindings, info: JpegInfo, decoded: Decoded) -> None:
    problems = [*info.errors, *([decoded.error] if decoded.error else [])]
    image = decoded.image
    shown = f"{image.mode} {image.width}x{image.height}" if image is not None else "nothing"
    out.judge(
        JPEG_DECODE_1,
        not problems,
        f"the marker walk is clean and Pillow decodes it ({shown})",
        "the image does not decode: " + "; ".join(problems),
        f"{info.segment_count} segments, {info.size} bytes; Pillow decoded {shown}",
    )


def _size(
    out: ReplyFindings,
    clause: str,
    expected: tuple[int, int],
    info: JpegInfo,
    decoded: Decoded,
) -> None:
    image = decoded.image
    actual = (image.width, image.height) if image is not None else (info.width, info.height)
    source = "decoded" if image is not None else "declared in the frame header"
    want = f"{expected[0]}x{expected[1]}"
    got = f"{actual[0]}x{actual[1]}" if None not in actual else "unknown"
    out.judge(
        clause,
        actual == expected,
        f"the image is {want} as requested",
        f"the image is {got}, expected {want}",
        f"size {source}: {got}",
    )


def _format(out: ReplyFindings, info: JpegInfo) -> None:
    if info.sof_marker is None:
        out.add(JPEG_FORMAT_1, Verdict.INFORMATIONAL, "no frame header: the format is unknown")
        return
    components = len(info.components)
    out.add(
        JPEG_FORMAT_1,
        Verdict.INFORMATIONAL,
        f"{info.frame_kind}, {components} components, {info.subsampling}, {info.precision}-bit",
        f"SOF marker ff {info.sof_marker:02x}; components "
        + ", ".join(f"{c.ident}:{c.horizontal}x{c.vertical}" for c in info.components),
    )
