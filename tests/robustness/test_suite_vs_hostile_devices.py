"""The real suite against devices that lie: a clear finding, bounded memory and time, and the
run goes on.

Each case runs ``pytest suites/test_content_types.py suites/test_fps.py -m quick`` (the
quick tests of single JPEGs, errors, system info and streams: sixteen today) as its own
process against a lying device (lying_device.py) with ``--request-timeout 1
--stream-seconds 2``, the way a user points the suite at an intercom. The same slice
against the same device telling no lie passes (exit 0): every finding below is the lie's.

Judged for each lie:

- a clear finding: exit status 1 with the clauses the lie breaks FAIL in report.json,
  and the words that say what happened in the output; a device that cannot be reached
  (HTTPS spoken to a plain HTTP port) is DEVICE-UNREACHABLE with exit status 2;
- the run goes on: every test the honest run ran ends with a verdict in report.json;
- bounded memory: the run's peak resident memory (its own, from ``os.wait4``) is within
  ``MEMORY_MARGIN`` (40 MB) of the run against the device telling no lie. Endless
  replies come at 32 MB/s for the two-second window: a client that kept them would
  grow by far more, and one that decoded a 65535x65535 JPEG by gigabytes;
- bounded time: each run is killed, and the test fails, after ``RUN_TIMEOUT_S``;
- a redirect is never followed: the other host it names gets no connection.

And a device that is honest about a limit: the bundled device serving one stream at a
time (``--max-streams 1``) refuses the second of the two streams the stateful suite
reads at once with error 18; the suite records that as the device's limit
(STREAM-LIMIT-1 INFORMATIONAL) and passes it.

The runs are independent, so they run three at a time, once per module.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from hostile_server import Connection, Server, running_server, self_signed_tls
from lying_device import LIES, TRUTH, running_lying_device
from measured_run import MeasuredRun, run_suite_measured
from suite_runs import ROOT

SLICE = (ROOT / "suites" / "test_content_types.py", ROOT / "suites" / "test_fps.py")
SETTINGS = ("-m", "quick", "--request-timeout", "1", "--stream-seconds", "2", "--rate-limit", "0")
RUN_TIMEOUT_S = 240.0
MEMORY_MARGIN = 40_000_000
PARALLEL_RUNS = 3
NO_LIE = "none"
HTTPS_TO_PLAIN = "https-to-plain-http"


@dataclass(frozen=True, slots=True)
class Case:
    """A lie, the clauses its run must FAIL, words of the finding, and the exit status."""

    fails: tuple[str, ...]
    says: str
    status: int = 1


CASES: Mapping[str, Case] = {
    "content-length-long": Case(
        ("TRANSPORT-1", "JPEG-CL-1"), "bytes its Content-Length declared"
    ),
    "content-length-short": Case(
        ("TRANSPORT-1", "JPEG-EOI-1"), "bytes followed the"
    ),
    "endless-headers": Case(("TRANSPORT-1",), "got more than 100 headers"),
    "endless-header-line": Case(("TRANSPORT-1",), "a status or header line is too long"),
    "part-never-ends": Case(
        ("STREAM-BOUNDARY-1", "STREAM-LIVE-1"), "a part never ends"
    ),
    "gigapixel-jpeg": Case(
        ("JPEG-SIZE-1", "JPEG-DECODE-1", "STREAM-PART-JPEG-1"),
        "more than the 50 Mpx this validator decodes; not decoded",
    ),
    "reset-mid-stream": Case(
        ("TRANSPORT-1",), "connection reset by the device while reading the stream"
    ),
    "tls-garbage": Case(("TRANSPORT-1",), "TLS error while waiting for the reply"),
    "redirect-elsewhere": Case(("TRANSPORT-1",), "redirect (302) to http://127.0.0.1:"),
    HTTPS_TO_PLAIN: Case((), "did not answer at the start (TLS error while connecting", status=2),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Runs:
    """Every measured run by case, and the other host a redirect names."""

    measured: dict[str, MeasuredRun]
    elsewhere: Server


def _run(name: str, tmp: Path, elsewhere: str) -> MeasuredRun:
    """The slice against the device telling lie ``name`` (or none), measured."""
    lie = LIES.get(name, TRUTH)
    tls = self_signed_tls(tmp)[0] if lie.tls else None
    with running_lying_device(lie, tls=tls, elsewhere=elsewhere) as device:
        url = device.url.replace("http://", "https://") if name == HTTPS_TO_PLAIN else device.url
        return run_suite_measured(
            "--device", url, *SETTINGS, "--report-dir", str(tmp / "reports"),
            paths=SLICE, timeout_s=RUN_TIMEOUT_S,
        )  # fmt: skip


def _count_connection(conn: Connection) -> None:
    """The other host a redirect names: it only counts who comes (running_server keeps them)."""


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    """Every case's run (and the run without a lie), three at a time."""
    names = [NO_LIE, *CASES]
    with running_server(_count_connection) as elsewhere, ThreadPoolExecutor(PARALLEL_RUNS) as pool:
        futures = {
            name: pool.submit(_run, name, tmp_path_factory.mktemp(name), elsewhere.url)
            for name in names
        }
        yield Runs({name: future.result() for name, future in futures.items()}, elsewhere)


def test_the_device_passes_the_slice_when_it_tells_no_lie(runs: Runs) -> None:
    measured = runs.measured[NO_LIE]
    assert not measured.timed_out
    assert measured.run.returncode == 0, measured.run.tail
    assert set(measured.run.outcomes) == {"passed", "deselected"}
    assert [test["verdict"] for test in measured.run.report["tests"]] != []


@pytest.mark.parametrize("name", list(CASES))
def test_a_lie_is_a_clear_finding_in_bounded_memory_and_the_run_goes_on(
    runs: Runs, name: str
) -> None:
    case, measured = CASES[name], runs.measured[name]
    run = measured.run
    assert not measured.timed_out, f"killed after {RUN_TIMEOUT_S} s:\n{run.tail}"
    assert run.returncode == case.status, run.tail
    assert case.says in run.stdout
    report = run.report
    assert [report["clauses"].get(clause) for clause in case.fails] == ["FAIL"] * len(case.fails)
    honest = runs.measured[NO_LIE].run
    assert [test["nodeid"] for test in report["tests"]] == [
        test["nodeid"] for test in honest.report["tests"]
    ]
    assert all(test["verdict"] for test in report["tests"])
    ran = sum(run.outcomes.get(kind, 0) for kind in ("passed", "failed", "skipped"))
    assert ran == honest.outcomes["passed"]
    baseline = runs.measured[NO_LIE].peak_rss_bytes
    assert measured.peak_rss_bytes <= baseline + MEMORY_MARGIN, (baseline, measured.peak_rss_bytes)


def test_a_redirect_is_never_followed_to_the_host_it_names(runs: Runs) -> None:
    assert "not followed" in runs.measured["redirect-elsewhere"].run.stdout
    assert runs.elsewhere.connections == []


def test_a_device_refusing_a_stream_beyond_its_limit_is_not_failed_for_it(
    tmp_path: Path,
) -> None:
    measured = run_suite_measured(
        "--reference-args", "--max-streams 1", "--hypothesis-profile", "ci",
        "--report-dir", str(tmp_path), paths=(ROOT / "suites" / "test_stateful.py",),
        timeout_s=RUN_TIMEOUT_S,
    )  # fmt: skip
    assert not measured.timed_out
    assert measured.run.returncode == 0, measured.run.tail
    assert measured.run.report["clauses"]["STREAM-LIMIT-1"] == "INFORMATIONAL"
