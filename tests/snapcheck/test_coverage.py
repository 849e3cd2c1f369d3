"""Tests of the clause coverage scan over a small source tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from snapcheck.clauses import Catalogue, parse_catalogue
from snapcheck.coverage import cited_ids, marked_ids, scan_coverage

KNOWN = frozenset({"JPEG-SIZE-1", "STREAM-LIVE-1", "TIME-AGE-1"})


def _catalogue(*ids: str) -> Catalogue:
    tables = "".join(
        f'[[clause]]\nid = "{clause_id}"\narea = "jpeg"\nlevel = "MUST"\n'
        f'requirement = "r"\nsource = "s"\n\n'
        for clause_id in ids
    )
    return parse_catalogue(tables)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('clause = "JPEG-SIZE-1"', {"JPEG-SIZE-1"}),
        ("from ids import STREAM_LIVE_1", {"STREAM-LIVE-1"}),
        ("'TIME-AGE-1', 'NOT-A-CLAUSE-1', JPEG_SIZE_10", {"TIME-AGE-1"}),
        ("JPEG-SIZE-1 in prose, unquoted", set()),
    ],
)
def test_ids_are_found_as_strings_and_constants(text: str, expected: set[str]) -> None:
    assert cited_ids(text, KNOWN) == expected


def test_markers_name_only_their_own_ids() -> None:
    text = '@pytest.mark.clause("JPEG-SIZE-1", STREAM_LIVE_1)\nother = "TIME-AGE-1"'
    assert marked_ids(text, KNOWN) == {"JPEG-SIZE-1", "STREAM-LIVE-1"}


def _write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_a_scan_reports_checks_and_tests_per_clause(tmp_path: Path) -> None:
    _write(tmp_path, "snapcheck/checks/clause_ids.py", 'A = "JPEG-SIZE-1"\nB = "TIME-AGE-1"')
    _write(tmp_path, "snapcheck/checks/jpeg.py", "from ids import JPEG_SIZE_1")
    _write(tmp_path, "suites/test_stream.py", '@pytest.mark.clause("STREAM-LIVE-1")')
    _write(tmp_path, "tests/test_catalogue.py", 'ALL = ("JPEG-SIZE-1", "TIME-AGE-1")')
    _write(tmp_path, "tests/test_jpeg.py", '@pytest.mark.clause("JPEG-SIZE-1")')
    coverage = scan_coverage(_catalogue("JPEG-SIZE-1", "STREAM-LIVE-1", "TIME-AGE-1"), tmp_path)
    rows = {row.clause.id: (row.checks, row.tests) for row in coverage}
    assert rows == {
        "JPEG-SIZE-1": (("snapcheck/checks/jpeg.py",), ("tests/test_jpeg.py",)),
        "STREAM-LIVE-1": ((), ("suites/test_stream.py",)),
        "TIME-AGE-1": ((), ()),
    }


def test_missing_trees_mean_no_coverage(tmp_path: Path) -> None:
    (row,) = scan_coverage(_catalogue("JPEG-SIZE-1"), tmp_path)
    assert (row.checks, row.tests) == ((), ())
