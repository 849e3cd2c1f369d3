"""Time for the reference device: the only place that reads the system clock.

Strategy: every stage takes a ``Clock`` so that tests drive time by hand (``ManualClock``)
and never sleep. Wall time (``now``) stamps frames; monotonic time (``monotonic``) paces
producers and streams. ``AnchoredClock`` gives the device its own wall time that never
steps: it is read once from the underlying clock and then advanced by monotonic time, so
capture times stay ordered even if the host's clock is adjusted while the device runs.

Nothing here knows about frames, cameras or HTTP.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Protocol


class Clock(Protocol):
    """A source of wall time and monotonic time, both in seconds."""

    def now(self) -> float:
        """Seconds since the Unix epoch (wall time)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (for pacing)."""
        ...


class SystemClock:
    """The host's clocks: ``time.time`` and ``time.monotonic``."""

    def now(self) -> float:
        """Seconds since the Unix epoch."""
        return time.time()

    def monotonic(self) -> float:
        """Seconds on the host's monotonic clock."""
        return time.monotonic()


class ManualClock:
    """A clock that moves only when a test says so; safe to read from any thread."""

    def __init__(self, start: float = 1_764_000_000.0) -> None:
        _require_finite(start, "start")
        self._lock = threading.Lock()
        self._wall = start
        self._mono = 0.0

    def now(self) -> float:
        """The current manual wall time."""
        with self._lock:
            return self._wall

    def monotonic(self) -> float:
        """The current manual monotonic time (starts at 0)."""
        with self._lock:
            return self._mono

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass on both clocks."""
        _require_finite(seconds, "seconds")
        if seconds < 0:
            raise ValueError(
                f"seconds must not be negative (a clock cannot go back), got {seconds}"
            )
        with self._lock:
            self._wall += seconds
            self._mono += seconds

    def set(self, t: float) -> None:
        """Step the wall clock to ``t`` (as NTP would); monotonic time is unaffected."""
        _require_finite(t, "t")
        with self._lock:
            self._wall = t


class AnchoredClock:
    """Wall time read once from ``clock`` and then advanced by its monotonic time."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._wall_origin = clock.now()
        self._mono_origin = clock.monotonic()

    def now(self) -> float:
        """The device's wall time: the anchor plus the monotonic time elapsed since."""
        return self.wall_at(self._clock.monotonic())

    def monotonic(self) -> float:
        """The underlying monotonic time."""
        return self._clock.monotonic()

    def wall_at(self, monotonic: float) -> float:
        """The device's wall time at a given monotonic instant."""
        return self._wall_origin + (monotonic - self._mono_origin)


def _require_finite(value: float, name: str) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number of seconds, got {value!r}")
