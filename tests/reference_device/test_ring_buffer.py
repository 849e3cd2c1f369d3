"""Tests of reference_device.ring_buffer: bounds, nearest-frame semantics, thread safety."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_device.clock import ManualClock
from reference_device.ring_buffer import HISTORY_S, NoFrameError, RingBuffer

T0 = 1_764_000_000.0


@dataclass(frozen=True, slots=True)
class Item:
    name: int
    captured_at: float


def filled(times: list[float], capacity: int, clock: ManualClock) -> RingBuffer[Item]:
    buffer: RingBuffer[Item] = RingBuffer(capacity, clock)
    for index, captured_at in enumerate(times):
        buffer.append(Item(index, captured_at))
    return buffer


def test_holds_at_most_capacity_items_newest_last() -> None:
    buffer = filled([T0 + i for i in range(100)], 10, ManualClock(T0 + 99))
    assert len(buffer) == 10
    assert buffer.appended == 100
    assert [item.name for item in buffer.items()] == list(range(90, 100))
    assert buffer.oldest().name == 90
    assert buffer.latest().name == 99


@pytest.mark.parametrize("fps", [0.5, 1, 2, 8, 10, 15, 30])
def test_for_rate_holds_the_whole_history(fps: float) -> None:
    buffer: RingBuffer[Item] = RingBuffer.for_rate(fps, ManualClock())
    assert (buffer.capacity - 1) / fps >= HISTORY_S


# One item per second from T0-10 to T0, asked at T0.
@pytest.mark.parametrize(
    ("offset_s", "expected_age_s"),
    [
        (0.0, 0),
        (-0.4, 0),
        (-3.4, 3),
        (-3.6, 4),
        (-3.5, 4),  # a tie goes to the earlier frame
        (-10.0, 10),
        (-10.9, 10),  # before the oldest, but within the 1 s tolerance
    ],
)
def test_at_returns_the_frame_captured_nearest_to_the_time(
    offset_s: float, expected_age_s: int
) -> None:
    buffer = filled([T0 - 10 + i for i in range(11)], 20, ManualClock(T0))
    assert buffer.at(offset_s).captured_at == T0 - expected_age_s


def test_at_raises_when_history_is_shorter_than_asked() -> None:
    buffer = filled([T0 - 10 + i for i in range(11)], 20, ManualClock(T0))
    with pytest.raises(NoFrameError, match="history covers"):
        buffer.at(-11.5)


def test_at_raises_when_the_newest_frame_is_too_old() -> None:
    clock = ManualClock(T0)
    buffer = filled([T0], 20, clock)
    clock.advance(5.0)
    with pytest.raises(NoFrameError):
        buffer.at(0.0)
    assert buffer.latest().captured_at == T0


def test_an_empty_buffer_has_no_frame() -> None:
    buffer: RingBuffer[Item] = RingBuffer(5, ManualClock(T0))
    for ask in (buffer.latest, buffer.oldest, lambda: buffer.at(0.0)):
        with pytest.raises(NoFrameError, match="no frame captured yet"):
            ask()
    assert buffer.covered_s() == 0.0


@pytest.mark.parametrize("offset_s", [0.001, -30.001, math.nan, -math.inf])
def test_at_refuses_offsets_outside_the_memory_range(offset_s: float) -> None:
    buffer = filled([T0], 5, ManualClock(T0))
    with pytest.raises(ValueError, match="offset_s"):
        buffer.at(offset_s)


def test_capture_times_must_not_go_backwards() -> None:
    buffer = filled([T0], 5, ManualClock(T0))
    with pytest.raises(ValueError, match="backwards"):
        buffer.append(Item(1, T0 - 0.001))
    assert len(buffer) == 1


@pytest.mark.parametrize("capacity", [0, -1, 2.5, True])
def test_capacity_must_be_a_positive_integer(capacity: object) -> None:
    with pytest.raises(ValueError, match="capacity"):
        RingBuffer(capacity, ManualClock())  # type: ignore[arg-type]


def test_covered_s_is_the_age_of_the_oldest_frame() -> None:
    clock = ManualClock(T0)
    buffer = filled([T0 - 12.5, T0 - 2], 5, clock)
    assert buffer.covered_s() == 12.5


def test_wait_appended_wakes_when_another_thread_appends() -> None:
    buffer: RingBuffer[Item] = RingBuffer(5, ManualClock(T0))
    assert not buffer.wait_appended(1, timeout_s=0)
    writer = threading.Thread(target=buffer.append, args=(Item(0, T0),))
    writer.start()
    assert buffer.wait_appended(1, timeout_s=10)
    writer.join()


def test_concurrent_appends_and_reads_stay_consistent() -> None:
    buffer: RingBuffer[Item] = RingBuffer(50, ManualClock(T0))
    errors: list[BaseException] = []

    def write() -> None:
        for i in range(500):
            buffer.append(Item(i, T0))

    def read() -> None:
        for _ in range(500):
            try:
                items = buffer.items()
                assert len(items) <= 50
            except (NoFrameError, AssertionError) as exc:
                errors.append(exc)

    threads = [threading.Thread(target=f) for f in (write, write, read, read)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert buffer.appended == 1000
    assert len(buffer) == 50


def brute_force_nearest(items: list[Item], t: float, tolerance: float) -> Item | None:
    """The obvious linear search the ring buffer must agree with."""
    if not items:
        return None
    best = min(items, key=lambda item: (abs(item.captured_at - t), item.name))
    return best if abs(best.captured_at - t) <= tolerance else None


@settings(max_examples=300, deadline=None)
@given(
    gaps=st.lists(st.floats(min_value=0, max_value=5, allow_nan=False), max_size=60),
    capacity=st.integers(min_value=1, max_value=25),
    queries=st.lists(st.floats(min_value=-10, max_value=250, allow_nan=False), max_size=10),
)
def test_nearest_agrees_with_a_linear_search(
    gaps: list[float], capacity: int, queries: list[float]
) -> None:
    times = [T0 + sum(gaps[: i + 1]) for i in range(len(gaps))]
    buffer = filled(times, capacity, ManualClock(T0))
    held = [Item(i, t) for i, t in enumerate(times)][-capacity:]
    for query in queries:
        expected = brute_force_nearest(held, T0 + query, tolerance=1.0)
        if expected is None:
            with pytest.raises(NoFrameError):
                buffer.nearest(T0 + query)
        else:
            assert buffer.nearest(T0 + query) == expected
