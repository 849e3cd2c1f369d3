"""Fuzzing the validator: whatever a device sends, every check returns findings and raises
nothing else; the stream parser gives the same parts however the bytes are split; and
an endless stream goes through the parser in bounded memory.

Stated bound: with ``keep_bodies=1`` the parser's peak traced memory stays under
3 x ``max_part_bytes`` (one part being read, its copy when it completes, and the one
kept body) for any length of stream fed in 64 KiB chunks.
"""

from __future__ import annotations

import json
import multiprocessing
import tracemalloc
from collections.abc import Iterator

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from synthetic import MULTIPART, jpeg_bytes, json_reply, reply, stream_reply

from snapcheck.checks.caps_reply import check_caps_reply
from snapcheck.checks.jpeg_reply import check_jpeg_reply
from snapcheck.checks.json_reply import check_error_reply, check_success_json
from snapcheck.checks.stream_reply import check_stream_reply, describe_part
from snapcheck.exchange import Reply
from snapcheck.multipart import MIB, MultipartReader
from snapcheck.verdicts import Finding

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BASE = jpeg_bytes((64, 48))
SMALL = jpeg_bytes((16, 16))
JPEG_CLAUSES = {
    "ENV-STATUS-1",
    "JPEG-CT-1",
    "JPEG-CL-1",
    "JPEG-SOI-1",
    "JPEG-EOI-1",
    "JPEG-DECODE-1",
}


@st.composite
def mutated_jpegs(draw: st.DrawFn) -> bytes:
    """A JPEG truncated, overwritten, spliced with garbage, or declaring a gigapixel frame."""
    data = bytearray(BASE)
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["truncate", "flip", "insert", "gigapixel", "trail"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "truncate":
            del data[at:]
        elif kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(max_size=16))
        elif kind == "gigapixel" and b"\xff\xc0" in data:
            sof = data.index(b"\xff\xc0")
            data[sof + 5 : sof + 9] = b"\xff\xff\xff\xff"
        else:
            data += draw(st.binary(max_size=8))
    return bytes(data)


def assert_findings(findings: object) -> list[Finding]:
    assert isinstance(findings, list)
    assert all(isinstance(f, Finding) and f.message and f.curl for f in findings)
    return findings


@FUZZ
@given(mutated_jpegs(), st.sampled_from([None, "image/jpeg", "text/html"]))
def test_a_broken_jpeg_becomes_findings(data: bytes, content_type: str | None) -> None:
    findings = assert_findings(
        check_jpeg_reply(reply(data, content_type=content_type), expected_size=(64, 48))
    )
    assert {f.clause for f in findings} >= JPEG_CLAUSES


# Member names a device's JSON would use, so that generated documents come close to valid.
NAMES = st.sampled_from(
    ["success", "error", "code", "param", "result", "jpegResolution", "sources", "width", "height"]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(NAMES, children, max_size=4),
    max_leaves=12,
)
# Error envelopes whose members hold any JSON value (a list as code or param, ...).
envelopes = st.fixed_dictionaries(
    {"success": json_values, "error": st.fixed_dictionaries({}, optional={
        "code": json_values, "param": json_values, "description": json_values})},
)  # fmt: skip
json_bodies = st.one_of(
    st.binary(max_size=64),
    json_values.map(lambda value: json.dumps(value).encode()),
    json_values.map(lambda value: json.dumps(value).encode().replace(b"}", b",}")),
    envelopes.map(lambda value: json.dumps(value).encode()),
)


@FUZZ
@given(json_bodies, st.sampled_from([200, 401, 404, 500]))
def test_any_json_body_becomes_findings(body: bytes, status: int) -> None:
    sent = json_reply(body, status=status)
    width = frozenset({"width"})
    codes = frozenset({12})
    assert_findings(
        check_error_reply(sent, clause="SNAP-WH-1", expected_codes=codes, expected_params=width)
    )
    assert_findings(check_success_json(sent)[1])
    assert_findings(check_caps_reply(sent)[1])


fragments = st.sampled_from(
    [
        b"--B\r\n", b"--B", b"--B--\r\n", b"----B\r\n", b"\r\n", b"\n", b"\r",
        b"Content-Type: image/jpeg\r\n", b"Content-type: image/png\n",
        b"Content-Length: %d\r\n" % len(SMALL), b"Content-Length: 3\r\n",
        b"Content-Length: 99999\r\n", b"Content-Length: x\r\n", b"X-Pad: " + b"a" * 300,
        SMALL, SMALL[:40], b"\xff\xd8\xff\xd9", b"not a header\r\n", b":", b"-",
    ]
)  # fmt: skip
streams = st.lists(st.one_of(fragments, st.binary(max_size=12)), max_size=24).map(b"".join)


