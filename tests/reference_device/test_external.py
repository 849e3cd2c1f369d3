"""Tests of reference_device.external: a real camera on 127.0.0.1, lost and found again."""

from __future__ import annotations

import asyncio
import io
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator

import pytest
import zxingcpp
from aiohttp import web
from PIL import Image

from reference_device.camera import Camera, NoFrameError
from reference_device.capture import encode_jpeg
from reference_device.clock import SystemClock
from reference_device.external import ExternalPuller, PullOptions
from reference_device.profile import load_profile

CAMERA_SIZE = (320, 240)
CAMERA_COLOUR = (200, 30, 30)
PICTURE = encode_jpeg(Image.new("RGB", CAMERA_SIZE, CAMERA_COLOUR))
FAST = PullOptions(read_timeout_s=1.0, backoff_initial_s=0.02, backoff_max_s=0.1)
WAIT_S = 30.0  # generous: these waits end as soon as the event happens


async def snapshot(request: web.Request) -> web.Response:
    return web.Response(body=PICTURE, content_type="image/jpeg")


def mjpeg(
    head: bytes, part: Callable[[bytes], bytes]
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A handler streaming PICTURE every 20 ms with the given Content-Type and framing."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": head.decode()})
        await response.prepare(request)
        try:
            while True:
                await response.write(part(PICTURE))
                await asyncio.sleep(0.02)
        except ConnectionResetError:
            pass  # the puller hung up: the stream is over
        return response

    return handler


async def closing(request: web.Request) -> web.StreamResponse:
    """Two parts without Content-Length, then the closing delimiter, then the end."""
    response = web.StreamResponse(headers={"Content-Type": "multipart/x-mixed-replace;boundary=b"})
    await response.prepare(request)
    part = b"--b\r\nContent-Type: image/jpeg\r\n\r\n" + PICTURE + b"\r\n"
    await response.write(part + part + b"--b--\r\n")
    await response.write_eof()
    return response


async def stall(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "multipart/x-mixed-replace; boundary=x"})
    await response.prepare(request)
    await asyncio.sleep(3600)
    return response


async def text(request: web.Request) -> web.Response:
    return web.Response(text="hello", content_type="text/plain")


async def garbage(request: web.Request) -> web.Response:
    return web.Response(body=b"\xff\xd8 not a picture", content_type="image/jpeg")


ROUTES = {
    "/snapshot.jpg": snapshot,
    # Content-Length per part, boundary before each part.
    "/stream.mjpg": mjpeg(
        b"multipart/x-mixed-replace; boundary=frame",
        lambda p: (
            b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n%s\r\n" % (len(p), p)
        ),
    ),
    # Boundary declared with a leading "--", no Content-Length, boundary after each part.
    "/bare.mjpg": mjpeg(
        b'multipart/x-mixed-replace; boundary="--myboundary"',
        lambda p: b"--myboundary\r\nContent-Type: image/jpeg\r\n\r\n" + p + b"\r\n",
    ),
    "/closing.mjpg": closing,
    "/stall.mjpg": stall,
    "/hello.txt": text,
    "/garbage.jpg": garbage,
}


