"""The reference device's HTTP API: routes, replies, and the rule that nothing ever crashes.

Strategy: one catch-all route hands every request to ``dispatch``, which looks the path up
in ``ENDPOINTS`` (unknown path: error 2, checked first) and the method in
``ALLOWED_METHODS`` (anything but GET and POST: error 3). A Camera endpoint
(``CAMERA_SERVICE``) then asks access control (access.py) whether the request may proceed;
its refusals are rendered as they come (HTTP 401 with challenges for authentication, else
200). Every other error is HTTP 200 with the JSON envelope. A valid snapshot request is
served by the handler of its ``Mode`` (a table): one live JPEG, one JPEG from history, or
an MJPEG stream. Encoding always runs in the
device's own thread pool, never on the event loop.

``error_middleware`` answers every exception with the envelope: what a client causes
(``CLIENT_FAULTS``: a body that does not decode, a client that left) with its code, and
anything unexpected with error 14, logged and kept in ``Device.errors`` so that an
in-process runner can re-raise it in the test that caused it: never a 5xx, never a stack
trace on the wire. Malformed HTTP that aiohttp refuses before
any handler runs (a bad request line, raw non-ASCII bytes in the target) stays aiohttp's
own 400: a protocol-level refusal, not an API reply. A request's head, then its form
body, must arrive within the request timeout (10 s), and a stream beyond the device's
limit on concurrent streams is refused with error 18 (both in limits.py).

With ``https`` the device listens with TLS (tls.py) and, on a second port, for plain
HTTP: the same API, where the Camera service answers error 7 when it is HTTPS-only.

What never belongs here: parameter rules (params.py), the envelope's shape (envelope.py),
stream framing and pacing (streaming.py), anything about capture or encoding (camera.py),
access rules (access.py), certificates (tls.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from reference_device.access import (
    DEFAULT_NONCE_LIFETIME_S,
    AccessControl,
    AccessRequest,
    Account,
    Authentication,
    Refusal,
    check_accounts,
)
from reference_device.camera import Camera, Frame, NoFrameError
from reference_device.clock import Clock, SystemClock
from reference_device.envelope import CONTENT_TYPE as JSON_CONTENT_TYPE
from reference_device.envelope import ApiError, ErrorCode, render_error, render_success
from reference_device.fault_behaviours import NO_FAULTS, FaultSet, Payload
from reference_device.faults import fault_names, fault_set
from reference_device.limits import REQUEST_HEAD_TIMEOUT_S, BodyTooSlow, StreamLimit, read_body
from reference_device.params import (
    Mode,
    RawParams,
    SnapshotRequest,
    parse_snapshot,
    parse_urlencoded,
)
from reference_device.profile import Profile, load_profile
from reference_device.streaming import (
    StreamBroken,
    client_gone,
    stream_plan,
    stream_snapshots,
    until_client_leaves,
)
from reference_device.tls import ServerTls, server_tls

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
    """How to run the reference device; shared by the CLI and the in-process runner.

    Access (see access.py): ``auth`` and ``users`` (at most 5; strings ``NAME:PASSWORD``
    or ``NAME:PASSWORD:nocamera`` are parsed), ``https`` (TLS from ``cert``/``key``, else
    a self-signed certificate; plain HTTP on ``plain_port``), ``https_only`` (implies
    ``https``; plain HTTP gets error 7), ``camera_api`` (False: error 4).
    ``faults`` switches on deliberate defects (faults.py; ``"a,b"`` or names), to prove
    that snapcheck notices them. ``max_streams`` limits concurrent streams (None: the
    profile's limit, if any); ``request_timeout_s`` is the time a request's head, and
    then its body, may take to arrive (limits.py). Contradictory options raise
    ``OptionsError``.
    """

    host: str = "127.0.0.1"
    port: int = 0
    profile: str | Profile = "default"
    preroll: bool = False
    external_url: str | None = None
    clock: Clock | None = field(default=None, compare=False)
    auth: Authentication = Authentication.NONE
    users: tuple[Account, ...] = ()
    https: bool = False
    cert: Path | None = None
    key: Path | None = None
    https_only: bool = False
    plain_port: int = 0
    camera_api: bool = True
    nonce_lifetime_s: float = DEFAULT_NONCE_LIFETIME_S
    faults: frozenset[str] = frozenset()
    max_streams: int | None = None
    request_timeout_s: float = REQUEST_HEAD_TIMEOUT_S

    def __post_init__(self) -> None:
        try:
            auth = Authentication(self.auth)
            users = tuple(Account.parse(u) if isinstance(u, str) else u for u in self.users)
            check_accounts(auth, users)
            faults = fault_names(self.faults)
        except ValueError as exc:
            raise OptionsError(str(exc)) from exc
        # Frozen: the parsed forms replace what was given.
        object.__setattr__(self, "auth", auth)
        object.__setattr__(self, "users", users)
        object.__setattr__(self, "https", self.https or self.https_only)
        object.__setattr__(self, "faults", faults)
        for problem in _option_conflicts(self):
            raise OptionsError(problem)

    def load_profile(self) -> Profile:
        """The profile itself (loading it when given by name or path; ProfileError if bad)."""
        return self.profile if isinstance(self.profile, Profile) else load_profile(self.profile)


def _option_conflicts(options: DeviceOptions) -> list[str]:
    """What contradicts what among the access options."""
    rules = (
        (options.cert is None and options.key is not None, "--key needs --cert"),
        (options.cert is not None and not options.https, "--cert needs --https"),
        (not options.nonce_lifetime_s > 0, "the nonce lifetime must be positive"),
        (options.max_streams is not None and options.max_streams < 1, "--max-streams is >= 1"),
        (not 0 < options.request_timeout_s < float("inf"), "the request timeout must be > 0"),
    )
    return [problem for broken, problem in rules if broken]


class ListenError(OSError):
    """The device cannot listen on the address it was given."""


class OptionsError(ValueError):
    """The options contradict each other or the profile (e.g. an external URL but no
    external source, more than 5 accounts, a certificate that cannot be read)."""


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where a running device listens: its base URL, the plain-HTTP one beside HTTPS, and
    the SHA-256 fingerprint of the certificate it presents over HTTPS."""

    url: str
    plain_url: str | None = None
    certificate_sha256: str | None = None


class Device:
    """The state a running device shares between its handlers."""

    def __init__(
        self,
        profile: Profile,
        camera: Camera,
        access: AccessControl | None = None,
        faults: FaultSet = NO_FAULTS,
        *,
        max_streams: int | None = None,
        request_timeout_s: float = REQUEST_HEAD_TIMEOUT_S,
    ) -> None:
        self.profile = profile
        self.camera = camera
        self.access = access if access is not None else AccessControl(SystemClock())
        self.faults = faults
        # What the device serves and guards: the contract's sets unless a fault changes them.
        self.allowed_methods = faults.methods(ALLOWED_METHODS)
        self.guarded = CAMERA_SERVICE - faults.unguarded
        self.endpoints: Endpoints | None = None  # known once listening
        self.errors: list[BaseException] = []
        self.streams: set[asyncio.Task[Any]] = set()
        self.stream_limit = StreamLimit[web.Request](max_streams, lambda r: not client_gone(r))
        self.request_timeout_s = request_timeout_s
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


def refusal_reply(refusal: Refusal) -> web.Response:
    """Access control's refusal: its status, its error, one WWW-Authenticate per challenge."""
    response = web.Response(
        status=refusal.status, body=render_error(refusal.error), content_type=JSON_CONTENT_TYPE
    )
    for challenge in refusal.challenges:
        response.headers.add("WWW-Authenticate", challenge)
    return response


async def request_params(request: web.Request) -> RawParams:
    """The query's parameters, then (POST, form-urlencoded) the body's: first value wins."""
    params = parse_urlencoded(request.rel_url.raw_query_string)
    if request.method == "POST" and request.content_type == FORM_CONTENT_TYPE:
        timeout_s = request.app[DEVICE].request_timeout_s
        params = params + parse_urlencoded(await read_body(request, timeout_s))
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
    parsed = parse_snapshot(await request_params(request), device.profile, device.faults.rules)
    if isinstance(parsed, ApiError):
        return error_reply(parsed)
    if device.faults.request_rewrites:
        parsed = device.faults.rewrite_request(parsed, device.profile)
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
    with device.stream_limit.slot(request) as refusal, _ended_by_shutdown(device):
        if refusal is not None:
            return error_reply(refusal)
        style = device.faults.stream_style
        return await stream_snapshots(request, plan, device.camera, device.encode, style)


@contextmanager
def _ended_by_shutdown(device: Device) -> Iterator[None]:
    """Register the handler's task so that a shutdown ends it at once instead of waiting."""
    task = asyncio.current_task()
    if task is not None:
        device.streams.add(task)
    try:
        yield
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

# The endpoints of the Camera service: guarded by access control. Others are open to all.
CAMERA_SERVICE = frozenset({"/api/camera/caps", "/api/camera/snapshot"})

# aiohttp's own refusals raised inside a handler, as API error codes.
HTTP_EXCEPTION_CODES: Mapping[int, ErrorCode] = {
    # aiohttp's router finds no route for a target that is not a path ("OPTIONS *").
    404: ErrorCode.INVALID_PATH,
    413: ErrorCode.PARAMETER_TOO_BIG,
}

# Refused at the protocol level (400, connection closed), never with the API's HTTP 200:
# a 2xx answer to CONNECT tells the client its tunnel is open (RFC 9110, 9.3.6), and
# aiohttp drops the body of such an answer.
TUNNEL_METHODS = frozenset({"CONNECT"})

# Exceptions a client causes, never a bug of the device: answered, logged, not kept.
CLIENT_FAULTS: Mapping[type[Exception], ApiError] = {
    # A form body whose Content-Encoding does not decode.
    web.RequestPayloadError: ApiError(
        ErrorCode.INVALID_PARAMETER,
        description="invalid parameter value: the request body cannot be read",
    ),
    # The client left while its request was read or the reply begun: nobody reads this.
    ConnectionError: ApiError(ErrorCode.PROCESSING_ERROR, description="connection lost"),
    # The client sent a head but not the body it announced, in time (limits.py).
    BodyTooSlow: ApiError(ErrorCode.PROCESSING_ERROR, description="the request body is late"),
}


async def dispatch(request: web.Request) -> web.StreamResponse:
    """Every request: routed, then (only with a deliberate fault on) rewritten and delivered."""
    device = request.app[DEVICE]
    response = await route(request, device)
    if device.faults.reply_rewrites and isinstance(response, web.Response):  # never a stream
        rewritten = device.faults.rewrite_reply(payload_of(request, response))
        return await deliver(request, device, rewritten)
    return response


def payload_of(request: web.Request, response: web.Response) -> Payload:
    """A plain reply as a deliberate fault sees it (status, media type, body, other headers)."""
    own = {"content-type", "content-length"}
    return Payload(
        request.method,
        request.path,
        response.status,
        response.content_type,
        bytes(response.body) if isinstance(response.body, (bytes, bytearray)) else b"",
        tuple((k, v) for k, v in response.headers.items() if k.lower() not in own),
    )


async def deliver(request: web.Request, device: Device, sent: Payload) -> web.StreamResponse:
    """A reply a fault rewrote: late by its delay; with a lying Content-Length, held open."""
    with _ended_by_shutdown(device):
        if sent.delay_s:
            await until_client_leaves(request, sent.delay_s)
        if sent.declared_length is None:
            response = web.Response(status=sent.status, body=sent.body, headers=sent.headers)
            response.content_type = sent.content_type
            return response
        held = web.StreamResponse(status=sent.status, headers=sent.headers)
        held.content_type = sent.content_type
        held.content_length = sent.declared_length
        await held.prepare(request)
        await held.write(sent.body)
        await until_client_leaves(request)
        return held


async def route(request: web.Request, device: Device) -> web.StreamResponse:
    """The path (error 2), the method (error 3), access, then the endpoint."""
    handler = ENDPOINTS.get(request.path)
    if handler is None:
        return error_reply(ApiError(ErrorCode.INVALID_PATH))
    if request.method not in device.allowed_methods:
        return error_reply(ApiError(ErrorCode.INVALID_METHOD))
    # Guarded by the same decoded path that chose the handler: no spelling slips past.
    if request.path in device.guarded:
        asked = AccessRequest(
            request.method, request.raw_path, request.secure, request.headers.get("Authorization")
        )
        decision = device.access.decide(asked)
        if isinstance(decision, Refusal):
            return refusal_reply(decision)
    return await handler(request, device)


@web.middleware
async def tunnel_refusal(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """CONNECT (``TUNNEL_METHODS``) gets a plain 400 and a closed connection, before routing."""
    if request.method not in TUNNEL_METHODS:
        return await handler(request)
    refusal = web.Response(status=400, text=f"{request.method} is not served")
    refusal.force_close()
    return refusal


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
    app = web.Application(
        middlewares=[tunnel_refusal, error_middleware], client_max_size=MAX_BODY_BYTES
    )
    app[DEVICE] = device
    app.on_response_prepare.append(_server_header)
    app.on_shutdown.append(_end_streams)
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app


def access_control(
    options: DeviceOptions, clock: Clock, faults: FaultSet = NO_FAULTS
) -> AccessControl:
    """The Camera service's security, as ``options`` configure it (and access faults break it)."""
    return AccessControl(
        clock,
        auth=options.auth,
        accounts=options.users,
        https_only=options.https_only,
        camera_enabled=options.camera_api,
        faults=faults.access,
        nonce_lifetime_s=options.nonce_lifetime_s,
    )


def start_device(options: DeviceOptions, profile: Profile) -> Device:
    """Create the camera for ``options`` and start it (preroll included); OptionsError."""
    clock = options.clock if options.clock is not None else SystemClock()
    try:
        camera = Camera(profile, clock, preroll=options.preroll, external_url=options.external_url)
    except ValueError as exc:
        raise OptionsError(str(exc)) from exc
    camera.start()
    faults = fault_set(options.faults)
    return Device(
        profile,
        camera,
        access_control(options, clock, faults),
        faults,
        max_streams=options.max_streams if options.max_streams is not None else profile.max_streams,
        request_timeout_s=options.request_timeout_s,
    )


def _server_tls(options: DeviceOptions) -> ServerTls | None:
    """The TLS setup when ``https`` is on (OptionsError when the certificate is unusable)."""
    if not options.https:
        return None
    now = (options.clock or SystemClock()).now()
    try:
        return server_tls(options.host, now, options.cert, options.key)
    except ValueError as exc:
        raise OptionsError(str(exc)) from exc


async def serve(
    options: DeviceOptions, ready: Callable[[str, Device], None], stop: asyncio.Event
) -> None:
    """Serve the device until ``stop`` is set; ``ready(base_url, device)`` once listening.

    ``device.endpoints`` says where it listens (and, with HTTPS, the plain-HTTP URL and
    the certificate's fingerprint) by the time ``ready`` is called.
    """
    profile = options.load_profile()
    tls = _server_tls(options)
    device = start_device(options, profile)
    try:
        async with _listening(build_app(device), options, tls) as endpoints:
            device.endpoints = endpoints
            ready(endpoints.url, device)
            await stop.wait()
    finally:
        device.close()


async def _start_site(site: web.TCPSite, host: str, port: int) -> None:
    try:
        await site.start()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ListenError(f"cannot listen on {host}:{port}: {reason}") from exc


@asynccontextmanager
async def _listening(
    app: web.Application, options: DeviceOptions, tls: ServerTls | None
) -> AsyncIterator[Endpoints]:
    # aiohttp's keep-alive timer is the only bound on reading a request head (limits.py).
    runner = web.AppRunner(
        app,
        shutdown_timeout=SHUTDOWN_TIMEOUT_S,
        handle_signals=False,
        keepalive_timeout=options.request_timeout_s,
    )
    await runner.setup()
    try:
        context = tls.context if tls is not None else None
        main = web.TCPSite(runner, options.host, options.port, ssl_context=context)
        await _start_site(main, options.host, options.port)
        host = runner.addresses[0][0]
        if tls is None:
            yield Endpoints(_url("http", host, main.port))
            return
        plain = web.TCPSite(runner, options.host, options.plain_port)
        await _start_site(plain, options.host, options.plain_port)
        yield Endpoints(
            _url("https", host, main.port), _url("http", host, plain.port), tls.certificate_sha256
        )
    finally:
        await runner.cleanup()


def _url(scheme: str, host: str, port: int) -> str:
    # An IPv6 literal needs brackets in a URL.
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"
