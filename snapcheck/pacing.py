"""Pacing a device: a shared rate limit and a circuit breaker for an unreachable device.

Strategy: two small thread-safe state holders the transport consults around every
exchange. Time comes from injected callables, so both are tested without sleeping.
Nothing here touches a socket or knows what HTTP is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """A thread-safe token bucket: at most ``rate_per_s`` requests per second, burst ``burst``."""

    def __init__(
        self,
        rate_per_s: float,
        *,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not rate_per_s > 0 or burst < 1:
            raise ValueError("rate_per_s must be positive and burst at least 1")
        self._rate = rate_per_s
        self._burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = burst
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping until it is due; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
            self._last = now
            # Tokens may go negative: a reservation, so concurrent callers queue in order.
            self._tokens -= 1
            wait = max(0.0, -self._tokens / self._rate)
        if wait > 0:
            self._sleep(wait)
        return wait


class CircuitBreaker:
    """Counts consecutive connection-level failures; opens for good at the threshold."""

    def __init__(self, threshold: int = 3) -> None:
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        self._threshold = threshold
        self._failures = 0
        self._lock = threading.Lock()

    @property
    def open(self) -> bool:
        """True once the device has been declared unreachable."""
        with self._lock:
            return self._failures >= self._threshold

    def record(self, *, connection_failed: bool) -> None:
        """Note an exchange: a connection-level failure, or any byte from the device."""
        with self._lock:
            if self._failures >= self._threshold:
                return
            self._failures = self._failures + 1 if connection_failed else 0
