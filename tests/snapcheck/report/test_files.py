"""The report folder: written once per run, and rendered again from report.json alone."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from report_documents import IDENTITY, STARTED, sample_recorder

from snapcheck.cli import main
from snapcheck.report.files import load_report, rerender, write_run_report
from snapcheck.report.model import HypothesisRun, validate_report
from snapcheck.settings import Settings
from snapcheck.verdicts import UsageError


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A report folder written as the plugin writes one."""
    return write_run_report(
        Settings(report_dir=tmp_path / "reports"), sample_recorder(), IDENTITY, STARTED,
        STARTED + timedelta(seconds=2), hypothesis=HypothesisRun("dev", "7", False),
    )


def test_a_run_writes_json_html_and_junit_into_its_folder(folder: Path, tmp_path: Path) -> None:
    assert folder == tmp_path / "reports" / "reference-default-20261125T093000Z"
    assert sorted(p.name for p in folder.iterdir()) == ["junit.xml", "report.html", "report.json"]
    assert validate_report(json.loads((folder / "report.json").read_text())) == []


def test_rendering_again_gives_the_same_files(folder: Path, tmp_path: Path) -> None:
    html, junit = rerender(folder / "report.json", tmp_path / "again")
    assert html.read_text() == (folder / "report.html").read_text()
    assert junit.read_bytes() == (folder / "junit.xml").read_bytes()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "report.json"
    path.write_text(text)
    return path


BAD_FILES = [
    pytest.param(None, "cannot read", id="missing"),
    pytest.param("{not json", "is not a JSON file", id="not-json"),
    pytest.param('{"version": 1}', "format version 1; this snapcheck renders version 2",
                 id="old-format"),
    pytest.param('{"version": 2, "tests": []}', "is not a snapcheck report: (top level): "
                 "'suite_version' is a required property", id="not-a-report"),
    pytest.param("[]", "is not a snapcheck report", id="not-an-object"),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_a_file_that_is_not_a_report_is_a_usage_error(
    tmp_path: Path, text: str | None, message: str
) -> None:
    path = tmp_path / "report.json" if text is None else _write(tmp_path, text)
    with pytest.raises(UsageError) as raised:
        load_report(path)
    assert message in str(raised.value)


def test_snapcheck_report_writes_beside_the_json(folder: Path) -> None:
    (folder / "report.html").unlink()
    out = io.StringIO()
    assert main(["report", str(folder / "report.json")], out=out) == 0
    assert out.getvalue() == f"wrote {folder / 'report.html'}\nwrote {folder / 'junit.xml'}\n"
    assert (folder / "report.html").is_file()


def test_snapcheck_report_on_a_bad_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(_write(tmp_path, "{not json"))], out=io.StringIO()) == 2
    assert "snapcheck: error: " in capsys.readouterr().err
