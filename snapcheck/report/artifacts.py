"""What a report shows beside the verdicts: frames, stream timings, latencies, time offsets.

Strategy: the device facade hands every reply it fetched to ``ArtifactCollector.observe``,
which keeps JSON-able artifacts in the run's recorder (``RunRecorder.add_artifact``),
one list per kind:

- ``frame``: a thumbnail of a real frame, one per (resolution, source, delivery, time
  offset) asked for, with the size it really had;
- ``stream``: when each part of an MJPEG stream arrived, requested against achieved fps;
- ``snapshot``: how long a single JPEG took (first byte and whole reply);
- ``time_shift``: the offset a ``time=`` request asked for against the age its frame's
  time code shows.

Ages are measured on the device's own clock, never ours (docs/timecode.md): every live
frame with a time code bounds the offset between the device's clock and the transport's
(capture happens before arrival), the tightest bound wins, and a shifted frame's age is
the device's time when it was asked for minus its capture time. So shifted frames are
kept until ``finish()``, when the best bound is known. The collector never judges,
never sends a request, and never raises for what a device sent: a frame it cannot
decode is simply not pictured.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

from PIL import Image

from snapcheck.checks.stream_reply import Timing
from snapcheck.exchange import Reply, Request
from snapcheck.judge import SNAPSHOT_PATH
from snapcheck.recorder import RunRecorder
from snapcheck.report.pictures import decode_frame, thumbnail_of
from snapcheck.timecode import TimeCode, read_timecode

FRAME, STREAM, SNAPSHOT, TIME_SHIFT = "frame", "stream", "snapshot", "time_shift"
STREAM_MEDIA_TYPE = "multipart/x-mixed-replace"
DEFAULT_SOURCE = "default"
# Bounds that keep report.json and report.html a reasonable size on a long run.
MAX_FRAMES = 120
MAX_SERIES = 600
MAX_ARRIVALS = 2000
# Live snapshots whose time code is read only to bound the device's clock (each read
# costs a decode); stream parts carry theirs for free.
CLOCK_READS = 16


def _number(values: list[str]) -> float | None:
    try:
        value = float(values[-1])
    except (IndexError, ValueError):
        return None
    return value if math.isfinite(value) else None


@dataclass(frozen=True, slots=True)
class Asked:
    """What a snapshot request asked for, as the report labels it."""

    resolution: str | None
    source: str
    fps: float | None
    time_offset_s: float | None

    @classmethod
    def of(cls, request: Request) -> Asked:
        """Read the last value of each parameter (a repeated one is the checks' concern)."""
        width, height = request.param_values("width"), request.param_values("height")
        sized = width and height and width[-1].isdigit() and height[-1].isdigit()
        sources = request.param_values("source")
        return cls(
            resolution=f"{int(width[-1])}x{int(height[-1])}" if sized else None,
            source=sources[-1] if sources else DEFAULT_SOURCE,
            fps=_number(request.param_values("fps")),
            time_offset_s=_number(request.param_values("time")),
        )

    def labels(self) -> dict[str, Any]:
        """The fields every artifact about this request carries."""
        return {"resolution": self.resolution, "source": self.source}


@dataclass(frozen=True, slots=True)
class _Shifted:
    asked: Asked
    asked_at: float
    code: TimeCode | None
    frame: dict[str, Any] | None


class ArtifactCollector:
    """Turns the replies of a run into report artifacts; safe to call from stream threads."""

    def __init__(self, recorder: RunRecorder) -> None:
        self._recorder = recorder
        self._lock = threading.Lock()
        self._pictured: set[tuple[object, ...]] = set()
        self._counts: dict[str, int] = {}
        self._clock_offset: dict[str, float] = {}
        self._clock_reads = 0
        self._shifted: list[_Shifted] = []

    def observe(self, reply: Reply) -> None:
        """Keep what the report shows of one reply (only successful snapshot-path replies)."""
        if reply.request.path != SNAPSHOT_PATH or reply.status != 200:
            return
        asked = Asked.of(reply.request)
        if reply.content_type == STREAM_MEDIA_TYPE:
            self._observe_stream(reply, asked)
        elif reply.content_type == "image/jpeg" and reply.body:
            self._observe_snapshot(reply, asked)

    def finish(self) -> None:
        """Record the time-shifted frames, their ages measured with the best clock bound."""
        with self._lock:
            shifted, self._shifted = self._shifted, []
            offsets = dict(self._clock_offset)
        for item in shifted:
            age = None
            if item.code is not None and item.code.source in offsets:
                device_now = item.asked_at + offsets[item.code.source]
                age = round(device_now - item.code.captured_ms / 1000, 3)
            requested = item.asked.time_offset_s
            self._add(TIME_SHIFT, {
                **item.asked.labels(), "requested_offset_s": requested, "decoded_age_s": age,
                "timecode_source": item.code.source if item.code else None,
            })
            if item.frame is not None:
                self._add(FRAME, {**item.frame, "decoded_age_s": age})

    # ---- one reply

    def _observe_snapshot(self, reply: Reply, asked: Asked) -> None:
        self._add(SNAPSHOT, {
            **asked.labels(), "time_offset_s": asked.time_offset_s,
            "latency_s": round(reply.elapsed_s, 4),
            "first_byte_s": None if reply.first_byte_s is None else round(reply.first_byte_s, 4),
            "bytes": len(reply.body),
        })
        shifted = asked.time_offset_s is not None
        picture = self._claim(asked, "snapshot")
        with self._lock:
            read_clock = not shifted and self._clock_reads < CLOCK_READS
            self._clock_reads += read_clock
        if not (picture or shifted or read_clock):
            return
        image = decode_frame(reply.body)
        code = read_timecode(image) if image is not None and (shifted or read_clock) else None
        frame = self._frame(image, asked, "snapshot", code) if picture and image else None
        if shifted:
            with self._lock:
                self._shifted.append(_Shifted(asked, reply.started_at, code, frame))
            return
        if code is not None:
            self._bound_clock(code, reply.started_at + reply.elapsed_s)
        if frame is not None:
            self._add(FRAME, frame)

    def _observe_stream(self, reply: Reply, asked: Asked) -> None:
        timing = Timing.of(reply)
        self._add(STREAM, {
            **asked.labels(), "requested_fps": asked.fps,
            "achieved_fps": round(timing.rate, 3), "parts": len(reply.parts),
            "window_s": round(timing.window, 3),
            "arrivals_s": [round(t - reply.started_at, 4) for t in timing.completions][
                :MAX_ARRIVALS],
        })
        for part in reply.parts:
            code = part.image.timecode if part.image is not None else None
            if code is not None:
                self._bound_clock(code, part.completed_at)
        last = next((p for p in reversed(reply.parts) if p.body), None)
        if last is None or not self._claim(asked, "stream"):
            return
        image = decode_frame(last.body or b"")
        code = last.image.timecode if last.image is not None else None
        if image is not None:
            self._add(FRAME, self._frame(image, asked, "stream", code))

    # ---- helpers

    def _claim(self, asked: Asked, delivery: str) -> bool:
        """Whether this (resolution, source, delivery, offset) still needs a picture."""
        key = (asked.resolution, asked.source, delivery, asked.time_offset_s)
        with self._lock:
            if key in self._pictured or len(self._pictured) >= MAX_FRAMES:
                return False
            self._pictured.add(key)
            return True

    def _bound_clock(self, code: TimeCode, arrived_at: float) -> None:
        bound = code.captured_ms / 1000 - arrived_at
        with self._lock:
            self._clock_offset[code.source] = max(
                bound, self._clock_offset.get(code.source, bound)
            )

    @staticmethod
    def _frame(
        image: Image.Image, asked: Asked, delivery: str, code: TimeCode | None
    ) -> dict[str, Any]:
        return {
            **asked.labels(), "delivery": delivery, "time_offset_s": asked.time_offset_s,
            "width": image.width, "height": image.height,
            "timecode_source": code.source if code else None,
            "thumbnail": thumbnail_of(image),
        }

    def _add(self, kind: str, item: dict[str, Any]) -> None:
        with self._lock:
            count = self._counts.get(kind, 0)
            if count >= MAX_SERIES:
                return
            self._counts[kind] = count + 1
        self._recorder.add_artifact(kind, item)
