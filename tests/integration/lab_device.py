"""The reference device as its own process, as a lab runs it: ``python -m reference_device``.

Strategy: start the device on 127.0.0.1 port 0, read the first stdout line
(``listening on http://HOST:PORT``) under a deadline, hand out the URL, and always end
the process: SIGTERM, a bounded wait, then SIGKILL. What the device logged to stderr is
kept so that a device that would not start explains why.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ANNOUNCEMENT = "listening on "
# Pre-roll fills 30 s of history before the device listens; that takes a few seconds.
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


def _first_line(process: subprocess.Popen[bytes], timeout_s: float) -> str:
    """The process's first stdout line, or '' when none came within the deadline."""
    assert process.stdout is not None
    received = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while b"\n" not in received:
            if not selector.select(timeout_s):
                return ""
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                break
            received += chunk
    return received.split(b"\n", 1)[0].decode()


def _end(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, a bounded wait, and SIGKILL if the device did not stop."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_S)


@contextmanager
def running_device_process(*args: str, stderr_path: Path) -> Iterator[str]:
    """Run ``python -m reference_device --port 0 ARGS``; yield its base URL; always end it."""
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "reference_device", "--port", "0", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        try:
            line = _first_line(process, START_TIMEOUT_S)
            if not line.startswith(ANNOUNCEMENT):
                raise RuntimeError(
                    f"the device did not announce itself (first line {line!r}):\n"
                    + stderr_path.read_text(errors="replace")
                )
            yield line.removeprefix(ANNOUNCEMENT).strip()
        finally:
            _end(process)
            assert process.stdout is not None
            process.stdout.close()
