"""Real conformance runs whose reports the integration tests read, and a broken device.

A run here is what a user does: ``python -m pytest`` in a fresh folder whose conftest
loads ``snapcheck.plugin``, on a small conformance file that touches everything a report
pictures (every advertised size and source, a stream, time-shifted frames), against the
bundled reference device or against ``running_broken_device``. The broken device is a
tiny intercom (http.server on 127.0.0.1, port 0) that answers every snapshot with a
320x240 JPEG whatever size was asked for, and a stream request with a single JPEG.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from PIL import Image

RUN_TIMEOUT_S = 120

CONFORMANCE = """
import pytest


@pytest.mark.clause("CAPS-PAIR-1", "JPEG-SIZE-1", "JPEG-CT-1", "JPEG-DECODE-1")
def test_every_advertised_pair_gives_a_jpeg_of_that_size(device):
    for width, height in device.caps.resolutions:
        device.expect({"width": width, "height": height})


@pytest.mark.clause("SNAP-SRC-1")
@pytest.mark.parametrize("source", ["internal", "external"])
def test_each_source_gives_a_jpeg(device, source):
    device.require_source(source)
    device.expect({"width": 320, "height": 240, "source": source})


@pytest.mark.clause("STREAM-CT-1", "STREAM-RATE-1", "STREAM-LIVE-1")
def test_a_stream_at_5_fps(device):
    device.expect({"width": 320, "height": 240, "fps": 5})


@pytest.mark.clause("TIME-SINGLE-1", "TIME-AGE-1")
@pytest.mark.parametrize("offset", [0, -2, -5])
def test_a_time_shifted_snapshot(device, offset):
    device.expect({"width": 320, "height": 240, "time": offset})
"""

BROKEN_INFO = {
    "variant": "Broken <Cam> & Co",
    "serialNumber": "66-6666-0666",
    "swVersion": "0.0.1",
    "macAddr": "02-00-00-00-06-66",
}
BROKEN_SIZES = ((320, 240), (640, 480))


@dataclass(frozen=True, slots=True)
class Run:
    """A finished run: its exit status, what it printed, and its report folder."""

    status: int
    output: str
    folder: Path

    def json(self) -> dict[str, Any]:
        """The run's report.json."""
        document = json.loads((self.folder / "report.json").read_text("utf-8"))
        assert isinstance(document, dict)
        return document


def run_suite(workdir: Path, *args: str) -> Run:
    """Run the small conformance file with ``args`` in a fresh folder; the report it wrote."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "conftest.py").write_text('pytest_plugins = ["snapcheck.plugin"]\n')
    (workdir / "test_conformance.py").write_text(CONFORMANCE)
    reports = workdir / "reports"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNAPCHECK_") and k != "CI"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "--rootdir",
            str(workdir),
            "--report-dir",
            str(reports),
            "--stream-seconds",
            "1",
            *args,
        ],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    output = done.stdout + done.stderr
    folders = sorted(reports.iterdir()) if reports.is_dir() else []
    assert len(folders) == 1, f"expected one report folder in {reports}:\n{output}"
    return Run(done.returncode, output, folders[0])


def _jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


class _BrokenHandler(BaseHTTPRequestHandler):
    """Answers info and caps correctly, and every snapshot with the same 320x240 JPEG."""

    frame = _jpeg(*BROKEN_SIZES[0])

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query))
        if parts.path == "/api/system/info":
            self._json({"success": True, "result": BROKEN_INFO})
        elif parts.path == "/api/camera/caps":
            pairs = [{"width": w, "height": h} for w, h in BROKEN_SIZES]
            self._json(
                {
                    "success": True,
                    "result": {"jpegResolution": pairs, "sources": [{"source": "internal"}]},
                }
            )
        elif parts.path != "/api/camera/snapshot":
            self._json(
                {"success": False, "error": {"code": 2, "description": "invalid request path"}}
            )
        elif (query.get("width"), query.get("height")) not in {
            (str(w), str(h)) for w, h in BROKEN_SIZES
        }:
            self._json(
                {
                    "success": False,
                    "error": {
                        "code": 12,
                        "param": "width",
                        "description": "invalid parameter value",
                    },
                }
            )
        else:
            self._send("image/jpeg", self.frame)

    def _json(self, document: object) -> None:
        self._send("application/json", json.dumps(document).encode())

    def _send(self, content_type: str, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Server", "BrokenCam/0.0.1")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


@contextmanager
def running_broken_device() -> Iterator[str]:
    """Run the broken device on 127.0.0.1, port 0; yield its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BrokenHandler)
    thread = threading.Thread(target=server.serve_forever, name="broken-device", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
