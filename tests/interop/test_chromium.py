"""Headless Chromium shows the reference device's MJPEG stream in an <img>, and it moves.

The page is served from loopback (another port than the device, as a real dashboard
would be) and holds one <img> whose src is the stream. Chromium paints a part only once
the next part starts (API-FACTS), so a device that sent the boundary late would show a
frame behind. The test waits until the image has decoded, checks its natural size, then
takes screenshots of the image's region until three different time codes were seen:
the frames Chromium paints move forward.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

from device_target import DeviceTarget
from devtools_pipe import Tab, headless_chromium
from frame_codes import assert_frames_advance
from loopback_producer import Script, loopback_producer
from PIL import Image

from snapcheck.timecode import TimeCode, read_timecode

DISTINCT_FRAMES = 3
# Waits for the <img> to decode its first part (or to fail), then reports its size.
NATURAL_SIZE_JS = """
new Promise(done => {
  const report = () => {
    const img = document.getElementById('stream');
    if (img.complete && img.naturalWidth) { done([img.naturalWidth, img.naturalHeight]); return; }
    img.addEventListener('load', () => done([img.naturalWidth, img.naturalHeight]));
    img.addEventListener('error', () => done([0, 0]));
  };
  document.readyState === 'loading' ? document.addEventListener('DOMContentLoaded', report)
                                    : report();
})
"""
# How long the frames have to show DISTINCT_FRAMES time codes (5 fps: well under 2 s).
MOVING_DEADLINE_S = 20.0


def _page(stream_url: str, width: int, height: int) -> Script:
    html = (
        '<!doctype html><html><head><meta charset="utf-8"><title>stream</title></head>'
        '<body style="margin:0">'
        f'<img id="stream" src="{stream_url}" width="{width}" height="{height}" alt="camera">'
        "</body></html>"
    ).encode()
    headers = (("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(html))))
    return Script(b"HTTP/1.1 200 OK", headers, [(0.0, html)])


def _painted_codes(tab: Tab, width: int, height: int) -> list[TimeCode | None]:
    """Screenshots of the image region until DISTINCT_FRAMES codes were seen (or time is up)."""
    codes: list[TimeCode | None] = []
    deadline = time.monotonic() + MOVING_DEADLINE_S
    while time.monotonic() < deadline:
        shot = Image.open(io.BytesIO(tab.screenshot(0, 0, width, height)))
        code = read_timecode(shot.convert("RGB"))
        if code is None and not codes:
            continue  # nothing painted yet: the first screenshot may precede the first paint
        if not codes or code != codes[-1]:
            codes.append(code)
        if len({c.seq for c in codes if c is not None}) >= DISTINCT_FRAMES:
            break
    return codes


def test_chromium_shows_the_stream_in_an_img_and_its_frames_move(
    target: DeviceTarget, tmp_path: Path
) -> None:
    page = _page(target.stream_url, target.width, target.height)
    with loopback_producer(lambda _: page) as page_url, headless_chromium(tmp_path) as pipe:
        tab = Tab(pipe, target.width + 80, target.height + 80)
        tab.navigate(f"{page_url}/")
        assert tab.evaluate(NATURAL_SIZE_JS) == [target.width, target.height]
        codes = _painted_codes(tab, target.width, target.height)
    distinct = {code.seq for code in codes if code is not None}
    assert len(distinct) >= DISTINCT_FRAMES, f"the painted frames did not move: {codes}"
    assert_frames_advance(codes)
