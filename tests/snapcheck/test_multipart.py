"""Tests of the incremental multipart/x-mixed-replace parser: every framing seen in the
field, every deviation it must report, how a stream's end is read, and bounded bodies."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from synthetic import FRAMINGS, MULTIPART, jpeg_bytes

from snapcheck.exchange import PartImage
from snapcheck.multipart import MIB, MultipartReader
from snapcheck.verdicts import Finding, Verdict

FRAMES = [jpeg_bytes(colour=(60 * i, 100, 200 - 50 * i)) for i in range(3)]
F0, F1 = FRAMES[0], FRAMES[1]
CT = f"{MULTIPART}; boundary=B"
JPEG_TYPE = b"Content-Type: image/jpeg\r\n"
OPEN = b"--B\r\n" + JPEG_TYPE  # a boundary and the headers of a part without length
BIG = 8 * MIB


def part(
    frame: bytes, *, headers: bytes = b"Content-Type: image/jpeg\r\n", length: int | None = -1
) -> bytes:
    """One boundary-first part; ``length`` -1 means the true length, None no header."""
    declared = len(frame) if length == -1 else length
    cl = b"" if declared is None else b"Content-Length: %d\r\n" % declared
    return b"--B\r\n" + headers + cl + b"\r\n" + frame + b"\r\n"


def verdicts(findings: Sequence[Finding]) -> dict[str, Verdict]:
    return {finding.clause: finding.verdict for finding in findings}


def not_passing(findings: Sequence[Finding]) -> dict[str, Verdict]:
    return {f.clause: f.verdict for f in findings if f.verdict is not Verdict.PASS}


def read(
    content_type: str,
    body: bytes,
    *,
    reason: str = "eof",
    max_part_bytes: int = 8 * MIB,
    keep_bodies: int = 8,
) -> MultipartReader:
    reader = MultipartReader(content_type, max_part_bytes=max_part_bytes, keep_bodies=keep_bodies)
    reader.feed(body, 1.0)
    reader.close(2.0, reason)
    return reader


END = {"STREAM-END-1": Verdict.INFORMATIONAL}


@pytest.mark.parametrize(
    ("framing", "deviations"),
    [
        ("mjpg-streamer", {}),
        ("ffmpeg", {}),
        ("go2rtc", {}),
        ("axis", {}),
        (
            "boundary-after",
            {"STREAM-LEAD-1": Verdict.NON_STRICT, "STREAM-PART-CL-1": Verdict.NON_STRICT},
        ),
        ("esp32-cam", {"STREAM-LEAD-1": Verdict.NON_STRICT}),
        ("dashed-declaration", {"STREAM-BOUNDARY-2": Verdict.NON_STRICT}),
        ("lf-only", {"STREAM-FRAMING-1": Verdict.NON_STRICT}),
        ("no-length", {"STREAM-PART-CL-1": Verdict.NON_STRICT}),
    ],
)
def test_every_framing_in_the_field_yields_its_frames(
    framing: str, deviations: dict[str, Verdict]
) -> None:
    content_type, body = FRAMINGS[framing](FRAMES)
    whole = read(content_type, body)
    assert [p.body for p in whole.parts] == FRAMES
    assert not_passing(whole.findings) == {**deviations, **END}
    evaluated = set(verdicts(whole.findings))
    assert {
        "STREAM-BOUNDARY-1",
        "STREAM-PART-CT-1",
        "STREAM-PART-CL-2",
        "STREAM-FRAMING-1",
    } <= evaluated


@pytest.mark.parametrize("framing", sorted(FRAMINGS))
def test_byte_by_byte_feeding_gives_what_feeding_at_once_gives(framing: str) -> None:
    content_type, body = FRAMINGS[framing](FRAMES)
    whole = read(content_type, body)
    trickled = MultipartReader(content_type)
    for offset in range(len(body)):
        trickled.feed(body[offset : offset + 1], 1.0)
    trickled.close(2.0, "eof")
    assert trickled.parts == whole.parts
    assert trickled.findings == whole.findings


# (name, content type, body, max_part_bytes, parts expected, clauses expected not to PASS)
DEVIATIONS: list[tuple[str, str, bytes, int, int, dict[str, Verdict]]] = [
    ("content-length too long", CT, part(F0, length=9999) + part(F1), BIG, 2,
     {"STREAM-PART-CL-2": Verdict.FAIL}),
    ("content-length too short", CT, part(F0, length=len(F0) - 10) + part(F1), BIG, 2,
     {"STREAM-PART-CL-2": Verdict.FAIL}),
    ("content-length not a number",
     CT, part(F0, length=None, headers=JPEG_TYPE + b"Content-Length: 1e3\r\n"), BIG, 1,
     {"STREAM-PART-CL-2": Verdict.FAIL}),
    ("no content-type", CT, part(F0, headers=b""), BIG, 1, {"STREAM-PART-CT-1": Verdict.FAIL}),
    ("content-type image/jpg", CT, part(F0, headers=b"Content-Type: image/jpg\r\n"), BIG, 1,
     {"STREAM-PART-CT-1": Verdict.FAIL}),
    ("content-type with a parameter",
     CT, part(F0, headers=b"Content-Type: image/jpeg; q=1\r\n"), BIG, 1,
     {"STREAM-PART-CT-1": Verdict.FAIL}),
    ("parts without headers", CT, b"--B\r\n" + F0 + b"\r\n--B\r\n" + F1 + b"\r\n--B--\r\n", BIG, 2,
     {"STREAM-PART-CT-1": Verdict.FAIL, "STREAM-PART-CL-1": Verdict.NON_STRICT}),
    ("a line that is no header", CT, part(F0, headers=JPEG_TYPE + b"no header here\r\n"), BIG, 1,
     {"STREAM-PART-CT-1": Verdict.FAIL}),
    ("endless headers", CT, OPEN + b"X-Pad: " + b"a" * 20_000, BIG, 0,
     {"STREAM-BOUNDARY-1": Verdict.FAIL}),
    ("a part without end", CT, OPEN + b"\r\n" + b"x" * 5000 + b"\r\n" + part(F1), 4000, 2,
     {"STREAM-BOUNDARY-1": Verdict.FAIL, "STREAM-PART-CL-1": Verdict.NON_STRICT}),
    ("declared boundary never used", CT, b"--other\r\n" + JPEG_TYPE + b"\r\n" + F0, BIG, 1,
     {"STREAM-BOUNDARY-1": Verdict.FAIL, "STREAM-LEAD-1": Verdict.NON_STRICT,
      "STREAM-PART-CT-1": Verdict.FAIL, "STREAM-PART-CL-1": Verdict.NON_STRICT}),
    ("no boundary declared, one in the body", MULTIPART, part(F0) + part(F1), BIG, 2,
     {"STREAM-BOUNDARY-1": Verdict.FAIL}),
    ("no boundary anywhere", MULTIPART, JPEG_TYPE + b"\r\n" + F0, BIG, 0,
     {"STREAM-BOUNDARY-1": Verdict.FAIL}),
    ("text after the boundary", CT, part(F0).replace(b"--B\r\n", b"--B junk\r\n"), BIG, 1,
     {"STREAM-FRAMING-1": Verdict.NON_STRICT}),
    ("padding after a body", CT, part(F0) + b"\r\n\r\n" + part(F1), BIG, 2,
     {"STREAM-FRAMING-1": Verdict.NON_STRICT}),
    ("padding after a body without length",
     CT, part(F0, length=None) + b"\r\n\r\n" + part(F1, length=None), BIG, 2,
     {"STREAM-FRAMING-1": Verdict.NON_STRICT, "STREAM-PART-CL-1": Verdict.NON_STRICT}),
    ("no line break before the boundary", CT, part(F0)[:-2] + part(F1), BIG, 2,
     {"STREAM-FRAMING-1": Verdict.NON_STRICT}),
    ("a blank line before the headers", CT, part(F0).replace(b"--B\r\n", b"--B\r\n\r\n"), BIG, 1,
     {"STREAM-FRAMING-1": Verdict.NON_STRICT}),
    ("empty parts", CT, b"--B\r\n\r\n" + part(F0), BIG, 1,
     {"STREAM-FRAMING-1": Verdict.NON_STRICT}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("content_type", "body", "max_part_bytes", "count", "deviations"),
    [case[1:] for case in DEVIATIONS],
    ids=[case[0] for case in DEVIATIONS],
)
def test_each_deviation_is_reported_at_its_level(
    content_type: str,
    body: bytes,
    max_part_bytes: int,
    count: int,
    deviations: dict[str, Verdict],
) -> None:
    reader = read(content_type, body, max_part_bytes=max_part_bytes)
    assert reader.parts_seen == count
    assert not_passing(reader.findings) == {**deviations, **END}
    for finding in reader.findings:
        assert finding.message
        if finding.verdict is not Verdict.PASS:
            assert finding.evidence


def test_a_lying_length_keeps_the_frames_a_boundary_scanner_would_see() -> None:
    longer = read(CT, part(F0, length=9999) + part(F1))
    assert [p.body for p in longer.parts] == [F0, F1]
    shorter = read(CT, part(F0, length=len(F0) - 10) + part(F1))
    assert [p.body for p in shorter.parts] == [F0[:-10], F1]


def test_a_part_larger_than_the_cap_is_reported_not_kept() -> None:
    reader = read(CT, part(b"y" * 5000) + part(F1), max_part_bytes=4000)
    first, second = reader.parts
    assert first.body is None and first.defect is not None and "4000" in first.defect
    assert first.size == 5000
    assert second.body == F1 and second.defect is None


@pytest.mark.parametrize(
    ("body", "reason", "bodies", "defects"),
    [
        (part(F0) + OPEN + b"\r\n" + F1[:100], "window", [F0], [None]),
        (part(F0, length=None) + OPEN + b"\r\n" + F1, "eof", [F0, F1], [None, None]),
        (part(F0) + part(F1)[:200], "eof", [F0, None], [None, "cut off (eof) after"]),
        (part(F0) + OPEN, "timeout", [F0, None], [None, "cut off (timeout) after 0"]),
        (part(F0) + b"--B--\r\nepilogue", "eof", [F0], [None]),
    ],
    ids=["window drops a part in flight", "eof ends a part without length", "eof inside a part",
         "timeout inside headers", "closing boundary"],
)  # fmt: skip
def test_how_the_stream_ended_decides_the_last_part(
    body: bytes, reason: str, bodies: list[bytes | None], defects: list[str | None]
) -> None:
    reader = read(CT, body, reason=reason)
    assert [p.body for p in reader.parts] == bodies
    for got, expected in zip(reader.parts, defects, strict=True):
        assert (got.defect is None) == (expected is None)
        assert expected is None or (got.defect or "").startswith(expected)
    end = next(f for f in reader.findings if f.clause == "STREAM-END-1")
    assert end.verdict is Verdict.INFORMATIONAL
    assert end.message.startswith("the stream ended with") == (b"--B--" in body)


def test_window_end_reports_the_bytes_in_flight() -> None:
    reader = read(CT, part(F0) + OPEN + b"\r\n" + F1[:100], reason="window")
    end = next(f for f in reader.findings if f.clause == "STREAM-END-1")
    assert "in flight" in end.evidence


def test_only_the_last_bodies_are_kept_but_every_part_keeps_its_digest() -> None:
    frames = [jpeg_bytes(colour=(i, i, i)) for i in range(0, 250, 25)]
    _, body = FRAMINGS["ffmpeg"](frames)
    reader = read(f"{MULTIPART};boundary=ffmpeg", body, keep_bodies=3)
    assert [p.body is not None for p in reader.parts] == [False] * 7 + [True] * 3
    assert [p.body for p in reader.parts[-3:]] == frames[-3:]
    assert len({p.digest for p in reader.parts}) == 10
    assert all(p.head == f[:16] for p, f in zip(reader.parts, frames, strict=True))


def test_feed_returns_completed_parts_without_bodies() -> None:
    reader = MultipartReader(CT)
    first = reader.feed(part(F0) + part(F1)[:50], 1.0)
    assert [p.index for p in first] == [0] and first[0].body is None
    assert first[0].size == len(F0)
    second = reader.feed(part(F1)[50:], 2.0)
    assert [p.index for p in second] == [1]


def test_on_part_sees_every_complete_body_and_its_result_is_kept() -> None:
    seen: list[bytes] = []

    def describe(body: bytes) -> PartImage:
        seen.append(body)
        return PartImage(width=len(body), height=1)

    _, body = FRAMINGS["axis"](FRAMES)
    reader = MultipartReader(f"{MULTIPART}; boundary=myboundary", keep_bodies=0, on_part=describe)
    reader.feed(body, 1.0)
    reader.close(2.0, "eof")
    assert seen == FRAMES
    assert [p.image for p in reader.parts] == [PartImage(len(f), 1) for f in FRAMES]
    assert all(p.body is None for p in reader.parts)


def test_part_times_come_from_the_feeds_that_carried_them() -> None:
    reader = MultipartReader(CT)
    whole = part(F0)
    reader.feed(whole[:20], 1.0)
    reader.feed(whole[20:], 1.5)
    reader.feed(part(F1), 2.0)
    reader.close(3.0, "window")
    first, second = reader.parts
    assert (first.first_byte_at, first.completed_at) == (1.0, 1.5)
    assert (second.first_byte_at, second.completed_at) == (2.0, 2.0)
    assert first.offset == whole.index(F0)


def test_findings_before_close_leave_out_the_end() -> None:
    reader = MultipartReader(CT)
    reader.feed(part(F0), 1.0)
    assert "STREAM-END-1" not in verdicts(reader.findings)
    assert verdicts(reader.findings)["STREAM-PART-CT-1"] is Verdict.PASS


@pytest.mark.parametrize(
    ("max_part_bytes", "max_header_bytes", "keep_bodies"), [(0, 1, 0), (1, 0, 0), (1, 1, -1)]
)
def test_bad_limits_are_refused(
    max_part_bytes: int, max_header_bytes: int, keep_bodies: int
) -> None:
    with pytest.raises(ValueError, match="must be"):
        MultipartReader(
            CT,
            max_part_bytes=max_part_bytes,
            max_header_bytes=max_header_bytes,
            keep_bodies=keep_bodies,
        )


def test_feeding_or_closing_after_close_is_a_usage_error() -> None:
    reader = read(CT, part(F0))
    with pytest.raises(ValueError, match="after close"):
        reader.feed(b"more", 3.0)
    with pytest.raises(ValueError, match="twice"):
        reader.close(3.0, "eof")
