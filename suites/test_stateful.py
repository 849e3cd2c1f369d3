"""Stateful: snapshots, time-shifted snapshots and concurrent streams, interleaved.

Strategy: a Hypothesis rule-based state machine plays a few clients at once against one
device: live snapshots, snapshots from memory (``time=-k``), and up to two streams read
in background threads while the snapshots go on (a rule starts a stream, another joins
it; every join is bounded). The invariants are the contract's, judged by time codes
(docs/timecode.md) compared with each other, never with the tester's clock:

- live frames are fresh: a live snapshot's time code never goes back behind one served
  before it, and is newer than every time-shifted frame fetched before it (TIME-AGE-1,
  a SHOULD: the current frame is the k = 0 case);
- a stream is unaffected by other clients: the stream checks judge every part, the
  rate, the liveness and monotonic time codes (STREAM-FRESH-1) of a window read while
  snapshots were being taken.

Every snapshot and stream is also judged by the contract as usual (``device.expect``,
``device.check``). Budget: a run of the machine costs about one stream window per stream
joined, so each run starts at most ``MAX_STREAMS`` streams and takes ``STEP_COUNT``
steps, and the number of runs is the profile's ``max_examples`` capped at
``MAX_EXAMPLES`` (25 dev/ci runs would take most of the suite's two minutes), and a
failing run is not shrunk (replaying it hundreds of times would take as long).
Function-scoped fixtures run once per test, so each run starts from fresh state in
``__init__``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import ClassVar

import pytest
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    precondition,
    rule,
    run_state_machine_as_test,
)

from snapcheck.checks.findings import violation_verdict
from snapcheck.checks.stream_reply import MUST_RATE_MAX_FPS, MUST_RATE_MAX_SIZE
from snapcheck.curl import curl_for
from snapcheck.device import DeviceUnderTest
from snapcheck.exchange import Reply
from snapcheck.timecode import TimeCode
from snapcheck.verdicts import Finding, Verdict

MAX_EXAMPLES = 5
STEP_COUNT = 10
# Streams started per run (at most all of them at once): each costs a window of waiting.
MAX_STREAMS = 2
# Seven or eight parts at STREAM_FPS: enough for a rate that one late part does not sink,
# short enough to keep runs cheap.
STREAM_WINDOW_S = 1.5
# The MUST regime of the rate (fps <= 5 at up to 640x480): a shortfall there is a FAIL.
STREAM_FPS = int(MUST_RATE_MAX_FPS)
SHIFTS_S = (1, 2, 5)


@dataclass(slots=True)
class Freshness:
    """What one run of the machine saw of live frames; judged into findings at its end."""

    live_pairs: int = 0
    shifted_pairs: int = 0
    readable: int = 0
    unreadable: int = 0
    back: list[str] = field(default_factory=list)
    not_older: list[str] = field(default_factory=list)
    curl: str | None = None  # the last live snapshot's, to reproduce a freshness finding

    def findings(self) -> list[Finding]:
        """TIME-AGE-1: live frames never went back and were newer than time-shifted ones."""
        if self.unreadable and not self.readable:
            return [self._age(Verdict.INFORMATIONAL, "not judgeable: frames carry no time code")]
        miss = violation_verdict("TIME-AGE-1")
        judged = [
            (self.live_pairs, self.back, "live snapshots in turn went back in time"),
            (
                self.shifted_pairs,
                self.not_older,
                "time-shifted frames were not older than the live frame fetched after them",
            ),
        ]
        return [
            self._age(miss if cases else Verdict.PASS, f"{len(cases)} of {pairs} {what}", cases)
            for pairs, cases, what in judged
            if pairs
        ]

    def _age(self, verdict: Verdict, message: str, cases: Sequence[str] = ()) -> Finding:
        return Finding("TIME-AGE-1", verdict, message, "; ".join(cases[:3]), curl=self.curl)


class ClientsMachine(RuleBasedStateMachine):
    """Several clients of one device; ``device`` is bound by the test that runs it."""

    device: ClassVar[DeviceUnderTest]

    def __init__(self) -> None:
        super().__init__()
        max_w, max_h = MUST_RATE_MAX_SIZE
        self.sizes = [(w, h) for w, h in self.device.caps.resolutions if w <= max_w and h <= max_h]
        self.freshness = Freshness()
        self.last_live: TimeCode | None = None
        self.shifted_since_live: list[tuple[int, TimeCode]] = []
        self.readers = ThreadPoolExecutor(MAX_STREAMS, thread_name_prefix="snapcheck-stream")
        self.streams: deque[Future[Reply]] = deque()
        self.started = 0

    def _size(self, data: st.DataObject) -> tuple[int, int]:
        return data.draw(st.sampled_from(self.sizes), label="size")

    @rule(data=st.data())
    def live_snapshot(self, data: st.DataObject) -> None:
        """A live snapshot: never behind an earlier one, newer than earlier shifted frames."""
        width, height = self._size(data)
        reply = self.device.expect({"width": width, "height": height})
        code = self._timecode(reply)
        if code is None:
            return
        fresh, last = self.freshness, self.last_live
        fresh.curl = curl_for(reply.request)
        if last is not None and last.source == code.source:
            fresh.live_pairs += 1
            if code.seq < last.seq:
                fresh.back.append(f"live seq {last.seq} then {code.seq}")
        for k, shifted in self.shifted_since_live:
            if shifted.source != code.source:
                continue
            fresh.shifted_pairs += 1
            if shifted.captured_ms >= code.captured_ms:
                fresh.not_older.append(
                    f"time=-{k} captured at {shifted.captured_ms} ms, live at {code.captured_ms}"
                )
        self.last_live = code
        self.shifted_since_live = []

    @rule(data=st.data(), k=st.sampled_from(SHIFTS_S))
    def shifted_snapshot(self, data: st.DataObject, k: int) -> None:
        """A frame from k seconds ago: older than the next live frame."""
        width, height = self._size(data)
        code = self._timecode(self.device.expect({"width": width, "height": height, "time": -k}))
        if code is not None:
            self.shifted_since_live.append((k, code))

    @precondition(lambda self: self.started < MAX_STREAMS)
    @rule(data=st.data())
    def start_stream(self, data: st.DataObject) -> None:
        """Start reading a stream in the background while other clients go on."""
        self.started += 1
        width, height = self._size(data)
        request = self.device.request({"width": width, "height": height, "fps": STREAM_FPS})
        self.streams.append(
            self.readers.submit(self.device.fetch, request, window_s=STREAM_WINDOW_S)
        )

    @precondition(lambda self: bool(self.streams))
    @rule()
    def join_stream(self) -> None:
        """Join the oldest stream and judge it: parts, rate, liveness, monotonic time codes."""
        self._join(self.streams.popleft())

    def teardown(self) -> None:
        """Join every stream still open, then judge what the live frames showed."""
        try:
            while self.streams:
                self._join(self.streams.popleft())
        finally:
            self.readers.shutdown(wait=True, cancel_futures=True)
        self.device.record(self.freshness.findings())

    def _join(self, stream: Future[Reply]) -> None:
        # The transport's deadlines end every read; this bound only guards against a bug.
        bound = STREAM_WINDOW_S + self.device.settings.request_timeout
        self.device.check(stream.result(timeout=bound))

    def _timecode(self, reply: Reply) -> TimeCode | None:
        code = self.device.timecode(reply)
        if code is None:
            self.freshness.unreadable += 1
        else:
            self.freshness.readable += 1
        return code


@pytest.mark.clause(
    "TIME-AGE-1",
    "STREAM-FRESH-1",
    "STREAM-RATE-1",
    "STREAM-LIVE-1",
    "STREAM-PART-JPEG-1",
    "TIME-SINGLE-1",
)
def test_clients_interleaved_see_fresh_frames_and_undisturbed_streams(
    device: DeviceUnderTest,
) -> None:
    max_w, max_h = MUST_RATE_MAX_SIZE
    if not any(w <= max_w and h <= max_h for w, h in device.caps.resolutions):
        device.unsupported(f"caps lists no size up to {max_w}x{max_h}")
    machine = type("ClientsOfThisDevice", (ClientsMachine,), {"device": device})
    profile = settings()
    bounded = settings(
        profile,
        max_examples=min(profile.max_examples, MAX_EXAMPLES),
        stateful_step_count=STEP_COUNT,
        # Shrinking would replay failing runs hundreds of times, each a stream window or
        # two long: a failure is reported as found, with its steps, instead.
        phases=[phase for phase in profile.phases if phase is not Phase.shrink],
    )
    run_state_machine_as_test(machine, settings=bounded)
