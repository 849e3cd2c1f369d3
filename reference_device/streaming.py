"""The MJPEG stream (``fps >= 1``): ``multipart/x-mixed-replace`` paced by absolute deadlines.

Strategy: one stream is one loop in its request handler. At each deadline
``start + k/rate`` (on the injected clock's monotonic time, so the rate never drifts) it
takes the camera's latest frame, has it encoded off the event loop, and writes one part.
Each write is awaited before the next frame is taken, so a slow client simply gets the
latest frame at its own pace and no queue ever grows. The rate delivered is
``min(fps, profile.sustainable_rate(width, height))``: the device model's limit, never the
source's capture rate. Like a real intercom, whose send clock is not its sensor's, a
stream asked for more parts per second than the source captures gets them all, and a
part whose deadline comes before the camera captured anything new re-sends the latest
frame (already encoded: it costs nothing). The stream never freezes (a new frame follows
within one capture period) and never goes back in time, which is what STREAM-FRESH-1
judges; delivering fewer parts than asked would be a STREAM-RATE shortfall instead.

Framing (what ffmpeg, go2rtc, VLC, Chromium and Home Assistant all accept): a leading
boundary before the first part, then per part ``Content-Type: image/jpeg`` and
``Content-Length`` headers, CRLF line ends, and the next boundary right after each JPEG so
that clients which paint a part only when the next one starts paint it at once. There is
no closing boundary: the stream ends when the client goes (or the device shuts down).
All of this is ``STRICT_STYLE``; a deliberate fault (faults.py) hands in another
``StreamStyle`` that frames or paces the stream wrongly.

What never belongs here: parameter parsing, JSON errors, encoding itself.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from reference_device.camera import Camera, Frame, NoFrameError
from reference_device.clock import Clock
from reference_device.params import SnapshotRequest
from reference_device.profile import Profile

logger = logging.getLogger(__name__)

BOUNDARY = "snapcheckframe"
CONTENT_TYPE = f"multipart/x-mixed-replace; boundary={BOUNDARY}"
# The longest sleep between two looks at the clock and the client.
_POLL_S = 0.25

Encode = Callable[[Frame, int, int], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class StreamStyle:
    """How a stream is framed and paced; the defaults are the contract's (faults.py varies them).

    ``body_boundary`` is written between parts (the header always declares ``BOUNDARY``);
    ``length_error`` is added to each part's Content-Length; ``rate_factor`` multiplies the
    rate; after ``parts_before_stall`` parts nothing more is sent until the client leaves;
    a ``frozen`` stream re-sends its first frame.
    """

    leading_boundary: bool = True
    part_content_type: bool = True
    length_error: int = 0
    body_boundary: str = BOUNDARY
    rate_factor: float = 1.0
    parts_before_stall: int | None = None
    frozen: bool = False

    @property
    def delimiter(self) -> bytes:
        """The line that opens a part."""
        return b"--" + self.body_boundary.encode("ascii") + b"\r\n"


STRICT_STYLE = StreamStyle()


@dataclass(frozen=True, slots=True)
class StreamPlan:
    """What one stream sends: which source, at which size, at which rate (frames/s)."""

    source: str
    width: int
    height: int
    rate: float


class StreamBroken(Exception):
    """An unexpected error after the stream's headers went out; carries the open response.

    The error middleware records the cause and returns the response as it is, because a
    JSON error can no longer be sent once the multipart headers are on the wire.
    """

    def __init__(self, response: web.StreamResponse) -> None:
        super().__init__("the stream broke after its headers were sent")
        self.response = response


class Pacer:
    """Absolute deadlines ``start + k/rate``; a sender late by a whole period skips a slot.

    A slot is never sent before its deadline, so the parts sent by any moment never
    outnumber the slots due by then (over a whole stream, never more parts than asked).
    """

    def __init__(self, clock: Clock, rate: float) -> None:
        if not rate > 0 or math.isinf(rate):
            raise ValueError(f"a stream rate must be positive and finite, got {rate!r}")
        self._clock = clock
        self._rate = rate
        self._start = clock.monotonic()
        self._index = 0

    @property
    def index(self) -> int:
        """The number of the slot the next frame belongs to."""
        return self._index

    def delay(self) -> float:
        """Seconds until the next frame is due (0 when it is due already)."""
        return max(0.0, self._start + self._index / self._rate - self._clock.monotonic())

    def sent(self) -> None:
        """Record that the due frame went out; the next slot is the latest one already due."""
        # A hiccup shorter than a period (a slow encode, a busy core) costs no part: the
        # slot it delayed goes out at once. A client that stalled longer must not get a
        # burst of catch-up frames: every slot but the latest one due is skipped, so at
        # most two parts ever follow each other without a pause.
        latest_due = math.floor((self._clock.monotonic() - self._start) * self._rate)
        self._index = max(self._index + 1, latest_due)


def multipart_part(jpeg: bytes, style: StreamStyle = STRICT_STYLE) -> bytes:
    """One part: its headers, the JPEG, and the delimiter that opens the next part."""
    kind = "Content-Type: image/jpeg\r\n" if style.part_content_type else ""
    length = len(jpeg) + style.length_error
    head = f"{kind}Content-Length: {length}\r\n\r\n".encode("ascii")
    return head + jpeg + b"\r\n" + style.delimiter


def stream_plan(request: SnapshotRequest, profile: Profile) -> StreamPlan:
    """What a stream request gets: its size, at the lower of fps and the model's rate."""
    if request.fps is None:
        raise ValueError("a stream needs fps")
    width, height = request.served_size
    rate = min(request.fps, profile.sustainable_rate(width, height))
    return StreamPlan(request.source, width, height, rate)


