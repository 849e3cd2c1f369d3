"""Checks of a multipart/x-mixed-replace reply: its parts, its pace and its freshness.

Strategy: the parser (``snapcheck.multipart``) has already judged the framing and, through
``describe_part`` given as its ``on_part``, what every part's body was; this module judges
the stream as a whole from ``Reply.parts`` and the read window. Times are the transport's
clock: ``Reply.started_at`` when the request started, ``started_at + elapsed_s`` when the
window closed, ``StreamPart.completed_at`` when each part was complete.

Rate: ``(n - 1) / (t_last - t_first)`` over part completion times, i.e. parts per second
between the first and the last part, so that connection set-up does not count as a slow
start (liveness judges that gap instead). With fewer than two parts it is ``n / window``.
Jitter is the population standard deviation of the intervals between parts.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from snapcheck.checks.clause_ids import (
    ENV_STATUS_1,
    STREAM_CT_1,
    STREAM_FRESH_1,
    STREAM_LIVE_1,
    STREAM_PART_JPEG_1,
    STREAM_RATE_1,
    STREAM_RATE_2,
    STREAM_RATE_3,
)
from snapcheck.checks.findings import ReplyFindings, hex_head
from snapcheck.exchange import PartImage, Reply, StreamPart
from snapcheck.jpeg import Decoded, decode_jpeg, walk_jpeg
from snapcheck.timecode import read_timecode
from snapcheck.verdicts import Finding, Verdict

STREAM_MEDIA_TYPE = "multipart/x-mixed-replace"
# API-FACTS: the achieved rate must lie within +-20% of fps.
RATE_TOLERANCE = 0.2
# API-FACTS: the rate is a MUST for fps <= 5 at sizes up to 640x480.
MUST_RATE_MAX_FPS = 5.0
MUST_RATE_MAX_SIZE = (640, 480)


def describe_part(body: bytes) -> PartImage:
    """What one part's body is (size, JPEG problems, time code): the parser's ``on_part``."""
    info = walk_jpeg(body)
    decoded = decode_jpeg(body, info) if info.has_soi else Decoded(None, "no SOI marker")
    problems = [*info.errors, *([decoded.error] if decoded.error else [])]
    image = decoded.image
    if image is None:
        return PartImage(info.width, info.height, tuple(problems))
    return PartImage(image.width, image.height, tuple(problems), read_timecode(image))


def check_stream_reply(
    reply: Reply, *, expected_size: tuple[int, int], fps: float | None
) -> list[Finding]:
    """Judge a stream of ``expected_size`` JPEGs at ``fps`` (None: the device's own rate)."""
    out = ReplyFindings(reply)
    out.judge(
        ENV_STATUS_1,
        reply.status == 200,
        "HTTP 200 for a stream",
        f"a stream is a success and must come with HTTP 200, not {reply.status} {reply.reason}",
        f"status line: {reply.status} {reply.reason}",
    )
    declared = reply.header("Content-Type")
    out.judge(
        STREAM_CT_1,
        reply.content_type == STREAM_MEDIA_TYPE,
        "Content-Type: multipart/x-mixed-replace",
        f"a stream was asked for (fps >= 1), the reply is {declared!r}",
        f"Content-Type: {declared!r}",
    )
    out.adopt(reply.stream_findings)
    images = [_image_of(part) for part in reply.parts]
    if reply.parts:
        _parts(out, reply.parts, images, expected_size)
    timing = Timing.of(reply)
    if fps is not None:
        _liveness(out, timing, fps)
    _rate(out, timing, fps, expected_size)
    _freshness(out, reply.parts, images)
    return out.items


def _image_of(part: StreamPart) -> PartImage | None:
    """The part's description: from the parser's on_part, else from its kept body."""
    if part.image is not None:
        return part.image
    if part.body is not None:
        return describe_part(part.body)
    if part.defect is not None:
        return None
    raise ValueError(
        f"part {part.index} has neither a description nor a body: read streams with"
        " MultipartReader(..., on_part=describe_part) so that every part can be judged"
    )


def _parts(
    out: ReplyFindings,
    parts: Sequence[StreamPart],
    images: Sequence[PartImage | None],
    expected: tuple[int, int],
) -> None:
    """STREAM-PART-JPEG-1: every part a complete JPEG of the requested size."""
    bad: list[tuple[StreamPart, str]] = []
    for part, image in zip(parts, images, strict=True):
        problem = _part_problem(part, image, expected)
        if problem:
            bad.append((part, problem))
    want = f"{expected[0]}x{expected[1]}"
    evidence = ""
    if bad:
        part, problem = bad[0]
        evidence = (
            f"first bad part: #{part.index} at stream offset {part.offset}, {part.size} bytes,"
            f" starting {hex_head(part.head)}: {problem}"
        )
    out.judge(
        STREAM_PART_JPEG_1,
        not bad,
        f"all {len(parts)} parts are complete {want} JPEGs",
        f"{len(bad)} of {len(parts)} parts are not complete {want} JPEGs",
        evidence,
    )


def _part_problem(part: StreamPart, image: PartImage | None, expected: tuple[int, int]) -> str:
    if image is None:
        return part.defect or "not described"
    if image.problems:
        return "; ".join(image.problems)
    if (image.width, image.height) != expected:
        return f"{image.width}x{image.height}"
    return ""


@dataclass(frozen=True, slots=True)
class Timing:
    """When the parts completed within the read window (transport clock, seconds)."""

    started: float
    ended: float
    completions: tuple[float, ...]

    @classmethod
    def of(cls, reply: Reply) -> Timing:
        """The timing of a stream reply."""
        times = tuple(sorted(part.completed_at for part in reply.parts))
        return cls(reply.started_at, reply.started_at + reply.elapsed_s, times)

    @property
    def window(self) -> float:
        """How long the client read."""
        return self.ended - self.started

    @property
    def intervals(self) -> list[float]:
        """The time between successive parts."""
        return [b - a for a, b in pairwise(self.completions)]

    @property
    def rate(self) -> float:
        """Parts per second: (n - 1) / (t_last - t_first), or n / window with fewer than two."""
        n = len(self.completions)
        span = self.completions[-1] - self.completions[0] if n >= 2 else 0.0
        if span > 0:
            return (n - 1) / span
        return n / self.window if self.window > 0 else 0.0

    def summary(self) -> str:
        """Rate, interval mean and jitter, for evidence."""
        intervals = self.intervals
        mean = f"{statistics.fmean(intervals) * 1000:.0f} ms" if intervals else "n/a"
        jitter = f"{statistics.pstdev(intervals) * 1000:.0f} ms" if intervals else "n/a"
        return (
            f"{len(self.completions)} parts in a {self.window:.2f} s window; rate"
            f" {self.rate:.2f}/s; interval mean {mean}, jitter (std dev) {jitter}"
        )


def _liveness(out: ReplyFindings, timing: Timing, fps: float) -> None:
    """STREAM-LIVE-1: no gap longer than 2/fps + 1 s, window edges included."""
    limit = 2 / fps + 1 if fps > 0 else float("inf")
    edges = (timing.started, *timing.completions, timing.ended)
    gaps = [(b - a, i) for i, (a, b) in enumerate(pairwise(edges))]
    longest, where = max(gaps)
    names = ["the request", *(f"part #{i}" for i in range(len(timing.completions))), "window end"]
    span = f"between {names[where]} and {names[where + 1]}"
    out.judge(
        STREAM_LIVE_1,
        longest <= limit,
        f"a new part at least every {limit:.2f} s (longest gap {longest:.2f} s)",
        f"no new part for {longest:.2f} s {span}; at {fps:g} fps the limit is {limit:.2f} s",
        f"longest gap {longest:.2f} s {span}; {timing.summary()}",
    )


def _rate(out: ReplyFindings, timing: Timing, fps: float | None, size: tuple[int, int]) -> None:
    """STREAM-RATE-1/2 (shortfall, by regime) and STREAM-RATE-3 (excess)."""
    rate, evidence = timing.rate, timing.summary()
    if fps is None:
        out.add(
            STREAM_RATE_2, Verdict.INFORMATIONAL, f"rate {rate:.2f}/s (no rate asked)", evidence
        )
        return
    must = (
        fps <= MUST_RATE_MAX_FPS
        and size[0] <= MUST_RATE_MAX_SIZE[0]
        and size[1] <= MUST_RATE_MAX_SIZE[1]
    )
    low, high = fps * (1 - RATE_TOLERANCE), fps * (1 + RATE_TOLERANCE)
    regime = "fps <= 5 at up to 640x480" if must else "above fps 5 or 640x480"
    out.judge(
        STREAM_RATE_1 if must else STREAM_RATE_2,
        rate >= low,
        f"rate {rate:.2f}/s for {fps:g} fps asked (at least {low:.2f}; {regime})",
        f"rate {rate:.2f}/s falls short of {fps:g} fps asked (at least {low:.2f}; {regime})",
        evidence,
    )
    out.judge(
        STREAM_RATE_3,
        rate <= high,
        f"rate {rate:.2f}/s does not exceed {fps:g} fps asked by more than 20%",
        f"rate {rate:.2f}/s exceeds {fps:g} fps asked by more than 20% (at most {high:.2f})",
        evidence,
    )


def _freshness(
    out: ReplyFindings, parts: Sequence[StreamPart], images: Sequence[PartImage | None]
) -> None:
    """STREAM-FRESH-1: successive parts carry new frames, by time code or else by bytes."""
    stale: list[str] = []
    by_code = by_bytes = 0
    for i in range(1, len(parts)):
        before, after = images[i - 1], images[i]
        codes = (before.timecode, after.timecode) if before and after else (None, None)
        if codes[0] is not None and codes[1] is not None and codes[0].source == codes[1].source:
            by_code += 1
            if codes[1].seq <= codes[0].seq:
                stale.append(f"#{i - 1} -> #{i}: time code seq {codes[0].seq} -> {codes[1].seq}")
        elif parts[i - 1].digest and parts[i].digest:
            by_bytes += 1
            if parts[i - 1].digest == parts[i].digest:
                stale.append(f"#{i - 1} -> #{i}: byte-identical (sha256 {parts[i].digest[:16]})")
    if not by_code and not by_bytes:
        return
    out.judge(
        STREAM_FRESH_1,
        not stale,
        f"every part is a new frame ({by_code} pairs by time code, {by_bytes} by bytes)",
        f"{len(stale)} parts repeat the frame before them",
        "; ".join(stale[:3]) + (f"; {len(stale) - 3} more" if len(stale) > 3 else ""),
    )
