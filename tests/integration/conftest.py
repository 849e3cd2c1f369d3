"""Fixtures shared by the integration tests: one real run per kind, made once per session.

Override ``passing_run`` or ``broken_run`` in a test module to read another run's report.
"""

from __future__ import annotations

import pytest
from report_runs import Run, run_suite, running_broken_device


@pytest.fixture(scope="session")
def passing_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """A run of the small conformance file against the bundled reference device."""
    return run_suite(tmp_path_factory.mktemp("passing"))


@pytest.fixture(scope="session")
def broken_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """A run of the same file against the broken device (wrong JPEG size, no streams)."""
    with running_broken_device() as url:
        return run_suite(tmp_path_factory.mktemp("broken"), "--device", url, "--rate-limit", "0")
