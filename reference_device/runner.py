"""Running the reference device in-process: its own thread, its own event loop.

Strategy: as pytest-httpserver does, the logic is a plain context manager, not a pytest
fixture, so the snapcheck plugin, the tests and a REPL all start the device the same way.
``DeviceThread`` owns one thread that runs ``server.serve`` to completion; ``start``
returns once the device listens (or re-raises why it could not), ``stop`` ends the server
and the camera and joins the thread. Exceptions raised in that thread (a handler's
unexpected error, answered on the wire as error 14, or a failure of the server itself)
are kept and re-raised in the caller's thread by ``stop``, so a test that provokes a bug
in the device fails even though the device kept serving.

What never belongs here: HTTP handling (server.py) or any pytest import.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, TypeVar

from reference_device.clock import Clock
from reference_device.profile import Profile
from reference_device.server import Device, DeviceOptions, serve

T = TypeVar("T")

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0


class DeviceThread:
    """The reference device served from a thread of its own (a context manager)."""

    def __init__(self, options: DeviceOptions) -> None:
        self.options = options
        self._thread = threading.Thread(target=self._run, name="reference-device", daemon=True)
        self._ready = threading.Event()
        # Guards the loop against being used by stop() while the thread closes it.
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._url: str | None = None
        self._device: Device | None = None
        self._failure: BaseException | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:41234`` (ValueError before start)."""
        if self._url is None:
            raise ValueError("the device is not listening")
        return self._url

    @property
    def plain_url(self) -> str | None:
        """With HTTPS, the plain-HTTP base URL beside it (None without HTTPS or before start)."""
        endpoints = self._device.endpoints if self._device is not None else None
        return endpoints.plain_url if endpoints is not None else None

    @property
    def certificate_sha256(self) -> str | None:
        """With HTTPS, the SHA-256 fingerprint (hex) of the certificate the device presents."""
        endpoints = self._device.endpoints if self._device is not None else None
        return endpoints.certificate_sha256 if endpoints is not None else None

    @property
    def device(self) -> Device:
        """The running device's state (camera, profile, kept errors)."""
        if self._device is None:
            raise ValueError("the device is not running")
        return self._device

    def start(self) -> str:
        """Start serving and return the base URL; re-raise why the device could not start."""
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            self.stop()
            raise TimeoutError(f"the reference device did not listen within {START_TIMEOUT_S} s")
        if self._url is None:
            self._thread.join(STOP_TIMEOUT_S)
            failure, self._failure = self._failure, None
            raise failure or RuntimeError("the reference device stopped before listening")
        return self._url

    def stop(self) -> None:
        """Stop server and camera, join the thread, and re-raise the errors kept meanwhile."""
        errors = self.shutdown()
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise BaseExceptionGroup(f"the reference device raised {len(errors)} errors", errors)

    def shutdown(self) -> list[BaseException]:
        """Stop server and camera, join the thread, and hand over the errors kept meanwhile.

        Each error is handed over once: a second call returns only newer ones.
        """
        with self._lock:
            if self._loop is not None and self._stop is not None:
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread.is_alive():
            self._thread.join(STOP_TIMEOUT_S)
        if self._thread.is_alive():
            raise TimeoutError(f"the reference device did not stop within {STOP_TIMEOUT_S} s")
        errors: list[BaseException] = []
        if self._device is not None:
            errors.extend(self._device.errors)
            self._device.errors.clear()
        if self._failure is not None:
            errors.append(self._failure)
            self._failure = None
        return errors

    def call(self, function: Callable[[], T], timeout: float = 5.0) -> T:
        """Run ``function`` on the device's event loop and return its result (for tests)."""
        with self._lock:
            if self._loop is None:
                raise ValueError("the device is not running")
            future = asyncio.run_coroutine_threadsafe(_call(function), self._loop)
        return future.result(timeout)

    def __enter__(self) -> DeviceThread:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None:
            self.stop()
            return
        # The caller's own exception goes first; the device's errors ride along as notes.
        for error in self.shutdown():
            exc.add_note(f"the reference device also raised: {error!r}")

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._main(loop))
        except BaseException as exc:  # noqa: BLE001 - kept and re-raised in the caller's thread
            self._failure = exc
        finally:
            with self._lock:
                self._loop = None
                self._stop = None
            _cancel_leftovers(loop)
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()
            self._ready.set()

    async def _main(self, loop: asyncio.AbstractEventLoop) -> None:
        stop = asyncio.Event()
        with self._lock:
            self._loop = loop
            self._stop = stop
        await serve(self.options, self._listening, stop)

    def _listening(self, url: str, device: Device) -> None:
        self._url = url
        self._device = device
        self._ready.set()


async def _call(function: Callable[[], T]) -> T:
    return function()


def _cancel_leftovers(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel and await the tasks the server left behind, as ``asyncio.run`` does.

    aiohttp's shutdown can leave a connection's task waiting (one lingering over a body
    its client never finished); closing the loop under it would only warn that a pending
    task was destroyed.
    """
    leftovers = asyncio.all_tasks(loop)
    if not leftovers:
        return
    for task in leftovers:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))


@contextmanager
def running_reference_device(
    profile: str | Profile = "default",
    *,
    preroll: bool = False,
    external_url: str | None = None,
    clock: Clock | None = None,
    fault: str | Iterable[str] = (),
    **options: Any,
) -> Iterator[str]:
    """Run the reference device on 127.0.0.1, port 0, and yield its base URL.

    ``fault`` switches on deliberate defects (``"no-leading-boundary,half-rate"`` or a
    list of names; see faults.py). Further keyword arguments are further
    ``DeviceOptions`` fields (access among them: ``auth=Authentication.DIGEST,
    users=("admin:secret",), https_only=True``); use ``DeviceThread`` to learn the
    plain-HTTP URL beside HTTPS. On exit the server and the camera stop and the thread is
    joined; an exception raised in the device's thread is re-raised here.
    """
    device_options = DeviceOptions(
        profile=profile,
        preroll=preroll,
        external_url=external_url,
        clock=clock,
        faults=frozenset([fault] if isinstance(fault, str) else fault),
        **options,
    )
    with DeviceThread(device_options) as running:
        yield running.url
