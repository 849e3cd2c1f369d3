"""The soak's clients: snapshots, time-shifted snapshots and up to fifty streams coming and going.

Strategy: one asyncio load generator in the test's process, cheap enough to leave the
device most of the two cores: replies are read with ``benchmarks.wire`` (raw asyncio
streams, every read with a deadline), JPEGs are checked by their markers and declared
size (``snapcheck.jpeg.walk_jpeg``), and stream parts are counted by the boundary's
delimiter (``PartCounter``), never decoded. Every client's choices come from its own
seeded ``random.Random``, so a run asks the same things each time.

- ``SNAPSHOT_CLIENTS`` take live snapshots at random advertised sizes, and
  ``SHIFTED_CLIENTS`` snapshots from anywhere in the last 30 s, each on a fresh
  connection, with a short pause between.
- ``STREAM_SLOTS`` (50) slots each open a stream at a random small size and rate, read
  it for a random while, close it, pause, and start over: at most fifty at once.

What comes back is a ``LoadReport``: the status of every reply, what was wrong with any
(a wrong type or size, a stream that would not start, a read that timed out) and, per
stream, its rate, how long it was read and how many parts arrived. ``sample`` is called
about once a second while the load runs (for the device's memory, threads, tasks).

What never belongs here: judging the figures (the tests), starting the device.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from benchmarks.wire import Connection, PartCounter, boundary_of
from snapcheck.jpeg import walk_jpeg

SNAPSHOT_SIZES = ((160, 120), (320, 240), (640, 480))
SHIFTED_SIZES = ((320, 240), (640, 480))
SOURCES = ("internal", "external")
STREAM_SIZES = ((160, 120), (320, 240))
STREAM_RATES = (1, 2, 5)
SNAPSHOT_CLIENTS = 2
SHIFTED_CLIENTS = 1
STREAM_SLOTS = 50
STREAM_READ_S = (1.0, 8.0)
PAUSE_S = (0.05, 1.0)
TIMEOUT_S = 10.0
SEED = 9


@dataclass(frozen=True, slots=True)
class StreamRead:
    """One stream as its client saw it: asked rate, seconds read, parts that arrived."""

    rate: float
    seconds: float
    parts: int

    @property
    def expected(self) -> float:
        """The parts a device keeping the rate sends in that time."""
        return self.rate * self.seconds


@dataclass(slots=True)
class LoadReport:
    """Everything the clients saw."""

    statuses: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    streams: list[StreamRead] = field(default_factory=list)
    snapshots: int = 0


def _jpeg_problem(body: bytes, size: tuple[int, int]) -> str | None:
    info = walk_jpeg(body)
    if info.errors or info.eoi_offset is None:
        return f"a broken JPEG: {'; '.join(info.errors) or 'no EOI'}"
    if (info.width, info.height) != size:
        return f"a {info.width}x{info.height} JPEG for {size[0]}x{size[1]}"
    return None


async def _snapshot(url: str, query: str, size: tuple[int, int], report: LoadReport) -> None:
    connection = await Connection.open(url, TIMEOUT_S)
    try:
        reply = await connection.get(f"/api/camera/snapshot?{query}", TIMEOUT_S)
    finally:
        await connection.close()
    report.statuses[reply.head.status] += 1
    report.snapshots += 1
    if (reply.head.status, reply.head.content_type) != (200, "image/jpeg"):
        report.problems.append(f"{query}: {reply.head.status} {reply.head.content_type}")
        return
    problem = _jpeg_problem(reply.body, size)
    if problem is not None:
        report.problems.append(f"{query}: {problem}")


async def _live_client(url: str, rng: random.Random, end: float, report: LoadReport) -> None:
    while time.monotonic() < end:
        width, height = rng.choice(SNAPSHOT_SIZES)
        await _snapshot(url, f"width={width}&height={height}", (width, height), report)
        await asyncio.sleep(rng.uniform(*PAUSE_S))


async def _shifted_client(url: str, rng: random.Random, end: float, report: LoadReport) -> None:
    while time.monotonic() < end:
        width, height = rng.choice(SHIFTED_SIZES)
        shift = rng.randint(1, 30)
        query = f"width={width}&height={height}&source={rng.choice(SOURCES)}&time=-{shift}"
        await _snapshot(url, query, (width, height), report)
        await asyncio.sleep(rng.uniform(*PAUSE_S))


async def _one_stream(url: str, rng: random.Random, report: LoadReport) -> None:
    width, height = rng.choice(STREAM_SIZES)
    rate = rng.choice(STREAM_RATES)
    target = f"/api/camera/snapshot?width={width}&height={height}&fps={rate}"
    connection = await Connection.open(url, TIMEOUT_S)
    try:
        async with asyncio.timeout(TIMEOUT_S):
            head = await connection.request_head(target)
        report.statuses[head.status] += 1
        if (head.status, head.content_type.split(";")[0]) != (200, "multipart/x-mixed-replace"):
            report.problems.append(f"{target}: {head.status} {head.content_type}")
            return
        counter = PartCounter(boundary_of(head.content_type))
        started = time.monotonic()
        leave = started + rng.uniform(*STREAM_READ_S)
        while (left := leave - time.monotonic()) > 0:
            try:
                chunk = await connection.read_chunk(left)
            except TimeoutError:
                break  # the reading time is over: the client leaves
            if not chunk:
                report.problems.append(f"{target}: the device ended the stream")
                break
            counter.feed(chunk)
        report.streams.append(StreamRead(rate, time.monotonic() - started, counter.parts))
    finally:
        await connection.close()


async def _stream_slot(url: str, rng: random.Random, end: float, report: LoadReport) -> None:
    await asyncio.sleep(rng.uniform(0, STREAM_READ_S[1]))  # the slots start spread out
    while time.monotonic() < end:
        await _one_stream(url, rng, report)
        await asyncio.sleep(rng.uniform(*PAUSE_S))


async def run_load(url: str, duration_s: float, sample: Callable[[float], None]) -> LoadReport:
    """Run every client for ``duration_s``; ``sample(seconds since start)`` about every second."""
    report = LoadReport()
    start = time.monotonic()
    end = start + duration_s
    clients = [
        *(_live_client for _ in range(SNAPSHOT_CLIENTS)),
        *(_shifted_client for _ in range(SHIFTED_CLIENTS)),
        *(_stream_slot for _ in range(STREAM_SLOTS)),
    ]
    tasks = [
        asyncio.create_task(client(url, random.Random(SEED + index), end, report))
        for index, client in enumerate(clients)
    ]
    try:
        tick = 0
        while time.monotonic() < end:
            tick += 1
            await asyncio.sleep(max(0.0, start + tick - time.monotonic()))
            sample(time.monotonic() - start)
            _raise_failure(tasks)
        async with asyncio.timeout(STREAM_READ_S[1] + 2 * TIMEOUT_S):
            await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
    return report


def _raise_failure(tasks: list[asyncio.Task[None]]) -> None:
    """A client that failed (a refused connection, a reply cut short) ends the run at once."""
    for task in tasks:
        if task.done() and not task.cancelled() and (error := task.exception()) is not None:
            raise error
