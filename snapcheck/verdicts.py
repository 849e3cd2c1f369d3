"""Verdicts, findings and the two error families every other module of snapcheck uses.

Strategy: a *finding* is what the validator says about one clause for one reply.
A device's fault is never an exception of ours: checks return or raise findings.
Two error families (as in h11 and Schemathesis):

- ``UsageError``: the tool, its configuration or its command line is wrong (exit 2).
- ``DeviceFailure``: the device under test broke the contract (exit 1). It subclasses
  ``AssertionError`` so that one check is both a pytest assertion and a CLI entry.

Nothing here knows about HTTP, JPEG or pytest.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class Level(enum.Enum):
    """How strongly a clause binds a device."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    INFORMATIONAL = "INFORMATIONAL"


class Verdict(enum.Enum):
    """The judgement of one clause; only FAIL (and NON-STRICT under --strict) fails a run."""

    PASS = "PASS"
    NON_STRICT = "NON-STRICT"
    INFORMATIONAL = "INFORMATIONAL"
    UNSUPPORTED = "UNSUPPORTED"
    FAIL = "FAIL"
    DEVICE_UNREACHABLE = "DEVICE-UNREACHABLE"

    def fails_run(self, *, strict: bool = False) -> bool:
        """Whether this verdict makes a conformance run fail."""
        if self in (Verdict.FAIL, Verdict.DEVICE_UNREACHABLE):
            return True
        return strict and self is Verdict.NON_STRICT


# Worst first: used to pick the verdict that summarises several findings.
SEVERITY_ORDER: tuple[Verdict, ...] = (
    Verdict.FAIL,
    Verdict.DEVICE_UNREACHABLE,
    Verdict.NON_STRICT,
    Verdict.UNSUPPORTED,
    Verdict.INFORMATIONAL,
    Verdict.PASS,
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One judgement: which clause, which verdict, why, and how to reproduce it."""

    clause: str
    verdict: Verdict
    message: str
    evidence: str = ""
    curl: str | None = None

    def render(self) -> str:
        """A multi-line text a firmware engineer can read in a terminal."""
        lines = [f"[{self.verdict.value}] {self.clause}: {self.message}"]
        if self.evidence:
            lines.extend("    " + line for line in self.evidence.splitlines())
        if self.curl:
            lines.append(f"    reproduce: {self.curl}")
        return "\n".join(lines)


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    """The most severe verdict of several (PASS when there are none)."""
    present = set(verdicts)
    for verdict in SEVERITY_ORDER:
        if verdict in present:
            return verdict
    return Verdict.PASS


class SnapcheckError(Exception):
    """Base of every exception snapcheck raises on purpose."""


class UsageError(SnapcheckError):
    """The tool, its configuration or its command line is wrong (exit status 2)."""


class DeviceFailure(SnapcheckError, AssertionError):
    """The device under test broke the contract; carries the findings that say how."""

    def __init__(self, findings: Iterable[Finding]) -> None:
        self.findings: tuple[Finding, ...] = tuple(findings)
        if not self.findings:
            raise ValueError("DeviceFailure needs at least one finding")
        super().__init__("\n".join(f.render() for f in self.findings))
