"""Target 4: the cost of a ``time=-k`` lookup does not grow with the history held.

Strategy and decisions: in process, two cameras of the default profile on frozen clocks, one
holding 1 s of history (started without pre-roll, stepped 1 s: 16 frames of ``internal``)
and one holding 30 s (started with pre-roll: 452 frames). Pre-roll defers rendering each
master to its first use, but a lookup never touches a master, so its buffer is the one 30 s
of real capture leaves; that is why the 30 s camera may use it.

- In process: ``Camera.at(source, -k)`` timed in batches, alternating the two cameras, at
  the offsets both can answer (0, -0.5, -1 s) and, on the 30 s camera, deep ones (-15,
  -29, -30 s). The ring buffer bisects (``O(log n)``), so 30x the frames adds a few
  comparisons (measured: up to ~1.4x); a lookup that scanned the history would cost about
  30x. Judged: the deep median on 30 s over the median on 1 s must be <= 2.0 (room for
  the logarithm, none for a scan).
- Over HTTP: an in-process device (``DeviceThread``) on a frozen ManualClock, asked
  ``GET /api/camera/snapshot?width=640&height=480&time=-k`` on a keep-alive connection.
  Its clock is stepped 1 s, it captures, ``time=-1`` is timed; then it is stepped to 30 s,
  it captures (a few seconds of rendering, untimed), and ``time=-1`` and ``time=-29`` are
  timed. The two phases cannot be interleaved, and the machine drifts between them by up
  to 15 %; so a second device, pre-rolled and never stepped, is timed in the same rounds as
  a reference, and each batch counts relative to the reference's batch of its round. The
  clocks do not move while timing, so after a warm-up request each reply is the same frame
  from the encoder cache: what is timed is the request, the lookup and the reply, not an
  encode. Judged: ``time=-29`` at 30 s over ``time=-1`` at 1 s, both relative to the
  reference, <= 1.25.

What never belongs here: the HTTP client (wire.py).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass

from benchmarks.results import Bound, Figure, Judgement, Section, median, ratio
from benchmarks.wire import Connection
from reference_device.camera import Camera
from reference_device.clock import ManualClock
from reference_device.profile import load_profile
from reference_device.runner import DeviceThread
from reference_device.server import DeviceOptions

SOURCE = "internal"
SHORT_HISTORY_S = 1.0
LONG_HISTORY_S = 30.0
SHORT_CASE = "1 s history, time=-1"
NEAR_CASE = "30 s history, time=-1"
DEEP_CASE = "30 s history, time=-29"
REFERENCE = "reference device"
NEAR_OFFSETS = (0.0, -0.5, -1.0)
DEEP_OFFSETS = (-15.0, -29.0, -30.0)
# The buffer bisects: 16 -> 452 frames adds ~10 comparisons (a few us, up to ~1.4x);
# a scan of the history would cost ~30x. 2.0 allows the logarithm, never a scan.
IN_PROCESS_LIMIT = 2.0
HTTP_LIMIT = 1.25
REQUEST_TIMEOUT_S = 10.0
CAPTURE_TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True)
class TimeshiftPlan:
    """How many alternating rounds, of how many lookups (or GETs) per timed batch."""

    rounds: int
    lookups_per_batch: int
    requests_per_batch: int


FULL = TimeshiftPlan(rounds=15, lookups_per_batch=2000, requests_per_batch=40)
QUICK = TimeshiftPlan(rounds=3, lookups_per_batch=300, requests_per_batch=8)


def run(quick: bool) -> Section:
    """Measure target 4 with the full or the quick plan."""
    return measure(QUICK if quick else FULL)


def measure(plan: TimeshiftPlan) -> Section:
    """Time lookups at 1 s and 30 s of history, in process and over HTTP."""
    cameras = _camera(preroll=False), _camera(preroll=True)
    try:
        lookups = _lookup_batches(*cameras, plan)
    finally:
        for camera in cameras:
            camera.stop()
    clock = ManualClock()
    with ExitStack() as stack:
        stepped = stack.enter_context(DeviceThread(DeviceOptions(clock=clock)))
        options = DeviceOptions(clock=ManualClock(), preroll=True)
        reference = stack.enter_context(DeviceThread(options))
        phases = asyncio.run(_request_phases(stepped, clock, reference.url, plan))
    return _section(lookups, *phases, plan)


def _camera(*, preroll: bool) -> Camera:
    clock = ManualClock()
    camera = Camera(load_profile("default"), clock, preroll=preroll)
    camera.start(threads=False)
    if not preroll:
        clock.advance(SHORT_HISTORY_S)
        camera.tick()
    return camera


def per_call_s(action: Callable[[], object], calls: int) -> float:
    """The mean wall seconds of one ``action()`` over a batch of ``calls``."""
    if calls < 1:
        raise ValueError(f"calls must be positive, got {calls}")
    start = time.perf_counter()
    for _ in range(calls):
        action()
    return (time.perf_counter() - start) / calls


def _lookup_batches(short: Camera, long: Camera, plan: TimeshiftPlan) -> dict[str, list[float]]:
    cases: dict[str, tuple[Camera, Sequence[float]]] = {
        "1 s history, k <= 1": (short, NEAR_OFFSETS),
        "30 s history, k <= 1": (long, NEAR_OFFSETS),
        "30 s history, k >= 15": (long, DEEP_OFFSETS),
    }
    batches: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(plan.rounds):
        for name, (camera, offsets) in cases.items():
            for offset in offsets:
                lookup = functools.partial(camera.at, SOURCE, offset)
                batches[name].append(per_call_s(lookup, plan.lookups_per_batch))
    return batches


def _step(running: DeviceThread, clock: ManualClock, seconds: float) -> None:
    """Let ``seconds`` pass on the device's clock and wait until every source captured."""
    camera = running.device.camera
    wanted = {
        mode.name: camera.captured(mode.name) + round(seconds * mode.fps)
        for mode in camera.profile.sources
    }
    clock.advance(seconds)
    # Every capture thread (it re-reads the manual clock at least every 0.25 s) must be
    # done, or its rendering would compete with the timed requests.
    for source, count in wanted.items():
        if not camera.wait_captured(source, count, CAPTURE_TIMEOUT_S):
            raise RuntimeError(f"the device did not capture {count} {source} frames in time")


