"""Capture: turn a source's pictures into encoded frames in its ring buffer.

Strategy: a captured frame is stored as a JPEG *master* no larger than 1280x960 (the
largest size a time-shifted request may get), fitted inside that limit keeping the aspect
ratio, never as raw pixels. Only the newest frame's raw picture stays reachable, for a
live request above the master size (``raw_for``).

Two producers feed a buffer:

- ``SyntheticProducer`` renders the scene on the source's own frame clock. Slot ``k`` is
  due at ``origin + k / fps`` on the monotonic clock and is stamped with the device's wall
  time of that instant, so frame times are exact and never drift. ``capture_due`` takes
  every frame due up to now, which lets tests step it with a ManualClock instead of
  sleeping; a thread calls the same method at each deadline. Frames are rendered straight
  at master size (the scene is resolution-free), and the raw native-size picture of the
  newest frame is rendered again only when someone asks for it.
  Pre-roll numbers and back-dates 30 s of history at once but defers each pre-rolled
  master's rendering and encoding to its first use (``Master.deferred``): a synthetic
  frame is a pure function of its source, number and time, so the deferred master is the
  very one an eager capture would have stored, and start-up costs milliseconds instead of
  seconds of rendering frames nobody may ask for.
- ``ArrivalCapture`` takes pictures that arrive from a real camera, numbers and stamps them
  on arrival, keeps at most ``fps`` of them per second, and re-encodes them as masters.

What never belongs here: HTTP, response sizes (the encoder's job), finding frames by time
(the ring buffer's job).
"""

from __future__ import annotations

import io
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image

from reference_device.clock import AnchoredClock
from reference_device.profile import SourceMode
from reference_device.ring_buffer import RingBuffer
from reference_device.scene import render_frame

MASTER_LIMIT = (1280, 960)
JPEG_QUALITY = 85
_RawPicture = Callable[[], Image.Image]

log = logging.getLogger(__name__)


class Master:
    """A frame's JPEG master: encoded at capture, or deferred to its first use."""

    __slots__ = ("_data", "_lock", "_make")

    def __init__(self, data: bytes | None, make: Callable[[], bytes] | None) -> None:
        if (data is None) == (make is None):
            raise ValueError("a master is either encoded (data) or deferred (make), not both")
        self._data = data
        self._make = make
        self._lock = threading.Lock()

    @classmethod
    def encoded(cls, data: bytes) -> Master:
        """A master already encoded."""
        return cls(data, None)

    @classmethod
    def deferred(cls, make: Callable[[], bytes]) -> Master:
        """A master that ``make`` encodes once, on first use."""
        return cls(None, make)

    @property
    def is_encoded(self) -> bool:
        """Whether the bytes exist yet."""
        return self._data is not None

    def jpeg(self) -> bytes:
        """The master's JPEG bytes (encoding them now if deferred)."""
        with self._lock:
            if self._data is None:
                assert self._make is not None
                self._data, self._make = self._make(), None
            return self._data


@dataclass(frozen=True, slots=True)
class Frame:
    """One captured frame: who, which, when, and its JPEG master."""

    source: str
    seq: int
    captured_at: float
    master_size: tuple[int, int]
    native_size: tuple[int, int]
    stored: Master = field(repr=False, compare=False)

    @property
    def master(self) -> bytes:
        """The JPEG master: at most 1280x960, the frame's aspect ratio."""
        return self.stored.jpeg()


