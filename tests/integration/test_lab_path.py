"""The lab-IP path: the suite run with --device against a device that is another process.

This is how a lab points the suite at an intercom: the reference device is started as
its own process (``python -m reference_device --port 0 --preroll``), its address read
from its first stdout line, and the real suite (suites/) is run against that address
with ``--device`` — directly, and through a plain pass-through HTTP proxy that
re-segments every reply. Nothing the suite checks may depend on the bundled device's
in-process start or on how TCP cuts the bytes: both runs must pass. The quick selection
covers every module; the stream-heavy module (fps) runs in full, where the wire matters
most.
The device is local, so runs are not paced (``--rate-limit 0``; the gentle default for
a real device is the pacing module's business and only makes these runs longer).
Long-running by design (tens of seconds per run); CI runs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from passthrough_proxy import running_passthrough_proxy
from suite_runs import SUITES, SuiteRun, run_suite

from benchmarks.device_process import DeviceProcess
from snapcheck.exchange import Request
from snapcheck.transport import Transport

# The module whose tests read streams at every rate: run in full (its quick tests already
# ran in the quick selection), where the wire matters most.
STREAM_HEAVY = ("test_fps.py",)


@pytest.fixture(scope="module")
def device_url() -> Iterator[str]:
    """The reference device as its own process, started once for the module."""
    # Pre-roll fills 30 s of history before the device listens; that takes a few seconds.
    with DeviceProcess("--preroll", start_timeout_s=60.0) as device:
        yield device.url


@dataclass(frozen=True, slots=True)
class Selection:
    """Which tests of the suite one run takes."""

    paths: tuple[Path, ...]
    flags: tuple[str, ...] = ()


def selections() -> list[Selection]:
    """The quick selection over every module, then the rest of the stream-heavy modules."""
    heavy = tuple(SUITES / name for name in STREAM_HEAVY if (SUITES / name).exists())
    rest = [Selection(heavy, ("-m", "not quick"))] if heavy else []
    return [Selection((SUITES,), ("-m", "quick")), *rest]


def assert_passes(run: SuiteRun, device: str) -> None:
    """The run passed as a user reads it: exit 0, no FAIL, the device named, its profile."""
    assert run.returncode == 0, run.tail
    assert run.outcomes.get("passed", 0) > 0, run.tail
    assert "failed" not in run.outcomes and "error" not in run.outcomes, run.tail
    verdicts = run.verdicts
    assert (verdicts["FAIL"], verdicts["DEVICE-UNREACHABLE"]) == (0, 0), run.tail
    assert f"snapcheck: device={device}," in run.stdout
    assert "snapcheck: hypothesis profile device" in run.stdout
    report = run.report
    assert report["identity"]["base_url"] == device
    assert report["identity"]["system_info"]["variant"] == "snapcheck reference device"


def test_the_device_process_answers_through_the_proxy_byte_for_byte(device_url: str) -> None:
    with running_passthrough_proxy(device_url, slice_bytes=7) as proxy:
        direct = Transport(device_url).exchange(Request("GET", device_url, "/api/camera/caps"))
        relayed = Transport(proxy.url).exchange(Request("GET", proxy.url, "/api/camera/caps"))
    assert (relayed.status, relayed.content_type) == (direct.status, direct.content_type)
    assert relayed.body == direct.body
    assert relayed.transport_error is None
    assert proxy.connections == 1
    assert proxy.bytes_to_client > len(relayed.body)


def test_the_suite_passes_against_the_device_as_a_process(device_url: str, tmp_path: Path) -> None:
    for selection in selections():
        run = run_suite(
            "--device",
            device_url,
            "--rate-limit",
            "0",
            *selection.flags,
            report_dir=tmp_path,
            paths=selection.paths,
        )
        assert_passes(run, device_url)


def test_the_suite_passes_through_a_pass_through_proxy(device_url: str, tmp_path: Path) -> None:
    with running_passthrough_proxy(device_url) as proxy:
        for selection in selections():
            run = run_suite(
                "--device",
                proxy.url,
                "--rate-limit",
                "0",
                *selection.flags,
                report_dir=tmp_path,
                paths=selection.paths,
            )
            assert_passes(run, proxy.url)
    # Every exchange of those runs went through the proxy.
    assert proxy.connections > len(selections()) * 2
