"""Checks of a multipart/x-mixed-replace reply: its parts, its pace and its freshness.

Strategy: the parser (``snapcheck.multipart``) has already judged the framing and, through
``describe_part`` given as its ``on_part``, what every part's body was; this module judges
the stream as a whole from ``Reply.parts`` and the read window. Times are the transport's
clock: ``Reply.started_at`` when the request started, ``started_at + elapsed_s`` when the
window closed, ``StreamPart.completed_at`` when each part was complete.

Rate: ``(n - 1) / (t_last - t_first)`` over part completion times, i.e. parts per second
between the first and the last part, so that connection set-up does not count as a slow
start (liveness judges that gap instead). With fewer than two parts it is ``n / window``.
A window shorter than the liveness bound 2/fps + 1 s does not judge the rate at all: the
contract allows a gap that long, so a short window cannot tell a shortfall from it.
Jitter is the population standard deviation of the intervals between parts.

Freshness: a part may repeat the frame before it (a device's send clock need not be its
sensor's), but no frame may be held longer than the liveness bound 2/fps + 1 s, and time
codes never go back. Frames are compared by time code (same source), else by bytes.
"""

from __future__ import annotations

import enum
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
    _freshness(out, reply.parts, images, fps)
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


def liveness_bound(fps: float) -> float:
    """STREAM-LIVE-1's longest allowed gap between parts: 2/fps + 1 s."""
    return 2 / fps + 1 if fps > 0 else float("inf")


def _liveness(out: ReplyFindings, timing: Timing, fps: float) -> None:
    """STREAM-LIVE-1: no gap longer than 2/fps + 1 s, window edges included."""
    limit = liveness_bound(fps)
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
    shortfall = STREAM_RATE_1 if must else STREAM_RATE_2
    bound = liveness_bound(fps)
    if timing.window < bound:
        # The contract lets a device send no new part for 2/fps + 1 s: a shorter window
        # cannot tell a shortfall or a burst from a gap the contract allows.
        short = f"a {timing.window:.2f} s window, shorter than 2/fps + 1 = {bound:.2f} s"
        for clause in (shortfall, STREAM_RATE_3):
            out.add(clause, Verdict.INFORMATIONAL, f"{short}: too short to judge", evidence)
        return
    out.judge(
        shortfall,
        rate >= low,
        f"rate {rate:.2f}/s for {fps:g} fps asked (at least {low:.2f}; {regime})",
        f"rate {rate:.2f}/s falls short of {fps:g} fps asked (at least {low:.2f}; {regime})",
        evidence,
    )
    if len(timing.completions) == 1:
        # One part is never more parts than asked: an excess shows only between two parts,
        # and a window shorter than 1/fps may rightly hold a single part sent at once.
        out.add(
            STREAM_RATE_3, Verdict.INFORMATIONAL, "one part: too few to show an excess", evidence
        )
        return
    out.judge(
        STREAM_RATE_3,
        rate <= high,
        f"rate {rate:.2f}/s does not exceed {fps:g} fps asked by more than 20%",
        f"rate {rate:.2f}/s exceeds {fps:g} fps asked by more than 20% (at most {high:.2f})",
        evidence,
    )


class Step(enum.Enum):
    """How a part follows the part before it."""

    NEW = "a new frame"
    REPEAT = "the same frame again"
    BACK = "an older frame"


@dataclass(frozen=True, slots=True)
class Succession:
    """One judged pair of successive parts: how the second follows the first, and why."""

    index: int  # of the second part
    step: Step
    by_code: bool
    detail: str


def _succession(
    index: int, parts: Sequence[StreamPart], images: Sequence[PartImage | None]
) -> Succession | None:
    """How part ``index`` follows the one before: by time code, else by bytes; None: unknown."""
    before, after = images[index - 1], images[index]
    old = before.timecode if before else None
    new = after.timecode if after else None
    if old is not None and new is not None and old.source == new.source:
        step = Step.NEW if new.seq > old.seq else Step.REPEAT if new.seq == old.seq else Step.BACK
        return Succession(index, step, True, f"time code seq {old.seq} -> {new.seq}")
    first, second = parts[index - 1].digest, parts[index].digest
    if not (first and second):
        return None
    step = Step.REPEAT if first == second else Step.NEW
    return Succession(index, step, False, f"sha256 {first[:16]} -> {second[:16]}")


def _longest_freeze(
    parts: Sequence[StreamPart], steps: Sequence[Succession | None]
) -> tuple[float, int, int]:
    """The longest time one frame was sent again and again: (seconds, first part, last part).

    A run of repeats lasts from the part that first showed the frame to the part that
    replaced it (or, at the end of the window, to the last repeat). A part that is not a
    known repeat (new, older, undecidable) ends the run. A stall without parts is not a
    freeze: STREAM-LIVE-1 judges that.
    """
    longest = (0.0, 0, 0)
    start = 0
    for index in range(1, len(parts) + 1):
        step = steps[index - 1] if index < len(parts) else None
        if step is not None and step.step is Step.REPEAT:
            continue
        last_repeat = index - 1
        if last_repeat > start:
            end = index if index < len(parts) else last_repeat
            span = parts[end].completed_at - parts[start].completed_at
            longest = max(longest, (span, start, end))
        start = index
    return longest


def _freshness(
    out: ReplyFindings,
    parts: Sequence[StreamPart],
    images: Sequence[PartImage | None],
    fps: float | None,
) -> None:
    """STREAM-FRESH-1: the stream never freezes past the liveness bound nor goes back in time.

    A device's send clock need not be its sensor's: a part that repeats the frame before it
    is no fault by itself (it is counted), a frame held longer than 2/fps + 1 s is.
    """
    steps = [_succession(index, parts, images) for index in range(1, len(parts))]
    known = [step for step in steps if step is not None]
    if not known:
        return
    # Without a requested rate, the slowest a stream may be (fps = 1) bounds the freeze.
    limit = 2 / (fps if fps and fps > 0 else 1) + 1
    backwards = [s for s in known if s.step is Step.BACK]
    repeats = sum(1 for s in known if s.step is Step.REPEAT)
    frozen_s, first, last = _longest_freeze(parts, steps)
    by_code = sum(1 for s in known if s.by_code)
    # A pair that cannot be compared counts as a new frame: it was not shown to repeat.
    distinct = 1 + sum(1 for s in steps if s is None or s.step is not Step.REPEAT)
    span = parts[-1].completed_at - parts[0].completed_at
    rate = f"{(distinct - 1) / span:.2f}/s" if span > 0 else "n/a"
    evidence = [
        f"{repeats} of {len(parts)} parts repeat the frame before them; {distinct} distinct"
        f" frames, a distinct-frame rate of {rate}; {by_code} pairs compared by time code,"
        f" {len(known) - by_code} by bytes; longest freeze {frozen_s:.2f} s"
        + (f" (parts #{first} to #{last})" if frozen_s > 0 else ""),
        *(f"#{s.index - 1} -> #{s.index}: {s.step.value} ({s.detail})" for s in backwards[:3]),
    ]
    problems = [
        *([f"{len(backwards)} parts go back in time"] if backwards else []),
        *([f"one frame held for {frozen_s:.2f} s"] if frozen_s > limit else []),
    ]
    out.judge(
        STREAM_FRESH_1,
        not problems,
        f"frames renew at least every {limit:.2f} s and never go back"
        f" ({repeats} repeated parts, {distinct} distinct frames)",
        f"{' and '.join(problems)} (a frame must renew at least every {limit:.2f} s)",
        "\n".join(evidence),
    )
