"""How a check writes its findings, and how findings become a test failure.

Strategy: every check builds its findings through ``ReplyFindings``, which stamps each one
with the curl line that reproduces the request, so no finding leaves without it. The
verdict a violation earns comes from the clause's level in the catalogue (MUST -> FAIL,
SHOULD -> NON-STRICT) unless the check's own table says otherwise; a clause ID given by a
caller is therefore judged at its own level. ``raise_on_failure`` is the one bridge to
pytest: it raises ``DeviceFailure`` (an AssertionError) carrying the findings that fail.
"""

from __future__ import annotations

from collections.abc import Iterable

from snapcheck.clauses import load_catalogue
from snapcheck.curl import curl_for
from snapcheck.exchange import Reply
from snapcheck.verdicts import DeviceFailure, Finding, Level, Verdict

# The verdict a violated clause earns, by the clause's level.
VIOLATION_VERDICTS: dict[Level, Verdict] = {
    Level.MUST: Verdict.FAIL,
    Level.SHOULD: Verdict.NON_STRICT,
    Level.INFORMATIONAL: Verdict.INFORMATIONAL,
}
EVIDENCE_BYTES = 16


def violation_verdict(clause: str) -> Verdict:
    """The verdict a violation of ``clause`` earns, from its level (KeyError if unknown)."""
    return VIOLATION_VERDICTS[load_catalogue().get(clause).level]


def raise_on_failure(findings: Iterable[Finding], *, strict: bool = False) -> None:
    """Raise DeviceFailure with every finding that fails the run (NON-STRICT too if strict)."""
    failing = [finding for finding in findings if finding.verdict.fails_run(strict=strict)]
    if failing:
        raise DeviceFailure(failing)


def hex_head(data: bytes, count: int = EVIDENCE_BYTES) -> str:
    """The first bytes of ``data`` in hex, for evidence ("ff d8 ff e0 ...")."""
    if not data:
        return "(no bytes)"
    more = " ..." if len(data) > count else ""
    return data[:count].hex(" ") + more


class ReplyFindings:
    """The findings of one check on one reply, each carrying the reply's curl line."""

    def __init__(self, reply: Reply) -> None:
        self.curl = curl_for(reply.request)
        self.items: list[Finding] = []

    def add(self, clause: str, verdict: Verdict, message: str, evidence: str = "") -> None:
        """Record a finding with an explicit verdict."""
        self.items.append(Finding(clause, verdict, message, evidence, self.curl))

    def judge(
        self,
        clause: str,
        ok: bool,
        passed: str,
        failed: str,
        evidence: str = "",
    ) -> bool:
        """PASS with ``passed`` when ``ok``, else the clause's violation verdict with ``failed``."""
        verdict = Verdict.PASS if ok else violation_verdict(clause)
        self.add(clause, verdict, passed if ok else failed, evidence)
        return ok

    def adopt(self, findings: Iterable[Finding]) -> None:
        """Take findings made elsewhere (the stream parser's), stamping them with the curl line."""
        for finding in findings:
            self.add(finding.clause, finding.verdict, finding.message, finding.evidence)
