"""Target 2: fifty MJPEG clients get their frames, and cost the device far less per frame.

Strategy and decisions: the device runs as its own process (no pre-roll), so its CPU time
is its own, read from ``/proc/<pid>/stat`` (all its threads: the capture of both sources
included, as a user's device would spend it). The clients are asyncio connections in this
process that GET ``/api/camera/snapshot?width=640&height=480&fps=15`` and count parts by
the boundary's delimiter, without parsing them (``wire.PartCounter``).

A window: every client connects and has its reply head; then the window opens (time and
the device's CPU are read, each client's count is noted), stays open for ``window_s``,
and closes the same way; then the clients leave. Requested frames per client are
``fps * window``; delivered ones are the parts completed inside the window.

Judged, each as the median over the repeats: the worst client's delivered/requested with
50 clients (>= 0.95: "each" client), and the device's CPU seconds per delivered frame
with 50 clients over that with one client (<= 0.2). Windows of 1 and of 50 clients
alternate, so both see the same machine.

What never belongs here: the HTTP client (wire.py), the process (device_process.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from benchmarks.device_process import DeviceProcess
from benchmarks.procstat import ProcessProbe, own_cpu_s
from benchmarks.results import Bound, Figure, Judgement, Section, median, ratio
from benchmarks.wire import Connection, PartCounter, boundary_of

logger = logging.getLogger(__name__)

DELIVERY_LIMIT = 0.95
CPU_RATIO_LIMIT = 0.2
CONNECT_TIMEOUT_S = 30.0
# A stream that sends nothing for this long has stalled; its client stops reading.
READ_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class FanoutPlan:
    """How many clients, at which rate and size, for how long, how many times."""

    clients: int
    fps: int
    width: int
    height: int
    window_s: float
    repeats: int


FULL = FanoutPlan(clients=50, fps=15, width=640, height=480, window_s=20.0, repeats=2)
QUICK = FanoutPlan(clients=10, fps=15, width=640, height=480, window_s=3.0, repeats=1)


@dataclass(frozen=True, slots=True)
class Window:
    """What one window of ``clients`` streams measured."""

    clients: int
    seconds: float
    parts: tuple[int, ...]
    device_cpu_s: float
    client_cpu_s: float
    fps: int

    @property
    def worst_delivery(self) -> float:
        """The fewest parts any client got, over the frames it asked for."""
        return min(self.parts) / (self.fps * self.seconds)

    @property
    def cpu_per_frame_s(self) -> float:
        """The device's CPU seconds per part delivered to any client."""
        return ratio(self.device_cpu_s, sum(self.parts), "device CPU per delivered frame")


def run(quick: bool) -> Section:
    """Measure target 2 with the full or the quick plan."""
    return measure(QUICK if quick else FULL)


def measure(plan: FanoutPlan) -> Section:
    """Alternate windows of one client and of ``plan.clients`` against one device process."""
    with DeviceProcess() as device:
        windows = asyncio.run(_windows(device.url, device.probe, plan))
    return _section(windows, plan)


async def _windows(url: str, probe: ProcessProbe, plan: FanoutPlan) -> list[Window]:
    windows = []
    for _ in range(plan.repeats):
        for clients in (1, plan.clients):
            windows.append(await stream_window(url, probe, clients, plan))
    return windows


