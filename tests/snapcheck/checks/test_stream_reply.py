"""Tests of the stream check: a conforming stream passes; a wrong media type, bad parts,
a stall, a slow or a fast rate, a frozen picture and time going back each fail their
clause; an occasional repeated frame does not."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest
from synthetic import (
    MULTIPART,
    ffmpeg_mpjpeg,
    jpeg_bytes,
    paced,
    request,
    stream_reply,
    timecoded_jpeg,
)

from snapcheck.checks.stream_reply import Timing, check_stream_reply, describe_part
from snapcheck.exchange import Reply
from snapcheck.timecode import TimeCode
from snapcheck.verdicts import Finding, Verdict

SIZE = (160, 120)
FRAMES = [timecoded_jpeg(seq, SIZE) for seq in range(10)]
EVERY_FIFTH = [0.2 * (i + 1) for i in range(10)]
EVERY_TWO_FIFTHS = [0.4 * (i + 1) for i in range(10)]
END = {"STREAM-END-1": Verdict.INFORMATIONAL}


def stream(
    frames: Sequence[bytes] = FRAMES,
    times: Sequence[float] = EVERY_FIFTH,
    *,
    window_s: float = 2.2,
    ended_by: str = "window",
) -> Reply:
    framed = ffmpeg_mpjpeg(frames)
    chunks = paced(framed, frames, times)
    return stream_reply(framed[0], chunks, window_s=window_s, ended_by=ended_by)


def not_passing(findings: Sequence[Finding]) -> dict[str, Verdict]:
    return {f.clause: f.verdict for f in findings if f.verdict is not Verdict.PASS}


def judged(
    sent: Reply, *, size: tuple[int, int] = SIZE, fps: float | None = 5
) -> dict[str, Verdict]:
    return not_passing(check_stream_reply(sent, expected_size=size, fps=fps))


LARGE = (800, 600)
LARGE_FRAMES = [timecoded_jpeg(seq, LARGE) for seq in range(5)]
REPEATED = [*FRAMES[:5], timecoded_jpeg(4, SIZE), *FRAMES[6:]]
# One frame for eight parts (1.6 s at 5 fps, the bound being 2/5 + 1 = 1.4 s), then a new one.
FROZEN = [FRAMES[0], *[FRAMES[1]] * 8, FRAMES[2]]
# Seven parts of one frame (1.2 s): within the bound, so a device whose sensor is slower
# than its send clock passes.
SLOW_SENSOR = [FRAMES[0], *[FRAMES[1]] * 7, FRAMES[2], FRAMES[3]]
BACKWARDS = [*FRAMES[:4], FRAMES[5], FRAMES[4], *FRAMES[6:]]
SAME = [jpeg_bytes(SIZE)] * 10
WRONG_SIZE = [*FRAMES[:3], timecoded_jpeg(3, (320, 240)), *FRAMES[4:]]

CASES: list[tuple[str, Reply, tuple[int, int], float | None, dict[str, Verdict]]] = [
    ("conforming", stream(), SIZE, 5, END),
    ("a part of another size", stream(WRONG_SIZE), SIZE, 5,
     {"STREAM-PART-JPEG-1": Verdict.FAIL, **END}),
    ("a truncated part", stream([*FRAMES[:9], FRAMES[9][:-50]]), SIZE, 5,
     {"STREAM-PART-JPEG-1": Verdict.FAIL, **END}),
    ("a stall in the middle", stream(times=[*EVERY_FIFTH[:5], *(t + 3 for t in EVERY_FIFTH[5:])],
                                     window_s=5.2), SIZE, 5,
     {"STREAM-LIVE-1": Verdict.FAIL, "STREAM-RATE-1": Verdict.FAIL, **END}),
    ("a slow first part", stream(times=[t + 2 for t in EVERY_FIFTH], window_s=4.2), SIZE, 5,
     {"STREAM-LIVE-1": Verdict.FAIL, **END}),
    ("the device stops early", stream(window_s=6.0, ended_by="eof"), SIZE, 5,
     {"STREAM-LIVE-1": Verdict.FAIL, **END}),
    ("half the rate at a small size", stream(times=EVERY_TWO_FIFTHS, window_s=4.2),
     SIZE, 5, {"STREAM-RATE-1": Verdict.FAIL, **END}),
    ("half the rate at a large size", stream(LARGE_FRAMES, EVERY_TWO_FIFTHS[:5], window_s=2.2),
     LARGE, 5,
     {"STREAM-RATE-2": Verdict.NON_STRICT, **END}),
    ("twice the rate", stream(times=[0.1 * (i + 1) for i in range(10)], window_s=1.5), SIZE, 5,
     {"STREAM-RATE-3": Verdict.FAIL, **END}),
    ("one repeated time code", stream(REPEATED), SIZE, 5, END),
    ("a frame held within the bound", stream(SLOW_SENSOR), SIZE, 5, END),
    ("a frame held past the bound", stream(FROZEN), SIZE, 5,
     {"STREAM-FRESH-1": Verdict.FAIL, **END}),
    ("time codes going back", stream(BACKWARDS), SIZE, 5, {"STREAM-FRESH-1": Verdict.FAIL, **END}),
    ("byte-identical frames throughout", stream(SAME), SIZE, 5,
     {"STREAM-FRESH-1": Verdict.FAIL, **END}),
    ("no rate asked", stream(), SIZE, None, {"STREAM-RATE-2": Verdict.INFORMATIONAL, **END}),
    ("a window shorter than the liveness bound", stream(FRAMES[:2], [0.05, 0.5], window_s=0.6),
     SIZE, 3, {"STREAM-RATE-1": Verdict.INFORMATIONAL, "STREAM-RATE-3": Verdict.INFORMATIONAL,
     **END}),
    ("one part in a long window", stream(FRAMES[:1], [1.6], window_s=3.2), SIZE, 1,
     {"STREAM-RATE-1": Verdict.FAIL, "STREAM-RATE-3": Verdict.INFORMATIONAL, **END}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("sent", "size", "fps", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_stream_clause_is_judged(
    sent: Reply, size: tuple[int, int], fps: float | None, expected: dict[str, Verdict]
) -> None:
    findings = check_stream_reply(sent, expected_size=size, fps=fps)
    assert not_passing(findings) == expected
    for finding in findings:
        assert finding.curl and finding.message
        if finding.verdict is Verdict.FAIL:
            assert finding.evidence


def test_a_single_image_where_a_stream_was_asked_for() -> None:
    sent = replace(
        stream(), headers=(("Content-Type", "image/jpeg"),), parts=(), stream_findings=()
    )
    assert judged(sent) == {
        "STREAM-CT-1": Verdict.FAIL,
        "STREAM-LIVE-1": Verdict.FAIL,
        "STREAM-RATE-1": Verdict.FAIL,
    }


def test_framing_findings_come_along_with_the_curl_line() -> None:
    content_type = f"{MULTIPART}; boundary=frame"
    body = b"".join(b"--frame\r\nContent-Type: image/jpeg\r\n\r\n" + f + b"\r\n" for f in FRAMES)
    sent = stream_reply(content_type, [(body, 2.0)], window_s=2.2, ended_by="eof")
    findings = check_stream_reply(sent, expected_size=SIZE, fps=5)
    length = next(f for f in findings if f.clause == "STREAM-PART-CL-1")
    assert length.verdict is Verdict.NON_STRICT and length.curl is not None
    assert "go2rtc" in length.message


def test_the_evidence_names_the_first_bad_part_and_the_longest_gap() -> None:
    findings = check_stream_reply(stream(WRONG_SIZE), expected_size=SIZE, fps=5)
    bad = next(f for f in findings if f.clause == "STREAM-PART-JPEG-1")
    assert bad.message == "1 of 10 parts are not complete 160x120 JPEGs"
    assert "first bad part: #3" in bad.evidence and "320x240" in bad.evidence
    late = stream(times=[t + 2 for t in EVERY_FIFTH], window_s=4.2)
    live = next(f for f in check_stream_reply(late, expected_size=SIZE, fps=5)
                if f.clause == "STREAM-LIVE-1")  # fmt: skip
    assert "between the request and part #0" in live.message


def test_parts_the_reader_could_not_describe_are_a_usage_error() -> None:
    sent = stream()
    undescribed = replace(sent, parts=tuple(replace(p, image=None, body=None) for p in sent.parts))
    with pytest.raises(ValueError, match="on_part=describe_part"):
        check_stream_reply(undescribed, expected_size=SIZE, fps=5)


def test_a_kept_body_is_described_when_the_reader_did_not() -> None:
    sent = stream()
    parts = zip(sent.parts, FRAMES, strict=True)
    bodies_only = replace(sent, parts=tuple(replace(p, image=None, body=f) for p, f in parts))
    assert judged(bodies_only) == END


def test_describe_part_reads_size_problems_and_time_code() -> None:
    good = describe_part(FRAMES[7])
    assert (good.width, good.height, good.problems) == (160, 120, ())
    assert good.timecode == TimeCode("internal", 7, 1_764_036_001_400)
    broken = describe_part(FRAMES[7][:-100])
    assert broken.problems and broken.timecode is None
    assert describe_part(b"garbage").problems


@pytest.mark.parametrize(
    ("times", "window", "rate"),
    [
        ((0.2, 0.4, 0.6, 0.8, 1.0), 2.0, 5.0),
        ((1.0,), 2.0, 0.5),
        ((), 2.0, 0.0),
        ((), 0.0, 0.0),
        ((1.0, 1.0), 4.0, 0.5),
    ],
)
def test_the_rate_is_parts_per_second_between_first_and_last(
    times: tuple[float, ...], window: float, rate: float
) -> None:
    assert Timing(0.0, window, times).rate == pytest.approx(rate)


def test_the_timing_summary_reports_rate_and_jitter() -> None:
    summary = Timing(0.0, 1.0, (0.1, 0.3, 0.4, 0.6)).summary()
    assert summary == (
        "4 parts in a 1.00 s window; rate 6.00/s; interval mean 167 ms, jitter (std dev) 47 ms"
    )


def test_the_request_is_in_every_curl_line() -> None:
    sent = replace(stream(), request=request(width="160", height="120", fps="5", source="internal"))
    findings = check_stream_reply(sent, expected_size=SIZE, fps=5)
    assert all("source=internal" in (f.curl or "") for f in findings)


def freshness(sent: Reply, fps: float | None = 5) -> Finding:
    findings = check_stream_reply(sent, expected_size=SIZE, fps=fps)
    return next(f for f in findings if f.clause == "STREAM-FRESH-1")


def test_repeats_are_counted_with_the_distinct_frame_rate() -> None:
    fresh = freshness(stream(REPEATED))
    assert fresh.verdict is Verdict.PASS
    assert "1 repeated parts, 9 distinct frames" in fresh.message
    assert "1 of 10 parts repeat the frame before them" in fresh.evidence
    assert "distinct-frame rate of 4.44/s" in fresh.evidence  # 8 new frames in 1.8 s


def test_a_freeze_names_its_length_and_its_parts() -> None:
    fresh = freshness(stream(FROZEN))
    assert fresh.message == "one frame held for 1.60 s (a frame must renew at least every 1.40 s)"
    assert "longest freeze 1.60 s (parts #1 to #9)" in fresh.evidence


def test_going_back_names_the_pair_and_the_time_codes() -> None:
    fresh = freshness(stream(BACKWARDS))
    assert fresh.message.startswith("1 parts go back in time")
    assert "#4 -> #5: an older frame (time code seq 5 -> 4)" in fresh.evidence


def test_without_a_rate_the_slowest_stream_bounds_the_freeze() -> None:
    # Ten identical parts over 1.8 s: a freeze at 5 fps (bound 1.4 s), not at 1 fps (3 s).
    assert freshness(stream(SAME), fps=None).verdict is Verdict.PASS
    assert freshness(stream(SAME), fps=5).verdict is Verdict.FAIL
