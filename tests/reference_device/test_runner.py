"""The in-process runner: a base URL that answers, a clean stop, and errors handed back."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from reference_device import DeviceOptions, DeviceThread, running_reference_device
from reference_device.clock import ManualClock
from reference_device.profile import ProfileError
from reference_device.server import ListenError

TIMEOUT_S = 10.0
SNAPSHOT = "/api/camera/snapshot?width=640&height=480"


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
        body: bytes = response.read()
        return body


def broken_encoder(*args: object) -> bytes:
    raise RuntimeError("encoder exploded")


@pytest.fixture
def threads_before() -> Iterator[set[threading.Thread]]:
    """The threads alive before the test; the test asserts none of its own are left."""
    yield set(threading.enumerate())


def test_the_device_answers_at_the_url_it_yields_and_leaves_nothing_behind(
    threads_before: set[threading.Thread],
) -> None:
    with running_reference_device("minimal", clock=ManualClock()) as url:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        caps = json.loads(get(url + "/api/camera/caps"))
        assert caps["success"] is True
        assert get(url + SNAPSHOT).startswith(b"\xff\xd8")
    assert set(threading.enumerate()) <= threads_before
    with pytest.raises(urllib.error.URLError):
        get(url + "/api/camera/caps")


def test_an_error_in_the_device_thread_is_re_raised_on_exit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with (
        pytest.raises(RuntimeError, match="encoder exploded"),
        DeviceThread(DeviceOptions(profile="minimal", clock=ManualClock())) as running,
    ):
        monkeypatch.setattr(running.device.camera, "jpeg", broken_encoder)
        assert json.loads(get(running.url + SNAPSHOT))["error"]["code"] == 14


def test_several_errors_are_re_raised_as_a_group(monkeypatch: pytest.MonkeyPatch) -> None:
    with (
        pytest.raises(ExceptionGroup) as raised,
        DeviceThread(DeviceOptions(profile="minimal", clock=ManualClock())) as running,
    ):
        monkeypatch.setattr(running.device.camera, "jpeg", broken_encoder)
        get(running.url + SNAPSHOT)
        get(running.url + SNAPSHOT)
    assert [str(error) for error in raised.value.exceptions] == ["encoder exploded"] * 2


def test_the_callers_own_exception_wins_and_carries_the_devices_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with (
        pytest.raises(KeyError) as raised,
        DeviceThread(DeviceOptions(profile="minimal", clock=ManualClock())) as running,
    ):
        monkeypatch.setattr(running.device.camera, "jpeg", broken_encoder)
        get(running.url + SNAPSHOT)
        raise KeyError("the test's own failure")
    assert raised.value.__notes__ == [
        "the reference device also raised: RuntimeError('encoder exploded')"
    ]


@pytest.mark.parametrize(
    ("profile", "message"),
    [("no-such-model", "no such profile"), ("/nonexistent/model.toml", "cannot read")],
)
def test_a_device_that_cannot_start_raises_in_the_caller(
    profile: str, message: str, threads_before: set[threading.Thread]
) -> None:
    with pytest.raises(ProfileError, match=message), running_reference_device(profile):
        pytest.fail("the device must not start")
    assert set(threading.enumerate()) <= threads_before


def test_a_port_in_use_is_a_listen_error(threads_before: set[threading.Thread]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        options = DeviceOptions(profile="minimal", port=port, clock=ManualClock())
        with pytest.raises(ListenError, match=f"cannot listen on 127.0.0.1:{port}"):
            DeviceThread(options).start()
    assert set(threading.enumerate()) <= threads_before


def test_unknown_options_are_refused() -> None:
    with pytest.raises(TypeError, match="colour"), running_reference_device(colour="red"):
        pytest.fail("the device must not start")


def test_options_are_frozen() -> None:
    options = DeviceOptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.port = 8080  # type: ignore[misc]


def test_a_device_not_started_has_no_url_and_no_loop() -> None:
    device = DeviceThread(DeviceOptions())
    with pytest.raises(ValueError, match="not listening"):
        _ = device.url
    with pytest.raises(ValueError, match="not running"):
        device.call(lambda: None)
    assert device.shutdown() == []


def test_stop_cancels_the_tasks_the_server_left_behind() -> None:
    running = DeviceThread(DeviceOptions())
    running.start()

    async def forever() -> None:
        await asyncio.sleep(3600)

    left = running.call(lambda: asyncio.get_running_loop().create_task(forever()))
    running.stop()
    assert left.cancelled()
