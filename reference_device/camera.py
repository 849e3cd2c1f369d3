"""The camera: capture -> ring buffer -> encoder, for every source of a profile.

Strategy: this module only composes the stages; each stage lives in its own module and
knows only the one before it. Per source there is a ring buffer holding the last 30 s of
JPEG masters, fed either by a ``SyntheticProducer`` (the moving scene with its time code)
or, for ``external`` with an ``external_url``, by an ``ExternalPuller`` whose pictures an
``ArrivalCapture`` numbers and stamps. One ``Encoder`` serves every source.

Time: the camera reads its clock once and then keeps its own wall time on the monotonic
clock (``AnchoredClock``), so capture times and ``at(offset_s)`` agree even if the host's
wall clock is stepped.

Two ways to run it: ``start()`` starts a capture thread per synthetic source (and the
external puller's thread); ``start(threads=False)`` starts none, and ``tick()`` then
captures every frame due on the injected clock, which is how tests step time without
sleeping. ``stop()`` joins every thread it started and re-raises a capture thread's
failure, so an error in a thread is never silent.

What never belongs here: HTTP, parameter validation, error codes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import Protocol

from PIL import Image

from reference_device.capture import ArrivalCapture, Frame, SyntheticProducer
from reference_device.clock import AnchoredClock, Clock
from reference_device.encoder import Encoder
from reference_device.external import ExternalPuller, PullOptions
from reference_device.profile import Profile, SourceMode
from reference_device.ring_buffer import NoFrameError, RingBuffer

__all__ = ["Camera", "Frame", "NoFrameError", "PullOptions"]

EXTERNAL = "external"


class _Source(Protocol):
    """What the camera needs from one source's capture stage."""

    buffer: RingBuffer[Frame]

    def raw_for(self, frame: Frame) -> Callable[[], Image.Image] | None: ...


class _ExternalSource:
    """A real camera: the puller fetches pictures, the arrival capture stores them."""

    def __init__(
        self, url: str, mode: SourceMode, clock: AnchoredClock, options: PullOptions | None
    ) -> None:
        self.buffer: RingBuffer[Frame] = RingBuffer.for_rate(mode.fps, clock)
        self.capture = ArrivalCapture(mode, clock, self.buffer)
        self.puller = ExternalPuller(
            url, fps=mode.fps, deliver=self.capture.accept, options=options
        )

    def raw_for(self, frame: Frame) -> Callable[[], Image.Image] | None:
        return self.capture.raw_for(frame)