async def stream_snapshots(
    request: web.Request,
    plan: StreamPlan,
    camera: Camera,
    encode: Encode,
    style: StreamStyle = STRICT_STYLE,
) -> web.StreamResponse:
    """Serve an MJPEG stream until the client leaves; NoFrameError before the first part."""
    # The first frame is encoded before the headers, so "no data" can still be JSON.
    sent = camera.latest(plan.source)
    jpeg = await encode(sent, plan.width, plan.height)
    response = web.StreamResponse(
        headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    pacer = Pacer(camera.clock, plan.rate * style.rate_factor)
    parts = 0
    try:
        if style.leading_boundary:
            await response.write(style.delimiter)
        while True:
            if parts == style.parts_before_stall:
                await until_client_leaves(request)
                break
            await response.write(multipart_part(jpeg, style))
            parts += 1
            pacer.sent()
            if not await _next_slot(pacer, request):
                break
            latest = camera.latest(plan.source)
            if latest.seq != sent.seq and not style.frozen:
                # Only a new frame is encoded; otherwise the last part's JPEG goes again.
                sent = latest
                jpeg = await encode(sent, plan.width, plan.height)
    except ConnectionResetError:
        logger.debug("stream client left at slot %d", pacer.index)
    except NoFrameError as exc:
        logger.warning("stream of %s ended at slot %d: %s", plan.source, pacer.index, exc)
    except Exception as exc:
        raise StreamBroken(response) from exc
    return response


async def _next_slot(pacer: Pacer, request: web.Request) -> bool:
    """Wait until the next frame is due; False when the client left meanwhile."""
    # Re-reading the clock after each sleep lets an injected clock (a ManualClock in
    # tests) pace the stream, and notices a client that left during a long wait.
    while (delay := pacer.delay()) > 0:
        await asyncio.sleep(min(delay, _POLL_S))
        if client_gone(request):
            return False
    return not client_gone(request)


async def until_client_leaves(request: web.Request, limit_s: float = math.inf) -> None:
    """Send nothing; return once the client has closed the connection (or after ``limit_s``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not client_gone(request) and (left := deadline - loop.time()) > 0:
        await asyncio.sleep(min(left, _POLL_S))


def client_gone(request: web.Request) -> bool:
    """Whether the client of ``request`` has closed its connection."""
    transport = request.transport
    return transport is None or transport.is_closing()
