"""A bounded soak of the reference device: mixed clients for minutes, and nothing grows.

The load (soak_load.py): live snapshots, time-shifted snapshots and fifty stream slots
opening and closing streams at random (fifty at once at most). How long:
``SNAPCHECK_SOAK_SECONDS`` (default 300, the issue's five minutes; at least 45).

``test_the_device_process_soaks_without_growing`` runs ``python -m reference_device
--preroll`` as its own process and reads it from ``/proc/<pid>``. Judged:

- every reply HTTP 200 of the right kind (no 5xx, no error), every JPEG well formed;
- no lost frames for clients that keep up (they read all the time): over all streams,
  the parts that arrived are at least ``1 - RATE_TOLERANCE`` (90 %) of ``fps * T`` summed
  over each stream read for ``T`` seconds at ``fps``, and no single stream got less than
  half its own (a stall), one part of slack each for where the window cuts a period.
  Single streams vary: the device skips a slot when it runs late by a whole period
  rather than burst (streaming.py), and two shared cores make it late now and then;
- flat memory: after ``WARM_UP_S`` (the 30 s history turned over once: pre-rolled frames
  are replaced by live ones, which holds memory of its own), the median resident memory
  of the last quarter of the samples is within ``MEMORY_GROWTH`` (10 %) of the median of
  the first quarter;
- no growth in threads (``/proc/<pid>/task``): the last quarter never has more than the
  first; and every connection is released once the clients leave (``/proc/<pid>/fd``).

``test_the_device_in_process_leaves_no_task_behind`` runs the same load against the
device in this process (``DeviceThread``) for a fifth of that time (at least 15 s: a task
leaks per request or per stream, so a shorter run shows it as well) and counts the
tasks on its event loop: once the clients left, as many as before they came, and no
stream still registered. No signal and no debug endpoint: the count is read through
``DeviceThread.call``.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from soak_load import LoadReport, StreamRead, run_load

from benchmarks.device_process import DeviceProcess
from benchmarks.procstat import ProcessProbe
from reference_device import DeviceOptions, DeviceThread

SOAK_ENV = "SNAPCHECK_SOAK_SECONDS"
DEFAULT_SOAK_S = 300.0
WARM_UP_S = 35.0
MIN_SOAK_S = WARM_UP_S + 10.0
IN_PROCESS_SHARE = 0.2
MIN_IN_PROCESS_S = 15.0
RATE_TOLERANCE = 0.10
STALL_SHARE = 0.5
MEMORY_GROWTH = 0.10
SETTLE_S = 15.0


def soak_seconds() -> float:
    """The soak's duration from SNAPCHECK_SOAK_SECONDS (ValueError when unusable)."""
    text = os.environ.get(SOAK_ENV, "")
    seconds = float(text) if text else DEFAULT_SOAK_S
    if not MIN_SOAK_S <= seconds < float("inf"):
        raise ValueError(f"{SOAK_ENV} must be at least {MIN_SOAK_S:g} seconds, got {text!r}")
    return seconds


@dataclass(frozen=True, slots=True)
class ProcessSample:
    """The device process at a moment: resident bytes, threads, open files."""

    at_s: float
    rss_bytes: int
    threads: int
    files: int


def process_sample(probe: ProcessProbe, at_s: float) -> ProcessSample:
    """Read one sample of the probed process from /proc."""
    return ProcessSample(at_s, probe.rss_bytes(), probe.threads(), probe.open_files())


def settle(measure: Callable[[], int], target: int) -> int:
    """Wait (at most SETTLE_S) until ``measure()`` is down to ``target``; its last value."""
    deadline = time.monotonic() + SETTLE_S
    while (value := measure()) > target and time.monotonic() < deadline:
        time.sleep(0.1)
    return value


def assert_clean_replies(report: LoadReport) -> None:
    """Every reply was HTTP 200 of the right kind, and streams and snapshots were served."""
    assert report.problems == []
    assert set(report.statuses) == {200}, report.statuses
    assert report.snapshots > 0 and report.streams


def stalled_streams(streams: Sequence[StreamRead]) -> list[StreamRead]:
    """The streams that got less than half the parts their rate and time call for."""
    return [s for s in streams if s.parts < s.expected * STALL_SHARE - 1]


def delivered_share(streams: Sequence[StreamRead]) -> float:
    """The parts that arrived over the parts the rates called for, all streams together."""
    return sum(s.parts for s in streams) / sum(s.expected for s in streams)


def quarters(samples: Sequence[ProcessSample]) -> tuple[list[ProcessSample], list[ProcessSample]]:
    """The first and the last quarter of the samples taken after the warm-up."""
    judged = [s for s in samples if s.at_s >= WARM_UP_S]
    quarter = max(1, len(judged) // 4)
    return judged[:quarter], judged[-quarter:]


def test_the_device_process_soaks_without_growing() -> None:
    duration = soak_seconds()
    samples: list[ProcessSample] = []
    with DeviceProcess("--preroll") as device:
        probe = device.probe
        idle_files = probe.open_files()

        def sample(at_s: float) -> None:
            samples.append(process_sample(probe, at_s))

        report = asyncio.run(run_load(device.url, duration, sample))
        files_after = settle(probe.open_files, idle_files)
    assert_clean_replies(report)
    assert stalled_streams(report.streams) == []
    assert delivered_share(report.streams) >= 1 - RATE_TOLERANCE
    first, last = quarters(samples)
    baseline = statistics.median(s.rss_bytes for s in first)
    final = statistics.median(s.rss_bytes for s in last)
    assert final <= baseline * (1 + MEMORY_GROWTH), (baseline, final)
    assert max(s.threads for s in last) <= max(s.threads for s in first)
    assert files_after <= idle_files


def test_the_device_in_process_leaves_no_task_behind() -> None:
    duration = max(MIN_IN_PROCESS_S, soak_seconds() * IN_PROCESS_SHARE)
    with DeviceThread(DeviceOptions(preroll=True)) as running:

        def tasks() -> int:
            return running.call(lambda: len(asyncio.all_tasks()))

        idle = tasks()
        busiest: list[int] = []
        report = asyncio.run(run_load(running.url, duration, lambda _: busiest.append(tasks())))
        after = settle(tasks, idle)
        streams = running.call(
            lambda: (len(running.device.streams), running.device.stream_limit.open)
        )
    assert_clean_replies(report)
    assert max(busiest) > idle  # the load was there
    assert after <= idle
    assert streams == (0, 0)
