"""The report document: one versioned, JSON-able record of a finished run.

Strategy: ``build_report_data`` is the only place that reads the live run (recorder,
settings, the device's identity, the clause catalogue); everything a report shows is
in the document it returns, so the HTML and JUnit writers are functions of the
document alone and a report can be re-rendered later from ``report.json``. The
document's shape is written down in ``schemas/report.schema.json``;
``validate_report`` holds a document to it. Nothing here renders, plots or writes files.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from snapcheck import __version__
from snapcheck.clauses import Catalogue, load_catalogue
from snapcheck.recorder import RunRecorder, TestRecord
from snapcheck.schemas import SCHEMA_DIR
from snapcheck.settings import Settings
from snapcheck.verdicts import SEVERITY_ORDER, Finding, Level, Verdict

# 2: the catalogue clause by clause with evidence, counts by level, how Hypothesis ran.
REPORT_FORMAT_VERSION = 2
REPORT_SCHEMA_FILE = "report.schema.json"
NOT_JUDGED = "NOT-JUDGED"
# Judged clauses whose ID is missing from the catalogue are counted under this level.
UNLISTED = "UNLISTED"
# Per clause, the report shows at most this many findings (worst first, distinct messages).
EVIDENCE_PER_CLAUSE = 5


@dataclass(frozen=True, slots=True)
class HypothesisRun:
    """How Hypothesis drew its examples: the profile, the seed (given or drawn), derandomized."""

    profile: str
    seed: str | None
    derandomize: bool

    def as_json(self) -> dict[str, Any]:
        """The JSON form of the report's ``hypothesis`` member."""
        return {"profile": self.profile, "seed": self.seed, "derandomize": self.derandomize}


def report_folder_name(settings: Settings, started: datetime) -> str:
    """``<device>-<timestamp>``: the device's host and port, or the bundled profile's name."""
    if settings.device is None:
        label = f"reference-{Path(settings.reference_profile).stem}"
    else:
        label = settings.device.split("://", 1)[1]
    label = re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("_") or "device"
    return f"{label}-{started.strftime('%Y%m%dT%H%M%SZ')}"


def finding_json(finding: Finding, test: str | None = None) -> dict[str, Any]:
    """One finding as the report stores it (``test``: the test that recorded it, if shown)."""
    shown: dict[str, Any] = {
        "clause": finding.clause,
        "verdict": finding.verdict.value,
        "message": finding.message,
        "evidence": finding.evidence,
        "curl": finding.curl,
    }
    if test is not None:
        shown["test"] = test
    return shown


def _test_json(record: TestRecord) -> dict[str, Any]:
    return {
        "nodeid": record.nodeid,
        "clauses": list(record.clauses),
        "verdict": record.verdict.value,
        "duration_s": round(record.duration_s, 3),
        "note": record.note,
        "findings": [finding_json(f) for f in record.findings],
    }


def _evidence(findings: Iterable[tuple[str, Finding]]) -> list[dict[str, Any]]:
    """The findings worth showing for one clause: worst first, one per distinct message."""
    ranked = sorted(findings, key=lambda pair: SEVERITY_ORDER.index(pair[1].verdict))
    shown: list[dict[str, Any]] = []
    seen: set[tuple[Verdict, str]] = set()
    for test, finding in ranked:
        key = (finding.verdict, finding.message)
        if key in seen:
            continue
        seen.add(key)
        shown.append(finding_json(finding, test))
        if len(shown) == EVIDENCE_PER_CLAUSE:
            break
    return shown


def _clause_entries(
    catalogue: Catalogue, records: tuple[TestRecord, ...], verdicts: Mapping[str, Verdict]
) -> list[dict[str, Any]]:
    """Every catalogue clause (and any judged clause it lacks), in catalogue order."""
    findings: dict[str, list[tuple[str, Finding]]] = {}
    tests: dict[str, list[str]] = {}
    for record in records:
        for finding in record.findings:
            findings.setdefault(finding.clause, []).append((record.nodeid, finding))
        for clause in dict.fromkeys((*record.clauses, *(f.clause for f in record.findings))):
            tests.setdefault(clause, []).append(record.nodeid)
    ids = list(catalogue.ids) + sorted(set(verdicts) - set(catalogue.ids))
    entries = []
    for clause_id in ids:
        known = catalogue.get(clause_id) if clause_id in catalogue else None
        judged = verdicts.get(clause_id)
        tally = Counter(f.verdict.value for _, f in findings.get(clause_id, ()))
        entries.append({
            "id": clause_id,
            "requirement": known.requirement if known else "(not in the clause catalogue)",
            "level": known.level.value if known else None,
            "area": known.area.value if known else None,
            "source": known.source if known else None,
            "decision": known.decision if known else None,
            "breaks": list(known.breaks) if known else [],
            "verdict": judged.value if judged else None,
            "finding_counts": dict(sorted(tally.items())),
            "tests": list(dict.fromkeys(tests.get(clause_id, ()))),
            "evidence": _evidence(findings.get(clause_id, ())),
        })
    return entries


def _counts_by_level(clauses: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Clauses per level and verdict (``NOT-JUDGED`` for clauses this run did not reach)."""
    columns = [v.value for v in Verdict] + [NOT_JUDGED]
    table = {level.value: dict.fromkeys(columns, 0) for level in Level}
    for clause in clauses:
        row = table.setdefault(clause["level"] or UNLISTED, dict.fromkeys(columns, 0))
        row[clause["verdict"] or NOT_JUDGED] += 1
    return table


def build_report_data(
    settings: Settings,
    recorder: RunRecorder,
    identity: dict[str, Any],
    started: datetime,
    finished: datetime,
    *,
    hypothesis: HypothesisRun,
    catalogue: Catalogue | None = None,
) -> dict[str, Any]:
    """The whole run as one JSON-able document (see schemas/report.schema.json)."""
    records = recorder.records
    verdicts = recorder.clause_verdicts()
    counts = recorder.counts()
    clauses = _clause_entries(catalogue or load_catalogue(), records, verdicts)
    return {
        "version": REPORT_FORMAT_VERSION,
        "suite_version": __version__,
        "started": started.isoformat(),
        "finished": finished.isoformat(),
        "duration_s": round((finished - started).total_seconds(), 3),
        "settings": settings.describe(),
        "strict": settings.strict,
        "hypothesis": hypothesis.as_json(),
        "identity": identity,
        "failed": recorder.failed(strict=settings.strict),
        "counts": {verdict.value: counts.get(verdict, 0) for verdict in Verdict},
        "counts_by_level": _counts_by_level(clauses),
        "clauses": {clause: verdict.value for clause, verdict in verdicts.items()},
        "catalogue": clauses,
        "tests": [_test_json(record) for record in records],
        "artifacts": recorder.artifacts,
    }


@functools.cache
def _validator() -> Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / REPORT_SCHEMA_FILE).read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate_report(document: object) -> list[str]:
    """Every way a document departs from the report schema, as readable lines (empty: valid)."""
    problems = sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(top level)'}: {error.message}"
        for error in problems
    ]
