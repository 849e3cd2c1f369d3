"""Tests of how checks write findings and how findings become a test failure."""

from __future__ import annotations

import pytest
from synthetic import jpeg_bytes, reply

from snapcheck.checks.findings import ReplyFindings, hex_head, raise_on_failure, violation_verdict
from snapcheck.verdicts import DeviceFailure, Finding, Verdict


def finding(verdict: Verdict, clause: str = "JPEG-CT-1") -> Finding:
    return Finding(clause, verdict, "message")


@pytest.mark.parametrize(
    ("verdicts", "strict", "raised"),
    [
        ([Verdict.PASS, Verdict.INFORMATIONAL], False, 0),
        ([Verdict.PASS, Verdict.NON_STRICT], False, 0),
        ([Verdict.PASS, Verdict.NON_STRICT], True, 1),
        ([Verdict.FAIL, Verdict.NON_STRICT, Verdict.FAIL], False, 2),
        ([Verdict.UNSUPPORTED], True, 0),
    ],
)
def test_only_failing_findings_are_raised(
    verdicts: list[Verdict], strict: bool, raised: int
) -> None:
    findings = [finding(v) for v in verdicts]
    if not raised:
        raise_on_failure(findings, strict=strict)
        return
    with pytest.raises(DeviceFailure) as failure:
        raise_on_failure(findings, strict=strict)
    assert len(failure.value.findings) == raised
    assert isinstance(failure.value, AssertionError)


@pytest.mark.parametrize(
    ("clause", "verdict"),
    [
        ("JPEG-CT-1", Verdict.FAIL),
        ("SNAP-WH-2", Verdict.NON_STRICT),
        ("CAPS-ORDER-1", Verdict.INFORMATIONAL),
    ],
)
def test_a_violation_earns_the_verdict_of_the_clause_level(clause: str, verdict: Verdict) -> None:
    assert violation_verdict(clause) is verdict


def test_an_unknown_clause_is_our_mistake() -> None:
    with pytest.raises(KeyError, match="JPEG-CT-9"):
        violation_verdict("JPEG-CT-9")


def test_every_finding_carries_the_reproducing_curl_line() -> None:
    out = ReplyFindings(reply(jpeg_bytes()))
    assert out.judge("JPEG-SOI-1", True, "fine", "broken") is True
    assert out.judge("JPEG-TRAIL-1", False, "fine", "broken", "evidence") is False
    out.adopt([Finding("STREAM-END-1", Verdict.INFORMATIONAL, "ended", "why")])
    assert [(f.clause, f.verdict, f.message) for f in out.items] == [
        ("JPEG-SOI-1", Verdict.PASS, "fine"),
        ("JPEG-TRAIL-1", Verdict.NON_STRICT, "broken"),
        ("STREAM-END-1", Verdict.INFORMATIONAL, "ended"),
    ]
    assert {f.curl for f in out.items} == {out.curl}
    assert out.curl.startswith("curl ") and "width=640" in out.curl


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        (b"", "(no bytes)"),
        (b"\xff\xd8", "ff d8"),
        (bytes(range(20)), "00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f ..."),
    ],
)
def test_hex_evidence_is_short(data: bytes, shown: str) -> None:
    assert hex_head(data) == shown
