"""The kill matrix on the command line: the table a person reads and the command's refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from snapcheck.cli import main
from snapcheck.killmatrix import CLEAN, FaultSpec, Finished, Knobs, Run, judge
from snapcheck.killmatrix_cli import matrix_json, render

ROOT = Path(__file__).resolve().parents[2]
FRAMING = FaultSpec("part-without-content-type", ("STREAM-PART-CT-1",))
LEAD = FaultSpec("no-leading-boundary", ("STREAM-LEAD-1",), strict=True)


def finished(fault: FaultSpec | None, status: int, verdicts: dict[str, str]) -> Finished:
    run = Run(fault.name if fault else CLEAN, fault, (), ())
    return Finished(run, status, verdicts, 12.5, "", "pytest ...", "r.json")


def test_the_table_shows_every_run_and_how_to_reproduce_a_miss() -> None:
    results = [
        judge(finished(None, 0, {})),
        judge(finished(FRAMING, 1, {"STREAM-PART-CT-1": "FAIL"})),
        judge(finished(LEAD, 0, {"STREAM-LEAD-1": "PASS"})),
        judge(finished(FRAMING, 1, {c: "FAIL" for c in ("A-1", "B-1", "C-1", "D-1", "E-1",
                                                        "F-1", "STREAM-PART-CT-1")})),
    ]
    lines = render(results, 61.0, 2)
    assert lines[0].split()[:3] == ["fault", "verdict", "seconds"]
    assert lines[1].split() == [CLEAN, "PASS", "12.5", "-"]
    assert lines[2].split() == [FRAMING.name, "KILLED", "12.5", "STREAM-PART-CT-1*"]
    assert lines[3].split()[:2] == [LEAD.name, "SURVIVED"]
    assert lines[4].split()[3:] == ["STREAM-PART-CT-1*", "A-1", "B-1", "C-1", "D-1", "(+2", "more)"]
    assert "-- no-leading-boundary: SURVIVED" in lines
    assert (
        "   reproduce: python -m pytest --strict '--reference-args=--fault no-leading-boundary'"
        in lines
    )
    assert lines[-1] == "2 of 3 faults killed; clean runs PASS; 61.0 s wall with 2 jobs"


def test_the_command_refuses_a_fault_the_device_lacks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["killmatrix", "--faults", " no-such-fault ,", "--root", str(ROOT)]) == 2
    assert "unknown faults ['no-such-fault']" in capsys.readouterr().err



def test_the_json_summary_has_one_entry_per_run() -> None:
    results = [judge(finished(None, 0, {})), judge(finished(LEAD, 1, {"STREAM-LEAD-1": "FAIL"}))]
    document = matrix_json(results, 61.04, Knobs(jobs=2, request_timeout_s=2.0))
    assert (document["wall_s"], document["jobs"], document["request_timeout_s"]) == (61.0, 2, 2.0)
    runs = document["runs"]
    assert isinstance(runs, list)
    assert [(r["label"], r["verdict"], r["strict"]) for r in runs] == [
        (CLEAN, "PASS", False),
        (LEAD.name, "KILLED", True),
    ]
    assert runs[1]["failed_clauses"] == ["STREAM-LEAD-1"] and runs[1]["tests"] == "all"
