"""Drive headless Chromium over the DevTools protocol on a pipe: open a URL, evaluate, screenshot.

The protocol and the browser's life (``--remote-debugging-pipe``, one deadline for the
whole session) are tests/integration/headless_browser.py's; ``headless_chromium`` adds
the Debian package to install when Chromium is missing, and ``Tab`` is one page. Unlike
that module's ``open_page`` (a local file, offline), a Tab opens a page over the loopback
network, where a live stream comes from.

What never belongs here: what a test asserts about the page.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from headless_browser import DevToolsPipe, chromium_session
from programs import require_program

SESSION_DEADLINE_S = 90.0


@contextmanager
def headless_chromium(profile: Path) -> Iterator[DevToolsPipe]:
    """A headless Chromium with a fresh profile in ``profile``; ended on exit."""
    with chromium_session(require_program("chromium"), profile, SESSION_DEADLINE_S) as pipe:
        yield pipe


class Tab:
    """One page of the browser, attached for commands."""

    def __init__(self, pipe: DevToolsPipe, width: int, height: int) -> None:
        self._pipe = pipe
        self._session = pipe.new_page(width, height)
        pipe.call("Page.enable", self._session)

    def navigate(self, url: str) -> None:
        """Load ``url`` (returns once the navigation committed, not when the page loaded)."""
        result = self._pipe.call("Page.navigate", self._session, url=url)
        if "errorText" in result:
            raise RuntimeError(f"navigating to {url} failed: {result['errorText']}")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (a promise is awaited)."""
        return self._pipe.evaluate(self._session, expression)

    def screenshot(self, x: int, y: int, width: int, height: int) -> bytes:
        """A PNG of one region of the page, at one device pixel per CSS pixel."""
        clip = {"x": x, "y": y, "width": width, "height": height, "scale": 1}
        shot = self._pipe.call("Page.captureScreenshot", self._session, format="png", clip=clip)
        return base64.b64decode(shot["data"])
