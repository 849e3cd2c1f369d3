"""Collects what each conformance test found, clause by clause, for verdicts and reports.

Strategy: tests (through the device facade) hand findings to the recorder; the pytest
plugin opens and closes one record per test. The recorder turns them into per-test and
per-clause verdicts and a summary. It writes nothing and knows nothing about pytest or
HTTP: the report writers and the plugin read it.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from snapcheck.verdicts import Finding, Verdict, worst

# How a clause's verdicts over a whole run are summed up: any failure first; then a
# judgement (PASS) outranks a mere record (INFORMATIONAL) from another request, and a
# feature judged anywhere outranks an UNSUPPORTED elsewhere.
CLAUSE_ROLLUP_ORDER: tuple[Verdict, ...] = (
    Verdict.FAIL,
    Verdict.DEVICE_UNREACHABLE,
    Verdict.NON_STRICT,
    Verdict.PASS,
    Verdict.INFORMATIONAL,
    Verdict.UNSUPPORTED,
)


def rollup(verdicts: Iterable[Verdict]) -> Verdict:
    """One clause's verdict over a run, from every verdict it received."""
    present = set(verdicts)
    return next((v for v in CLAUSE_ROLLUP_ORDER if v in present), Verdict.UNSUPPORTED)


@dataclass(frozen=True, slots=True)
class TestRecord:
    """One test's outcome: the clauses it cites, what it found and the verdict that follows."""

    nodeid: str
    clauses: tuple[str, ...]
    findings: tuple[Finding, ...]
    verdict: Verdict
    duration_s: float
    note: str = ""


@dataclass(slots=True)
class _OpenRecord:
    nodeid: str
    clauses: tuple[str, ...]
    findings: list[Finding] = field(default_factory=list)


class RunRecorder:
    """Thread-safe collector of findings; streams read in threads record into the same test."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: _OpenRecord | None = None
        self._records: list[TestRecord] = []
        self._artifacts: dict[str, list[dict[str, object]]] = {}

    def begin(self, nodeid: str, clauses: Iterable[str]) -> None:
        """Start collecting findings for one test."""
        with self._lock:
            stray = self._open
            if stray is not None and stray.nodeid == "session" and stray.findings:
                # Findings recorded outside any test (a fixture's) are kept, not dropped.
                self._records.append(TestRecord("session", (), tuple(stray.findings),
                                                worst(f.verdict for f in stray.findings), 0.0))
            self._open = _OpenRecord(nodeid, tuple(clauses))

    def record(self, findings: Iterable[Finding]) -> None:
        """Add findings to the test under way (findings outside a test are kept under 'session')."""
        with self._lock:
            if self._open is None:
                self._open = _OpenRecord("session", ())
            self._open.findings.extend(findings)

    def findings_so_far(self) -> tuple[Finding, ...]:
        """The findings recorded so far by the test under way."""
        with self._lock:
            return tuple(self._open.findings) if self._open else ()

    def end(self, verdict: Verdict | None, duration_s: float, note: str = "") -> TestRecord:
        """Close the test under way; without an explicit verdict, its findings decide."""
        with self._lock:
            current = self._open or _OpenRecord("session", ())
            self._open = None
            decided = verdict or worst(f.verdict for f in current.findings)
            record = TestRecord(current.nodeid, current.clauses, tuple(current.findings),
                                decided, duration_s, note)
            self._records.append(record)
            return record

    def add_artifact(self, kind: str, item: dict[str, object]) -> None:
        """Keep something a report shows (a frame thumbnail, stream timings, a latency)."""
        with self._lock:
            self._artifacts.setdefault(kind, []).append(item)

    @property
    def records(self) -> tuple[TestRecord, ...]:
        """Every closed test record, in run order."""
        with self._lock:
            return tuple(self._records)

    @property
    def artifacts(self) -> dict[str, list[dict[str, object]]]:
        """Every artifact kept, by kind."""
        with self._lock:
            return {kind: list(items) for kind, items in self._artifacts.items()}

    def clause_verdicts(self) -> dict[str, Verdict]:
        """The worst verdict each clause received over the run."""
        per_clause: dict[str, list[Verdict]] = {}
        for record in self.records:
            for finding in record.findings:
                per_clause.setdefault(finding.clause, []).append(finding.verdict)
            if record.verdict in (Verdict.UNSUPPORTED, Verdict.DEVICE_UNREACHABLE):
                for clause in record.clauses:
                    per_clause.setdefault(clause, []).append(record.verdict)
        return {clause: rollup(verdicts) for clause, verdicts in sorted(per_clause.items())}

    def counts(self) -> Counter[Verdict]:
        """How many clauses ended in each verdict."""
        return Counter(self.clause_verdicts().values())

    def failed(self, *, strict: bool) -> bool:
        """Whether the run fails: any FAIL or DEVICE-UNREACHABLE (and NON-STRICT when strict)."""
        return any(v.fails_run(strict=strict) for v in self.clause_verdicts().values()) or any(
            r.verdict.fails_run(strict=strict) for r in self.records
        )
