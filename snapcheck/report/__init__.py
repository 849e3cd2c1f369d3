"""Run reports: the document of a finished run and the files written from it.

Strategy: one versioned document per run (``model``: built from the recorder, the
settings, the device's identity and the clause catalogue; shape in
``schemas/report.schema.json``) and renderings that are functions of that document
alone (``html``, ``junit``, with ``plots`` and ``pictures``), so a report can be
re-rendered later from ``report.json`` (``files``). ``artifacts`` collects, during the
run, the frames and timings the report pictures. This package never judges a device.

Only the light modules are imported here; ``snapcheck.report.files`` (Jinja2 and
matplotlib) is imported by whoever writes files.
"""

from __future__ import annotations

from snapcheck.report.model import (
    REPORT_FORMAT_VERSION,
    HypothesisRun,
    build_report_data,
    report_folder_name,
    validate_report,
)

__all__ = [
    "REPORT_FORMAT_VERSION",
    "HypothesisRun",
    "build_report_data",
    "report_folder_name",
    "validate_report",
]
