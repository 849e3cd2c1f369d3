"""Tests of reference_device.clock: manual time, system time, and the device's own time."""

from __future__ import annotations

import math
import time

import pytest

from reference_device.clock import AnchoredClock, ManualClock, SystemClock


def test_manual_clock_moves_only_when_advanced() -> None:
    clock = ManualClock(start=1_000.0)
    assert (clock.now(), clock.monotonic()) == (1_000.0, 0.0)
    clock.advance(2.5)
    assert (clock.now(), clock.monotonic()) == (1_002.5, 2.5)


def test_manual_clock_set_steps_wall_time_only() -> None:
    clock = ManualClock(start=1_000.0)
    clock.advance(1.0)
    clock.set(50.0)
    assert (clock.now(), clock.monotonic()) == (50.0, 1.0)


@pytest.mark.parametrize("seconds", [-0.001, math.nan, math.inf])
def test_manual_clock_refuses_bad_advances(seconds: float) -> None:
    clock = ManualClock()
    with pytest.raises(ValueError, match="seconds"):
        clock.advance(seconds)
    assert clock.monotonic() == 0.0


def test_system_clock_reads_the_host_clocks() -> None:
    clock = SystemClock()
    before_wall, before_mono = time.time(), time.monotonic()
    wall, mono = clock.now(), clock.monotonic()
    assert before_wall <= wall <= time.time()
    assert before_mono <= mono <= time.monotonic()


def test_anchored_clock_ignores_wall_steps_and_follows_monotonic_time() -> None:
    host = ManualClock(start=1_764_000_000.0)
    device = AnchoredClock(host)
    host.set(1_000.0)  # the host's wall clock is stepped back by NTP
    assert device.now() == 1_764_000_000.0
    host.advance(3.0)
    assert device.now() == 1_764_000_003.0
    assert device.monotonic() == 3.0
    assert device.wall_at(1.5) == 1_764_000_001.5