def fed_in_chunks(content_type: str, data: bytes, cuts: list[int], reason: str) -> MultipartReader:
    reader = MultipartReader(
        content_type,
        max_part_bytes=600,
        max_header_bytes=256,
        keep_bodies=2,
        on_part=describe_part,
    )
    offset = 0
    for i in range(len(data)):
        size = cuts[i % len(cuts)]
        if offset >= len(data):
            break
        reader.feed(data[offset : offset + size], 1.0)
        offset += size
    reader.close(1.0, reason)
    return reader


@FUZZ
@given(
    streams,
    st.lists(st.integers(1, 64), min_size=1, max_size=16),
    st.sampled_from(["boundary=B", "boundary=--B", 'boundary="B"', "", "boundary=--"]),
    st.sampled_from(["window", "eof", "timeout"]),
)
def test_the_parser_gives_the_same_parts_however_the_bytes_are_split(
    data: bytes, cuts: list[int], parameter: str, reason: str
) -> None:
    content_type = f"{MULTIPART}; {parameter}"
    whole = fed_in_chunks(content_type, data, [len(data) or 1], reason)
    split = fed_in_chunks(content_type, data, cuts, reason)
    assert split.parts == whole.parts
    assert split.findings == whole.findings
    assert all(len(part.body or b"") <= 600 for part in whole.parts)
    sent = Reply(
        reply(b"").request,
        200,
        "OK",
        (("Content-Type", content_type),),
        started_at=0.0,
        elapsed_s=1.0,
        parts=whole.parts,
        stream_findings=tuple(whole.findings),
    )
    assert_findings(check_stream_reply(sent, expected_size=(16, 16), fps=5))


@FUZZ
@given(streams, st.floats(0.1, 30), st.sampled_from([None, 1.0, 15.0]))
def test_a_broken_stream_becomes_findings(data: bytes, window: float, fps: float | None) -> None:
    sent = stream_reply(f"{MULTIPART}; boundary=B", [(data, window / 2)], window_s=window)
    assert_findings(check_stream_reply(sent, expected_size=(16, 16), fps=fps))


def stream_pieces() -> tuple[bytes, bytes]:
    """A part that never ends (20 MiB without a boundary), and a unit of two 700 KiB parts,
    one with Content-Length and one without."""
    body = bytes(range(256)).replace(b"\n", b"x") * (700 * 1024 // 256)
    with_length = b"--B\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(body)
    unit = (
        with_length + body + b"\r\n" + b"--B\r\nContent-Type: image/jpeg\r\n\r\n" + body + b"\r\n"
    )
    endless = b"--B\r\nContent-Type: image/jpeg\r\n\r\n" + b"y" * (20 * MIB) + b"\r\n"
    return endless, unit


def chunked(endless: bytes, unit: bytes, total: int, chunk: int) -> Iterator[bytes]:
    """``total`` bytes of stream in ``chunk``-byte pieces: the endless part, then units."""
    sent = 0
    for blob in (endless, *([unit] * (total // len(unit) + 1))):
        for offset in range(0, len(blob), chunk):
            if sent >= total:
                return
            piece = blob[offset : offset + chunk]
            sent += len(piece)
            yield piece


def _endless_stream_peak(max_part: int) -> tuple[int, int, bool, list[bool]]:
    """Feed 200 MB through a parser under tracemalloc: peak, parts seen, what was kept."""
    endless, unit = stream_pieces()  # built before tracing: they stand for the network
    tracemalloc.start()
    try:
        reader = MultipartReader(f"{MULTIPART}; boundary=B", max_part_bytes=max_part, keep_bodies=1)
        for piece in chunked(endless, unit, 200 * 1000 * 1000, 64 * 1024):
            reader.feed(piece, 1.0)
        reader.close(2.0, "window")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    first = reader.parts[0]
    return (peak, reader.parts_seen, first.defect is not None and first.body is None,
            [p.body is not None for p in reader.parts[-2:]])


def test_an_endless_stream_goes_through_in_bounded_memory() -> None:
    max_part = 1 * MIB
    # Measured in a process of its own: tracemalloc counts the allocations of every
    # thread, and a thread another test left running would be charged to the parser.
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        peak, seen, first_skipped, last_two = pool.apply(_endless_stream_peak, (max_part,))
    assert peak < 3 * max_part, f"peak {peak / MIB:.2f} MiB"
    assert seen > 200
    assert first_skipped
    assert last_two == [False, True]
