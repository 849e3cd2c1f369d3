"""Drive headless Chromium over the DevTools protocol on a pipe: open a URL, evaluate, screenshot.

Strategy: Chromium runs with ``--remote-debugging-pipe``, so the protocol travels over
two pipes (file descriptors 3 and 4 in the browser) as NUL-terminated JSON messages: no
port is opened and nothing is polled. ``headless_chromium`` starts a browser with a
fresh profile and the flags a CI machine needs, and ends it on exit; ``Tab`` is one page
in it. Every read of the pipe waits at most until one deadline for the whole session.
Unlike tests/integration/headless_browser.py (which opens a local file offline), this
opens a page over the loopback network, where a live stream comes from.

What never belongs here: what a test asserts about the page.
"""

from __future__ import annotations

import base64
import json
import os
import select
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from programs import require_program

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--remote-debugging-pipe",
)  # fmt: skip
SESSION_DEADLINE_S = 90.0
EXIT_TIMEOUT_S = 30.0


class DevToolsPipe:
    """The DevTools protocol over Chromium's pipes: commands and their results."""

    def __init__(self, to_browser: int, from_browser: int, deadline: float) -> None:
        self._out, self._in, self._deadline = to_browser, from_browser, deadline
        self._buffer = b""
        self._next_id = 0

    def _message(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = self._deadline - time.monotonic()
            readable, _, _ = select.select([self._in], [], [], max(remaining, 0))
            if not readable:
                raise TimeoutError("Chromium did not answer over DevTools in time")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise ConnectionError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        message: dict[str, Any] = json.loads(raw)
        return message

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send a command and return its result (events that arrive meanwhile are dropped)."""
        self._next_id += 1
        command: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session is not None:
            command["sessionId"] = session
        os.write(self._out, json.dumps(command).encode() + b"\0")
        while True:
            message = self._message()
            if message.get("id") != self._next_id:
                continue
            if "error" in message:
                raise RuntimeError(f"{method} failed: {message['error']}")
            result: dict[str, Any] = message.get("result", {})
            return result

    def close_browser(self) -> None:
        """Ask the browser to close (Browser.close never answers)."""
        self._next_id += 1
        os.write(self._out, json.dumps({"id": self._next_id, "method": "Browser.close"}).encode())
        os.write(self._out, b"\0")


@contextmanager
def headless_chromium(profile: Path) -> Iterator[DevToolsPipe]:
    """A headless Chromium with a fresh profile in ``profile``; ended on exit."""
    chromium = require_program("chromium")
    to_browser_read, to_browser_write = os.pipe()
    from_browser_read, from_browser_write = os.pipe()

    def wire_pipes() -> None:
        # In the child before exec: Chromium reads DevTools on fd 3 and writes on fd 4.
        # Duplicated first, so a pipe that already sits on 3 or 4 is not overwritten.
        reader, writer = os.dup(to_browser_read), os.dup(from_browser_write)
        os.dup2(reader, 3)
        os.dup2(writer, 4)

    process = subprocess.Popen(
        [chromium, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        # 3 and 4 are kept open because close_fds runs after preexec_fn.
        preexec_fn=wire_pipes, pass_fds=(3, 4),  # noqa: PLW1509 - only os.dup/dup2 run there
    )  # fmt: skip
    os.close(to_browser_read)
    os.close(from_browser_write)
    pipe = DevToolsPipe(to_browser_write, from_browser_read, time.monotonic() + SESSION_DEADLINE_S)
    try:
        yield pipe
        pipe.close_browser()
    finally:
        os.close(to_browser_write)
        os.close(from_browser_read)
        try:
            process.wait(timeout=EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=EXIT_TIMEOUT_S)


class Tab:
    """One page of the browser, attached for commands."""

    def __init__(self, pipe: DevToolsPipe, width: int, height: int) -> None:
        self._pipe = pipe
        target = pipe.call("Target.createTarget", url="about:blank")["targetId"]
        self._session: str = pipe.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        pipe.call("Page.enable", self._session)
        pipe.call(
            "Emulation.setDeviceMetricsOverride",
            self._session,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def navigate(self, url: str) -> None:
        """Load ``url`` (returns once the navigation committed, not when the page loaded)."""
        result = self._pipe.call("Page.navigate", self._session, url=url)
        if "errorText" in result:
            raise RuntimeError(f"navigating to {url} failed: {result['errorText']}")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (a promise is awaited)."""
        result = self._pipe.call(
            "Runtime.evaluate",
            self._session,
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression!r} raised in the page: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, x: int, y: int, width: int, height: int) -> bytes:
        """A PNG of one region of the page, at one device pixel per CSS pixel."""
        clip = {"x": x, "y": y, "width": width, "height": height, "scale": 1}
        shot = self._pipe.call("Page.captureScreenshot", self._session, format="png", clip=clip)
        return base64.b64decode(shot["data"])