def fit_inside(size: tuple[int, int], limit: tuple[int, int] = MASTER_LIMIT) -> tuple[int, int]:
    """``size`` scaled down (never up) to fit inside ``limit``, keeping the aspect ratio."""
    width, height = size
    if width < 1 or height < 1 or limit[0] < 1 or limit[1] < 1:
        raise ValueError(f"sizes must be positive, got {size} inside {limit}")
    scale = min(1.0, limit[0] / width, limit[1] / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def encode_jpeg(image: Image.Image, quality: int = JPEG_QUALITY) -> bytes:
    """Baseline JPEG bytes of an RGB image (Pillow's default 4:2:0 subsampling)."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, progressive=False, optimize=False)
    return buffer.getvalue()


class _LatestRaw:
    """The raw picture of the newest frame only, so no old raw frame is ever retained."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq = -1
        self._picture: _RawPicture | None = None

    def keep(self, seq: int, picture: _RawPicture) -> None:
        with self._lock:
            self._seq, self._picture = seq, picture

    def get(self, seq: int) -> _RawPicture | None:
        with self._lock:
            return self._picture if seq == self._seq else None


class SyntheticProducer:
    """Renders one source's scene at its native rate into a ring buffer."""

    def __init__(self, mode: SourceMode, clock: AnchoredClock, buffer: RingBuffer[Frame]) -> None:
        self.mode = mode
        self.buffer = buffer
        self._clock = clock
        self._period = 1.0 / mode.fps
        self._master_size = fit_inside((mode.width, mode.height))
        self._lock = threading.Lock()
        self._origin: float | None = None
        self._next_slot = 0
        self._next_seq = 0
        self._raw = _LatestRaw()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failure: BaseException | None = None

    @property
    def started(self) -> bool:
        """Whether ``begin`` has set the frame clock going."""
        with self._lock:
            return self._origin is not None

    def begin(self, *, preroll: bool) -> None:
        """Start the frame clock now and capture its first frame.

        With ``preroll``, first fill the buffer's whole history with back-dated frames.
        """
        with self._lock:
            if self._origin is not None:
                raise ValueError(f"source {self.mode.name!r} has already begun")
            self._origin = self._clock.monotonic()
            if preroll:
                # Slots -N .. -1 lie before the origin: back-dated, numbered from 0, just
                # enough of them to cover the buffer's whole history at the origin.
                history = math.ceil(self.buffer.history_s * self.mode.fps) + 1
                for slot in range(-min(self.buffer.capacity, history), 0):
                    self._capture_slot(slot, deferred=True)
            self._capture_due(self._origin)

    def capture_due(self) -> int:
        """Capture every frame due up to now; how many were captured."""
        with self._lock:
            if self._origin is None:
                raise ValueError(f"source {self.mode.name!r} has not begun")
            return self._capture_due(self._origin)

    def _capture_due(self, origin: float) -> int:
        elapsed = self._clock.monotonic() - origin
        # The epsilon keeps slot k due exactly at k / fps despite float rounding.
        last_due = math.floor(elapsed * self.mode.fps + 1e-6)
        # A producer far behind (a suspended host) skips the frames the buffer would drop
        # at once instead of rendering them.
        first = max(self._next_slot, last_due + 1 - self.buffer.capacity)
        for slot in range(first, last_due + 1):
            # Frames missed while the thread got no CPU are deferred like pre-roll (a
            # synthetic frame is a pure function of its slot): rendering only the newest
            # lets a starved producer catch up at once instead of falling further behind,
            # so the live frame stays current on a busy host.
            self._capture_slot(slot, deferred=slot < last_due)
        self._next_slot = max(self._next_slot, last_due + 1)
        return max(0, last_due + 1 - first)

    def next_due(self) -> float:
        """The monotonic time at which the next frame is due."""
        with self._lock:
            if self._origin is None:
                raise ValueError(f"source {self.mode.name!r} has not begun")
            return self._origin + self._next_slot * self._period

    def raw_for(self, frame: Frame) -> _RawPicture | None:
        """A renderer of ``frame`` at native size, only while it is the newest frame."""
        return self._raw.get(frame.seq)

    def start_thread(self) -> None:
        """Capture in a thread, at each frame's deadline, until ``stop``."""
        if self._thread is not None:
            raise ValueError(f"source {self.mode.name!r} already has a capture thread")
        self._thread = threading.Thread(
            target=self._run, name=f"capture-{self.mode.name}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the capture thread, if any, and wait for it to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self.capture_due()
                delay = self.next_due() - self._clock.monotonic()
                # Capped so a clock that is not the host's (a ManualClock) is re-read often.
                self._stop.wait(min(max(delay, 0.0), 0.25))
        except Exception as exc:
            self.failure = exc
            log.exception("capture thread of %r failed", self.mode.name)

    def _capture_slot(self, slot: int, *, deferred: bool = False) -> None:
        assert self._origin is not None
        name, seq, native = self.mode.name, self._next_seq, (self.mode.width, self.mode.height)
        captured_at = self._clock.wall_at(self._origin + slot * self._period)
        master_size = self._master_size

        def master() -> bytes:
            return encode_jpeg(render_frame(name, seq, captured_at, master_size))

        frame = Frame(
            source=name,
            seq=seq,
            captured_at=captured_at,
            master_size=master_size,
            native_size=native,
            stored=Master.deferred(master) if deferred else Master.encoded(master()),
        )
        self.buffer.append(frame)
        self._raw.keep(seq, lambda: render_frame(name, seq, captured_at, native))
        self._next_seq = seq + 1


class ArrivalCapture:
    """Frames from a real camera: numbered, stamped and rate-limited on arrival."""

    def __init__(self, mode: SourceMode, clock: AnchoredClock, buffer: RingBuffer[Frame]) -> None:
        self.mode = mode
        self.buffer = buffer
        self._clock = clock
        self._period = 1.0 / mode.fps
        self._lock = threading.Lock()
        self._next_seq = 0
        self._next_due: float | None = None
        self._raw = _LatestRaw()

    def accept(self, jpeg: bytes) -> Frame | None:
        """Store a camera's JPEG as the next frame; None when it came too soon to keep.

        ValueError when the bytes are not a picture Pillow can decode.
        """
        with self._lock:
            now = self._clock.now()
            # A quarter period of slack, so a camera at the native rate with some jitter
            # keeps every frame while a faster one is thinned to the native rate.
            slack = self._period / 4
            if self._next_due is not None and now < self._next_due - slack:
                return None
            picture = _decode(jpeg)
            due = now if self._next_due is None else max(self._next_due, now - slack)
            self._next_due = due + self._period
            master_size = fit_inside(picture.size)
            master = picture if master_size == picture.size else picture.resize(master_size)
            frame = Frame(
                source=self.mode.name,
                seq=self._next_seq,
                captured_at=now,
                master_size=master_size,
                native_size=picture.size,
                stored=Master.encoded(encode_jpeg(master)),
            )
            self.buffer.append(frame)
            self._raw.keep(frame.seq, lambda: picture)
            self._next_seq += 1
            return frame

    def raw_for(self, frame: Frame) -> _RawPicture | None:
        """The camera's own picture of ``frame``, only while it is the newest frame."""
        return self._raw.get(frame.seq)


def _decode(data: bytes) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
            return opened.convert("RGB")
    except (OSError, Image.DecompressionBombError, SyntaxError) as exc:
        raise ValueError(f"not a decodable image ({len(data)} bytes): {exc}") from exc
