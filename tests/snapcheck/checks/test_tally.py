"""Tests of the per-clause tally: one finding per clause, worst first, first evidence kept."""

from __future__ import annotations

import pytest

from snapcheck.checks.tally import Tally, shown
from snapcheck.verdicts import Verdict


def test_a_clause_without_deviations_passes() -> None:
    finding = Tally().finding("STREAM-LEAD-1", "starts with the boundary", "b'--B'")
    assert (finding.verdict, finding.message, finding.evidence) == (
        Verdict.PASS,
        "starts with the boundary",
        "b'--B'",
    )


def test_deviations_are_counted_worst_first_with_their_first_evidence() -> None:
    tally = Tally()
    tally.note("STREAM-FRAMING-1", Verdict.NON_STRICT, "LF only", "line 1")
    tally.note("STREAM-FRAMING-1", Verdict.NON_STRICT, "LF only", "line 2")
    tally.note("STREAM-FRAMING-1", Verdict.FAIL, "broken", "part 3")
    finding = tally.finding("STREAM-FRAMING-1", "fine", "100 bytes")
    assert finding.verdict is Verdict.FAIL
    assert finding.message == "broken; LF only (2 times)"
    assert finding.evidence == "first: part 3\nfirst: line 1\n100 bytes"
    assert tally.has("STREAM-FRAMING-1") and not tally.has("STREAM-LEAD-1")


@pytest.mark.parametrize(
    ("data", "text"),
    [(b"--B\r\n", "b'--B\\r\\n'"), (b"x" * 30, "b'" + "x" * 24 + "' ... (30 bytes)")],
)
def test_raw_bytes_are_shown_short_and_unambiguous(data: bytes, text: str) -> None:
    assert shown(data) == text
