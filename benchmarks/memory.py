"""Target 3: the device's resident memory is bounded, and stays flat while clients come and go.

Strategy and decisions: the device runs as its own process on the default profile
*without* ``--preroll``, so that its first 30 s of real capture fill each source's history
with real encoded masters (pre-rolled masters are rendered only on first use, which would
make memory grow later as clients touch them). The clients' workload runs from the start,
because a device serving clients holds images being encoded that an idle one does not:
an idle baseline would judge that working memory, not a leak. After ``settle_s`` (60 s:
the history is full after 31 s) comes the baseline; for a further ``soak_s`` (5 min) the
same workload goes on. Resident memory (``VmRSS`` from ``/proc``) is sampled every
``sample_every_s``.

One sample catches whatever pictures are being encoded at that instant (a few MB each,
up to ~30 MB with several in flight), so memory is judged by medians: the baseline is
the median of the samples in the ``baseline_s`` before ``settle_s`` (after the history
filled), and the median of each following window of ``window_s`` must stay within 5 % of
it. A leak or a cache that keeps filling moves the medians; the encodes in flight do not.
The extremes of single samples are reported too.

The workload: ``workers`` clients in turn connect, do one action from ``ACTIONS`` (live
snapshots at advertised sizes, time-shifted snapshots anywhere in the 30 s, a short MJPEG
stream dropped mid-way, a request the device refuses), and leave; each action is drawn
from a seeded ``random.Random``, so every run asks the same things. Every loop is bounded
in count and in time.

Judged: the baseline <= 200 MB (10^6 bytes); the largest deviation of a window's median
from the baseline <= 5 %.

What never belongs here: the HTTP client (wire.py), the process (device_process.py).
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from benchmarks.device_process import DeviceProcess
from benchmarks.procstat import ProcessProbe
from benchmarks.results import Bound, Figure, Judgement, Section, median
from benchmarks.wire import Connection, PartCounter, boundary_of
from reference_device.params import HISTORY_MAX_SIZE
from reference_device.profile import load_profile
from reference_device.ring_buffer import HISTORY_S

RSS_LIMIT_MB = 200.0
FLAT_LIMIT = 0.05
TIMEOUT_S = 10.0
# A bound on one worker's actions, whatever the clock does.
MAX_ACTIONS_PER_WORKER = 100_000
# Between two actions of one worker: clients come and go, they do not hammer.
PAUSE_S = (0.05, 0.5)
_MB = 1e6


@dataclass(frozen=True, slots=True)
class MemoryPlan:
    """How long to settle and soak, how often to sample, the judging windows, how many clients."""

    settle_s: float
    soak_s: float
    sample_every_s: float
    baseline_s: float
    window_s: float
    workers: int
    seed: int = 8


# Each source's history is full about this long after a start without --preroll.
HISTORY_FILLED_S = HISTORY_S + 1.0
FULL = MemoryPlan(
    settle_s=60.0, soak_s=300.0, sample_every_s=1.0, baseline_s=25.0, window_s=60.0, workers=4
)
QUICK = MemoryPlan(
    settle_s=10.0, soak_s=20.0, sample_every_s=0.5, baseline_s=5.0, window_s=10.0, workers=2
)

_SIZES = load_profile("default").resolutions
_HISTORY_SIZES = tuple(
    (w, h) for w, h in _SIZES if w <= HISTORY_MAX_SIZE[0] and h <= HISTORY_MAX_SIZE[1]
)
_STREAM_SIZES = tuple((w, h) for w, h in _SIZES if w * h <= 640 * 480)


async def live_snapshots(url: str, rng: random.Random) -> None:
    """One to three live snapshots, each at a random advertised size, on one connection."""
    connection = await Connection.open(url, TIMEOUT_S)
    try:
        for _ in range(rng.randint(1, 3)):
            width, height = rng.choice(_SIZES)
            await connection.get(f"/api/camera/snapshot?width={width}&height={height}", TIMEOUT_S)
    finally:
        await connection.close()


async def history_snapshots(url: str, rng: random.Random) -> None:
    """One to three snapshots from anywhere in the last 30 s, of either source."""
    connection = await Connection.open(url, TIMEOUT_S)
    try:
        for _ in range(rng.randint(1, 3)):
            width, height = rng.choice(_HISTORY_SIZES)
            source = rng.choice(("internal", "external"))
            query = f"width={width}&height={height}&source={source}&time=-{rng.uniform(0, 29):.2f}"
            await connection.get(f"/api/camera/snapshot?{query}", TIMEOUT_S)
    finally:
        await connection.close()


async def short_stream(url: str, rng: random.Random) -> None:
    """An MJPEG stream read for up to 3 s, then dropped without a word."""
    width, height = rng.choice(_STREAM_SIZES)
    target = f"/api/camera/snapshot?width={width}&height={height}&fps={rng.randint(1, 15)}"
    connection = await Connection.open(url, TIMEOUT_S)
    try:
        async with asyncio.timeout(TIMEOUT_S):
            head = await connection.request_head(target)
        counter = PartCounter(boundary_of(head.content_type))
        leave = time.monotonic() + rng.uniform(0.5, 3.0)
        while time.monotonic() < leave and (chunk := await connection.read_chunk(TIMEOUT_S)):
            counter.feed(chunk)
    finally:
        await connection.close()


async def refused_request(url: str, rng: random.Random) -> None:
    """A request the device answers with a JSON error (a size it does not offer)."""
    connection = await Connection.open(url, TIMEOUT_S)
    try:
        await connection.get(f"/api/camera/snapshot?width={rng.randint(1, 99)}&height=7", TIMEOUT_S)
    finally:
        await connection.close()


Action = Callable[[str, random.Random], Awaitable[None]]
# What a client may do, and how often relative to the others.
ACTIONS: Mapping[Action, int] = {
    live_snapshots: 4,
    history_snapshots: 4,
    short_stream: 2,
    refused_request: 1,
}


@dataclass(frozen=True, slots=True)
class Sample:
    """Resident memory at a moment (seconds since the device listened)."""

    at_s: float
    rss_bytes: int


def run(quick: bool) -> Section:
    """Measure target 3 with the full or the quick plan."""
    return measure(QUICK if quick else FULL)


def measure(plan: MemoryPlan) -> Section:
    """Run the device under the workload for settle + soak, sampling its memory."""
    with DeviceProcess() as device:
        samples, actions = asyncio.run(_soak(device.url, device.probe, plan))
    return memory_section(samples, actions, plan)


async def _soak(url: str, probe: ProcessProbe, plan: MemoryPlan) -> tuple[list[Sample], int]:
    start = time.monotonic()
    end = start + plan.settle_s + plan.soak_s
    workers = [
        asyncio.create_task(_worker(url, random.Random(plan.seed + i), end))
        for i in range(plan.workers)
    ]
    samples = []
    try:
        # The last sample falls one period before the end, never a hair past it, where
        # it would open a window of its own.
        ticks = round((plan.settle_s + plan.soak_s) / plan.sample_every_s)
        for tick in range(ticks):
            await asyncio.sleep(max(0.0, start + tick * plan.sample_every_s - time.monotonic()))
            samples.append(Sample(time.monotonic() - start, probe.rss_bytes()))
            _raise_failure(workers)
        done = await asyncio.gather(*workers)
    finally:
        for worker in workers:
            worker.cancel()
    return samples, sum(done)


def _raise_failure(workers: list[asyncio.Task[int]]) -> None:
    """Re-raise the error of a client that failed, at once rather than at the end."""
    for worker in workers:
        if worker.done() and not worker.cancelled() and (error := worker.exception()):
            raise error


async def _worker(url: str, rng: random.Random, end: float) -> int:
    """Do random actions until ``end`` (monotonic); how many were done."""
    actions, weights = list(ACTIONS), list(ACTIONS.values())
    for count in range(MAX_ACTIONS_PER_WORKER):
        if time.monotonic() >= end:
            return count
        action = rng.choices(actions, weights)[0]
        await action(url, rng)
        await asyncio.sleep(rng.uniform(*PAUSE_S))
    return MAX_ACTIONS_PER_WORKER


def window_medians(samples: list[Sample], start_s: float, window_s: float) -> list[float]:
    """The median resident bytes of each window of ``window_s`` from ``start_s`` on."""
    if window_s <= 0:
        raise ValueError(f"window_s must be positive, got {window_s}")
    windows: dict[int, list[float]] = {}
    for sample in samples:
        if sample.at_s > start_s:
            # Windows are (start, start + w], (start + w, start + 2w], ...
            index = math.ceil((sample.at_s - start_s) / window_s) - 1
            windows.setdefault(index, []).append(sample.rss_bytes)
    return [median(values, "memory samples") for _, values in sorted(windows.items())]


def _baseline(samples: list[Sample], plan: MemoryPlan) -> tuple[float, int]:
    """The median resident bytes of the ``baseline_s`` before ``settle_s``, and how many."""
    before = [
        s.rss_bytes for s in samples if plan.settle_s - plan.baseline_s < s.at_s <= plan.settle_s
    ]
    if not before:
        raise ValueError(f"no memory sample in the window ending at {plan.settle_s:g} s")
    return median(before, "memory samples before the soak"), len(before)


def memory_section(samples: list[Sample], actions: int, plan: MemoryPlan) -> Section:
    """The baseline (the samples just before settle_s) and the later windows' deviation."""
    baseline, counted = _baseline(samples, plan)
    later = window_medians(samples, plan.settle_s, plan.window_s)
    soak = [s.rss_bytes for s in samples if s.at_s > plan.settle_s]
    if not later:
        raise ValueError("no memory sample after the baseline")
    deviation = max(abs(rss - baseline) for rss in later) / baseline
    figures = (
        Figure(
            f"RSS after {plan.settle_s:g} s (baseline)",
            baseline / _MB,
            "MB",
            f"median of {counted} samples",
        ),
        Figure(
            "lowest window median of the soak",
            min(later) / _MB,
            "MB",
            f"{len(later)} windows of {plan.window_s:g} s",
        ),
        Figure("highest window median of the soak", max(later) / _MB, "MB"),
        Figure("lowest single sample of the soak", min(soak) / _MB, "MB"),
        Figure("highest single sample of the soak", max(soak) / _MB, "MB"),
        Figure("client actions done", actions, "actions", f"{plan.workers} clients in turn"),
    )
    judgements = (
        Judgement("RSS after settling", baseline / _MB, Bound.AT_MOST, RSS_LIMIT_MB, "MB"),
        Judgement(
            "largest window deviation from the baseline",
            100 * deviation,
            Bound.AT_MOST,
            100 * FLAT_LIMIT,
            "%",
        ),
    )
    trace = ", ".join(f"{rss / _MB:.0f}" for rss in later)
    notes: tuple[str, ...] = (
        f"settle {plan.settle_s:g} s + soak {plan.soak_s:g} s, no --preroll, sampled every "
        f"{plan.sample_every_s:g} s",
        f"window medians of the soak (MB): {trace}",
    )
    if plan.settle_s < HISTORY_FILLED_S:
        notes += (
            f"the baseline is taken before the history is full (~{HISTORY_FILLED_S:g} s), so"
            " the soak's growth is the history filling, not a leak: judged on the full run",
        )
    return Section(
        "memory: device RSS with 30 s of history, clients coming and going",
        figures,
        judgements,
        notes,
    )
