"""The report folder: report.json, report.html and junit.xml, written and re-rendered.

Strategy: a run's report is written once, as the document (``report.json``) first and
then the two renderings of it; ``rerender`` reads a ``report.json`` back, holds it to
the schema and renders the same two files again, so an HTML page can be rebuilt (by
``snapcheck report``) from the JSON alone. A file the user points at that is missing,
not JSON or not a report is a ``UsageError`` (the user's input, exit 2).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from snapcheck.recorder import RunRecorder
from snapcheck.report.html import render_html
from snapcheck.report.junit import render_junit
from snapcheck.report.model import (
    REPORT_FORMAT_VERSION,
    HypothesisRun,
    build_report_data,
    report_folder_name,
    validate_report,
)
from snapcheck.settings import Settings
from snapcheck.verdicts import UsageError

REPORT_JSON, REPORT_HTML, JUNIT_XML = "report.json", "report.html", "junit.xml"
# A schema violation list is cut here: the first few say what is wrong.
SHOWN_PROBLEMS = 5


def write_renderings(document: Mapping[str, Any], folder: Path) -> tuple[Path, Path]:
    """Write report.html and junit.xml of a document into a folder; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    html, junit = folder / REPORT_HTML, folder / JUNIT_XML
    html.write_text(render_html(document), encoding="utf-8")
    junit.write_bytes(render_junit(document))
    return html, junit


def write_run_report(
    settings: Settings,
    recorder: RunRecorder,
    identity: dict[str, Any],
    started: datetime,
    finished: datetime,
    *,
    hypothesis: HypothesisRun,
) -> Path:
    """Write a run's report folder under the report directory; return the folder."""
    folder = settings.report_dir / report_folder_name(settings, started)
    folder.mkdir(parents=True, exist_ok=True)
    data = build_report_data(settings, recorder, identity, started, finished,
                             hypothesis=hypothesis)
    # Round-trip through JSON so the renderings see exactly what report.json holds.
    text = json.dumps(data, indent=1, default=str) + "\n"
    (folder / REPORT_JSON).write_text(text, encoding="utf-8")
    write_renderings(json.loads(text), folder)
    return folder


def load_report(path: Path) -> dict[str, Any]:
    """A report document read from ``report.json`` and held to the schema (else UsageError)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"{path} is not a JSON file: {error}") from None
    version = document.get("version") if isinstance(document, dict) else None
    if version is not None and version != REPORT_FORMAT_VERSION:
        raise UsageError(
            f"{path} is a report of format version {version!r}; this snapcheck renders"
            f" version {REPORT_FORMAT_VERSION} (run the suite again to get one)"
        )
    problems = validate_report(document)
    if problems:
        shown = "; ".join(problems[:SHOWN_PROBLEMS])
        hidden = len(problems) - SHOWN_PROBLEMS
        more = f" (and {hidden} more)" if hidden > 0 else ""
        raise UsageError(f"{path} is not a snapcheck report: {shown}{more}")
    assert isinstance(document, dict)  # the schema demands an object
    return document


def rerender(path: Path, out_dir: Path | None = None) -> tuple[Path, Path]:
    """Render report.html and junit.xml again from a report.json (beside it by default)."""
    document = load_report(path)
    return write_renderings(document, out_dir or path.parent)
