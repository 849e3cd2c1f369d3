"""Open a local HTML file in headless Chromium and report what the page did, over DevTools.

Chromium runs with ``--remote-debugging-pipe``: the DevTools protocol travels over two
pipes (file descriptors 3 and 4 in the browser), as NUL-terminated JSON messages, so
no port is opened and nothing is polled. The page is opened with the network emulated
offline; ``PageLoad`` keeps what a test asserts: every request the page made, every
console message and uncaught exception, each <img> element's source kind and decoded
width, the page's title and text, and a full-page screenshot.

``DevToolsPipe`` and ``chromium_session`` are the protocol and the browser's life; the
interop tests (tests/interop/devtools_pipe.py) drive live pages with them too.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_NAMES = ("chromium", "chromium-browser")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--remote-debugging-pipe",
)
DEADLINE_S = 60.0
EXIT_TIMEOUT_S = 30.0
VIEWPORT_WIDTH = 1300
# Waits until every <img> has decoded (or failed to), then lists source kind and width.
IMAGES_JS = """
Promise.all([...document.images].map(img => img.decode().then(
    () => [img.src.slice(0, img.src.indexOf(',') + 1), img.naturalWidth, img.naturalHeight],
    () => [img.src.slice(0, 40), 0, 0])))
"""


class BrowserMissing(RuntimeError):
    """No Chromium on this machine (CI installs Debian's chromium package)."""


def find_chromium() -> str:
    """The Chromium executable, or BrowserMissing saying how to install it."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserMissing(
        "Chromium is not installed: run `apt-get install -y --no-install-recommends chromium`"
        " (as .ci/run does) to open report.html in a real browser"
    )


@dataclass
class PageLoad:
    """What opening one page did."""

    title: str = ""
    text: str = ""
    requests: list[str] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    log_errors: list[str] = field(default_factory=list)
    images: list[tuple[str, int, int]] = field(default_factory=list)
    screenshot: bytes = b""

    @property
    def errors(self) -> list[str]:
        """Every console error, uncaught exception and browser log error."""
        console = [text for level, text in self.console if level in ("error", "assert")]
        return console + self.exceptions + self.log_errors


class DevToolsPipe:
    """The DevTools protocol over Chromium's pipes: commands, replies and events.

    Every read waits at most until ``deadline`` (time.monotonic), one for the session.
    """

    def __init__(self, to_browser: int, from_browser: int, deadline: float) -> None:
        self._out, self._in, self._deadline = to_browser, from_browser, deadline
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

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
        """Send a command and return its result (events meanwhile are kept)."""
        self._next_id += 1
        command: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session is not None:
            command["sessionId"] = session
        os.write(self._out, json.dumps(command).encode() + b"\0")
        while True:
            message = self._message()
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method} failed: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            self.events.append(message)

    def notify(self, method: str) -> None:
        """Send a command without waiting for its reply (Browser.close never sends one)."""
        self._next_id += 1
        os.write(self._out, json.dumps({"id": self._next_id, "method": method}).encode() + b"\0")

    def new_page(self, width: int, height: int) -> str:
        """A blank page of this viewport (one device pixel per CSS pixel); its session ID."""
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session: str = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        self.call("Emulation.setDeviceMetricsOverride", session, width=width, height=height,
                  deviceScaleFactor=1, mobile=False)  # fmt: skip
        return session

    def evaluate(self, session: str, expression: str) -> Any:
        """The value of a JavaScript expression in the page (a promise is awaited)."""
        result = self.call("Runtime.evaluate", session, expression=expression,
                           awaitPromise=True, returnByValue=True)  # fmt: skip
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression!r} raised in the page: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, method: str) -> None:
        """Read until an event of this kind has arrived."""
        while not any(event.get("method") == method for event in self.events):
            self.events.append(self._message())


@contextmanager
def chromium_session(
    chromium: str, profile: Path, deadline_s: float = DEADLINE_S
) -> Iterator[DevToolsPipe]:
    """Chromium with a fresh profile in ``profile``, asked to close on exit (else killed)."""
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
    )
    os.close(to_browser_read)
    os.close(from_browser_write)
    pipe = DevToolsPipe(to_browser_write, from_browser_read, time.monotonic() + deadline_s)
    try:
        yield pipe
        pipe.notify("Browser.close")
    finally:
        os.close(to_browser_write)
        os.close(from_browser_read)
        try:
            process.wait(timeout=EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=EXIT_TIMEOUT_S)


def _collect(load: PageLoad, events: list[dict[str, Any]]) -> None:
    for event in events:
        params = event.get("params", {})
        method = event.get("method")
        if method == "Network.requestWillBeSent":
            load.requests.append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled":
            text = " ".join(str(arg.get("value", arg.get("description", ""))) for arg in
                            params.get("args", []))
            load.console.append((params["type"], text))
        elif method == "Runtime.exceptionThrown":
            load.exceptions.append(json.dumps(params["exceptionDetails"])[:500])
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            load.log_errors.append(params["entry"]["text"])


def open_page(path: Path, profile: Path) -> PageLoad:
    """Open a local file offline in a fresh headless Chromium profile; what the page did."""
    with chromium_session(find_chromium(), profile) as pipe:
        session = pipe.new_page(VIEWPORT_WIDTH, 1000)
        for domain in ("Page", "Runtime", "Log", "Network"):
            pipe.call(f"{domain}.enable", session)
        pipe.call("Network.emulateNetworkConditions", session, offline=True, latency=0,
                  downloadThroughput=-1, uploadThroughput=-1)
        pipe.call("Page.navigate", session, url=path.resolve().as_uri())
        pipe.wait_for("Page.loadEventFired")
        load = PageLoad()
        load.images = [(str(kind), int(width), int(height))
                       for kind, width, height in pipe.evaluate(session, IMAGES_JS)]
        load.title = pipe.evaluate(session, "document.title")
        load.text = pipe.evaluate(session, "document.body.innerText")
        shot = pipe.call("Page.captureScreenshot", session, format="png",
                         captureBeyondViewport=True)
        load.screenshot = base64.b64decode(shot["data"])
        _collect(load, pipe.events)
        return load
