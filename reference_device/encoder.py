"""Encoding: a captured frame as a JPEG of any advertised size, each one encoded once.

Scaling rule (the device's documented behaviour): **centre-crop to the target aspect
ratio, then resize**. A 16:9 frame asked for at 4:3 loses equal strips left and right, a
4:3 frame asked for at 16:9 loses equal strips top and bottom; nothing is ever stretched
or letterboxed, and the centre of the frame -- where the time code sits -- always
survives. ``crop_box`` is the rule; everything else here applies it.

Where the pixels come from: the frame's JPEG master (at most 1280x960), decoded in
Pillow's draft mode so that a small size decodes only an eighth, a quarter or half of the
master. A size larger than the master's crop (a live 1920x1080) is made from the newest
frame's raw picture when the caller supplies it; otherwise the master is scaled up.

Sharing: each (source, seq, width, height) is encoded at most once. Finished JPEGs live in
a byte-bounded LRU cache; callers asking for a key that is being encoded wait for that one
encode (a ``Future`` per key in flight) and get the very same bytes. A size equal to the
master is the master itself. ``encode_count`` counts real encodes.

What never belongs here: finding frames, clocks, threads of its own, HTTP.
"""

from __future__ import annotations

import io
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future

from PIL import Image

from reference_device.capture import JPEG_QUALITY, Frame, encode_jpeg

# The cache serves clients sharing recent frames (many streams, a repeated time=-k);
# a rendition of a frame that left the 30 s history is never asked for again. At 64 MiB
# it held as much as the history itself and kept the device's memory growing for minutes
# under clients (benchmarks/memory.py); 8 MiB is ~190 renditions at 640x480.
DEFAULT_CACHE_BYTES = 8 * 1024 * 1024
# Bilinear is antialiased for downscaling in Pillow and half the cost of Lanczos.
_RESAMPLE = Image.Resampling.BILINEAR

CacheKey = tuple[str, int, int, int]


def crop_box(size: tuple[int, int], target: tuple[int, int]) -> tuple[float, float, float, float]:
    """The centred region of an image of ``size`` that has ``target``'s aspect ratio."""
    width, height = size
    target_width, target_height = target
    if min(width, height, target_width, target_height) < 1:
        raise ValueError(f"sizes must be positive, got {size} and {target}")
    if width * target_height > target_width * height:
        crop_width = height * target_width / target_height
        left = (width - crop_width) / 2
        return left, 0.0, left + crop_width, float(height)
    crop_height = width * target_height / target_width
    top = (height - crop_height) / 2
    return 0.0, top, float(width), top + crop_height


def scale_to(image: Image.Image, target: tuple[int, int]) -> Image.Image:
    """``image`` centre-cropped to ``target``'s aspect ratio and resized to ``target``."""
    return image.resize(target, _RESAMPLE, box=crop_box(image.size, target))


class Encoder:
    """JPEGs of frames at requested sizes, encoded once and shared; thread-safe."""

    def __init__(
        self, *, quality: int = JPEG_QUALITY, max_cache_bytes: int = DEFAULT_CACHE_BYTES
    ) -> None:
        if not 1 <= quality <= 95:
            raise ValueError(f"quality must be in [1, 95], got {quality}")
        if max_cache_bytes < 0:
            raise ValueError(f"max_cache_bytes must not be negative, got {max_cache_bytes}")
        self._quality = quality
        self._max_cache_bytes = max_cache_bytes
        self._lock = threading.Lock()
        self._cache: OrderedDict[CacheKey, bytes] = OrderedDict()
        self._cache_bytes = 0
        self._in_flight: dict[CacheKey, Future[bytes]] = {}
        self._encode_count = 0
        self._waiting = 0

    @property
    def encode_count(self) -> int:
        """How many JPEGs were really encoded (cache hits and shared waits excluded)."""
        with self._lock:
            return self._encode_count

    @property
    def waiting(self) -> int:
        """How many callers are waiting now for an encode another caller is doing."""
        with self._lock:
            return self._waiting

    @property
    def cache_bytes(self) -> int:
        """Bytes of JPEG held in the cache now."""
        with self._lock:
            return self._cache_bytes

    def jpeg(
        self,
        frame: Frame,
        width: int,
        height: int,
        raw: Callable[[], Image.Image] | None = None,
    ) -> bytes:
        """``frame`` as a ``width`` x ``height`` JPEG; ``raw`` renders its native picture."""
        for name, value in (("width", width), ("height", height)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if (width, height) == frame.master_size:
            return frame.master
        key = (frame.source, frame.seq, width, height)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
            pending = self._in_flight.get(key)
            owner = pending is None
            if pending is None:
                pending = Future()
                self._in_flight[key] = pending
            else:
                self._waiting += 1
        if owner:
            return self._encode_as_owner(key, pending, frame, raw)
        try:
            return pending.result()
        finally:
            with self._lock:
                self._waiting -= 1

    def _encode_as_owner(
        self,
        key: CacheKey,
        pending: Future[bytes],
        frame: Frame,
        raw: Callable[[], Image.Image] | None,
    ) -> bytes:
        target = (key[2], key[3])
        try:
            data = encode_jpeg(scale_to(_source_picture(frame, target, raw), target), self._quality)
        except BaseException as exc:
            # Waiters share the failure instead of hanging on a future nobody completes.
            with self._lock:
                del self._in_flight[key]
            pending.set_exception(exc)
            raise
        with self._lock:
            del self._in_flight[key]
            self._encode_count += 1
            self._remember(key, data)
        pending.set_result(data)
        return data

    def _remember(self, key: CacheKey, data: bytes) -> None:
        if len(data) > self._max_cache_bytes:
            return
        self._cache[key] = data
        self._cache_bytes += len(data)
        while self._cache_bytes > self._max_cache_bytes:
            _, evicted = self._cache.popitem(last=False)
            self._cache_bytes -= len(evicted)


def _source_picture(
    frame: Frame, target: tuple[int, int], raw: Callable[[], Image.Image] | None
) -> Image.Image:
    """The picture to scale from: the raw one when the master is too small, else the master."""
    left, _, right, _ = crop_box(frame.master_size, target)
    scale = target[0] / (right - left)
    if scale > 1.0 and raw is not None:
        return raw()
    master = Image.open(io.BytesIO(frame.master))
    # Draft mode lets libjpeg decode at 1/2, 1/4 or 1/8 scale, never below this size.
    wanted = (math.ceil(frame.master_size[0] * scale), math.ceil(frame.master_size[1] * scale))
    master.draft("RGB", wanted)
    return master
