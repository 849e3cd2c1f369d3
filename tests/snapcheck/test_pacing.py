"""Tests of the token bucket and the circuit breaker, with an injected clock (no sleeping)."""

from __future__ import annotations

import threading

import pytest

from snapcheck.pacing import CircuitBreaker, TokenBucket


class FakeClock:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)


def test_the_first_request_is_free_and_later_ones_are_spaced() -> None:
    clock = FakeClock()
    bucket = TokenBucket(4.0, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(3)]
    assert waits == [0.0, 0.25, 0.5]


def test_time_passing_refills_the_bucket_up_to_the_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2.0, burst=2, clock=clock, sleep=clock.sleep)
    assert [bucket.acquire(), bucket.acquire()] == [0.0, 0.0]
    clock.now += 10.0
    assert [bucket.acquire(), bucket.acquire(), bucket.acquire()] == [0.0, 0.0, 0.5]


def test_concurrent_callers_reserve_distinct_slots() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10.0, clock=clock, sleep=clock.sleep)
    threads = [threading.Thread(target=bucket.acquire) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(clock.slept) == pytest.approx([0.1 * k for k in range(1, 8)])


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1.0), (-1.0, 1.0), (1.0, 0.5)])
def test_a_bucket_needs_a_positive_rate(rate: float, burst: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(rate, burst=burst)


def test_the_breaker_opens_after_consecutive_failures_only() -> None:
    breaker = CircuitBreaker(3)
    for failed in (True, True, False, True, True):
        breaker.record(connection_failed=failed)
    assert not breaker.open
    breaker.record(connection_failed=True)
    assert breaker.open
    breaker.record(connection_failed=False)
    assert breaker.open, "an open breaker stays open"


def test_a_breaker_needs_a_positive_threshold() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        CircuitBreaker(0)
