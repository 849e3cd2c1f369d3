"""Which clauses have a check and a test: a scan of the source tree for clause citations.

Strategy: a clause is *checked* when a module of ``snapcheck/`` names it, as the ID string
(``"JPEG-SIZE-1"``) or its constant (``JPEG_SIZE_1``) — except the modules that only
define or load IDs. A clause is *tested* when a conformance test in ``suites/`` names it
(marker, string or constant), or when a test in ``tests/`` marks itself with
``@pytest.mark.clause("ID", ...)``. Plain strings in ``tests/`` do not count: a unit test
that lists every ID (to check the catalogue) would otherwise mark every clause tested.
Nothing here imports the modules it scans; it reads their text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from snapcheck.clauses import Catalogue, Clause

# Modules that define, load or list clause IDs without judging anything.
NOT_CHECKS = frozenset(
    {"snapcheck/checks/clause_ids.py", "snapcheck/clauses.py", "snapcheck/coverage.py"}
)
CHECK_TREES = ("snapcheck",)
SUITE_TREES = ("suites",)
MARKER_TREES = ("tests",)

_QUOTED_ID = re.compile(r"""["']([A-Z]+(?:-[A-Z0-9]+)*-[0-9]+)["']""")
_CONSTANT = re.compile(r"\b([A-Z]+(?:_[A-Z0-9]+)*_[0-9]+)\b")
_MARKER = re.compile(r"mark\.clause\(([^)]*)\)")


@dataclass(frozen=True, slots=True)
class ClauseCoverage:
    """One clause and the files (relative to the root) that check and test it."""

    clause: Clause
    checks: tuple[str, ...]
    tests: tuple[str, ...]


def cited_ids(text: str, known: frozenset[str]) -> set[str]:
    """The known clause IDs a text names, as strings or as constants."""
    found = {match for match in _QUOTED_ID.findall(text) if match in known}
    constants = {match.replace("_", "-") for match in _CONSTANT.findall(text)}
    return found | (constants & known)


def marked_ids(text: str, known: frozenset[str]) -> set[str]:
    """The known clause IDs named inside ``pytest.mark.clause(...)`` markers."""
    return set().union(*(cited_ids(args, known) for args in _MARKER.findall(text)))


def _python_files(root: Path, trees: Iterable[str]) -> list[Path]:
    return sorted(path for tree in trees for path in (root / tree).rglob("*.py"))


def _citations(
    root: Path, trees: Iterable[str], known: frozenset[str], *, markers_only: bool
) -> dict[str, list[str]]:
    by_clause: dict[str, list[str]] = {clause_id: [] for clause_id in known}
    for path in _python_files(root, trees):
        name = path.relative_to(root).as_posix()
        if name in NOT_CHECKS:
            continue
        text = path.read_text("utf-8", errors="replace")
        ids = marked_ids(text, known) if markers_only else cited_ids(text, known)
        for clause_id in ids:
            by_clause[clause_id].append(name)
    return by_clause


def scan_coverage(catalogue: Catalogue, root: Path) -> tuple[ClauseCoverage, ...]:
    """Every clause of the catalogue with the files under ``root`` that check and test it."""
    known = frozenset(catalogue.ids)
    checks = _citations(root, CHECK_TREES, known, markers_only=False)
    suites = _citations(root, SUITE_TREES, known, markers_only=False)
    marked = _citations(root, MARKER_TREES, known, markers_only=True)
    return tuple(
        ClauseCoverage(
            clause,
            tuple(checks[clause.id]),
            tuple(sorted({*suites[clause.id], *marked[clause.id]})),
        )
        for clause in catalogue
    )
