"""Deviations counted per clause, turned into one finding per clause.

Strategy: a stream can repeat the same deviation in every one of thousands of parts; a
report wants one line per clause that says what went wrong, how often, and where it
first happened. ``Tally`` keeps exactly that (the first evidence and a count per kind of
problem), so its memory does not grow with the stream. Nothing here decides a verdict:
callers note each deviation with the verdict its clause gives it.
"""

from __future__ import annotations

from dataclasses import dataclass

from snapcheck.verdicts import SEVERITY_ORDER, Finding, Verdict

SHOWN_BYTES = 24


def shown(data: bytes | bytearray, limit: int = SHOWN_BYTES) -> str:
    """A short, unambiguous rendering of raw bytes for evidence (repr, truncated)."""
    head = bytes(data[:limit])
    more = f" ... ({len(data)} bytes)" if len(data) > limit else ""
    return f"{head!r}{more}"


@dataclass(slots=True)
class _Kind:
    """One kind of problem under a clause: its verdict, first evidence and count."""

    verdict: Verdict
    evidence: str
    count: int = 1


class Tally:
    """The deviations noted so far: per clause, per kind of problem, first evidence and count."""

    def __init__(self) -> None:
        self._seen: dict[str, dict[str, _Kind]] = {}

    def note(self, clause: str, verdict: Verdict, problem: str, evidence: str) -> None:
        """Record one occurrence of ``problem`` under ``clause``; the first evidence is kept."""
        kinds = self._seen.setdefault(clause, {})
        kind = kinds.get(problem)
        if kind is None:
            kinds[problem] = _Kind(verdict, evidence)
        else:
            kind.count += 1

    def has(self, clause: str) -> bool:
        """Whether any deviation was noted under ``clause``."""
        return clause in self._seen

    def finding(self, clause: str, passed: str, evidence: str = "") -> Finding:
        """The clause's finding: its deviations, worst first, or PASS with ``passed``."""
        kinds = self._seen.get(clause)
        if not kinds:
            return Finding(clause, Verdict.PASS, passed, evidence)
        ordered = sorted(kinds.items(), key=lambda item: SEVERITY_ORDER.index(item[1].verdict))
        message = "; ".join(
            problem + (f" ({kind.count} times)" if kind.count > 1 else "")
            for problem, kind in ordered
        )
        lines = [f"first: {kind.evidence}" for _, kind in ordered]
        if evidence:
            lines.append(evidence)
        return Finding(clause, ordered[0][1].verdict, message, "\n".join(lines))
