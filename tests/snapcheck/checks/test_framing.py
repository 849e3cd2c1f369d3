"""Tests of the framing judge on its own: what each event means, and when clauses are
evaluated at all (the parser's tests cover the same through real streams)."""

from __future__ import annotations

from snapcheck.checks.framing import FramingJudge
from snapcheck.verdicts import Verdict

CT = "multipart/x-mixed-replace; boundary=B"


def verdicts(judge: FramingJudge, parts: int) -> dict[str, Verdict]:
    return {f.clause: f.verdict for f in judge.findings(parts)}


def test_nothing_read_nothing_judged_but_the_declaration() -> None:
    assert verdicts(FramingJudge(CT, "B"), 0) == {"STREAM-BOUNDARY-2": Verdict.PASS}


def test_a_clean_stream_passes_every_clause_it_evaluated() -> None:
    judge = FramingJudge(CT, "B")
    judge.arrived(b"--B\r\nContent-Type: image/jpeg\r\n")
    judge.lead(starts_with_delimiter=True, expected=b"--B")
    judge.delimiter(b"--B")
    judge.part_headers(0, (("Content-Type", "image/jpeg"), ("Content-Length", "3")), True)
    judge.gap(b"\r\n", 40)
    judge.ended("eof", dropped=0)
    result = verdicts(judge, 1)
    assert result.pop("STREAM-END-1") is Verdict.INFORMATIONAL
    assert set(result.values()) == {Verdict.PASS} and len(result) == 7


def test_a_declaration_without_boundary_and_a_stream_without_delimiter_fail() -> None:
    judge = FramingJudge("multipart/x-mixed-replace", None)
    judge.arrived(b"garbage")
    judge.ended("window", dropped=7)
    findings = {f.clause: f for f in judge.findings(0)}
    assert findings["STREAM-BOUNDARY-1"].verdict is Verdict.FAIL
    assert "7 bytes of a part in flight" in findings["STREAM-END-1"].evidence


def test_the_gap_before_a_delimiter_names_the_variant() -> None:
    judge = FramingJudge(CT, "B")
    judge.arrived(b"x")
    judge.gap(b"", 10)
    judge.gap(b"\n", 20)
    judge.gap(b"\r\n\r\n\r\n", 30)
    framing = next(f for f in judge.findings(1) if f.clause == "STREAM-FRAMING-1")
    assert framing.verdict is Verdict.NON_STRICT
    assert "no line break" in framing.message and "LF only" in framing.message
    assert "padding" in framing.message
