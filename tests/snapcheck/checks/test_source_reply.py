"""Tests of SNAP-SRC-4: the source a frame's time code names against the source asked for."""

from __future__ import annotations

import pytest
from synthetic import jpeg_bytes, reply, request, timecoded_jpeg

from snapcheck.checks.source_reply import SNAP_SRC_4, check_source
from snapcheck.timecode import TimeCode, read_timecode
from snapcheck.verdicts import Verdict

LISTED = ("internal", "external")


def code(source: str) -> TimeCode:
    return TimeCode(source, 7, 1_764_036_000_000)


@pytest.mark.parametrize(
    ("asked", "carried", "listed", "verdict", "says"),
    [
        ("internal", code("internal"), LISTED, Verdict.PASS, "a frame of source internal"),
        ("external", code("external"), LISTED, Verdict.PASS, "a frame of source external"),
        ("external", code("internal"), LISTED, Verdict.FAIL, "a frame of source internal"),
        ("internal", code("external"), LISTED, Verdict.FAIL, "a frame of source external"),
        # Caps may spell a source in any case; the time code is upper case on the wire.
        ("Front", code("front"), ("Front", "external"), Verdict.PASS, "of source Front"),
        ("external", code("lab"), LISTED, Verdict.INFORMATIONAL, "names 'lab'"),
        ("external", None, LISTED, Verdict.INFORMATIONAL, "no time code"),
    ],
)
def test_the_time_code_must_name_the_source_asked_for(
    asked: str, carried: TimeCode | None, listed: tuple[str, ...], verdict: Verdict, says: str
) -> None:
    sent = reply(jpeg_bytes(), sent=request(width="160", height="120", source=asked))
    (finding,) = check_source(sent, asked, carried, listed)
    assert (finding.clause, finding.verdict) == (SNAP_SRC_4, verdict)
    assert says in finding.message
    assert finding.curl is not None and f"source={asked}" in finding.curl


def test_a_real_time_code_read_from_a_frame_is_judged() -> None:
    frame = timecoded_jpeg(3, source="INTERNAL")
    sent = reply(frame, sent=request(width="160", height="120", source="external"))
    (finding,) = check_source(sent, "external", read_timecode(frame), LISTED)
    assert finding.verdict is Verdict.FAIL
    assert "seq 3" in finding.evidence
