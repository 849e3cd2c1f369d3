"""The reference device's HTTP API: routes, replies, and the rule that nothing ever crashes.

Strategy: one catch-all route hands every request to ``dispatch``, which looks the path up
in ``ENDPOINTS`` (unknown path: error 2, checked first) and the method in
``ALLOWED_METHODS`` (anything but GET and POST: error 3). Every error is HTTP 200 with the
JSON envelope. A valid snapshot request is served by the handler of its ``Mode`` (a table):
one live JPEG, one JPEG from history, or an MJPEG stream. Encoding always runs in the
device's own thread pool, never on the event loop.

``error_middleware`` answers every exception with the envelope: what a client causes
(``CLIENT_FAULTS``: a body that does not decode, a client that left) with its code, and
anything unexpected with error 14, logged and kept in ``Device.errors`` so that an
in-process runner can re-raise it in the test that caused it: never a 5xx, never a stack
trace on the wire. Malformed HTTP that aiohttp refuses before
any handler runs (a bad request line, raw non-ASCII bytes in the target) stays aiohttp's
own 400: a protocol-level refusal, not an API reply.

What never belongs here: parameter rules (params.py), the envelope's shape (envelope.py),
stream framing and pacing (streaming.py), anything about capture or encoding (camera.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from reference_device.camera import Camera, Frame, NoFrameError
from reference_device.clock import Clock, SystemClock
from reference_device.envelope import CONTENT_TYPE as JSON_CONTENT_TYPE
from reference_device.envelope import ApiError, ErrorCode, render_error, render_success
from reference_device.params import (
    Mode,
    RawParams,
    SnapshotRequest,
    parse_snapshot,
    parse_urlencoded,
)
from reference_device.profile import Profile, load_profile
from reference_device.streaming import StreamBroken, stream_plan, stream_snapshots

logger = logging.getLogger(__name__)

ALLOWED_METHODS = frozenset({"GET", "POST"})
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# A form body larger than this is error 13 ("parameter data too big").
MAX_BODY_BYTES = 64 * 1024
# How long a shutdown waits for open connections before closing them.
SHUTDOWN_TIMEOUT_S = 2.0
ENCODER_THREADS = 4


@dataclass(frozen=True, slots=True)
class DeviceOptions:
    """How to run the reference device; shared by the CLI and the in-process runner."""

    host: str = "127.0.0.1"
    port: int = 0
    profile: str | Profile = "default"
    preroll: bool = False
    external_url: str | None = None
    clock: Clock | None = field(default=None, compare=False)

    def load_profile(self) -> Profile:
        """The profile itself (loading it when given by name or path; ProfileError if bad)."""
        return self.profile if isinstance(self.profile, Profile) else load_profile(self.profile)


class ListenError(OSError):
    """The device cannot listen on the address it was given."""


class OptionsError(ValueError):
    """The options contradict the profile (e.g. an external URL but no external source)."""


class Device:
    """The state a running device shares between its handlers."""

    def __init__(self, profile: Profile, camera: Camera) -> None:
        self.profile = profile
        self.camera = camera
        self.errors: list[BaseException] = []
        self.streams: set[asyncio.Task[Any]] = set()
        self._executor = ThreadPoolExecutor(ENCODER_THREADS, "reference-device-encode")

    async def encode(self, frame: Frame, width: int, height: int) -> bytes:
        """The frame as a JPEG of that size, encoded in the device's thread pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.camera.jpeg, frame, width, height)

    def close(self) -> None:
        """Stop the camera and join every thread the device started."""
        try:
            self.camera.stop()
        finally:
            self._executor.shutdown(wait=True)


DEVICE = web.AppKey("device", Device)
Handler = Callable[[web.Request, Device], Awaitable[web.StreamResponse]]


def json_reply(body: bytes) -> web.Response:
    """A JSON reply: always HTTP 200 with ``Content-Type: application/json``."""
    return web.Response(body=body, content_type=JSON_CONTENT_TYPE)


