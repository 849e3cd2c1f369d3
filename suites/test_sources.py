"""Sources: every source caps list serves its own camera's frames.

Strategy: a frame's time code (docs/timecode.md) names the source that captured it; a
snapshot of each listed source, at a size whose code reads well, must carry a code of
that source wherever the code names one caps list (SNAP-SRC-4, judged by
``snapcheck.checks.source_reply``). A device whose frames carry no time code is recorded
as not judgeable, never as passing. What never belongs here: which sources are refused
(test_caps.py).
"""

from __future__ import annotations

import pytest

from snapcheck.checks.source_reply import check_source
from snapcheck.device import DeviceUnderTest

# The time code is half the frame's height: up to this size it reads well and costs little.
READABLE_MAX = (640, 480)


def readable_pair(device: DeviceUnderTest) -> tuple[int, int]:
    """The largest advertised pair up to 640x480 (else the smallest pair)."""
    pairs = device.caps.resolutions
    small = [(w, h) for w, h in pairs if w <= READABLE_MAX[0] and h <= READABLE_MAX[1]]
    return max(small or [min(pairs, key=lambda p: p[0] * p[1])], key=lambda p: p[0] * p[1])


@pytest.mark.quick
@pytest.mark.clause("SNAP-SRC-4", "CAPS-SOURCE-1", "SNAP-SRC-3")
def test_each_source_serves_its_own_frames(device: DeviceUnderTest) -> None:
    width, height = readable_pair(device)
    for source in device.caps.sources:
        reply = device.expect({"width": width, "height": height, "source": source})
        code = device.timecode(reply) if reply.content_type == "image/jpeg" else None
        device.record(check_source(reply, source, code, device.caps.sources))
