"""The frame memory of one source: the last ``history_s`` seconds, bounded.

Strategy: a fixed-capacity circular array indexed by *logical* index (the number of items
appended before this one). Logical indices ``[appended - len, appended)`` are held; item
``i`` lives in slot ``i % capacity``. Because capture times only grow, the nearest item to
a time is found by bisecting the logical range (``O(log n)``; a deque would index in
``O(n)``). One ``threading.Condition`` guards everything and wakes waiters on append.

The buffer stores whatever it is given (the capture stage gives it encoded frames, never
raw pixels) and knows only capture times. It never renders, encodes or talks HTTP.
"""

from __future__ import annotations

import bisect
import math
import threading
from typing import Generic, Protocol, TypeVar

from reference_device.clock import Clock

# The manual: "The time values must be within the intercom memory range: <-30, 0> seconds."
HISTORY_S = 30.0

# How far the frame returned for a time may be from that time. The project's contract
# lets a frame for time=-k be captured k s ago within +-1 s (API-FACTS.md).
DEFAULT_TOLERANCE_S = 1.0


class NoFrameError(LookupError):
    """No frame is available: nothing captured yet, source unreachable, or history too short."""


class Timed(Protocol):
    """Anything with a capture time in wall seconds."""

    @property
    def captured_at(self) -> float:
        """Wall seconds at which the item was captured."""
        ...


T = TypeVar("T", bound=Timed)


class RingBuffer(Generic[T]):
    """The last ``capacity`` items in capture order; ``at(offset_s)`` finds the nearest."""

    def __init__(
        self,
        capacity: int,
        clock: Clock,
        *,
        history_s: float = HISTORY_S,
        tolerance_s: float = DEFAULT_TOLERANCE_S,
    ) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"capacity must be a positive integer, got {capacity!r}")
        for name, value in (("history_s", history_s), ("tolerance_s", tolerance_s)):
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a non-negative number, got {value!r}")
        self._clock = clock
        self._capacity = capacity
        self._history_s = history_s
        self._tolerance_s = tolerance_s
        self._items: list[T | None] = [None] * capacity
        self._times: list[float] = [0.0] * capacity
        self._appended = 0
        self._changed = threading.Condition()

    @classmethod
    def for_rate(
        cls,
        fps: float,
        clock: Clock,
        *,
        history_s: float = HISTORY_S,
        tolerance_s: float = DEFAULT_TOLERANCE_S,
    ) -> RingBuffer[T]:
        """A buffer big enough for ``history_s`` (plus the tolerance) at ``fps`` frames/s."""
        if not math.isfinite(fps) or fps <= 0:
            raise ValueError(f"fps must be a positive number, got {fps!r}")
        capacity = math.ceil(fps * (history_s + tolerance_s)) + 1
        return cls(capacity, clock, history_s=history_s, tolerance_s=tolerance_s)

    @property
    def capacity(self) -> int:
        """The most items ever held at once."""
        return self._capacity

    @property
    def history_s(self) -> float:
        """How far back ``at`` may be asked to look."""
        return self._history_s

    @property
    def appended(self) -> int:
        """How many items were appended in total (evicted ones included)."""
        with self._changed:
            return self._appended

    def __len__(self) -> int:
        with self._changed:
            return min(self._appended, self._capacity)

    def append(self, item: T) -> None:
        """Add the newest item, evicting the oldest when full; capture times must not fall."""
        with self._changed:
            newest = self._time_of(self._appended - 1) if self._appended else -math.inf
            if item.captured_at < newest:
                raise ValueError(
                    f"capture times must not go backwards: {item.captured_at} after {newest}"
                )
            slot = self._slot(self._appended)
            self._items[slot] = item
            self._times[slot] = item.captured_at
            self._appended += 1
            self._changed.notify_all()

    def latest(self) -> T:
        """The newest item; NoFrameError when empty."""
        with self._changed:
            if not self._appended:
                raise NoFrameError("no frame captured yet")
            return self._get(self._appended - 1)

    def oldest(self) -> T:
        """The oldest item still held; NoFrameError when empty."""
        with self._changed:
            if not self._appended:
                raise NoFrameError("no frame captured yet")
            return self._get(self._first())

    def items(self) -> tuple[T, ...]:
        """Every item held, oldest first (a copy)."""
        with self._changed:
            return tuple(self._get(i) for i in range(self._first(), self._appended))

    def at(self, offset_s: float) -> T:
        """The item captured nearest to now + ``offset_s`` (``offset_s`` in [-history_s, 0])."""
        if not math.isfinite(offset_s) or not -self._history_s <= offset_s <= 0:
            raise ValueError(f"offset_s must be in [{-self._history_s:g}, 0], got {offset_s!r}")
        return self.nearest(self._clock.now() + offset_s)

    def nearest(self, t: float) -> T:
        """The item captured nearest to wall time ``t`` (the earlier one on a tie).

        NoFrameError when empty or when even the nearest item is more than the tolerance
        away from ``t`` (history shorter than asked, or a gap in capture).
        """
        with self._changed:
            if not self._appended:
                raise NoFrameError("no frame captured yet")
            logical = range(self._first(), self._appended)
            pos = bisect.bisect_left(logical, t, key=self._time_of)
            candidates = [logical[p] for p in (pos - 1, pos) if 0 <= p < len(logical)]
            best_time = min((self._time_of(i) for i in candidates), key=lambda c: abs(c - t))
            if abs(best_time - t) > self._tolerance_s:
                oldest, newest = self._time_of(logical[0]), self._time_of(logical[-1])
                raise NoFrameError(
                    f"no frame within {self._tolerance_s:g} s of {t:.3f}: "
                    f"history covers {oldest:.3f} .. {newest:.3f}"
                )
            # Of several items captured at that same instant, the first.
            return self._get(logical[bisect.bisect_left(logical, best_time, key=self._time_of)])

    def covered_s(self) -> float:
        """Seconds between now and the oldest item held (0 when empty)."""
        with self._changed:
            if not self._appended:
                return 0.0
            oldest = self._time_of(self._first())
        return max(0.0, self._clock.now() - oldest)

    def wait_appended(self, count: int, timeout_s: float) -> bool:
        """Block until ``count`` items were appended in total, or ``timeout_s`` elapsed."""
        with self._changed:
            return self._changed.wait_for(lambda: self._appended >= count, timeout_s)

    def _first(self) -> int:
        return max(0, self._appended - self._capacity)

    def _slot(self, logical: int) -> int:
        return logical % self._capacity

    def _time_of(self, logical: int) -> float:
        return self._times[logical % self._capacity]

    def _get(self, logical: int) -> T:
        item = self._items[self._slot(logical)]
        # Slots of held logical indices are always filled; None only before the first lap.
        assert item is not None
        return item