class FakeCamera:
    """An aiohttp server on 127.0.0.1 in a thread of its own; it can stop and come back."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-camera")
        self._thread.start()
        self._runner: web.AppRunner | None = None
        self.port = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(WAIT_S)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(WAIT_S)

    def close(self) -> None:
        self.stop()
        asyncio.run_coroutine_threadsafe(self._drain(), self._loop).result(WAIT_S)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application()
        for path, handler in ROUTES.items():
            app.router.add_get(path, handler)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        # Port 0 the first time; the same port when the camera comes back.
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _drain(self) -> None:
        # Handlers of connections the server dropped may still be finishing.
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@pytest.fixture
def fake_camera() -> Iterator[FakeCamera]:
    """A started fake camera, closed after the test."""
    server = FakeCamera()
    server.start()
    yield server
    server.close()


@pytest.fixture
def threads_before() -> Iterator[set[threading.Thread]]:
    """The threads alive before the test; the test must leave no other behind."""
    before = set(threading.enumerate())
    yield before
    assert set(threading.enumerate()) <= before


def camera_on(url: str) -> Camera:
    camera = Camera(load_profile("default"), SystemClock(), external_url=url, pull_options=FAST)
    camera.start(threads=False)
    return camera


def assert_is_the_cameras_own_picture(jpeg: bytes) -> None:
    picture = Image.open(io.BytesIO(jpeg)).convert("RGB")
    assert picture.size == CAMERA_SIZE
    assert picture.getpixel((160, 120)) == pytest.approx(CAMERA_COLOUR, abs=8)
    assert zxingcpp.read_barcodes(picture) == []  # no time code is burned into it


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/snapshot.jpg"


def test_an_unreachable_camera_gives_no_frame(threads_before: set[threading.Thread]) -> None:
    camera = camera_on(closed_port_url())
    try:
        assert camera.puller is not None and camera.puller.wait_attempts(2, WAIT_S)
        with pytest.raises(NoFrameError, match=r"is unreachable: .*Connect"):
            camera.latest("external")
        with pytest.raises(NoFrameError):
            camera.at("external", -1)
        assert camera.history_s("external") == 0.0
        assert not camera.reachable("external")
        assert camera.latest("internal").seq == 0  # the other source does not care
    finally:
        camera.stop()


@pytest.mark.parametrize("path", ["/snapshot.jpg", "/stream.mjpg", "/bare.mjpg"])
def test_frames_of_a_real_camera_go_through_the_same_buffer(
    fake_camera: FakeCamera, threads_before: set[threading.Thread], path: str
) -> None:
    camera = camera_on(fake_camera.url(path))
    try:
        assert camera.wait_captured("external", 3, WAIT_S)
        frames = [camera.at("external", 0), camera.latest("external")]
        assert frames[1].seq >= 2 and frames[0].seq <= frames[1].seq
        assert frames[1].native_size == frames[1].master_size == CAMERA_SIZE
        assert_is_the_cameras_own_picture(frames[1].master)
        assert_is_the_cameras_own_picture(camera.jpeg(frames[1], *CAMERA_SIZE))
        assert Image.open(io.BytesIO(camera.jpeg(frames[1], 640, 480))).size == (640, 480)
    finally:
        camera.stop()


@pytest.mark.parametrize("path", ["/snapshot.jpg", "/stream.mjpg"])
def test_a_camera_that_goes_away_gives_no_frame_until_it_comes_back(
    fake_camera: FakeCamera, threads_before: set[threading.Thread], path: str
) -> None:
    camera = camera_on(fake_camera.url(path))
    try:
        assert camera.wait_reachable("external", True, WAIT_S)
        before = camera.latest("external").seq
        fake_camera.stop()
        assert camera.wait_reachable("external", False, WAIT_S)
        with pytest.raises(NoFrameError):
            camera.latest("external")
        with pytest.raises(NoFrameError):
            camera.at("external", 0)
        fake_camera.start()
        assert camera.wait_reachable("external", True, WAIT_S)
        assert camera.latest("external").seq > before
    finally:
        camera.stop()


def pulled(url: str, options: PullOptions = FAST) -> tuple[ExternalPuller, list[bytes]]:
    received: list[bytes] = []
    puller = ExternalPuller(url, fps=10, deliver=received.append, options=options)
    puller.start()
    return puller, received


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/hello.txt", "unsupported Content-Type 'text/plain'"),
        ("/missing", "HTTP 404"),
        ("/stall.mjpg", "TimeoutError"),
    ],
)
def test_failures_are_recorded_and_retried(
    fake_camera: FakeCamera, threads_before: set[threading.Thread], path: str, error: str
) -> None:
    options = PullOptions(read_timeout_s=0.2, backoff_initial_s=0.01, backoff_max_s=0.02)
    puller, received = pulled(fake_camera.url(path), options)
    try:
        assert puller.wait_attempts(3, WAIT_S)  # it keeps retrying
        assert error in (puller.last_error or "")
        assert puller.failures >= 3
        assert not puller.reachable and received == []
    finally:
        puller.stop()


def test_a_picture_the_capture_refuses_is_counted_not_fatal(
    fake_camera: FakeCamera, threads_before: set[threading.Thread]
) -> None:
    def refuse(data: bytes) -> None:
        raise ValueError("not a decodable image")

    puller = ExternalPuller(fake_camera.url("/garbage.jpg"), fps=20, deliver=refuse, options=FAST)
    puller.start()
    try:
        assert puller.wait_attempts(2, WAIT_S)
        assert puller.rejected >= 2 and puller.failures == 0
        assert puller.last_error == "rejected picture: not a decodable image"
        assert not puller.reachable
    finally:
        puller.stop()


@pytest.mark.parametrize("path", ["/stream.mjpg", "/bare.mjpg", "/closing.mjpg"])
def test_parts_arrive_whole(
    fake_camera: FakeCamera, threads_before: set[threading.Thread], path: str
) -> None:
    puller, received = pulled(fake_camera.url(path))
    try:
        assert puller.wait_reachable(True, WAIT_S)
    finally:
        puller.stop()
    assert received and all(part == PICTURE for part in received)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x.jpg", "127.0.0.1/x.jpg"])
def test_only_http_urls_are_accepted(url: str) -> None:
    with pytest.raises(ValueError, match="http"):
        ExternalPuller(url, fps=10, deliver=lambda data: None)


@pytest.mark.parametrize(
    "options",
    [
        {"read_timeout_s": 0},
        {"backoff_initial_s": -1},
        {"backoff_initial_s": 2.0, "backoff_max_s": 1.0},
        {"max_part_bytes": 0},
    ],
)
def test_pull_options_are_checked(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        PullOptions(**options)  # type: ignore[arg-type]