def error_reply(error: ApiError) -> web.Response:
    """The JSON error envelope for ``error``."""
    return json_reply(render_error(error))


async def request_params(request: web.Request) -> RawParams:
    """The query's parameters, then (POST, form-urlencoded) the body's: first value wins."""
    params = parse_urlencoded(request.rel_url.raw_query_string)
    if request.method == "POST" and request.content_type == FORM_CONTENT_TYPE:
        params = params + parse_urlencoded(await request.read())
    return params


async def camera_caps(request: web.Request, device: Device) -> web.StreamResponse:
    """``/api/camera/caps``: the resolutions and sources of the profile, in profile order."""
    profile = device.profile
    return json_reply(
        render_success(
            {
                "jpegResolution": [{"width": w, "height": h} for w, h in profile.resolutions],
                "sources": [{"source": mode.name} for mode in profile.sources],
            }
        )
    )


async def system_info(request: web.Request, device: Device) -> web.StreamResponse:
    """``/api/system/info``: the identity fields of the profile."""
    return json_reply(render_success(dict(device.profile.system_info)))


async def camera_snapshot(request: web.Request, device: Device) -> web.StreamResponse:
    """``/api/camera/snapshot``: validate, then serve the request's mode; error 15 if no data."""
    parsed = parse_snapshot(await request_params(request), device.profile)
    if isinstance(parsed, ApiError):
        return error_reply(parsed)
    try:
        return await MODE_HANDLERS[parsed.mode](request, parsed, device)
    except NoFrameError as exc:
        return error_reply(ApiError(ErrorCode.NO_DATA, description=f"no data available: {exc}"))


def jpeg_reply(jpeg: bytes) -> web.Response:
    """A single JPEG reply."""
    return web.Response(body=jpeg, content_type="image/jpeg")


async def serve_live(
    request: web.Request, snap: SnapshotRequest, device: Device
) -> web.StreamResponse:
    """One JPEG of the source's latest frame."""
    return jpeg_reply(await device.encode(device.camera.latest(snap.source), *snap.served_size))


async def serve_history(
    request: web.Request, snap: SnapshotRequest, device: Device
) -> web.StreamResponse:
    """One JPEG of the frame captured ``time`` seconds ago (fps ignored, size clamped)."""
    assert snap.time is not None  # Mode.HISTORY means time was given
    frame = device.camera.at(snap.source, snap.time)
    return jpeg_reply(await device.encode(frame, *snap.served_size))


async def serve_stream(
    request: web.Request, snap: SnapshotRequest, device: Device
) -> web.StreamResponse:
    """An MJPEG stream at min(fps, the profile's sustainable rate for the size)."""
    plan = stream_plan(snap, device.profile)
    task = asyncio.current_task()
    # Registered so that a shutdown can end open streams at once instead of waiting.
    if task is not None:
        device.streams.add(task)
    try:
        return await stream_snapshots(request, plan, device.camera, device.encode)
    finally:
        if task is not None:
            device.streams.discard(task)


MODE_HANDLERS: Mapping[
    Mode, Callable[[web.Request, SnapshotRequest, Device], Awaitable[web.StreamResponse]]
] = {
    Mode.SINGLE: serve_live,
    Mode.HISTORY: serve_history,
    Mode.STREAM: serve_stream,
}

ENDPOINTS: Mapping[str, Handler] = {
    "/api/camera/caps": camera_caps,
    "/api/camera/snapshot": camera_snapshot,
    "/api/system/info": system_info,
}

# aiohttp's own refusals raised inside a handler, as API error codes.
HTTP_EXCEPTION_CODES: Mapping[int, ErrorCode] = {
    413: ErrorCode.PARAMETER_TOO_BIG,
}