class Camera:
    """Every source of a profile, captured, buffered and encoded on demand."""

    def __init__(
        self,
        profile: Profile,
        clock: Clock,
        *,
        preroll: bool = False,
        external_url: str | None = None,
        pull_options: PullOptions | None = None,
        encoder: Encoder | None = None,
    ) -> None:
        if external_url is not None and EXTERNAL not in {m.name for m in profile.sources}:
            raise ValueError(f"profile {profile.name!r} has no external source to pull into")
        self.profile = profile
        self.clock = AnchoredClock(clock)
        self._preroll = preroll
        self._encoder = encoder or Encoder()
        self._producers: dict[str, SyntheticProducer] = {}
        self._external: _ExternalSource | None = None
        self._sources: dict[str, _Source] = {}
        for mode in profile.sources:
            if mode.name == EXTERNAL and external_url is not None:
                self._external = _ExternalSource(external_url, mode, self.clock, pull_options)
                self._sources[mode.name] = self._external
            else:
                buffer: RingBuffer[Frame] = RingBuffer.for_rate(mode.fps, self.clock)
                producer = SyntheticProducer(mode, self.clock, buffer)
                self._producers[mode.name] = producer
                self._sources[mode.name] = producer
        self._lifecycle = threading.Lock()
        self._started = False

    @property
    def sources(self) -> tuple[str, ...]:
        """The names of the sources, in profile order."""
        return tuple(self._sources)

    @property
    def puller(self) -> ExternalPuller | None:
        """The external camera puller, when ``external_url`` was given (for its status)."""
        return None if self._external is None else self._external.puller

    @property
    def encode_count(self) -> int:
        """How many JPEGs were really encoded (to observe sharing)."""
        return self._encoder.encode_count

    def start(self, *, threads: bool = True) -> None:
        """Pre-roll if asked (synchronously), then start capturing; once per camera."""
        with self._lifecycle:
            if self._started:
                raise ValueError("this camera was already started")
            self._started = True
            for producer in self._producers.values():
                producer.begin(preroll=self._preroll)
            if threads:
                for producer in self._producers.values():
                    producer.start_thread()
            if self._external is not None:
                self._external.puller.start()

    def stop(self) -> None:
        """Stop and join every thread; re-raise the first failure of a capture thread."""
        with self._lifecycle:
            for producer in self._producers.values():
                producer.stop()
            if self._external is not None:
                self._external.puller.stop()
        failures = [p.failure for p in self._producers.values() if p.failure is not None]
        if self._external is not None and self._external.puller.failure is not None:
            failures.append(self._external.puller.failure)
        if failures:
            raise failures[0]

    def __enter__(self) -> Camera:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def tick(self) -> int:
        """Capture every synthetic frame due on the clock now; how many were captured."""
        return sum(producer.capture_due() for producer in self._producers.values())

    def latest(self, source: str) -> Frame:
        """The newest frame of ``source``; NoFrameError when there is none to give."""
        return self._available(source).buffer.latest()

    def at(self, source: str, offset_s: float) -> Frame:
        """The frame captured nearest to now + ``offset_s`` (in [-30, 0]); NoFrameError."""
        if offset_s == 0:
            # time=0 is the current frame and needs no history (TIME-HISTORY-1): a capture
            # running late on a busy host must not turn it into "no data".
            return self.latest(source)
        return self._available(source).buffer.at(offset_s)

    def jpeg(self, frame: Frame, width: int, height: int) -> bytes:
        """``frame`` as a JPEG of exactly ``width`` x ``height``; encoded once, shared."""
        raw = self._source(frame.source).raw_for(frame)
        return self._encoder.jpeg(frame, width, height, raw)

    def history_s(self, source: str) -> float:
        """How many seconds back ``at`` can reach for ``source`` now (0 when none)."""
        try:
            return self._available(source).buffer.covered_s()
        except NoFrameError:
            return 0.0

    def captured(self, source: str) -> int:
        """How many frames ``source`` has captured in total."""
        return self._source(source).buffer.appended

    def wait_captured(self, source: str, count: int, timeout_s: float) -> bool:
        """Block until ``source`` captured ``count`` frames in total, or ``timeout_s``."""
        return self._source(source).buffer.wait_appended(count, timeout_s)

    def reachable(self, source: str) -> bool:
        """Whether ``source`` can deliver frames now (a synthetic source always can)."""
        self._source(source)
        return self._external is None or source != EXTERNAL or self._external.puller.reachable

    def wait_reachable(self, source: str, reachable: bool, timeout_s: float) -> bool:
        """Block until ``source`` is (or is not) reachable, or ``timeout_s`` elapsed."""
        self._source(source)
        if self._external is None or source != EXTERNAL:
            return reachable
        return self._external.puller.wait_reachable(reachable, timeout_s)

    def _source(self, source: str) -> _Source:
        try:
            return self._sources[source]
        except KeyError:
            known = ", ".join(self._sources)
            raise ValueError(f"no source {source!r} on this camera (it has: {known})") from None

    def _available(self, source: str) -> _Source:
        chosen = self._source(source)
        if chosen is self._external and not self._external.puller.reachable:
            detail = self._external.puller.last_error or "no frame received yet"
            raise NoFrameError(
                f"external camera {self._external.puller.url} is unreachable: {detail}"
            )
        return chosen
