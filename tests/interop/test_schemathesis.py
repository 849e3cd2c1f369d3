"""Schemathesis runs against the reference device with schemas/openapi.json and finds nothing.

Two runs, each bounded in examples (and by a timeout): against the open device
(examples, coverage and fuzzing phases: every operation, valid and invalid parameters,
undeclared methods) and, without credentials, against a Digest-only device (fuzzing:
every Camera reply is the documented 401). Two of Schemathesis' checks assume that an
invalid request earns a 4xx, which the contract rejects: schemathesis_hooks.py replaces
them with checks of the JSON error envelope the contract demands (and says why). The
run's HAR capture shows what was exercised, so a run that quietly tested nothing
cannot pass. The description's parameter examples (a 640x480 snapshot, which every
profile serves) are what make the run exercise JPEG replies, not only errors.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from programs import run_program
from schemathesis_hooks import error_code_of

from reference_device import running_reference_device

INTEROP_DIR = Path(__file__).resolve().parent
OPENAPI = INTEROP_DIR.parents[1] / "schemas" / "openapi.json"
RUN_TIMEOUT_S = 300.0
EXCLUDED_CHECKS = "negative_data_rejection,unsupported_method"


@pytest.fixture(scope="module")
def digest_only_url() -> Iterator[str]:
    """A reference device whose Camera service wants Digest credentials."""
    with running_reference_device(auth="digest", users=("admin:secret",)) as url:
        yield url


def _schemathesis(url: str, workdir: Path, *options: str) -> tuple[int, str, list[dict[str, Any]]]:
    """Run the Schemathesis CLI; its exit status, its report and the HAR entries."""
    har = workdir / "run.har"
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(INTEROP_DIR), os.environ.get("PYTHONPATH")])
        ),
    }
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", str(OPENAPI), "--url", url,
        "--seed", "1", "--generation-database", "none", "--workers", "1", "--no-color",
        "--request-timeout", "10", "--exclude-checks", EXCLUDED_CHECKS,
        "--report", "har", "--report-har-path", str(har), *options,
    ]  # fmt: skip
    done = run_program(command, timeout_s=RUN_TIMEOUT_S, cwd=workdir, env=env)
    report = done.stdout.decode("utf-8", "replace")
    entries: list[dict[str, Any]] = (
        json.loads(har.read_text())["log"]["entries"] if har.exists() else []
    )
    return done.returncode, report, entries


def _exchanges(entries: list[dict[str, Any]]) -> Counter[tuple[str, str, int, str]]:
    """(method, path, status, media type) of each exchange, counted."""
    return Counter(
        (
            entry["request"]["method"],
            urlsplit(entry["request"]["url"]).path,
            entry["response"]["status"],
            entry["response"]["content"]["mimeType"].split(";")[0],
        )
        for entry in entries
    )


def _error_codes(entries: list[dict[str, Any]]) -> Counter[int]:
    """The error codes of the error envelopes among the replies, counted."""
    codes = (
        error_code_of(entry["response"]["content"].get("text", "").encode())[0] for entry in entries
    )
    return Counter(code for code in codes if code is not None)


def test_schemathesis_finds_no_failure_on_the_open_device(
    reference_device_url: str, tmp_path: Path
) -> None:
    status, report, entries = _schemathesis(
        reference_device_url, tmp_path, "--phases", "examples,coverage,fuzzing",
        "--max-examples", "5",
    )  # fmt: skip
    assert status == 0, report
    seen = _exchanges(entries)
    kinds = {(method, path, code, media) for method, path, code, media in seen}
    # What the run exercised: JPEGs (from the description's examples), error envelopes for
    # invalid parameters and undeclared methods, caps and system info; never a stream.
    for method in ("GET", "POST"):
        assert (method, "/api/camera/snapshot", 200, "image/jpeg") in kinds
        assert (method, "/api/camera/caps", 200, "application/json") in kinds
        assert (method, "/api/system/info", 200, "application/json") in kinds
    assert not [kind for kind in kinds if kind[3].startswith("multipart/")]
    assert {code for _, _, code, _ in kinds} == {200}
    codes = _error_codes(entries)
    assert codes[3] > 0 and codes[11] > 0 and codes[12] > 0, codes


def test_schemathesis_without_credentials_meets_only_the_documented_401(
    digest_only_url: str, tmp_path: Path
) -> None:
    status, report, entries = _schemathesis(
        digest_only_url, tmp_path, "--phases", "fuzzing", "--max-examples", "3"
    )
    assert status == 0, report
    kinds = set(_exchanges(entries))
    camera = {kind for kind in kinds if kind[1].startswith("/api/camera/")}
    assert camera == {
        (method, path, 401, "application/json")
        for method in ("GET", "POST")
        for path in ("/api/camera/caps", "/api/camera/snapshot")
    }
    assert ("GET", "/api/system/info", 200, "application/json") in kinds
    assert set(_error_codes(entries)) == {9}
