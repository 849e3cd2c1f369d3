"""The reference device as a child process: ``python -m reference_device`` on port 0.

Strategy: the device runs in a process of its own, so that its CPU time and memory are
its own (``ProcessProbe``) and not the load generator's. It listens on 127.0.0.1 on a
port the OS picks; its first stdout line says where (``listening on http://...``), read
with a deadline. Its log (stderr) goes to a file, so a chatty device can never block on a
full pipe, and the end of that log is quoted when the device fails to start. Leaving the
context sends SIGTERM to that one process and waits; only if it does not end is it killed.

What never belongs here: HTTP requests, measuring, judging.
"""

from __future__ import annotations

import selectors
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from benchmarks.procstat import ProcessProbe

_PREFIX = "listening on "
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
_LOG_TAIL_CHARS = 2000


def listening_url(line: str) -> str:
    """The base URL announced by the device's first stdout line; ValueError otherwise."""
    text = line.strip()
    if not text.startswith(_PREFIX):
        raise ValueError(f"the device did not announce where it listens: {line!r}")
    url = text.removeprefix(_PREFIX)
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"the device listens elsewhere than on loopback: {url!r}")
    return url


class DeviceProcess:
    """``python -m reference_device`` on 127.0.0.1:0 in a child process (a context manager)."""

    def __init__(self, *arguments: str, start_timeout_s: float = START_TIMEOUT_S) -> None:
        self.arguments = ("--host", "127.0.0.1", "--port", "0", *arguments)
        self._start_timeout_s = start_timeout_s
        self._logdir = tempfile.TemporaryDirectory(prefix="snapcheck-bench-")
        self._log_path = Path(self._logdir.name) / "device.log"
        self._process: subprocess.Popen[str] | None = None
        self._url: str | None = None

    @property
    def command(self) -> tuple[str, ...]:
        """The command line that starts the device."""
        return (sys.executable, "-m", "reference_device", *self.arguments)

    @property
    def url(self) -> str:
        """The device's base URL (ValueError before it listens)."""
        if self._url is None:
            raise ValueError("the device is not listening")
        return self._url

    @property
    def probe(self) -> ProcessProbe:
        """CPU and memory of the device process (ValueError before it starts)."""
        if self._process is None:
            raise ValueError("the device process is not running")
        return ProcessProbe(self._process.pid)

    def __enter__(self) -> DeviceProcess:
        with self._log_path.open("w", encoding="utf-8") as log:
            self._process = subprocess.Popen(
                self.command, stdout=subprocess.PIPE, stderr=log, text=True
            )
        try:
            self._url = listening_url(self._first_line())
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop()

    def log_tail(self) -> str:
        """The last lines the device wrote to its log."""
        text = self._log_path.read_text(encoding="utf-8", errors="replace")
        return text[-_LOG_TAIL_CHARS:]

    def _first_line(self) -> str:
        assert self._process is not None and self._process.stdout is not None
        deadline = time.monotonic() + self._start_timeout_s
        with selectors.DefaultSelector() as selector:
            selector.register(self._process.stdout, selectors.EVENT_READ)
            while (left := deadline - time.monotonic()) > 0:
                if selector.select(left):
                    # The device prints and flushes the whole line at once.
                    line = self._process.stdout.readline()
                    if line:
                        return line
                    # End of stdout: the device is exiting; let it, to report its status.
                    status = self._process.wait(STOP_TIMEOUT_S)
                    raise RuntimeError(
                        f"the device exited with status {status} before listening; "
                        f"its log ends:\n{self.log_tail()}"
                    )
        raise RuntimeError(
            f"the device did not listen within {self._start_timeout_s} s; "
            f"its log ends:\n{self.log_tail()}"
        )

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT_S)
            if process.stdout is not None:
                process.stdout.close()
        self._logdir.cleanup()