async def stream_window(url: str, probe: ProcessProbe, clients: int, plan: FanoutPlan) -> Window:
    """Open ``clients`` streams, measure one window of ``plan.window_s``, close them."""
    target = f"/api/camera/snapshot?width={plan.width}&height={plan.height}&fps={plan.fps}"
    opened = await asyncio.gather(*(_open_stream(url, target) for _ in range(clients)))
    counters = [counter for _, counter in opened]
    stop = time.monotonic() + plan.window_s + CONNECT_TIMEOUT_S
    readers = [asyncio.create_task(_read(conn, counter, stop)) for conn, counter in opened]
    try:
        start, cpu_start, own_start = time.monotonic(), probe.cpu_s(), own_cpu_s()
        before = [counter.parts for counter in counters]
        await asyncio.sleep(plan.window_s)
        end, cpu_end, own_end = time.monotonic(), probe.cpu_s(), own_cpu_s()
        after = [counter.parts for counter in counters]
    finally:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        await asyncio.gather(*(conn.close() for conn, _ in opened))
    return Window(
        clients=clients,
        seconds=end - start,
        parts=tuple(b - a for a, b in zip(before, after, strict=True)),
        device_cpu_s=cpu_end - cpu_start,
        client_cpu_s=own_end - own_start,
        fps=plan.fps,
    )


async def _open_stream(url: str, target: str) -> tuple[Connection, PartCounter]:
    connection = await Connection.open(url, CONNECT_TIMEOUT_S)
    async with asyncio.timeout(CONNECT_TIMEOUT_S):
        head = await connection.request_head(target)
    if head.status != 200 or not head.content_type.startswith("multipart/"):
        await connection.close()
        raise RuntimeError(
            f"GET {target} did not start a stream: {head.status} {head.content_type}"
        )
    return connection, PartCounter(boundary_of(head.content_type))


async def _read(connection: Connection, counter: PartCounter, stop: float) -> None:
    """Count parts until cancelled, the stream ends or stalls, or ``stop`` (monotonic)."""
    try:
        while time.monotonic() < stop:
            chunk = await connection.read_chunk(READ_TIMEOUT_S)
            if not chunk:
                logger.warning("a stream ended after %d parts", counter.parts)
                return
            counter.feed(chunk)
    except TimeoutError:
        # The stream stalled: this client keeps the parts it got, which the window judges.
        logger.warning("a stream stalled after %d parts", counter.parts)


def _section(windows: list[Window], plan: FanoutPlan) -> Section:
    single = [w for w in windows if w.clients == 1]
    many = [w for w in windows if w.clients == plan.clients]
    n = plan.clients
    per_frame_one = median((w.cpu_per_frame_s for w in single), "1-client windows")
    per_frame_many = median((w.cpu_per_frame_s for w in many), f"{n}-client windows")
    figures = (
        Figure("requested frames per client", plan.fps * plan.window_s, "frames"),
        Figure(
            f"{n} clients: median client delivered",
            100 * median((median(w.parts, "parts") / (w.fps * w.seconds) for w in many), "d"),
            "%",
        ),
        Figure("1 client: delivered", 100 * median((w.worst_delivery for w in single), "d"), "%"),
        Figure("device CPU per frame, 1 client", 1000 * per_frame_one, "ms"),
        Figure(f"device CPU per frame, {n} clients", 1000 * per_frame_many, "ms"),
        Figure(
            f"device CPU, {n} clients",
            100 * median((w.device_cpu_s / w.seconds for w in many), "cpu"),
            "%",
            "of one core",
        ),
        Figure(
            f"load generator CPU, {n} clients",
            100 * median((w.client_cpu_s / w.seconds for w in many), "cpu"),
            "%",
            "of one core, this process",
        ),
    )
    judgements = (
        Judgement(
            f"{n} clients: worst client delivered/requested",
            median((w.worst_delivery for w in many), f"{n}-client windows"),
            Bound.AT_LEAST,
            DELIVERY_LIMIT,
        ),
        Judgement(
            f"CPU per frame, {n} clients / 1 client",
            ratio(per_frame_many, per_frame_one, "CPU per frame"),
            Bound.AT_MOST,
            CPU_RATIO_LIMIT,
        ),
    )
    notes = (
        f"{plan.repeats} x (1 client, {n} clients) windows of {plan.window_s:g} s, "
        f"{plan.width}x{plan.height} at {plan.fps} fps",
    )
    return Section(
        f"fanout: {n} MJPEG clients vs 1 (device CPU from /proc)", figures, judgements, notes
    )