async def _request_phases(
    stepped: DeviceThread, clock: ManualClock, reference_url: str, plan: TimeshiftPlan
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Batches at 1 s of history, then at 30 s, each round also timing the reference."""
    device = await Connection.open(stepped.url, REQUEST_TIMEOUT_S)
    reference = await Connection.open(reference_url, REQUEST_TIMEOUT_S)
    try:
        await asyncio.to_thread(_step, stepped, clock, SHORT_HISTORY_S)
        short = {SHORT_CASE: (device, -1.0), REFERENCE: (reference, -1.0)}
        short_batches = await _batches(short, plan)
        await asyncio.to_thread(_step, stepped, clock, LONG_HISTORY_S - SHORT_HISTORY_S)
        long = {NEAR_CASE: (device, -1.0), DEEP_CASE: (device, -29.0), REFERENCE: (reference, -1.0)}
        return short_batches, await _batches(long, plan)
    finally:
        await device.close()
        await reference.close()


async def _batches(
    cases: Mapping[str, tuple[Connection, float]], plan: TimeshiftPlan
) -> dict[str, list[float]]:
    """Seconds per GET of each case, in batches, the cases alternating round by round."""
    for connection, offset in cases.values():
        # Warm-up: the first request for a frame encodes it (and renders a pre-rolled one).
        await _get(connection, offset)
    batches: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(plan.rounds):
        for name, (connection, offset) in cases.items():
            start = time.perf_counter()
            for _ in range(plan.requests_per_batch):
                await _get(connection, offset)
            batches[name].append((time.perf_counter() - start) / plan.requests_per_batch)
    return batches


def relative_to_reference(batches: Mapping[str, list[float]], name: str) -> float:
    """The median, over rounds, of a case's batch over the reference's batch of that round."""
    pairs = zip(batches[name], batches[REFERENCE], strict=True)
    return median((ratio(case, ref, f"{name} / reference") for case, ref in pairs), name)


async def _get(connection: Connection, offset: float) -> None:
    target = f"/api/camera/snapshot?width=640&height=480&time={offset:g}"
    reply = await connection.get(target, REQUEST_TIMEOUT_S)
    if reply.head.content_type != "image/jpeg":
        detail = reply.body[:200].decode("utf-8", "replace")
        raise RuntimeError(f"GET {target} did not give a JPEG: {detail}")


def _section(
    lookups: dict[str, list[float]],
    short: dict[str, list[float]],
    long: dict[str, list[float]],
    plan: TimeshiftPlan,
) -> Section:
    lookup_us = {name: 1e6 * median(values, name) for name, values in lookups.items()}
    figures = [
        Figure(f"Camera.at, {name}", value, "us", f"median of {len(lookups[name])} batches")
        for name, value in lookup_us.items()
    ]
    for phase, batches in (("1 s phase", short), ("30 s phase", long)):
        figures += [
            Figure(f"GET, {name}, {phase}", 1e3 * median(values, name), "ms")
            for name, values in batches.items()
        ]
    base_lookup = lookup_us["1 s history, k <= 1"]
    base_request = relative_to_reference(short, SHORT_CASE)
    judgements = (
        Judgement(
            "Camera.at 30 s (k >= 15) / 1 s",
            ratio(lookup_us["30 s history, k >= 15"], base_lookup, "lookup 30 s / 1 s"),
            Bound.AT_MOST,
            IN_PROCESS_LIMIT,
        ),
        Judgement(
            "GET time=-29 at 30 s / time=-1 at 1 s",
            ratio(relative_to_reference(long, DEEP_CASE), base_request, "GET 30 s / 1 s"),
            Bound.AT_MOST,
            HTTP_LIMIT,
        ),
    )
    near_lookup = ratio(lookup_us["30 s history, k <= 1"], base_lookup, "lookup")
    near_request = ratio(relative_to_reference(long, NEAR_CASE), base_request, "GET")
    notes = (
        f"30 s history, k <= 1 / 1 s: {near_lookup:.3f} in process, {near_request:.3f} over HTTP",
        "GET ratios count each batch relative to the reference device's batch of its round",
        f"{plan.rounds} alternating rounds; {plan.lookups_per_batch} lookups or "
        f"{plan.requests_per_batch} GETs per batch",
    )
    return Section(
        "timeshift: time=-k lookup cost at 1 s vs 30 s of history",
        tuple(figures),
        judgements,
        notes,
    )