# Exceptions a client causes, never a bug of the device: answered, logged, not kept.
CLIENT_FAULTS: Mapping[type[Exception], ApiError] = {
    # A form body whose Content-Encoding does not decode.
    web.RequestPayloadError: ApiError(
        ErrorCode.INVALID_PARAMETER,
        description="invalid parameter value: the request body cannot be read",
    ),
    # The client left while its request was read or the reply begun: nobody reads this.
    ConnectionError: ApiError(ErrorCode.PROCESSING_ERROR, description="connection lost"),
}


async def dispatch(request: web.Request) -> web.StreamResponse:
    """Every request: the path first (error 2), then the method (error 3), then the endpoint."""
    handler = ENDPOINTS.get(request.path)
    if handler is None:
        return error_reply(ApiError(ErrorCode.INVALID_PATH))
    if request.method not in ALLOWED_METHODS:
        return error_reply(ApiError(ErrorCode.INVALID_METHOD))
    return await handler(request, request.app[DEVICE])


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Any exception becomes a JSON error: a client's fault its code, else 14 (logged, kept)."""
    try:
        return await handler(request)
    except StreamBroken as exc:
        cause = exc.__cause__ or exc
        logger.error("stream of %s broke", request.rel_url, exc_info=cause)
        request.app[DEVICE].errors.append(cause)
        return exc.response
    except web.HTTPException as exc:
        code = HTTP_EXCEPTION_CODES.get(exc.status, ErrorCode.PROCESSING_ERROR)
        logger.info(
            "%s %s refused by aiohttp (%d): error %d",
            request.method,
            request.path,
            exc.status,
            code,
        )
        return error_reply(ApiError(code))
    except Exception as exc:
        fault = next((e for kind, e in CLIENT_FAULTS.items() if isinstance(exc, kind)), None)
        if fault is not None:
            logger.info("%s %s: %s (%r)", request.method, request.path, fault.text, exc)
            return error_reply(fault)
        logger.exception("error 14 for %s %s", request.method, request.rel_url)
        request.app[DEVICE].errors.append(exc)
        return error_reply(ApiError(ErrorCode.PROCESSING_ERROR))


async def _server_header(request: web.Request, response: web.StreamResponse) -> None:
    # The firmware version rides in the Server header, as on the real devices.
    response.headers["Server"] = request.app[DEVICE].profile.server_header


async def _end_streams(app: web.Application) -> None:
    for task in list(app[DEVICE].streams):
        task.cancel()


def build_app(device: Device) -> web.Application:
    """The aiohttp application of a device (the caller owns the device's lifetime)."""
    app = web.Application(middlewares=[error_middleware], client_max_size=MAX_BODY_BYTES)
    app[DEVICE] = device
    app.on_response_prepare.append(_server_header)
    app.on_shutdown.append(_end_streams)
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app


def start_device(options: DeviceOptions, profile: Profile) -> Device:
    """Create the camera for ``options`` and start it (preroll included); OptionsError."""
    clock = options.clock if options.clock is not None else SystemClock()
    try:
        camera = Camera(profile, clock, preroll=options.preroll, external_url=options.external_url)
    except ValueError as exc:
        raise OptionsError(str(exc)) from exc
    camera.start()
    return Device(profile, camera)


async def serve(
    options: DeviceOptions, ready: Callable[[str, Device], None], stop: asyncio.Event
) -> None:
    """Serve the device until ``stop`` is set; ``ready(base_url, device)`` once listening."""
    profile = options.load_profile()
    device = start_device(options, profile)
    try:
        async with _listening(build_app(device), options) as url:
            ready(url, device)
            await stop.wait()
    finally:
        device.close()


@asynccontextmanager
async def _listening(app: web.Application, options: DeviceOptions) -> AsyncIterator[str]:
    runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_TIMEOUT_S, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, options.host, options.port)
        try:
            await site.start()
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise ListenError(f"cannot listen on {options.host}:{options.port}: {reason}") from exc
        yield _base_url(runner)
    finally:
        await runner.cleanup()


def _base_url(runner: web.AppRunner) -> str:
    host, port = runner.addresses[0][:2]
    # An IPv6 literal needs brackets in a URL.
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
