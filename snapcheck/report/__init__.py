"""Run reports: the data model of a finished run and the files written from it.

Strategy: ``build_report_data`` turns the recorder, the settings and the device's
identity into one JSON-able document (versioned); writers render files from that
document only, so a report can be re-rendered later from ``report.json``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from snapcheck import __version__
from snapcheck.recorder import RunRecorder
from snapcheck.settings import Settings
from snapcheck.verdicts import Verdict

REPORT_FORMAT_VERSION = 1


def report_folder_name(settings: Settings, started: datetime) -> str:
    """``<device>-<timestamp>``: the device's host and port, or the bundled profile's name."""
    if settings.device is None:
        label = f"reference-{Path(settings.reference_profile).stem}"
    else:
        label = settings.device.split("://", 1)[1]
    label = re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("_") or "device"
    return f"{label}-{started.strftime('%Y%m%dT%H%M%SZ')}"


def build_report_data(
    settings: Settings,
    recorder: RunRecorder,
    identity: dict[str, Any],
    started: datetime,
    finished: datetime,
    *,
    seed: str = "",
) -> dict[str, Any]:
    """The whole run as one JSON-able document."""
    counts = recorder.counts()
    return {
        "version": REPORT_FORMAT_VERSION,
        "suite_version": __version__,
        "started": started.isoformat(),
        "finished": finished.isoformat(),
        "duration_s": round((finished - started).total_seconds(), 3),
        "settings": settings.describe(),
        "hypothesis_seed": seed,
        "identity": identity,
        "failed": recorder.failed(strict=settings.strict),
        "counts": {verdict.value: counts.get(verdict, 0) for verdict in Verdict},
        "clauses": {clause: v.value for clause, v in recorder.clause_verdicts().items()},
        "tests": [
            {
                "nodeid": record.nodeid,
                "clauses": list(record.clauses),
                "verdict": record.verdict.value,
                "duration_s": round(record.duration_s, 3),
                "note": record.note,
                "findings": [
                    {"clause": f.clause, "verdict": f.verdict.value, "message": f.message,
                     "evidence": f.evidence, "curl": f.curl}
                    for f in record.findings
                ],
            }
            for record in recorder.records
        ],
        "artifacts": recorder.artifacts,
    }


def write_run_report(
    settings: Settings,
    recorder: RunRecorder,
    identity: dict[str, Any],
    started: datetime,
    finished: datetime,
    *,
    seed: str = "",
) -> Path:
    """Write ``report.json`` into a new folder under the report directory; return the folder."""
    folder = settings.report_dir / report_folder_name(settings, started)
    folder.mkdir(parents=True, exist_ok=True)
    data = build_report_data(settings, recorder, identity, started, finished, seed=seed)
    (folder / "report.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
    return folder
