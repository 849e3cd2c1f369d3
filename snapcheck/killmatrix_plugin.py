"""The kill matrix's pytest plugin: loaded with ``-p snapcheck.killmatrix_plugin`` only.

Strategy: ``snapcheck killmatrix`` (killmatrix.py) runs the suite many times as
subprocesses; this plugin is what those runs add. In the collection pass it writes every
conformance test's node ID, clauses and quick mark to the file ``SELECTION_ENV`` names,
from which each fault's selection is made. In every run it offers the Hypothesis profile
``killmatrix``: one failure is all a kill needs, so examples are few, the same in every
run (derandomized) and never shrunk. Nothing here runs outside the kill matrix.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import Phase
from hypothesis import settings as hypothesis_settings

from snapcheck.killmatrix import HYPOTHESIS_PROFILE, SELECTION_ENV
from snapcheck.plugin import QUIET_HEALTH_CHECKS, clause_ids

MAX_EXAMPLES = 10

hypothesis_settings.register_profile(
    HYPOTHESIS_PROFILE,
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=QUIET_HEALTH_CHECKS,
)


def pytest_collection_finish(session: pytest.Session) -> None:
    """In the collection pass: write every test's node ID, clauses and quick mark."""
    target = os.environ.get(SELECTION_ENV)
    if not target:
        return
    rows = [
        {
            "nodeid": item.nodeid,
            "clauses": list(clause_ids(item)),
            "quick": item.get_closest_marker("quick") is not None,
        }
        for item in session.items
    ]
    Path(target).write_text(json.dumps(rows), encoding="utf-8")
